// Reading primitive ASN.1 values (DER/BER as cards write them) out of parsed BER-TLV nodes, for the
// PKCS#15 and Vitale parsers. Every failure is a CardError (CARD_ERROR): card data is input.
import { Iso7816ParseError } from '../iso7816/errors.js';
import { parseTlv, type TlvNode } from '../iso7816/tlv.js';
import { cardDataError } from './errors.js';

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  GENERALIZED_TIME: 0x18,
  VISIBLE_STRING: 0x1a,
  SEQUENCE: 0x30,
} as const;

/** BER-TLV nodes of `bytes`; top-level 00/FF padding is skipped (card files are padded). */
export function parseNodes(bytes: Uint8Array, what: string): TlvNode[] {
  try {
    return parseTlv(bytes, { skipPadding: true });
  } catch (error) {
    if (error instanceof Iso7816ParseError) throw cardDataError(`${what} mal formé`, `malformed ${what}`, error);
    throw error;
  }
}

export function childrenOf(node: TlvNode, what: string): TlvNode[] {
  if (!node.children) throw cardDataError(`${what} : structure attendue`, `${what}: constructed value expected`);
  return node.children;
}

export function expectTag(node: TlvNode | undefined, tag: number, what: string): TlvNode {
  if (!node || node.tag !== tag) {
    throw cardDataError(`${what} absent ou de type inattendu`, `${what} missing or of an unexpected type`);
  }
  return node;
}

/** A non-negative INTEGER (or ENUMERATED, or an implicitly tagged one) of at most 6 bytes. */
export function unsignedInteger(node: TlvNode, what: string): number {
  const v = node.value;
  if (v.length === 0 || v.length > 7 || (v[0]! & 0x80) !== 0) {
    throw cardDataError(`${what} : entier invalide`, `${what}: invalid integer`);
  }
  let n = 0;
  for (const b of v) n = n * 256 + b;
  if (!Number.isSafeInteger(n)) throw cardDataError(`${what} : entier trop grand`, `${what}: integer too large`);
  return n;
}

/**
 * The set bits of a BIT STRING, numbered as ASN.1 named bits (bit 0 = the most significant bit of
 * the first content byte). Unused trailing bits are ignored.
 */
export function bitStringBits(node: TlvNode, what: string): Set<number> {
  const v = node.value;
  const unused = v[0];
  if (unused === undefined || unused > 7 || (v.length === 1 && unused !== 0)) {
    throw cardDataError(`${what} : chaîne de bits invalide`, `${what}: invalid BIT STRING`);
  }
  const bits = new Set<number>();
  const total = (v.length - 1) * 8 - unused;
  for (let i = 0; i < total; i++) {
    if ((v[1 + (i >> 3)]! & (0x80 >> (i & 7))) !== 0) bits.add(i);
  }
  return bits;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** A character string value (UTF8String, PrintableString, IA5String…), decoded as UTF-8. */
export function text(node: TlvNode): string {
  return utf8.decode(node.value);
}

/** ISO-8859-1 (one byte per character), as Vitale cards store text. */
export function latin1(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0').toUpperCase();
  return out;
}
