// Card family from the answer-to-reset (cards.md, with the CPS3 mask OpenSC uses for "IAS/ECC CPx").
// The family decides which session can drive the card; UNKNOWN cards are reported, never driven.

export type CardFamily = 'CPS3' | 'CPS4' | 'VITALE2' | 'VITALE1' | 'UNKNOWN';

interface MaskedAtr {
  readonly atr: readonly number[];
  readonly mask: readonly number[];
}

/** CPS3 contact interface: OpenSC's ATR and mask (bytes 1-4 and 11-13 vary between batches). */
const CPS3: MaskedAtr = {
  atr: [0x3b, 0xac, 0x00, 0x40, 0x2a, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x03, 0x10, 0x00, 0x90, 0x00],
  mask: [0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff],
};

/** CPS4 ATRs, compared whole (as the ANS Cryptolib does): T=1, T=1 of the RC batch, T=0. */
const CPS4: readonly (readonly number[])[] = [
  [0x3b, 0x9b, 0x18, 0x80, 0x01, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x04, 0x01, 0x00, 0x00, 0x90, 0x44],
  [0x3b, 0x9b, 0x18, 0x80, 0x01, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x04, 0x01, 0x00, 0x90, 0x44],
  [0x3b, 0xdc, 0x18, 0xff, 0x00, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x04, 0x01, 0x00, 0x90, 0x00],
];

/** Vitale 2: `3B 75 13 00 00 4x 09 EA 90 00`, x = 3..C. */
const VITALE2_PREFIX = [0x3b, 0x75, 0x13, 0x00, 0x00] as const;
const VITALE2_SUFFIX = [0x09, 0xea, 0x90, 0x00] as const;

/** Vitale 1: inverse convention (TS = 3F), `3F 65 25 …`. */
const VITALE1_PREFIX = [0x3f, 0x65, 0x25] as const;

function matchesMasked(atr: Uint8Array, expected: MaskedAtr): boolean {
  if (atr.length !== expected.atr.length) return false;
  for (let i = 0; i < atr.length; i++) {
    const mask = expected.mask[i] ?? 0xff;
    if (((atr[i] ?? 0) & mask) !== ((expected.atr[i] ?? 0) & mask)) return false;
  }
  return true;
}

function equals(atr: Uint8Array, expected: readonly number[]): boolean {
  return atr.length === expected.length && expected.every((b, i) => atr[i] === b);
}

function startsWith(atr: Uint8Array, prefix: readonly number[], offset = 0): boolean {
  return atr.length >= offset + prefix.length && prefix.every((b, i) => atr[offset + i] === b);
}

function isVitale2(atr: Uint8Array): boolean {
  if (atr.length !== 10 || !startsWith(atr, VITALE2_PREFIX) || !startsWith(atr, VITALE2_SUFFIX, 6)) return false;
  const x = atr[5] ?? 0;
  return x >= 0x43 && x <= 0x4c;
}

/** The card family of an ATR; never throws (any byte string is a possible ATR). */
export function cardFamilyFromAtr(atr: Uint8Array): CardFamily {
  // CPS4 first: its T=0 ATR also matches OpenSC's CPS3 mask.
  if (CPS4.some((known) => equals(atr, known))) return 'CPS4';
  if (matchesMasked(atr, CPS3)) return 'CPS3';
  if (isVitale2(atr)) return 'VITALE2';
  if (startsWith(atr, VITALE1_PREFIX)) return 'VITALE1';
  return 'UNKNOWN';
}
