// PIN blocks from PKCS#15 pinAttributes, and the checks made before anything is sent.
import { describe, expect, it } from 'vitest';
import { CardError } from '../../../src/cards/errors.js';
import { buildPinBlock, checkPinValue } from '../../../src/cards/pin-block.js';
import { PIN_FLAG, type PinAttributes } from '../../../src/cards/pkcs15.js';
import { hex } from '../../../src/iso7816/hex.js';

const base: PinAttributes = { pinFlags: new Set([PIN_FLAG.local, PIN_FLAG.initialized]), pinType: 'ascii-numeric', minLength: 4, storedLength: 8, pinReference: 1, padChar: 0xff };
const padded: PinAttributes = { ...base, pinFlags: new Set([...base.pinFlags, PIN_FLAG.needsPadding]) };

function code(f: () => void): string | undefined {
  try {
    f();
  } catch (error) {
    if (error instanceof CardError) return error.code;
    throw error;
  }
  return undefined;
}

describe('PIN blocks', () => {
  it('ASCII digits, padded to the stored length only with needs-padding', () => {
    expect(hex(buildPinBlock('1234', base))).toBe('31 32 33 34');
    expect(hex(buildPinBlock('1234', padded))).toBe('31 32 33 34 FF FF FF FF');
    expect(hex(buildPinBlock('12345678', padded))).toBe('31 32 33 34 35 36 37 38');
    expect(hex(buildPinBlock('1234', { ...padded, padChar: 0x00 }))).toBe('31 32 33 34 00 00 00 00');
  });

  it('BCD, half-nibble BCD and ISO 9564 format 2', () => {
    expect(hex(buildPinBlock('12345', { ...base, pinType: 'bcd' }))).toBe('12 34 5F');
    expect(hex(buildPinBlock('1234', { ...padded, pinType: 'bcd' }))).toBe('12 34 FF FF FF FF FF FF');
    expect(hex(buildPinBlock('1234', { ...base, pinType: 'half-nibble-bcd' }))).toBe('F1 F2 F3 F4');
    expect(hex(buildPinBlock('1234', { ...base, pinType: 'iso9564-1' }))).toBe('24 12 34 FF FF FF FF FF');
    expect(hex(buildPinBlock('12345', { ...base, pinType: 'iso9564-1' }))).toBe('25 12 34 5F FF FF FF FF');
  });

  it('refuses a block it cannot build rather than guess (UNSUPPORTED_CARD)', () => {
    const { padChar: _drop, ...noPad } = padded;
    expect(code(() => buildPinBlock('1234', noPad))).toBe('UNSUPPORTED_CARD');
    expect(code(() => buildPinBlock('123456789', { ...padded, maxLength: 12 }))).toBe('UNSUPPORTED_CARD');
  });

  it('checks digits and length (INVALID_PARAMS) and never repeats the value', () => {
    expect(code(() => checkPinValue('1234', base, 'PIN'))).toBeUndefined();
    expect(code(() => checkPinValue('12345678', base, 'PIN'))).toBeUndefined();
    for (const bad of ['123', '123456789', '12a4', '１２３４', '', ' 1234', 1234 as unknown as string]) {
      expect(code(() => checkPinValue(bad, base, 'PIN'))).toBe('INVALID_PARAMS');
    }
    let error: unknown;
    try {
      checkPinValue('98x6', base, 'PUK');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CardError);
    expect((error as CardError).message).not.toContain('98x6');
    expect((error as CardError).messageIn('en')).toMatch(/unblocking code/);
    expect(code(() => checkPinValue('abcd', { ...base, pinType: 'utf8' }, 'PIN'))).toBeUndefined();
    expect(code(() => checkPinValue('1234', { ...base, maxLength: undefined, storedLength: 4 }, 'PIN'))).toBeUndefined();
    expect(code(() => checkPinValue('12345', { ...base, maxLength: undefined, storedLength: 4 }, 'PIN'))).toBe('INVALID_PARAMS');
  });
});
