// What a certificate must assert to be used for each purpose of the DMP service, and which CA may
// have issued it. The rules follow the IGC-Santé profiles (cards.md, "Test PKI"):
//   authentication  CPS authentication certificate: keyUsage digitalSignature, EKU clientAuth
//   signature       CPS signature certificate: keyUsage nonRepudiation
//   establishment   establishment server certificate (organisations CA): digitalSignature, clientAuth
// The issuer rule matters as much as the key usages: an establishment's server certificate with
// clientAuth must not pass as a practitioner's card, and the reverse.
import type * as pkijs from 'pkijs';
import { ATTRIBUTE_TYPE_OID, KEY_PURPOSE_OID } from '../oids.js';
import { extendedKeyUsagesOf, keyUsagesOf, nameValues } from './x509.js';

export type ValidationPurpose = 'authentication' | 'signature' | 'establishment';

export const VALIDATION_PURPOSES: readonly ValidationPurpose[] = ['authentication', 'signature', 'establishment'];

export function isValidationPurpose(value: unknown): value is ValidationPurpose {
  return typeof value === 'string' && (VALIDATION_PURPOSES as readonly string[]).includes(value);
}

const EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
const DOCUMENT_SIGNING = '1.3.6.1.5.5.7.3.36';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

/** Why the end-entity certificate cannot serve `purpose`, or undefined when it can. */
export function purposeViolation(certificate: pkijs.Certificate, purpose: ValidationPurpose): string | undefined {
  let usages;
  let purposes;
  try {
    usages = keyUsagesOf(certificate);
    purposes = extendedKeyUsagesOf(certificate);
  } catch (error) {
    return `unreadable key usage extension: ${(error as Error).message}`;
  }
  if (!usages) return 'no keyUsage extension';
  switch (purpose) {
    case 'authentication':
    case 'establishment':
      if (!usages.has('digitalSignature')) return `keyUsage lacks digitalSignature (needed for ${purpose})`;
      if (!purposes?.includes(KEY_PURPOSE_OID.clientAuth)) return `extendedKeyUsage lacks clientAuth (needed for ${purpose})`;
      return undefined;
    case 'signature':
      if (!usages.has('nonRepudiation')) return 'keyUsage lacks nonRepudiation (needed for a document signature)';
      // An EKU, when present, limits the key to what it lists (RFC 5280 §4.2.1.12).
      if (purposes && !purposes.some((p) => p === EMAIL_PROTECTION || p === DOCUMENT_SIGNING || p === ANY_EXTENDED_KEY_USAGE)) {
        return 'extendedKeyUsage does not allow signing documents';
      }
      return undefined;
  }
}

/**
 * Default issuer rule when the validator is not given the issuing CAs of a purpose: the IGC-Santé
 * names its CAs by population, "… PERSONNES" for practitioners' cards and "… ORGANISATIONS" for
 * establishments' certificates. The CA certificate has already been chained to a trust anchor
 * when this runs, so its name is the CA's own.
 */
export function issuerMatchesPurposeByName(issuer: pkijs.Certificate, purpose: ValidationPurpose): boolean {
  const names = nameValues(issuer.subject, ATTRIBUTE_TYPE_OID.CN).map((cn) => cn.toUpperCase());
  const marker = purpose === 'establishment' ? 'ORGANISATIONS' : 'PERSONNES';
  return names.some((cn) => cn.split(/\s+/).includes(marker));
}
