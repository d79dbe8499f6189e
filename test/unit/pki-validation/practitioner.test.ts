// The practitioner identity read from a CPS certificate: national identifier, names, structure,
// and the profession from the extension first, else from the subject title.
import { beforeAll, describe, expect, it } from 'vitest';
import { TestPki } from '../../../src/pki/test-pki.js';
import { PractitionerCertificateError, practitionerFromCertificate } from '../../../src/pki/validation/practitioner.js';
import { personaCredentials } from '../../../src/simulator/cps/create-cps-card.js';
import { CPS_PERSONAS } from '../../../src/simulator/personas.js';
import { doctor, openPki, rogueCa } from './helpers.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await openPki();
});

describe('practitionerFromCertificate', () => {
  it('reads the medecin persona: RPPS, names, profession and specialty from the extension, structure', async () => {
    const credentials = await personaCredentials(pki, CPS_PERSONAS['cps:medecin']);
    for (const der of [credentials.authentication.certificateDer, credentials.signature.certificateDer]) {
      expect(practitionerFromCertificate(der)).toEqual({
        nationalId: '899900000101',
        idType: 'RPPS',
        identifier: '99900000101',
        surname: 'MARTIN',
        givenName: 'SOPHIE',
        professionCode: '10',
        specialtyCode: 'SM54',
        professionLabel: 'Médecin',
        structureId: '499900001000001',
        structureName: 'CABINET DU DR MARTIN',
      });
    }
  });

  it('takes the occupational-medicine specialty of the medecin-travail persona from the extension', async () => {
    const credentials = await personaCredentials(pki, CPS_PERSONAS['cps:medecin-travail']);
    expect(practitionerFromCertificate(credentials.authentication.certificateDer)).toMatchObject({ professionCode: '10', specialtyCode: 'SM43' });
  });

  it('maps the title to the TRE_G15 code when the certificate has no extension (a real CPS)', async () => {
    const card = await pki.issuePractitioner('podo-no-ext', {
      ...doctor,
      rpps: '99900000105',
      professionCode: '80',
      professionLabel: 'Pédicure-podologue',
      specialtyCode: undefined,
    }, { includeProfessionExtension: false });
    const identity = practitionerFromCertificate(card.authentication.certificateDer);
    expect(identity.professionCode).toBe('80');
    expect(identity.professionLabel).toBe('Pédicure-podologue');
    expect(identity.specialtyCode).toBeUndefined();
  });

  it('prefers the extension over the title when they disagree', async () => {
    const card = await pki.issuePractitioner('ext-wins', { ...doctor, professionCode: '60', professionLabel: 'Médecin' });
    expect(practitionerFromCertificate(card.authentication.certificateDer).professionCode).toBe('60');
  });

  it('leaves professionCode undefined when neither the extension nor the title names a profession', async () => {
    const card = await pki.issuePractitioner('astronaut', { ...doctor, professionLabel: 'Astronaute' }, { includeProfessionExtension: false });
    const identity = practitionerFromCertificate(card.authentication.certificateDer);
    expect(identity.professionCode).toBeUndefined();
    expect(identity.professionLabel).toBe('Astronaute');
    expect('professionCode' in identity).toBe(false);
  });

  it('refuses a certificate that names no practitioner, and garbage', async () => {
    const server = await pki.issueServer('srv', ['dmp.test']);
    expect(() => practitionerFromCertificate(server.certificateDer)).toThrow(PractitionerCertificateError);
    expect(() => practitionerFromCertificate(pki.caCertificate('persons'))).toThrow(/not a practitioner national identifier/);
    const stranger = (await rogueCa()).certificateDer;
    expect(() => practitionerFromCertificate(stranger)).toThrow(PractitionerCertificateError);
    expect(() => practitionerFromCertificate(new Uint8Array([1, 2, 3]))).toThrow(PractitionerCertificateError);
  });
});
