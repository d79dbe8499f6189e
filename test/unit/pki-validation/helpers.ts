// Shared by the validation tests: a test PKI per call, its CRL files, a validator wired the way
// the DMP service wires it, and a self-made CA that nobody trusts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCertificate, keyIdentifierOfSpki, type CertificateSigner } from '../../../src/pki/certificate-builder.js';
import { generateRsaKeyPair, importSigningKey, type RsaKeyPair } from '../../../src/pki/keys.js';
import { buildName, caNameAttributes, practitionerNameAttributes } from '../../../src/pki/names.js';
import { practitionerAuthenticationExtensions, rootCaExtensions } from '../../../src/pki/profiles.js';
import { randomSerial } from '../../../src/pki/serial.js';
import { TestPki, type PractitionerIdentity } from '../../../src/pki/test-pki.js';
import { CertificateValidator, type CertificateValidatorOptions } from '../../../src/pki/validation/certificate-validator.js';
import type { CrlSource } from '../../../src/pki/validation/crl-source.js';
import { FileCrlSource } from '../../../src/pki/validation/file-crl-source.js';

export function freshDir(prefix = 'cb-validation-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export const doctor: PractitionerIdentity = {
  rpps: '99900000101',
  surname: 'MARTIN',
  givenName: 'SOPHIE',
  professionCode: '10',
  professionLabel: 'Médecin',
  specialtyCode: 'SM54',
  structureId: '499900001000001',
  structureName: 'CABINET DU DR MARTIN',
};

export const nurse: PractitionerIdentity = {
  rpps: '99900000103',
  surname: 'PETIT',
  givenName: 'CLAIRE',
  professionCode: '60',
  professionLabel: 'Infirmier',
  structureId: '499900001000003',
  structureName: 'CABINET INFIRMIER PETIT',
};

/** Paths of the three CRL files of a PKI (kept current by pki.crl()). */
export async function crlFiles(pki: TestPki): Promise<string[]> {
  for (const ca of ['root', 'persons', 'organisations'] as const) await pki.crl(ca);
  return pki.describeCas().map((ca) => ca.files.crlDer);
}

/** The validator as the DMP service builds it: the root trusted, both intermediates known. */
export async function validatorFor(
  pki: TestPki,
  overrides: Partial<CertificateValidatorOptions> = {},
): Promise<{ validator: CertificateValidator; crls: CrlSource }> {
  const crls = overrides.crls ?? new FileCrlSource(await crlFiles(pki));
  const validator = new CertificateValidator({
    trustAnchors: [pki.caCertificate('root')],
    intermediates: [pki.caCertificate('persons'), pki.caCertificate('organisations')],
    crls,
    ...overrides,
  });
  return { validator, crls };
}

export interface RogueCa {
  certificateDer: Uint8Array;
  keys: RsaKeyPair;
  signer: CertificateSigner;
}

/** A self-signed CA made outside the test PKI, optionally with the very name of a real one. */
export async function rogueCa(commonName = 'ROGUE CA'): Promise<RogueCa> {
  const keys = await generateRsaKeyPair();
  const name = buildName(caNameAttributes(commonName));
  const signer: CertificateSigner = {
    name,
    keyIdentifier: keyIdentifierOfSpki(keys.publicKeySpkiDer),
    signingKey: await importSigningKey(keys.privateKeyPkcs8Der),
  };
  const now = Date.now();
  const certificateDer = await buildCertificate(
    {
      serial: randomSerial(),
      subject: name,
      subjectPublicKeySpkiDer: keys.publicKeySpkiDer,
      notBefore: new Date(now - 86_400_000),
      notAfter: new Date(now + 365 * 86_400_000),
      extensions: rootCaExtensions(),
    },
    signer,
  );
  return { certificateDer, keys, signer };
}

/** A CPS-shaped authentication certificate issued by a rogue CA. */
export async function rogueLeaf(ca: RogueCa, identity: PractitionerIdentity = doctor): Promise<Uint8Array> {
  const keys = await generateRsaKeyPair();
  const now = Date.now();
  return buildCertificate(
    {
      serial: randomSerial(),
      subject: buildName(practitionerNameAttributes(identity)),
      subjectPublicKeySpkiDer: keys.publicKeySpkiDer,
      notBefore: new Date(now - 3_600_000),
      notAfter: new Date(now + 365 * 86_400_000),
      extensions: practitionerAuthenticationExtensions({ crlUrl: 'http://127.0.0.1:1/crl/rogue.crl', profession: { professionCode: '10' } }),
    },
    ca.signer,
  );
}

export const DAY = 24 * 60 * 60 * 1000;

export async function openPki(options: Parameters<typeof TestPki.open>[1] = {}): Promise<TestPki> {
  return TestPki.open(freshDir(), options);
}
