import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { statSync } from 'node:fs';
import * as pkijs from 'pkijs';
import { beforeAll, describe, expect, it } from 'vitest';
import { pkiCryptoEngine } from '../../../src/pki/crypto-engine.js';
import { findProfessionExtension, readProfessionExtension } from '../../../src/pki/profession-extension.js';
import {
  CRL_VALIDITY_MS,
  TestPki,
  type CaId,
  type IssuedCertificate,
  type PractitionerCredentials,
} from '../../../src/pki/test-pki.js';
import {
  doctor,
  extensionOf,
  freshDir,
  hasOpenssl,
  keyUsageOf,
  parseCertificate,
  parseCrl,
  podologist,
  validateWithPkijs,
  verifyWithOpenssl,
} from './helpers.js';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

let stateDir: string;
let pki: TestPki;
let medecin: PractitionerCredentials;
let realCps: PractitionerCredentials;
let expired: PractitionerCredentials;
let revoked: PractitionerCredentials;
let server: IssuedCertificate;
let establishment: IssuedCertificate;

beforeAll(async () => {
  stateDir = freshDir();
  pki = await TestPki.open(stateDir);
  [medecin, realCps, expired, revoked, server, establishment] = await Promise.all([
    pki.issuePractitioner('cps:medecin', doctor),
    pki.issuePractitioner('cps:podologue-real', podologist, { includeProfessionExtension: false }),
    pki.issuePractitioner('cps:expired', { ...doctor, rpps: '99900000108', surname: 'FOURNIER' }, { expired: true }),
    pki.issuePractitioner('cps:revoked', { ...doctor, rpps: '99900000107', surname: 'ROUX' }),
    pki.issueServer('dmp', ['localhost', '127.0.0.1']),
    pki.issueServer('etablissement', ['etab.cardbridge.test'], { clientAuth: true, organisationId: '499900009000001' }),
  ]);
  await pki.revoke(revoked.authentication.serialHex);
});

function node(der: Uint8Array): X509Certificate {
  return new X509Certificate(der);
}

describe('CA hierarchy', () => {
  const subjects: Record<CaId, string> = {
    root: 'C=FR\nO=ASIP-SANTE\nOU=IGC-SANTE TEST\nCN=TEST AC IGC-SANTE RACINE',
    persons: 'C=FR\nO=ASIP-SANTE\nOU=IGC-SANTE TEST\nCN=TEST AC IGC-SANTE FORT PERSONNES',
    organisations: 'C=FR\nO=ASIP-SANTE\nOU=IGC-SANTE TEST\nCN=TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS',
  };

  it('names the CAs with the TEST IGC-Santé pattern, both intermediates under the root', () => {
    for (const ca of ['root', 'persons', 'organisations'] as const) {
      const certificate = node(pki.caCertificate(ca));
      expect(certificate.subject).toBe(subjects[ca]);
      expect(certificate.issuer).toBe(subjects.root);
      expect(certificate.ca).toBe(true);
      expect(certificate.verify(node(pki.caCertificate('root')).publicKey)).toBe(true);
    }
    expect(pki.caSubject('persons')).toBe('C=FR, O=ASIP-SANTE, OU=IGC-SANTE TEST, CN=TEST AC IGC-SANTE FORT PERSONNES');
  });

  it('uses RSA 2048 and SHA-256 with RSA everywhere', () => {
    const all = [
      ...(['root', 'persons', 'organisations'] as const).map((ca) => pki.caCertificate(ca)),
      medecin.authentication.certificateDer,
      medecin.signature.certificateDer,
      server.certificateDer,
    ];
    for (const der of all) {
      const certificate = node(der);
      expect(certificate.publicKey.asymmetricKeyType).toBe('rsa');
      expect(certificate.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
      expect(parseCertificate(der).signatureAlgorithm.algorithmId).toBe('1.2.840.113549.1.1.11');
    }
  });

  it('marks CAs with critical basicConstraints CA and critical keyCertSign + cRLSign', () => {
    for (const ca of ['root', 'persons', 'organisations'] as const) {
      const certificate = parseCertificate(pki.caCertificate(ca));
      const constraints = extensionOf(certificate, '2.5.29.19');
      expect(constraints?.critical).toBe(true);
      expect((constraints?.parsedValue as pkijs.BasicConstraints).cA).toBe(true);
      expect(keyUsageOf(certificate)).toEqual({ usages: ['keyCertSign', 'cRLSign'], critical: true });
    }
  });

  it('chains key identifiers: each authorityKeyIdentifier is its issuer subjectKeyIdentifier', () => {
    const ski = (der: Uint8Array) =>
      Buffer.from((extensionOf(parseCertificate(der), '2.5.29.14')?.parsedValue as { valueBlock: { valueHexView: Uint8Array } }).valueBlock.valueHexView).toString('hex');
    const aki = (der: Uint8Array) =>
      Buffer.from((extensionOf(parseCertificate(der), '2.5.29.35')?.parsedValue as pkijs.AuthorityKeyIdentifier).keyIdentifier?.valueBlock.valueHexView ?? []).toString('hex');
    expect(ski(pki.caCertificate('root'))).toMatch(/^[0-9a-f]{40}$/);
    expect(aki(pki.caCertificate('persons'))).toBe(ski(pki.caCertificate('root')));
    expect(aki(medecin.authentication.certificateDer)).toBe(ski(pki.caCertificate('persons')));
    expect(aki(medecin.signature.certificateDer)).toBe(ski(pki.caCertificate('persons')));
    expect(aki(server.certificateDer)).toBe(ski(pki.caCertificate('organisations')));
    expect(ski(medecin.authentication.certificateDer)).not.toBe(ski(medecin.signature.certificateDer));
  });

  it('keeps CA keys and end-entity keys in 0600 files', () => {
    for (const ca of pki.describeCas()) {
      expect(statSync(ca.files.privateKeyPem).mode & 0o777).toBe(0o600);
    }
    const files = pki.issuedFiles('cps:medecin');
    expect(files?.authentication?.serialHex).toBe(medecin.authentication.serialHex);
    expect(statSync(files?.authentication?.privateKeyPem ?? '').mode & 0o777).toBe(0o600);
    expect(statSync(files?.signature?.privateKeyPem ?? '').mode & 0o777).toBe(0o600);
  });
});

describe('chain validation', () => {
  it.skipIf(!hasOpenssl)('openssl verifies practitioner and server certificates with every CRL checked', async () => {
    for (const der of [medecin.authentication.certificateDer, medecin.signature.certificateDer, realCps.signature.certificateDer]) {
      const result = await verifyWithOpenssl(pki, der, 'persons');
      expect(result.output).toContain(': OK');
      expect(result.ok).toBe(true);
    }
    expect((await verifyWithOpenssl(pki, medecin.authentication.certificateDer, 'persons', ['-purpose', 'sslclient'])).ok).toBe(true);
    expect((await verifyWithOpenssl(pki, server.certificateDer, 'organisations', ['-purpose', 'sslserver'])).ok).toBe(true);
    // wrong intermediate: no path
    expect((await verifyWithOpenssl(pki, server.certificateDer, 'persons')).ok).toBe(false);
  });

  it.skipIf(!hasOpenssl)('openssl refuses the revoked and the expired certificate, each for its own reason', async () => {
    const revokedResult = await verifyWithOpenssl(pki, revoked.authentication.certificateDer, 'persons');
    expect(revokedResult.ok).toBe(false);
    expect(revokedResult.output).toContain('certificate revoked');
    const expiredResult = await verifyWithOpenssl(pki, expired.authentication.certificateDer, 'persons');
    expect(expiredResult.ok).toBe(false);
    expect(expiredResult.output).toContain('certificate has expired');
    // the revoked card's other certificate is not revoked
    expect((await verifyWithOpenssl(pki, revoked.signature.certificateDer, 'persons')).ok).toBe(true);
  });

  it('pkijs validates the chains with revocation checked against the CRLs', async () => {
    for (const der of [medecin.authentication.certificateDer, medecin.signature.certificateDer, realCps.authentication.certificateDer]) {
      expect(await validateWithPkijs(pki, der, 'persons')).toMatchObject({ result: true });
    }
    expect(await validateWithPkijs(pki, server.certificateDer, 'organisations')).toMatchObject({ result: true });
    expect(await validateWithPkijs(pki, establishment.certificateDer, 'organisations')).toMatchObject({ result: true });
  });

  it('pkijs refuses the revoked certificate on revocation, and only then', async () => {
    const withCrls = await validateWithPkijs(pki, revoked.authentication.certificateDer, 'persons');
    expect(withCrls.result).toBe(false);
    expect(withCrls.resultMessage).toMatch(/revoked/i);
    expect(await validateWithPkijs(pki, revoked.authentication.certificateDer, 'persons', { withCrls: false })).toMatchObject({ result: true });
  });

  it('pkijs refuses the expired certificate for its dates, and accepts it at a date inside them', async () => {
    const now = await validateWithPkijs(pki, expired.signature.certificateDer, 'persons');
    expect(now.result).toBe(false);
    expect(now.resultCode).toBe(8);
    expect(now.resultMessage).toBe('The certificate is either not yet valid or expired');
    const notAfter = new Date(node(expired.signature.certificateDer).validTo);
    expect(notAfter.getTime()).toBeLessThan(Date.now());
    // CRLs are checked at `checkDate` too; without them only the dates matter
    const back = await validateWithPkijs(pki, expired.signature.certificateDer, 'persons', {
      checkDate: new Date(notAfter.getTime() - 24 * 60 * 60 * 1000),
      withCrls: false,
    });
    expect(back).toMatchObject({ result: true });
  });

  it('a practitioner certificate does not chain to the organisations CA', async () => {
    const result = await validateWithPkijs(pki, medecin.authentication.certificateDer, 'organisations');
    expect(result.result).toBe(false);
  });
});

describe('practitioner certificates', () => {
  it('carry the subject layout of cards.md, one attribute per RDN', () => {
    const expected =
      'C=FR\nO=CABINET DU DR MARTIN\nOU=499900001000001\ntitle=Médecin\nSN=MARTIN\nGN=JEAN\nCN=899900000101';
    expect(node(medecin.authentication.certificateDer).subject).toBe(expected);
    expect(node(medecin.signature.certificateDer).subject).toBe(expected);
    const subject = parseCertificate(medecin.authentication.certificateDer).subject;
    expect(subject.typesAndValues.map((tv) => [tv.type, tv.value.valueBlock.value])).toEqual([
      ['2.5.4.6', 'FR'],
      ['2.5.4.10', 'CABINET DU DR MARTIN'],
      ['2.5.4.11', '499900001000001'],
      ['2.5.4.12', 'Médecin'],
      ['2.5.4.4', 'MARTIN'],
      ['2.5.4.42', 'JEAN'],
      ['2.5.4.3', '899900000101'],
    ]);
    const rdns = (subject.toSchema() as unknown as { valueBlock: { value: unknown[] } }).valueBlock.value;
    expect(rdns).toHaveLength(7);
  });

  it('carry the profession extension, non-critical, that decodes to the identity', () => {
    for (const certificate of [medecin.authentication, medecin.signature]) {
      expect(readProfessionExtension(certificate.certificateDer)).toEqual({ professionCode: '10', specialtyCode: 'SM54' });
      expect(findProfessionExtension(parseCertificate(certificate.certificateDer))?.critical).toBe(false);
    }
  });

  it('can leave the profession extension out, like a real CPS (profession only in title)', () => {
    expect(readProfessionExtension(realCps.authentication.certificateDer)).toBeNull();
    expect(readProfessionExtension(realCps.signature.certificateDer)).toBeNull();
    expect(node(realCps.authentication.certificateDer).subject).toContain('title=Pédicure-podologue');
  });

  it('authentication: critical digitalSignature + keyEncipherment, EKU clientAuth', () => {
    const certificate = parseCertificate(medecin.authentication.certificateDer);
    expect(keyUsageOf(certificate)).toEqual({ usages: ['digitalSignature', 'keyEncipherment'], critical: true });
    expect(node(medecin.authentication.certificateDer).keyUsage).toEqual([CLIENT_AUTH]);
    expect(node(medecin.authentication.certificateDer).ca).toBe(false);
  });

  it('signature: critical nonRepudiation only, no EKU', () => {
    const certificate = parseCertificate(medecin.signature.certificateDer);
    expect(keyUsageOf(certificate)).toEqual({ usages: ['nonRepudiation'], critical: true });
    expect(extensionOf(certificate, '2.5.29.37')).toBeUndefined();
  });

  it('point to their CA CRL at the loopback distribution point', () => {
    for (const der of [medecin.authentication.certificateDer, medecin.signature.certificateDer]) {
      const points = extensionOf(parseCertificate(der), '2.5.29.31')?.parsedValue as pkijs.CRLDistributionPoints;
      const names = points.distributionPoints.flatMap((p) => (p.distributionPoint as pkijs.GeneralName[]).map((n) => n.value as string));
      expect(names).toEqual(['http://127.0.0.1:35990/crl/test-ac-igc-sante-fort-personnes.crl']);
    }
    expect(pki.crlUrl('persons')).toBe('http://127.0.0.1:35990/crl/test-ac-igc-sante-fort-personnes.crl');
  });

  it('come with private keys that match them', () => {
    const data = Buffer.from('challenge');
    for (const issued of [medecin.authentication, medecin.signature, server]) {
      const privateKey = createPrivateKey({ key: Buffer.from(issued.privateKeyPkcs8Der), format: 'der', type: 'pkcs8' });
      const certificate = node(issued.certificateDer);
      expect(certificate.checkPrivateKey(privateKey)).toBe(true);
      const signature = sign('sha256', data, privateKey);
      expect(verify('sha256', data, certificate.publicKey, signature)).toBe(true);
    }
    const otherKey = createPrivateKey({ key: Buffer.from(medecin.signature.privateKeyPkcs8Der), format: 'der', type: 'pkcs8' });
    expect(node(medecin.authentication.certificateDer).checkPrivateKey(otherKey)).toBe(false);
    expect(createPublicKey(otherKey).export({ format: 'der', type: 'spki' })).not.toEqual(
      node(medecin.authentication.certificateDer).publicKey.export({ format: 'der', type: 'spki' }),
    );
  });

  it('report serials the way Node prints them', () => {
    for (const issued of [medecin.authentication, medecin.signature, server]) {
      expect(issued.serialHex).toBe(node(issued.certificateDer).serialNumber);
      expect(issued.serialHex).toMatch(/^[1-7][0-9A-F]{31}$/);
    }
  });

  it('are expired when asked: notBefore and notAfter in the past', () => {
    const certificate = node(expired.authentication.certificateDer);
    expect(new Date(certificate.validFrom).getTime()).toBeLessThan(Date.now());
    expect(new Date(certificate.validTo).getTime()).toBeLessThan(Date.now());
    const fresh = node(medecin.authentication.certificateDer);
    expect(new Date(fresh.validTo).getTime()).toBeGreaterThan(Date.now());
  });

  it('refuse identities that are not test identities', async () => {
    await expect(pki.issuePractitioner('bad', { ...doctor, rpps: '10001234567' })).rejects.toThrow(/RPPS/);
    await expect(pki.issuePractitioner('bad', { ...doctor, surname: '' })).rejects.toThrow(RangeError);
    await expect(pki.issuePractitioner('', doctor)).rejects.toThrow(RangeError);
    expect(pki.issuedFiles('bad')).toBeUndefined();
  });
});

describe('server certificates', () => {
  it('name the host in CN and SAN (DNS and IP), EKU serverAuth', () => {
    const certificate = node(server.certificateDer);
    expect(certificate.subject).toBe('C=FR\nO=ETABLISSEMENT DE TEST\nCN=localhost');
    expect(certificate.issuer).toBe('C=FR\nO=ASIP-SANTE\nOU=IGC-SANTE TEST\nCN=TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS');
    expect(certificate.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(certificate.checkHost('localhost')).toBe('localhost');
    expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(certificate.checkHost('example.org')).toBeUndefined();
    expect(certificate.keyUsage).toEqual([SERVER_AUTH]);
    expect(keyUsageOf(parseCertificate(server.certificateDer))).toEqual({ usages: ['digitalSignature', 'keyEncipherment'], critical: true });
  });

  it('add clientAuth for an establishment login when asked', () => {
    const certificate = node(establishment.certificateDer);
    expect(certificate.keyUsage).toEqual([SERVER_AUTH, CLIENT_AUTH]);
    expect(certificate.subject).toBe('C=FR\nO=ETABLISSEMENT DE TEST\nOU=499900009000001\nCN=etab.cardbridge.test');
  });

  it('refuse an empty or malformed host list', async () => {
    await expect(pki.issueServer('none', [])).rejects.toThrow(RangeError);
    await expect(pki.issueServer('bad-host', ['not a host'])).rejects.toThrow(RangeError);
  });
});

describe('CRLs and revocation', () => {
  it('publish v2 CRLs signed by their CA, with a CRL number, AKI and a 7-day window', async () => {
    for (const ca of ['root', 'persons', 'organisations'] as const) {
      const crl = parseCrl(await pki.crl(ca));
      expect(crl.version).toBe(1);
      expect(await crl.verify({ issuerCertificate: parseCertificate(pki.caCertificate(ca)) }, pkiCryptoEngine)).toBe(true);
      const extensions = crl.crlExtensions?.extensions ?? [];
      expect(extensions.map((e) => e.extnID).sort()).toEqual(['2.5.29.20', '2.5.29.35']);
      const number = extensions.find((e) => e.extnID === '2.5.29.20')?.parsedValue as { valueBlock: { valueDec: number } };
      expect(number.valueBlock.valueDec).toBeGreaterThanOrEqual(1);
      const thisUpdate = crl.thisUpdate.value.getTime();
      expect(thisUpdate).toBeLessThanOrEqual(Date.now());
      expect((crl.nextUpdate?.value.getTime() ?? 0) - thisUpdate).toBe(CRL_VALIDITY_MS);
    }
  });

  it('list the revoked serial in the issuing CA CRL only', async () => {
    const persons = parseCrl(await pki.crl('persons'));
    const listed = (persons.revokedCertificates ?? []).map((r) => Buffer.from(r.userCertificate.valueBlock.valueHexView).toString('hex').toUpperCase());
    expect(listed).toEqual([revoked.authentication.serialHex]);
    expect(persons.isCertificateRevoked(parseCertificate(revoked.authentication.certificateDer))).toBe(true);
    expect(persons.isCertificateRevoked(parseCertificate(medecin.authentication.certificateDer))).toBe(false);
    expect(parseCrl(await pki.crl('organisations')).revokedCertificates).toBeUndefined();
    expect(pki.isRevoked(revoked.authentication.serialHex)).toBe(true);
    expect(pki.isRevoked(revoked.authentication.serialHex.toLowerCase())).toBe(true);
    expect(pki.isRevoked(revoked.signature.serialHex)).toBe(false);
    expect(pki.isRevoked(medecin.authentication.serialHex)).toBe(false);
  });

  it('re-issue the CRL, with a higher number, when a certificate is revoked', async () => {
    const number = (der: Uint8Array) =>
      (parseCrl(der).crlExtensions?.extensions.find((e) => e.extnID === '2.5.29.20')?.parsedValue as { valueBlock: { valueDec: number } }).valueBlock.valueDec;
    const before = number(await pki.crl('organisations'));
    expect(number(await pki.crl('organisations'))).toBe(before); // unchanged while nothing happens
    await pki.revoke(establishment.serialHex);
    const after = await pki.crl('organisations');
    expect(number(after)).toBe(before + 1);
    expect(parseCrl(after).isCertificateRevoked(parseCertificate(establishment.certificateDer))).toBe(true);
    await pki.revoke(establishment.serialHex); // twice: no change
    expect(number(await pki.crl('organisations'))).toBe(before + 1);
    expect((await validateWithPkijs(pki, establishment.certificateDer, 'organisations')).result).toBe(false);
  });

  it('revoke a foreign serial only when told which CA, and never the root', async () => {
    await expect(pki.revoke('0A0B0C')).rejects.toThrow(/unknown certificate serial/);
    await expect(pki.revoke('zz', 'persons')).rejects.toThrow(RangeError);
    await expect(pki.revoke(medecin.signature.serialHex, 'organisations')).rejects.toThrow(/issued by persons/);
    await expect(pki.revoke(pki.describeCas()[0]?.serialHex ?? '', 'root')).rejects.toThrow(/root/);
    await pki.revoke('0A:0B:0C', 'persons');
    expect(pki.isRevoked('0a0b0c')).toBe(true);
    const listed = (parseCrl(await pki.crl('persons')).revokedCertificates ?? []).map((r) =>
      Buffer.from(r.userCertificate.valueBlock.valueHexView).toString('hex'),
    );
    expect(listed).toContain('0a0b0c');
  });
});

describe('state directory', () => {
  it('reopens with the same CAs, certificates and keys, without issuing again', async () => {
    const again = await TestPki.open(stateDir);
    expect(again.created).toBe(false);
    expect(pki.created).toBe(true);
    for (const ca of ['root', 'persons', 'organisations'] as const) {
      expect(Buffer.from(again.caCertificate(ca)).equals(Buffer.from(pki.caCertificate(ca)))).toBe(true);
    }
    const reissued = await again.issuePractitioner('cps:medecin', doctor);
    expect(reissued.authentication.serialHex).toBe(medecin.authentication.serialHex);
    expect(Buffer.from(reissued.authentication.certificateDer).equals(Buffer.from(medecin.authentication.certificateDer))).toBe(true);
    expect(Buffer.from(reissued.signature.privateKeyPkcs8Der).equals(Buffer.from(medecin.signature.privateKeyPkcs8Der))).toBe(true);
    const sameServer = await again.issueServer('dmp', ['localhost', '127.0.0.1']);
    expect(Buffer.from(sameServer.certificateDer).equals(Buffer.from(server.certificateDer))).toBe(true);
    expect(again.isRevoked(revoked.authentication.serialHex)).toBe(true);
  });

  it('issues anew when the same key asks for a different identity', async () => {
    const changed = await pki.issuePractitioner('cps:medecin-changed', doctor);
    const renamed = await pki.issuePractitioner('cps:medecin-changed', { ...doctor, givenName: 'PAUL' });
    expect(renamed.authentication.serialHex).not.toBe(changed.authentication.serialHex);
    expect(node(renamed.authentication.certificateDer).subject).toContain('GN=PAUL');
    const again = await pki.issuePractitioner('cps:medecin-changed', { ...doctor, givenName: 'PAUL' });
    expect(again.authentication.serialHex).toBe(renamed.authentication.serialHex);
  });

  it('keeps the CRL base URL it was created with', async () => {
    await expect(TestPki.open(stateDir, { crlBaseUrl: 'http://127.0.0.1:4000/crl' })).rejects.toThrow(/created with CRL base URL/);
    expect((await TestPki.open(stateDir, { crlBaseUrl: 'http://127.0.0.1:35990/crl/' })).crlBaseUrl).toBe('http://127.0.0.1:35990/crl');
  });

  it('writes another CRL base URL into a fresh PKI when asked', async () => {
    const other = await TestPki.open(freshDir(), { crlBaseUrl: 'http://127.0.0.1:4000/pki/crl' });
    const points = extensionOf(parseCertificate(other.caCertificate('persons')), '2.5.29.31')?.parsedValue as pkijs.CRLDistributionPoints;
    expect((points.distributionPoints[0]?.distributionPoint as pkijs.GeneralName[])[0]?.value).toBe(
      'http://127.0.0.1:4000/pki/crl/test-ac-igc-sante-racine.crl',
    );
    await expect(TestPki.open(freshDir(), { crlBaseUrl: 'ftp://x/crl' })).rejects.toThrow(RangeError);
  });
});
