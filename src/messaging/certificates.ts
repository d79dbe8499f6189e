// What messaging reads from a practitioner's certificate, browser-safe (pkijs, no node:crypto):
// the issuer and serial that name it in CMS, its RSA public key, its key usages, and the
// practitioner it certifies (CPS subject: CN = type digit + national identifier, GN, SN).
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CMS_OID } from '../pki/cms/cms-oids.js';
import { ATTRIBUTE_TYPE_OID, EXTENSION_OID } from '../pki/oids.js';
import { isBytes } from './bytes.js';

export class CertificateReadError extends Error {
  override readonly name = 'CertificateReadError';
}

/** A certificate is a few KB; this bounds what is parsed. */
const MAX_CERTIFICATE_BYTES = 64 * 1024;

const KEY_USAGE_BIT = { digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2 } as const;
export type KeyUsageName = keyof typeof KEY_USAGE_BIT;

export interface MessagingCertificate {
  readonly der: Uint8Array;
  readonly certificate: pkijs.Certificate;
  /** DER of the issuer Name as the certificate holds it. */
  readonly issuerDer: Uint8Array;
  /** DER of the serialNumber INTEGER. */
  readonly serialDer: Uint8Array;
  /** DER of the SubjectPublicKeyInfo. */
  readonly spkiDer: Uint8Array;
  readonly isRsa: boolean;
  /** undefined: no keyUsage extension. */
  readonly keyUsage: ReadonlySet<KeyUsageName> | undefined;
  readonly subjectKeyIdentifier: Uint8Array | undefined;
  /** From the CN `8` + RPPS or `0` + ADELI; undefined when the CN is not one. */
  readonly nationalId: string | undefined;
  /** "GN SN", or the CN when the subject has neither. */
  readonly name: string;
}

/**
 * Parses BER that must be exactly one element (no trailing bytes). asn1js copies the input (its
 * default), refuses contents longer than `maxContentLength` (its default: 16 MiB), and is told
 * not to try every OCTET STRING as embedded ASN.1 (a 10 MiB ciphertext is no such thing).
 */
export function parseExactly(bytes: Uint8Array, what: string, maxContentLength?: number): asn1js.AsnType {
  const parsed = asn1js.fromBER(bytes, { parseEmbedded: false, ...(maxContentLength === undefined ? {} : { maxContentLength }) });
  if (parsed.offset === -1) throw new CertificateReadError(`${what}: not DER (${parsed.result.error})`);
  if (parsed.offset !== bytes.byteLength) throw new CertificateReadError(`${what}: ${bytes.byteLength - parsed.offset} trailing bytes`);
  return parsed.result;
}

function subjectValue(certificate: pkijs.Certificate, oid: string): string | undefined {
  const found = certificate.subject.typesAndValues.find((tv) => tv.type === oid);
  const value = (found?.value as { valueBlock?: { value?: unknown } } | undefined)?.valueBlock?.value;
  return typeof value === 'string' ? value : undefined;
}

/** IdNat_PS in the CN (cards.md): `8` + 11-digit RPPS or `0` + 9-digit ADELI, a `/suffix` ignored. */
export function nationalIdFromCommonName(commonName: string): string | undefined {
  const base = commonName.split('/')[0] ?? '';
  return /^8([0-9]{11})$/.exec(base)?.[1] ?? /^0([0-9]{9})$/.exec(base)?.[1];
}

function extensionValue(certificate: pkijs.Certificate, oid: string): asn1js.AsnType | undefined {
  const matching = (certificate.extensions ?? []).filter((e) => e.extnID === oid);
  if (matching.length > 1) throw new CertificateReadError(`extension ${oid} repeated`);
  const extension = matching[0];
  return extension === undefined ? undefined : parseExactly(extension.extnValue.valueBlock.valueHexView, `extension ${oid}`);
}

function keyUsageOf(certificate: pkijs.Certificate): Set<KeyUsageName> | undefined {
  const value = extensionValue(certificate, EXTENSION_OID.keyUsage);
  if (value === undefined) return undefined;
  if (!(value instanceof asn1js.BitString)) throw new CertificateReadError('keyUsage is not a BIT STRING');
  const bits = value.valueBlock.valueHexView;
  const usages = new Set<KeyUsageName>();
  for (const [name, bit] of Object.entries(KEY_USAGE_BIT) as [KeyUsageName, number][]) {
    if ((((bits[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) === 1) usages.add(name);
  }
  return usages;
}

function subjectKeyIdentifierOf(certificate: pkijs.Certificate): Uint8Array | undefined {
  const value = extensionValue(certificate, EXTENSION_OID.subjectKeyIdentifier);
  if (value === undefined) return undefined;
  if (!(value instanceof asn1js.OctetString)) throw new CertificateReadError('subjectKeyIdentifier is not an OCTET STRING');
  return new Uint8Array(value.valueBlock.valueHexView);
}

/** @throws CertificateReadError */
export function readCertificate(der: unknown): MessagingCertificate {
  if (!isBytes(der)) throw new CertificateReadError('certificate must be DER bytes');
  if (der.byteLength === 0 || der.byteLength > MAX_CERTIFICATE_BYTES) throw new CertificateReadError(`certificate size ${der.byteLength} outside 1..${MAX_CERTIFICATE_BYTES}`);
  const own = new Uint8Array(der);
  let certificate: pkijs.Certificate;
  try {
    certificate = new pkijs.Certificate({ schema: parseExactly(own, 'certificate') });
  } catch (error) {
    if (error instanceof CertificateReadError) throw error;
    throw new CertificateReadError(`certificate: ${(error as Error).message}`);
  }
  const commonName = subjectValue(certificate, ATTRIBUTE_TYPE_OID.CN) ?? '';
  const personal = [subjectValue(certificate, ATTRIBUTE_TYPE_OID.GN), subjectValue(certificate, ATTRIBUTE_TYPE_OID.SN)].filter((v): v is string => !!v);
  return {
    der: own,
    certificate,
    // pkijs keeps the bytes a Name was decoded from and re-emits them unchanged.
    issuerDer: new Uint8Array(certificate.issuer.toSchema().toBER(false)),
    serialDer: new Uint8Array(certificate.serialNumber.toBER(false)),
    spkiDer: new Uint8Array(certificate.subjectPublicKeyInfo.toSchema().toBER(false)),
    isRsa: certificate.subjectPublicKeyInfo.algorithm.algorithmId === CMS_OID.rsaEncryption,
    keyUsage: keyUsageOf(certificate),
    subjectKeyIdentifier: subjectKeyIdentifierOf(certificate),
    nationalId: nationalIdFromCommonName(commonName),
    name: personal.length > 0 ? personal.join(' ') : commonName,
  };
}

/** The serial number as upper-case hex without leading zero bytes (as TestPki and OpenSSL print it). */
export function serialHex(serial: asn1js.Integer): string {
  const bytes = Array.from(serial.valueBlock.valueHexView);
  while (bytes.length > 1 && bytes[0] === 0) bytes.shift();
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join('').toUpperCase();
}
