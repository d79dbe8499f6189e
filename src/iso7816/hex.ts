// Hex text <-> bytes, for logs, tests and spec-like literals ("00 A4 04 0C").

import { Iso7816ParseError } from './errors.js';

/** Upper-case, space-separated: the way APDUs are written in specs and traces. `hex(empty) === ''`. */
export function hex(bytes: Uint8Array): string {
  const parts = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    parts[i] = (bytes[i] ?? 0).toString(16).padStart(2, '0').toUpperCase();
  }
  return parts.join(' ');
}

function isSeparator(ch: string): boolean {
  // Whitespace and colons: the separators of spec tables, OpenSC traces and openssl output.
  return ch === ':' || ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r';
}

function nibble(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30; // 0-9
  if (code >= 0x41 && code <= 0x46) return code - 0x37; // A-F
  if (code >= 0x61 && code <= 0x66) return code - 0x57; // a-f
  return -1;
}

/**
 * Parses hex text; tolerates whitespace and colons between bytes. Each run of digits between
 * separators must have an even length, so "1 23" is rejected rather than guessed at.
 * @throws Iso7816ParseError (offset = character index) for any other character or an odd run.
 */
export function fromHex(text: string): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < text.length) {
    if (isSeparator(text.charAt(i))) {
      i++;
      continue;
    }
    const start = i;
    while (i < text.length && !isSeparator(text.charAt(i))) i++;
    for (let j = start; j < i; j += 2) {
      const high = nibble(text.charCodeAt(j));
      if (high < 0) throw new Iso7816ParseError(`invalid hex character ${JSON.stringify(text.charAt(j))}`, j);
      if (j + 1 >= i) throw new Iso7816ParseError('odd number of hex digits', start);
      const low = nibble(text.charCodeAt(j + 1));
      if (low < 0) throw new Iso7816ParseError(`invalid hex character ${JSON.stringify(text.charAt(j + 1))}`, j + 1);
      out.push((high << 4) | low);
    }
  }
  return Uint8Array.from(out);
}
