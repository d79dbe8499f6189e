// BER-TLV as ISO 7816-4 §5.2 uses it (a subset of X.690 BER): card files (FCP, EF.DIR, Vitale
// pointers and beneficiary templates), GET DATA answers, PKCS#15 objects.
//
// Tag:    1 to 4 bytes. First byte: class (b8-b7), constructed (b6 = 0x20), number (b5-b1);
//         number 1F = more bytes follow, each with b8 set except the last. Tags are handled as
//         the integer of their bytes (5F20, 7F21, BF8101), because card specs name them so.
// Length: 00-7F one byte; 81-84 then 1-4 bytes big-endian. 80 (indefinite, BER only) is not
//         allowed by ISO 7816-4, and 85-FF do not exist.

import { checkInteger, concatBytes, copyBytes } from './bytes.js';
import { Iso7816ParseError } from './errors.js';

export interface TlvNode {
  /** The tag's bytes read as a big-endian integer, e.g. 0x5F20. */
  tag: number;
  /** b6 of the first tag byte: the value is itself a sequence of TLVs. */
  constructed: boolean;
  /** The value bytes (for a constructed node, the encoding of its children). A copy, never a view of the input. */
  value: Uint8Array;
  /** Present exactly when `constructed`. */
  children?: TlvNode[];
}

export interface ParseTlvOptions {
  /**
   * Skip 00 and FF bytes between, before and after the top-level TLVs: card files are larger
   * than their content and come zero- or FF-padded. Only at top level: inside a constructed
   * value such bytes are still an error, as no card pads there.
   */
  skipPadding?: boolean;
}

const MAX_TAG_BYTES = 4;
const MAX_LENGTH_BYTES = 4;
/**
 * Nesting limit. Card data nests a handful of levels; the limit keeps hostile input from
 * exhausting the stack (a RangeError would escape the "only Iso7816ParseError" contract).
 */
export const MAX_TLV_DEPTH = 32;

interface Cursor {
  value: number;
  next: number;
}

/**
 * Reads the tag starting at `offset`. Besides truncation and the 4-byte limit, it refuses what
 * ISO 7816-4 declares invalid and no card produces: first byte 00 or FF (those are padding),
 * and a second byte 80 (a tag number with leading zero bits). Second bytes 00-1E (numbers that
 * would fit the short form) are accepted: proprietary card data uses them (e.g. DF01).
 */
function readTag(bytes: Uint8Array, offset: number, end: number): Cursor {
  if (offset >= end) throw new Iso7816ParseError('missing tag', offset);
  const first = bytes[offset] ?? 0;
  if (first === 0x00 || first === 0xff) {
    throw new Iso7816ParseError(`invalid tag byte ${first.toString(16).toUpperCase().padStart(2, '0')}`, offset);
  }
  let tag = first;
  let i = offset + 1;
  if ((first & 0x1f) !== 0x1f) return { value: tag, next: i };
  for (;;) {
    if (i >= end) throw new Iso7816ParseError('truncated tag', offset);
    const b = bytes[i] ?? 0;
    if (i === offset + 1 && b === 0x80) throw new Iso7816ParseError('tag number with a leading zero byte', i);
    tag = tag * 256 + b; // not <<: a 4-byte tag would turn negative
    i++;
    if ((b & 0x80) === 0) return { value: tag, next: i };
    if (i - offset >= MAX_TAG_BYTES) throw new Iso7816ParseError(`tag longer than ${MAX_TAG_BYTES} bytes`, offset);
  }
}

function readLength(bytes: Uint8Array, offset: number, end: number): Cursor {
  if (offset >= end) throw new Iso7816ParseError('missing length', offset);
  const first = bytes[offset] ?? 0;
  if (first < 0x80) return { value: first, next: offset + 1 };
  if (first === 0x80) throw new Iso7816ParseError('indefinite length is not allowed', offset);
  const count = first & 0x7f;
  if (count > MAX_LENGTH_BYTES) throw new Iso7816ParseError(`length field of ${count} bytes (at most ${MAX_LENGTH_BYTES})`, offset);
  if (offset + 1 + count > end) throw new Iso7816ParseError('truncated length', offset);
  // Non-minimal long forms (81 05) are BER-legal and some cards write them: accepted.
  let length = 0;
  for (let k = 1; k <= count; k++) length = length * 256 + (bytes[offset + k] ?? 0);
  return { value: length, next: offset + 1 + count };
}

function tagFirstByte(tag: number): number {
  let first = tag;
  while (first > 0xff) first = Math.floor(first / 256);
  return first;
}

/** b6 of the tag's first byte. */
export function isConstructedTag(tag: number): boolean {
  return (tagFirstByte(tag) & 0x20) !== 0;
}

function readNode(bytes: Uint8Array, offset: number, end: number, depth: number): { node: TlvNode; next: number } {
  if (depth > MAX_TLV_DEPTH) throw new Iso7816ParseError(`TLV nested deeper than ${MAX_TLV_DEPTH} levels`, offset);
  const tag = readTag(bytes, offset, end);
  const length = readLength(bytes, tag.next, end);
  const valueStart = length.next;
  const valueEnd = valueStart + length.value;
  if (valueEnd > end) {
    throw new Iso7816ParseError(`value of ${length.value} bytes overruns its container by ${valueEnd - end}`, tag.next);
  }
  const constructed = isConstructedTag(tag.value);
  const node: TlvNode = { tag: tag.value, constructed, value: copyBytes(bytes.subarray(valueStart, valueEnd)) };
  if (constructed) node.children = readSequence(bytes, valueStart, valueEnd, depth + 1, false);
  return { node, next: valueEnd };
}

function readSequence(bytes: Uint8Array, start: number, end: number, depth: number, skipPadding: boolean): TlvNode[] {
  const nodes: TlvNode[] = [];
  let i = start;
  while (i < end) {
    const b = bytes[i];
    if (skipPadding && (b === 0x00 || b === 0xff)) {
      i++;
      continue;
    }
    const { node, next } = readNode(bytes, i, end, depth);
    nodes.push(node);
    i = next;
  }
  return nodes;
}

/**
 * Parses a sequence of BER-TLVs; constructed values are parsed into `children`, recursively.
 * Strict: the sequence must fill `bytes` exactly (no trailing bytes), and so must the children
 * of every constructed value.
 * @throws Iso7816ParseError with the offset (into `bytes`) of the faulty field: truncated
 *   tag/length/value, indefinite or over-long length, invalid tag, nesting beyond MAX_TLV_DEPTH.
 */
export function parseTlv(bytes: Uint8Array, opts: ParseTlvOptions = {}): TlvNode[] {
  return readSequence(bytes, 0, bytes.length, 1, opts.skipPadding === true);
}

/**
 * The tag's bytes.
 * @throws RangeError unless `tag` is the integer of a well-formed tag (see readTag), e.g. 0x5F
 *   alone announces a second byte and is refused.
 */
export function encodeTag(tag: number): Uint8Array {
  checkInteger('tag', tag, 1, 0xffffffff);
  const out: number[] = [];
  for (let rest = tag; rest > 0; rest = Math.floor(rest / 256)) out.unshift(rest % 256);
  const bytes = Uint8Array.from(out);
  let next: number;
  try {
    next = readTag(bytes, 0, bytes.length).next;
  } catch (e) {
    if (e instanceof Iso7816ParseError) throw new RangeError(`invalid tag 0x${tag.toString(16).toUpperCase()}: ${e.message}`);
    throw e;
  }
  if (next !== bytes.length) {
    throw new RangeError(`invalid tag 0x${tag.toString(16).toUpperCase()}: its first ${next} byte(s) already form a complete tag`);
  }
  return bytes;
}

/** Minimal (DER-style) length field. @throws RangeError outside 0..0xFFFFFFFF. */
export function encodeLength(n: number): Uint8Array {
  checkInteger('TLV length', n, 0, 0xffffffff);
  if (n < 0x80) return Uint8Array.of(n);
  const out: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) out.unshift(rest % 256);
  return Uint8Array.from([0x80 | out.length, ...out]);
}

/**
 * tag || length || value. An array value is the list of already-encoded children, concatenated
 * (the tag is not required to be constructed: callers also build primitive values from parts).
 */
export function encodeTlv(tag: number, value: Uint8Array | readonly Uint8Array[]): Uint8Array {
  const content = value instanceof Uint8Array ? value : concatBytes(value);
  return concatBytes([encodeTag(tag), encodeLength(content.length), content]);
}

/**
 * Re-encodes parsed (or hand-built) nodes. A node with `children` is encoded from them, so
 * edits to the tree show up; otherwise from `value`. Lengths come out minimal.
 */
export function encodeTlvNodes(nodes: readonly TlvNode[]): Uint8Array {
  return concatBytes(
    nodes.map((node) => encodeTlv(node.tag, node.children ? [encodeTlvNodes(node.children)] : node.value)),
  );
}

/**
 * Follows `path` down the tree: the first node tagged path[0] in `nodes`, then the first child
 * tagged path[1] in it, and so on. Undefined when a step is missing or the path is empty.
 */
export function findTlv(nodes: readonly TlvNode[], ...path: number[]): TlvNode | undefined {
  let level: readonly TlvNode[] | undefined = nodes;
  let found: TlvNode | undefined;
  for (const tag of path) {
    found = level?.find((node) => node.tag === tag);
    if (!found) return undefined;
    level = found.children;
  }
  return found;
}

/** Every node tagged `tag` among `nodes` (that level only, not their descendants). */
export function findAllTlv(nodes: readonly TlvNode[], tag: number): TlvNode[] {
  return nodes.filter((node) => node.tag === tag);
}
