// Base64 as MIME carries it (RFC 2045 §6.8): 76-character lines separated by CRLF. The reader
// takes exactly what the writer makes — full lines but the last, padding only at the end, no
// stray bits — so a given content has one encoding, and it knows the decoded size before decoding.
// Both work on bytes and character codes without intermediate strings: a 10 MiB attachment is
// 14 MB of base64, and building it a few characters at a time costs seconds of garbage collection.
import { wrappedBase64Length } from './limits.js';

export const BASE64_LINE_LENGTH = 76;
const GROUPS_PER_LINE = BASE64_LINE_LENGTH / 4;
const CR = 13;
const LF = 10;
const PAD = 61; // '='

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ENCODE = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export class Base64LinesError extends Error {
  override readonly name = 'Base64LinesError';
}

/** ASCII bytes of the base64 lines joined by CRLF, without a final CRLF; empty for no bytes. */
export function encodeBase64Lines(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(wrappedBase64Length(bytes.length));
  let o = 0;
  let groups = 0;
  for (let i = 0; i < bytes.length; i += 3) {
    if (groups === GROUPS_PER_LINE) {
      out[o++] = CR;
      out[o++] = LF;
      groups = 0;
    }
    const b0 = bytes[i] as number;
    const b1 = i + 1 < bytes.length ? (bytes[i + 1] as number) : 0;
    const b2 = i + 2 < bytes.length ? (bytes[i + 2] as number) : 0;
    out[o++] = ENCODE[b0 >> 2] as number;
    out[o++] = ENCODE[((b0 & 3) << 4) | (b1 >> 4)] as number;
    out[o++] = i + 1 < bytes.length ? (ENCODE[((b1 & 15) << 2) | (b2 >> 6)] as number) : PAD;
    out[o++] = i + 2 < bytes.length ? (ENCODE[b2 & 63] as number) : PAD;
    groups++;
  }
  return out;
}

/**
 * Walks the text as encodeBase64Lines lays it out, writing the decoded bytes into `out` when
 * given; returns the decoded length. @throws Base64LinesError on any other layout.
 */
function walk(text: string, out?: Uint8Array): number {
  const length = text.length;
  let p = 0;
  let n = 0;
  let groups = 0;
  while (p < length) {
    if (groups === GROUPS_PER_LINE) {
      if (text.charCodeAt(p) !== CR || text.charCodeAt(p + 1) !== LF || p + 2 >= length) throw new Base64LinesError(`base64 line break expected at ${p}`);
      p += 2;
      groups = 0;
    }
    if (p + 4 > length) throw new Base64LinesError('base64 length is not a multiple of 4');
    const c0 = text.charCodeAt(p);
    const c1 = text.charCodeAt(p + 1);
    const c2 = text.charCodeAt(p + 2);
    const c3 = text.charCodeAt(p + 3);
    const d0 = c0 < 128 ? (DECODE[c0] as number) : -1;
    const d1 = c1 < 128 ? (DECODE[c1] as number) : -1;
    const last = p + 4 === length;
    const d2 = c2 === PAD && c3 === PAD && last ? -2 : c2 < 128 ? (DECODE[c2] as number) : -1;
    const d3 = c3 === PAD && last ? -2 : c3 < 128 ? (DECODE[c3] as number) : -1;
    if (d0 < 0 || d1 < 0 || d2 === -1 || d3 === -1) throw new Base64LinesError(`base64 character outside the alphabet near ${p}`);
    if (out) out[n] = (d0 << 2) | (d1 >> 4);
    n++;
    if (d2 === -2) {
      if ((d1 & 15) !== 0) throw new Base64LinesError('base64 has non-zero pad bits');
    } else {
      if (out) out[n] = ((d1 & 15) << 4) | (d2 >> 2);
      n++;
      if (d3 === -2) {
        if ((d2 & 3) !== 0) throw new Base64LinesError('base64 has non-zero pad bits');
      } else {
        if (out) out[n] = ((d2 & 3) << 6) | d3;
        n++;
      }
    }
    p += 4;
    groups++;
  }
  return n;
}

/** Checks the layout and returns the decoded size, without decoding. */
export function checkBase64Lines(text: string): { decodedLength: number } {
  return { decodedLength: walk(text) };
}

export function decodeBase64Lines(text: string): Uint8Array {
  // Room for every character being base64 (a little more than the CRLFs leave), one pass.
  const out = new Uint8Array(Math.floor(text.length / 4) * 3);
  const length = walk(text, out);
  return length === out.length ? out : out.slice(0, length);
}
