// Card family from the ATR: the CPS3 mask, the CPS4 ATRs, the Vitale 2 range, Vitale 1.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cardFamilyFromAtr } from '../../../src/cards/atr.js';
import { fromHex } from '../../../src/iso7816/hex.js';

describe('cardFamilyFromAtr', () => {
  it('recognises the CPS3 ATR and the bytes OpenSC masks out', () => {
    expect(cardFamilyFromAtr(fromHex('3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00'))).toBe('CPS3');
    // Masked bytes (1-4, 11-13) may differ between batches.
    expect(cardFamilyFromAtr(fromHex('3B 1C 77 41 2B 00 12 25 00 64 80 77 77 77 00 90 00'))).toBe('CPS3');
    // Unmasked bytes may not; nor the length.
    expect(cardFamilyFromAtr(fromHex('3B AC 00 40 2A 00 12 25 00 64 81 00 03 10 00 90 00'))).toBe('UNKNOWN');
    expect(cardFamilyFromAtr(fromHex('3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90'))).toBe('UNKNOWN');
    expect(cardFamilyFromAtr(fromHex('3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00 00'))).toBe('UNKNOWN');
  });

  it('recognises both CPS4 ATRs of cards.md, whole (the T=0 one also fits the CPS3 mask)', () => {
    expect(cardFamilyFromAtr(fromHex('3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44'))).toBe('CPS4');
    expect(cardFamilyFromAtr(fromHex('3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00'))).toBe('CPS4');
    expect(cardFamilyFromAtr(fromHex('3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 45'))).toBe('UNKNOWN');
  });

  it('recognises Vitale 2 for x = 3..C and nothing outside', () => {
    for (let x = 0x3; x <= 0xc; x++) {
      expect(cardFamilyFromAtr(Uint8Array.of(0x3b, 0x75, 0x13, 0x00, 0x00, 0x40 | x, 0x09, 0xea, 0x90, 0x00))).toBe('VITALE2');
    }
    for (const x of [0x42, 0x4d, 0x53]) {
      expect(cardFamilyFromAtr(Uint8Array.of(0x3b, 0x75, 0x13, 0x00, 0x00, x, 0x09, 0xea, 0x90, 0x00))).toBe('UNKNOWN');
    }
  });

  it('reports Vitale 1 (inverse convention) as VITALE1', () => {
    expect(cardFamilyFromAtr(fromHex('3F 65 25 00 2C 09 69 90 00'))).toBe('VITALE1');
    expect(cardFamilyFromAtr(fromHex('3F 65 25'))).toBe('VITALE1');
    expect(cardFamilyFromAtr(fromHex('3F 65 26 00'))).toBe('UNKNOWN');
  });

  it('never throws, and random ATRs are almost always UNKNOWN', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (atr) => {
        const family = cardFamilyFromAtr(atr);
        expect(['CPS3', 'CPS4', 'VITALE2', 'VITALE1', 'UNKNOWN']).toContain(family);
        if (atr[0] !== 0x3b && atr[0] !== 0x3f) expect(family).toBe('UNKNOWN');
      }),
      { numRuns: 20_000 },
    );
    expect(cardFamilyFromAtr(new Uint8Array(0))).toBe('UNKNOWN');
  });
});
