// The few DER encodings the card's PKCS#15 files need, on top of the BER-TLV encoder.
import { encodeTlv } from '../../iso7816/tlv.js';

export const seq = (...children: Uint8Array[]): Uint8Array => encodeTlv(0x30, children);
export const ctx = (tag: number, ...children: Uint8Array[]): Uint8Array => encodeTlv(tag, children);
export const octets = (value: Uint8Array): Uint8Array => encodeTlv(0x04, value);
export const utf8 = (text: string): Uint8Array => encodeTlv(0x0c, new TextEncoder().encode(text));
export const bool = (value: boolean): Uint8Array => encodeTlv(0x01, Uint8Array.of(value ? 0xff : 0x00));

export function integer(value: number, tag = 0x02): Uint8Array {
  if (!Number.isInteger(value) || value < 0) throw new RangeError('non-negative integers only');
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return encodeTlv(tag, Uint8Array.from(bytes));
}

export const enumerated = (value: number): Uint8Array => integer(value, 0x0a);

/** A named-bit BIT STRING from the list of set bit numbers (bit 0 = most significant), DER-minimal. */
export function bitString(bits: readonly number[], tag = 0x03): Uint8Array {
  if (bits.length === 0) return encodeTlv(tag, Uint8Array.of(0));
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  const unused = 7 - (highest & 7);
  const out = new Uint8Array(bytes.length + 1);
  out[0] = unused;
  out.set(bytes, 1);
  return encodeTlv(tag, out);
}

/** PKCS#15 Path ::= SEQUENCE { path OCTET STRING, index INTEGER OPTIONAL, length [0] INTEGER OPTIONAL } */
export function path(bytes: Uint8Array, range?: { index: number; length: number }): Uint8Array {
  return range ? seq(octets(bytes), integer(range.index), integer(range.length, 0x80)) : seq(octets(bytes));
}
