// What a pinpad reader does with a PIN_VERIFY_STRUCTURE once the user has typed the PIN: write
// the digits (and, if asked, their count) into the APDU template. The mock pinpad reader uses
// it; host code never does (the host never sees the PIN when a pinpad is used).
// Positions count from the first byte after Lc, in bits or bytes as the structure says, which
// is why this writes bit by bit: format-2 style blocks put a 4-bit length in a byte's low half.

import type { PinVerifyStructure } from './pin-verify-structure.js';
import { PIN_FORMAT_RIGHT_JUSTIFY, PIN_FORMAT_UNITS_BYTES } from './pin-verify-structure.js';

/** CLA INS P1 P2 Lc: the PIN block follows a short-form Lc. */
const DATA_OFFSET = 5;

export interface PinLayout {
  encoding: 'binary' | 'bcd' | 'ascii';
  justify: 'left' | 'right';
  /** Bit offset of the PIN block from the first data byte. */
  pinBitOffset: number;
  blockBytes: number;
  /** Size in bits of the PIN length field, 0 when there is none. */
  lengthBits: number;
  lengthBitOffset: number;
  minLength: number;
  maxLength: number;
}

/**
 * The layout a structure describes.
 * @throws RangeError for the reserved PIN encoding (bmFormatString b1-0 = 11).
 */
export function pinLayout(s: PinVerifyStructure): PinLayout {
  const format = s.bmFormatString & 0x03;
  if (format === 0x03) throw new RangeError('bmFormatString uses the reserved PIN encoding 11');
  const formatUnit = (s.bmFormatString & PIN_FORMAT_UNITS_BYTES) !== 0 ? 8 : 1;
  const lengthUnit = (s.bmPINLengthFormat & 0x10) !== 0 ? 8 : 1;
  return {
    encoding: format === 0x00 ? 'binary' : format === 0x01 ? 'bcd' : 'ascii',
    justify: (s.bmFormatString & PIN_FORMAT_RIGHT_JUSTIFY) !== 0 ? 'right' : 'left',
    pinBitOffset: ((s.bmFormatString >> 3) & 0x0f) * formatUnit,
    blockBytes: s.bmPINBlockString & 0x0f,
    lengthBits: s.bmPINBlockString >> 4,
    lengthBitOffset: (s.bmPINLengthFormat & 0x0f) * lengthUnit,
    minLength: s.wPINMaxExtraDigit >> 8,
    maxLength: s.wPINMaxExtraDigit & 0xff,
  };
}

function writeBits(target: Uint8Array, bitOffset: number, bitCount: number, value: number): void {
  if (bitOffset + bitCount > target.length * 8) throw new RangeError('PIN block or length field lies beyond the APDU');
  for (let k = 0; k < bitCount; k++) {
    const bit = (value >> (bitCount - 1 - k)) & 1;
    const position = bitOffset + k;
    const index = position >> 3;
    const mask = 0x80 >> (position & 7);
    target[index] = bit ? (target[index] ?? 0) | mask : (target[index] ?? 0) & ~mask;
  }
}

/**
 * The APDU of `s.abData` with `pin` written in as the structure describes.
 * @throws RangeError when the PIN is not digits, its length is outside the structure's
 *   min..max, or the described block does not fit the APDU.
 */
export function insertPin(s: PinVerifyStructure, pin: string): Uint8Array {
  const layout = pinLayout(s);
  if (!/^[0-9]*$/.test(pin)) throw new RangeError('PIN must be decimal digits');
  if (pin.length < layout.minLength || pin.length > layout.maxLength) {
    throw new RangeError(`PIN length ${pin.length} outside ${layout.minLength}..${layout.maxLength}`);
  }
  const digitBits = layout.encoding === 'bcd' ? 4 : 8;
  const pinBits = pin.length * digitBits;
  const blockBits = layout.blockBytes * 8;
  if (pinBits > blockBits) throw new RangeError(`PIN of ${pin.length} digits does not fit a ${layout.blockBytes}-byte block`);

  const apdu = new Uint8Array(s.abData);
  const base = DATA_OFFSET * 8;
  const start = base + layout.pinBitOffset + (layout.justify === 'right' ? blockBits - pinBits : 0);
  for (let i = 0; i < pin.length; i++) {
    const digit = pin.charCodeAt(i) - 0x30;
    writeBits(apdu, start + i * digitBits, digitBits, layout.encoding === 'ascii' ? 0x30 + digit : digit);
  }
  if (layout.lengthBits > 0) writeBits(apdu, base + layout.lengthBitOffset, layout.lengthBits, pin.length);
  return apdu;
}
