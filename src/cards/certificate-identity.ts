// The practitioner's identity as the CPS certificates state it (no PIN needed): subject
// `title=<profession>, SN=, GN=, CN=<type digit><national id>`, the profession code from the
// project's profession extension when the certificate has it, else from the `title` label (real
// CPS certificates have no such extension).
import { X509Certificate } from 'node:crypto';
import * as pkijs from 'pkijs';
import { ATTRIBUTE_TYPE_OID } from '../pki/oids.js';
import { readProfessionExtension } from '../pki/profession-extension.js';
import { professionCodeFromLabel, professionLabel } from '../pki/professions.js';
import { cardDataError } from './errors.js';

export interface CertificateIdentity {
  /** The national identifier without its type digit: the 11-digit RPPS, or the ADELI number. */
  readonly nationalId: string;
  readonly idType: 'RPPS' | 'ADELI';
  readonly surname: string;
  readonly givenName: string;
  /** TRE_G15 code; absent when neither the extension nor the title names a known profession. */
  readonly professionCode?: string;
  /** The certificate's `title` (or the TRE_G15 label of the extension's code when there is no title). */
  readonly professionLabel: string;
  readonly specialtyCode?: string;
  /** ISO 8601 (UTC) end of validity. */
  readonly notAfter: string;
}

export function parseCertificate(der: Uint8Array): pkijs.Certificate {
  try {
    const copy = new Uint8Array(der);
    return pkijs.Certificate.fromBER(copy.buffer);
  } catch (error) {
    throw cardDataError('certificat illisible', 'unreadable certificate', error);
  }
}

function subjectAttribute(cert: pkijs.Certificate, oid: string): string | undefined {
  const found = cert.subject.typesAndValues.find((tv) => tv.type === oid);
  const block = found?.value as { valueBlock?: { value?: unknown } } | undefined;
  const value = block?.valueBlock?.value;
  return typeof value === 'string' ? value : undefined;
}

/**
 * IdNat_PS in the CN: `8` + 11-digit RPPS, or `0` + 9-digit ADELI; anything after a `/` (some
 * issuers append a suffix) is ignored.
 */
export function parseNationalId(commonName: string): { nationalId: string; idType: 'RPPS' | 'ADELI' } {
  const base = commonName.split('/')[0] ?? '';
  const rpps = /^8([0-9]{11})$/.exec(base);
  if (rpps) return { nationalId: rpps[1]!, idType: 'RPPS' };
  const adeli = /^0([0-9]{9})$/.exec(base);
  if (adeli) return { nationalId: adeli[1]!, idType: 'ADELI' };
  throw cardDataError('identifiant national non reconnu dans le certificat', 'national identifier not recognised in the certificate');
}

export function identityFromCertificate(der: Uint8Array): CertificateIdentity {
  const cert = parseCertificate(der);
  const cn = subjectAttribute(cert, ATTRIBUTE_TYPE_OID.CN);
  if (cn === undefined) throw cardDataError('certificat sans CN', 'certificate without a CN');
  const { nationalId, idType } = parseNationalId(cn);
  const title = subjectAttribute(cert, ATTRIBUTE_TYPE_OID.title);
  let extension: { professionCode: string; specialtyCode?: string } | null = null;
  try {
    extension = readProfessionExtension(cert);
  } catch {
    // A malformed extension is ignored here (this is informative only; the DMP service reads
    // and judges the certificate itself): the title still names the profession.
    extension = null;
  }
  const professionCode = extension?.professionCode ?? (title === undefined ? undefined : professionCodeFromLabel(title));
  const label = title ?? (professionCode === undefined ? undefined : professionLabel(professionCode)) ?? '';
  return {
    nationalId,
    idType,
    surname: subjectAttribute(cert, ATTRIBUTE_TYPE_OID.SN) ?? '',
    givenName: subjectAttribute(cert, ATTRIBUTE_TYPE_OID.GN) ?? '',
    ...(professionCode === undefined ? {} : { professionCode }),
    professionLabel: label,
    ...(extension?.specialtyCode === undefined ? {} : { specialtyCode: extension.specialtyCode }),
    notAfter: cert.notAfter.value.toISOString(),
  };
}

/** Modulus length in bytes of the certificate's RSA public key. */
export function rsaModulusBytes(der: Uint8Array): number {
  let bits: number | undefined;
  try {
    bits = new X509Certificate(der).publicKey.asymmetricKeyDetails?.modulusLength;
  } catch (error) {
    throw cardDataError('certificat illisible', 'unreadable certificate', error);
  }
  if (bits === undefined) throw cardDataError('clé publique non RSA', 'public key is not RSA');
  return Math.ceil(bits / 8);
}
