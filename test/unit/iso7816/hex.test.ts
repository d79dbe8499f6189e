import { describe, expect, it } from 'vitest';
import { Iso7816ParseError } from '../../../src/iso7816/errors.js';
import { fromHex, hex } from '../../../src/iso7816/hex.js';

describe('hex', () => {
  it('writes upper-case, space-separated bytes', () => {
    expect(hex(Uint8Array.of(0x00, 0xa4, 0x04, 0x0c, 0xff))).toBe('00 A4 04 0C FF');
    expect(hex(new Uint8Array(0))).toBe('');
  });

  it('reads spaced, coloned, packed and lower-case text', () => {
    const expected = Uint8Array.of(0x3b, 0xac, 0x00, 0x40);
    expect(fromHex('3B AC 00 40')).toEqual(expected);
    expect(fromHex('3b:ac:00:40')).toEqual(expected);
    expect(fromHex('3BAC0040')).toEqual(expected);
    expect(fromHex('  3BAC \n 00\t40 ')).toEqual(expected);
    expect(fromHex('')).toEqual(new Uint8Array(0));
  });

  it('round-trips every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(fromHex(hex(all))).toEqual(all);
  });

  it.each([
    ['3G', 1],
    ['0x3B', 1],
    ['3B A', 3],
    ['1 23', 0],
    ['AB-CD', 2],
  ])('rejects %j at offset %i', (text, offset) => {
    let caught: unknown;
    try {
      fromHex(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(Iso7816ParseError);
    expect((caught as Iso7816ParseError).offset).toBe(offset);
    expect((caught as Iso7816ParseError).code).toBe('ISO7816_PARSE');
  });
});
