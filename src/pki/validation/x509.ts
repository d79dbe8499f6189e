// Strict parsing of certificates and reading of the extensions the validator decides on. Every
// reader here works on bytes an attacker may have chosen: parsing refuses trailing data and
// duplicate extensions, and extension values are decoded from their own DER, not trusted from
// whatever pkijs managed to guess.
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toArrayBuffer } from '../bytes.js';
import { EXTENSION_OID } from '../oids.js';
import { normalizeSerialHex } from '../serial.js';
import { KEY_USAGE_BITS, type KeyUsageName } from '../standard-extensions.js';

export class CertificateParseError extends Error {
  override readonly name = 'CertificateParseError';
}

/** A certificate with the bytes it was parsed from and its SHA-256 fingerprint. */
export interface ParsedCertificate {
  readonly der: Uint8Array;
  readonly certificate: pkijs.Certificate;
  /** Lower-case hex SHA-256 of the DER: the cache key and the identity used in results. */
  readonly fingerprint: string;
}

/** Certificates larger than this are refused before parsing (a CPS certificate is ~1.5 KB). */
export const MAX_CERTIFICATE_BYTES = 64 * 1024;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Parses one DER value of a pkijs type, refusing trailing bytes (asn1js would ignore them). */
export function parseExactly<T>(bytes: Uint8Array, what: string, build: (schema: asn1js.AsnType) => T): T {
  const copy = new Uint8Array(bytes); // asn1js keeps views on its input: never on the caller's buffer
  const parsed = asn1js.fromBER(toArrayBuffer(copy));
  if (parsed.offset === -1) throw new CertificateParseError(`${what}: not BER/DER (${parsed.result.error})`);
  if (parsed.offset !== copy.byteLength) throw new CertificateParseError(`${what}: ${copy.byteLength - parsed.offset} trailing bytes`);
  try {
    return build(parsed.result);
  } catch (error) {
    throw new CertificateParseError(`${what}: ${(error as Error).message}`);
  }
}

/** Parses a DER certificate; throws CertificateParseError on anything else. */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  if (!(der instanceof Uint8Array)) throw new CertificateParseError('certificate: bytes expected');
  if (der.byteLength === 0 || der.byteLength > MAX_CERTIFICATE_BYTES) {
    throw new CertificateParseError(`certificate: size ${der.byteLength} outside 1..${MAX_CERTIFICATE_BYTES}`);
  }
  const own = new Uint8Array(der);
  const certificate = parseExactly(own, 'certificate', (schema) => new pkijs.Certificate({ schema }));
  if (certificate.version !== 2) throw new CertificateParseError('certificate: X.509 v3 expected');
  const seen = new Set<string>();
  for (const extension of certificate.extensions ?? []) {
    // RFC 5280 §4.2: a certificate must not include more than one instance of an extension.
    if (seen.has(extension.extnID)) throw new CertificateParseError(`certificate: extension ${extension.extnID} repeated`);
    seen.add(extension.extnID);
  }
  return { der: own, certificate, fingerprint: sha256Hex(own) };
}

// Parsed forms of byte arrays seen before (CA certificates are looked at on every validation).
const parsedByBytes = new WeakMap<Uint8Array, ParsedCertificate>();

/** parseCertificate, remembered per byte array (the array must not be modified afterwards). */
export function parseCertificateCached(der: Uint8Array): ParsedCertificate {
  const known = parsedByBytes.get(der);
  if (known) return known;
  const parsed = parseCertificate(der);
  parsedByBytes.set(der, parsed);
  return parsed;
}

export function findExtension(certificate: pkijs.Certificate, oid: string): pkijs.Extension | undefined {
  return certificate.extensions?.find((extension) => extension.extnID === oid);
}

function extensionValue(extension: pkijs.Extension): Uint8Array {
  return extension.extnValue.valueBlock.valueHexView;
}

/** The key usages a certificate asserts, or undefined when it has no keyUsage extension. */
export function keyUsagesOf(certificate: pkijs.Certificate): Set<KeyUsageName> | undefined {
  const extension = findExtension(certificate, EXTENSION_OID.keyUsage);
  if (!extension) return undefined;
  const bits = parseExactly(extensionValue(extension), 'keyUsage', (schema) => {
    if (!(schema instanceof asn1js.BitString)) throw new Error('BIT STRING expected');
    return schema.valueBlock.valueHexView;
  });
  const usages = new Set<KeyUsageName>();
  for (const [name, bit] of Object.entries(KEY_USAGE_BITS) as [KeyUsageName, number][]) {
    if ((((bits[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) === 1) usages.add(name);
  }
  return usages;
}

/** The key purposes (OIDs) of the extendedKeyUsage extension, or undefined when absent. */
export function extendedKeyUsagesOf(certificate: pkijs.Certificate): string[] | undefined {
  const extension = findExtension(certificate, EXTENSION_OID.extKeyUsage);
  if (!extension) return undefined;
  return parseExactly(extensionValue(extension), 'extKeyUsage', (schema) => new pkijs.ExtKeyUsage({ schema }).keyPurposes);
}

export interface BasicConstraintsValue {
  readonly ca: boolean;
  readonly pathLength?: number;
}

export function basicConstraintsOf(certificate: pkijs.Certificate): BasicConstraintsValue | undefined {
  const extension = findExtension(certificate, EXTENSION_OID.basicConstraints);
  if (!extension) return undefined;
  return parseExactly(extensionValue(extension), 'basicConstraints', (schema) => {
    const value = new pkijs.BasicConstraints({ schema });
    const pathLength = value.pathLenConstraint;
    if (pathLength === undefined) return { ca: value.cA };
    const length = typeof pathLength === 'number' ? pathLength : pathLength.valueBlock.valueDec;
    return { ca: value.cA, pathLength: length };
  });
}

/** The URIs of the certificate's CRL distribution points (fullName form), in order. */
export function crlDistributionUrls(certificate: pkijs.Certificate): string[] {
  const extension = findExtension(certificate, EXTENSION_OID.crlDistributionPoints);
  if (!extension) return [];
  const points = parseExactly(extensionValue(extension), 'cRLDistributionPoints', (schema) => new pkijs.CRLDistributionPoints({ schema }));
  const urls: string[] = [];
  for (const point of points.distributionPoints) {
    const name = point.distributionPoint;
    if (!Array.isArray(name)) continue; // nameRelativeToCRLIssuer: not used by the IGC-Santé
    for (const general of name) {
      if (general.type === 6 && typeof general.value === 'string') urls.push(general.value);
    }
  }
  return urls;
}

/** Serial number in the canonical hex form of ../serial.ts (upper case, no leading zero bytes). */
export function serialHexOf(certificate: pkijs.Certificate): string {
  return normalizeSerialHex(Buffer.from(certificate.serialNumber.valueBlock.valueHexView).toString('hex') || '00');
}

/** The string values of one attribute type in a name, in encoded order. */
export function nameValues(name: pkijs.RelativeDistinguishedNames, oid: string): string[] {
  return name.typesAndValues
    .filter((tv) => tv.type === oid)
    .map((tv) => {
      const block = tv.value as { valueBlock?: { value?: unknown } };
      return typeof block.valueBlock?.value === 'string' ? block.valueBlock.value : '';
    });
}

/** Byte equality of two encoded names (what RFC 5280 name chaining compares, in practice). */
export function sameName(a: pkijs.RelativeDistinguishedNames, b: pkijs.RelativeDistinguishedNames): boolean {
  return a.isEqual(b);
}

/** Signature algorithms accepted on certificates and CRLs: SHA-2 family only (no SHA-1, no MD5). */
export const ACCEPTED_SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  '1.2.840.113549.1.1.11', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12', // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13', // sha512WithRSAEncryption
  '1.2.840.113549.1.1.10', // RSASSA-PSS
  '1.2.840.10045.4.3.2', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3', // ecdsa-with-SHA384
  '1.2.840.10045.4.3.4', // ecdsa-with-SHA512
]);

/**
 * Extensions whose meaning the validator either checks or may safely ignore when critical
 * (RFC 5280 §4.2: a certificate with an unrecognised critical extension must be rejected).
 */
export const UNDERSTOOD_CRITICAL_EXTENSIONS: ReadonlySet<string> = new Set([
  EXTENSION_OID.keyUsage,
  EXTENSION_OID.basicConstraints,
  EXTENSION_OID.extKeyUsage,
  EXTENSION_OID.subjectAltName,
  '2.5.29.32', // certificatePolicies: any policy is accepted (no policy constraint is configured)
]);

/** The first critical extension the validator does not understand, if any. */
export function unknownCriticalExtension(certificate: pkijs.Certificate): string | undefined {
  return certificate.extensions?.find((e) => e.critical && !UNDERSTOOD_CRITICAL_EXTENSIONS.has(e.extnID))?.extnID;
}
