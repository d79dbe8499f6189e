// A few DER writers for the CMS structures sealMessage builds. asn1js re-encodes whatever it is
// given and pkijs turns large contents into constructed (BER) strings; writing the TLVs here
// keeps the output DER, carries certificate and name bytes through untouched, and copies a
// multi-megabyte content once.
import * as asn1js from 'asn1js';
import { compareDerForSet } from '../pki/cms/signed-attributes.js';
import { concat } from './bytes.js';


function lengthOctets(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Uint8Array.from([0x80 | bytes.length, ...bytes]);
}

/** Tag (one identifier octet), DER length, contents. */
export function tlv(tag: number, ...contents: readonly Uint8Array[]): Uint8Array {
  const length = contents.reduce((n, c) => n + c.byteLength, 0);
  return concat([Uint8Array.of(tag), lengthOctets(length), ...contents]);
}

export const TAG = {
  integer: 0x02,
  octetString: 0x04,
  sequence: 0x30,
  set: 0x31,
  /** [0] constructed (EXPLICIT, or IMPLICIT over a constructed type). */
  context0Constructed: 0xa0,
  /** [0] primitive (IMPLICIT over OCTET STRING). */
  context0Primitive: 0x80,
} as const;

export const sequence = (...contents: readonly Uint8Array[]): Uint8Array => tlv(TAG.sequence, ...contents);
export const octetString = (bytes: Uint8Array): Uint8Array => tlv(TAG.octetString, bytes);
export const NULL = Uint8Array.of(0x05, 0x00);

/** SET OF in DER order (X.690 §11.6). */
export function setOf(elements: readonly Uint8Array[]): Uint8Array {
  return tlv(TAG.set, ...[...elements].sort(compareDerForSet));
}

/** A small non-negative INTEGER (versions). */
export function smallInteger(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0x7f) throw new RangeError('smallInteger: 0..127');
  return Uint8Array.of(TAG.integer, 0x01, value);
}

export function objectIdentifier(dotted: string): Uint8Array {
  return new Uint8Array(new asn1js.ObjectIdentifier({ value: dotted }).toBER(false));
}

/** AlgorithmIdentifier { algorithm, parameters } with DER-encoded parameters, or none. */
export function algorithmIdentifier(oid: string, parameters?: Uint8Array): Uint8Array {
  return parameters === undefined ? sequence(objectIdentifier(oid)) : sequence(objectIdentifier(oid), parameters);
}
