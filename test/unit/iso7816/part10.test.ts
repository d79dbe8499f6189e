import { describe, expect, it } from 'vitest';
import { decodeCommandApdu } from '../../../src/iso7816/apdu.js';
import { Iso7816ParseError } from '../../../src/iso7816/errors.js';
import { fromHex, hex } from '../../../src/iso7816/hex.js';
import {
  CM_IOCTL_GET_FEATURE_REQUEST,
  FEATURE_GET_TLV_PROPERTIES,
  FEATURE_IFD_PIN_PROPERTIES,
  FEATURE_MODIFY_PIN_DIRECT,
  FEATURE_VERIFY_PIN_DIRECT,
  PROPERTY_bMaxPINSize,
  PROPERTY_bMinPINSize,
  PROPERTY_wIdVendor,
  buildVerifyPinDirect,
  encodeFeatureList,
  encodePinVerifyStructure,
  littleEndian,
  parseFeatureList,
  parseTlvProperties,
  parseVerifyPinDirect,
  scardCtlCode,
  scardCtlCodeWindows,
  type PinVerifyStructure,
} from '../../../src/iso7816/part10.js';
import { insertPin, pinLayout } from '../../../src/iso7816/pin-block.js';

function parseErrorOf(fn: () => unknown): Iso7816ParseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof Iso7816ParseError) return e;
    throw e;
  }
  throw new Error('expected an Iso7816ParseError, nothing was thrown');
}

describe('control codes and feature tags', () => {
  it('has the part 10 tag values', () => {
    expect([FEATURE_VERIFY_PIN_DIRECT, FEATURE_MODIFY_PIN_DIRECT, FEATURE_IFD_PIN_PROPERTIES, FEATURE_GET_TLV_PROPERTIES]).toEqual([
      0x06, 0x07, 0x0a, 0x12,
    ]);
  });

  it('computes SCARD_CTL_CODE the pcsc-lite way and the Windows way', () => {
    expect(scardCtlCode(3400)).toBe(0x42000d48);
    expect(CM_IOCTL_GET_FEATURE_REQUEST).toBe(0x42000d48);
    expect(scardCtlCode(3500)).toBe(0x42000dac);
    expect(scardCtlCodeWindows(3400)).toBe(0x313520);
    expect(() => scardCtlCode(-1)).toThrow(RangeError);
  });
});

describe('feature list', () => {
  // What a CCID pinpad reader answers under pcsc-lite: tag, 04, big-endian control code.
  const wire = fromHex('06 04 42 33 00 06  07 04 42 33 00 07  0A 04 42 33 00 0A  12 04 42 33 00 12');

  it('parses tag -> big-endian control code', () => {
    const features = parseFeatureList(wire);
    expect([...features]).toEqual([
      [0x06, 0x42330006],
      [0x07, 0x42330007],
      [0x0a, 0x4233000a],
      [0x12, 0x42330012],
    ]);
  });

  it('round-trips, including codes with the top bit set', () => {
    const map = new Map([
      [FEATURE_VERIFY_PIN_DIRECT, 0xffffffff],
      [0x13, 0x80000001],
    ]);
    const bytes = encodeFeatureList(map);
    expect(hex(bytes)).toBe('06 04 FF FF FF FF 13 04 80 00 00 01');
    expect(parseFeatureList(bytes)).toEqual(map);
    expect(encodeFeatureList(parseFeatureList(wire))).toEqual(wire);
  });

  it('accepts an empty list (a reader without features)', () => {
    expect(parseFeatureList(new Uint8Array(0)).size).toBe(0);
  });

  it.each([
    ['missing length', '06', 1],
    ['length other than 4', '06 02 42 33', 1],
    ['truncated control code', '06 04 42 33 00', 2],
    ['second entry truncated', '06 04 42 33 00 06 07', 7],
    ['repeated tag', '06 04 42 33 00 06 06 04 42 33 00 07', 6],
  ])('rejects %s', (_name, input, offset) => {
    expect(parseErrorOf(() => parseFeatureList(fromHex(input))).offset).toBe(offset);
  });

  it('refuses to encode out-of-range values', () => {
    expect(() => encodeFeatureList(new Map([[0x100, 1]]))).toThrow(RangeError);
    expect(() => encodeFeatureList(new Map([[0x06, 0x100000000]]))).toThrow(RangeError);
  });
});

describe('TLV properties', () => {
  it('parses raw values; numbers are little-endian', () => {
    const props = parseTlvProperties(fromHex('06 01 04 07 01 08 0B 02 E6 08 08 03 31 2E 30'));
    expect(littleEndian(props.get(PROPERTY_bMinPINSize) ?? new Uint8Array(0))).toBe(4);
    expect(littleEndian(props.get(PROPERTY_bMaxPINSize) ?? new Uint8Array(0))).toBe(8);
    expect(littleEndian(props.get(PROPERTY_wIdVendor) ?? new Uint8Array(0))).toBe(0x08e6);
    expect(new TextDecoder().decode(props.get(0x08))).toBe('1.0');
  });

  it('rejects truncation and repeats', () => {
    expect(parseErrorOf(() => parseTlvProperties(fromHex('06'))).offset).toBe(1);
    expect(parseErrorOf(() => parseTlvProperties(fromHex('0B 02 E6'))).offset).toBe(1);
    expect(parseErrorOf(() => parseTlvProperties(fromHex('06 01 04 06 01 04'))).offset).toBe(3);
  });

  it('littleEndian reads up to 4 bytes', () => {
    expect(littleEndian(fromHex('78 56 34 12'))).toBe(0x12345678);
    expect(littleEndian(fromHex('FF FF FF FF'))).toBe(0xffffffff);
    expect(() => littleEndian(new Uint8Array(5))).toThrow(RangeError);
  });
});

describe('PIN_VERIFY_STRUCTURE', () => {
  // CPS3 cardholder PIN (reference 1): 4 to 8 ASCII digits, FF-padded 8-byte block.
  const cps3 = { apdu: { cla: 0x00, ins: 0x20, p1: 0x00, p2: 0x01 }, pinFormat: 'ascii' as const, pinMinLength: 4, pinMaxLength: 8 };

  it('lays out every field, little-endian where part 10 says so', () => {
    const bytes = buildVerifyPinDirect({ ...cps3, timeout: 30 });
    expect(hex(bytes)).toBe(
      [
        '1E', // bTimerOut 30 s
        '00', // bTimerOut2
        '82', // bmFormatString: byte units, position 0, left, ASCII
        '08', // bmPINBlockString: no length field, 8-byte block
        '00', // bmPINLengthFormat
        '08 04', // wPINMaxExtraDigit 0x0408 little-endian: max 8, min 4
        '02', // bEntryValidationCondition: validation key
        '01', // bNumberMessage
        '0C 04', // wLangId 0x040C little-endian
        '00', // bMsgIndex
        '00 00 00', // bTeoPrologue
        '0D 00 00 00', // ulDataLength 13 little-endian
        '00 20 00 01 08 FF FF FF FF FF FF FF FF', // VERIFY with the placeholder block
      ].join(' '),
    );
  });

  it('round-trips through parseVerifyPinDirect', () => {
    const bytes = buildVerifyPinDirect({ ...cps3, padChar: 0x00, langId: 0x0409, entryValidation: 0x03, timeoutAfterFirstKey: 5, messageIndex: 2, numberMessage: 0xff });
    const s = parseVerifyPinDirect(bytes);
    expect(s).toEqual<PinVerifyStructure>({
      bTimerOut: 0,
      bTimerOut2: 5,
      bmFormatString: 0x82,
      bmPINBlockString: 0x08,
      bmPINLengthFormat: 0,
      wPINMaxExtraDigit: 0x0408,
      bEntryValidationCondition: 0x03,
      bNumberMessage: 0xff,
      wLangId: 0x0409,
      bMsgIndex: 2,
      bTeoPrologue: new Uint8Array(3),
      abData: fromHex('00 20 00 01 08 00 00 00 00 00 00 00 00'),
    });
    expect(encodePinVerifyStructure(s)).toEqual(bytes);
    expect(decodeCommandApdu(s.abData)).toMatchObject({ cla: 0, ins: 0x20, p1: 0, p2: 1, case: 3 });
  });

  it('builds a BCD block sized for the maximum length', () => {
    const s = parseVerifyPinDirect(buildVerifyPinDirect({ ...cps3, pinFormat: 'bcd', pinMaxLength: 12, apdu: { cla: 0x01, ins: 0x20, p1: 0, p2: 0x81 } }));
    expect(s.bmFormatString).toBe(0x81);
    expect(s.bmPINBlockString).toBe(6);
    expect(hex(s.abData)).toBe('01 20 00 81 06 FF FF FF FF FF FF');
  });

  it.each([
    ['min > max', { pinMinLength: 9 }],
    ['max longer than an explicit block', { blockSize: 4 }],
    ['block over 15 bytes', { pinMaxLength: 16 }],
    ['pad char not a byte', { padChar: 0x100 }],
    ['timeout not a byte', { timeout: 300 }],
    ['CLA not a byte', { apdu: { cla: 0x100, ins: 0x20, p1: 0, p2: 1 } }],
  ])('refuses %s with RangeError', (_name, override) => {
    expect(() => buildVerifyPinDirect({ ...cps3, ...override })).toThrow(RangeError);
  });

  it.each([
    ['empty', '', 0],
    ['short header', '00'.repeat(18), 18],
    ['ulDataLength larger than the data', '00'.repeat(15) + '05 00 00 00 00 20 00 01', 15],
    ['ulDataLength smaller than the data', '00'.repeat(15) + '01 00 00 00 00 20', 15],
    ['ulDataLength with the high byte set', '00'.repeat(15) + '00 00 00 80', 15],
  ])('parseVerifyPinDirect rejects %s', (_name, input, offset) => {
    expect(parseErrorOf(() => parseVerifyPinDirect(fromHex(input))).offset).toBe(offset);
  });

  it('accepts an empty abData (the reader, not the parser, refuses it)', () => {
    expect(parseVerifyPinDirect(new Uint8Array(19)).abData.length).toBe(0);
  });
});

describe('insertPin (the pinpad side)', () => {
  it('writes ASCII digits left-justified over the padding', () => {
    const s = parseVerifyPinDirect(
      buildVerifyPinDirect({ apdu: { cla: 0, ins: 0x20, p1: 0, p2: 1 }, pinFormat: 'ascii', pinMinLength: 4, pinMaxLength: 8 }),
    );
    const apdu = decodeCommandApdu(insertPin(s, '1234'));
    expect(hex(apdu.data ?? new Uint8Array(0))).toBe('31 32 33 34 FF FF FF FF');
    expect(s.abData[5]).toBe(0xff); // the structure itself is left untouched
  });

  it('packs BCD digits, an odd count leaving the pad nibble', () => {
    const s = parseVerifyPinDirect(
      buildVerifyPinDirect({ apdu: { cla: 0, ins: 0x20, p1: 0, p2: 1 }, pinFormat: 'bcd', pinMinLength: 4, pinMaxLength: 8 }),
    );
    expect(hex(insertPin(s, '12345').subarray(5))).toBe('12 34 5F FF');
  });

  it('handles an ISO 9564 format-2 block: length nibble at bit 4, digits from byte 1', () => {
    const s: PinVerifyStructure = {
      ...parseVerifyPinDirect(new Uint8Array(19)),
      bmFormatString: 0x80 | (1 << 3) | 0x01, // bytes, position 1, left, BCD
      bmPINBlockString: 0x47, // 4-bit length field, 7-byte block
      bmPINLengthFormat: 0x04, // bit units, position 4
      wPINMaxExtraDigit: 0x040c,
      abData: fromHex('00 20 00 01 08 20 FF FF FF FF FF FF FF'),
    };
    expect(hex(insertPin(s, '1234').subarray(5))).toBe('24 12 34 FF FF FF FF FF');
    expect(pinLayout(s)).toMatchObject({ encoding: 'bcd', pinBitOffset: 8, lengthBits: 4, lengthBitOffset: 4, minLength: 4, maxLength: 12 });
  });

  it('right-justifies when asked', () => {
    const s: PinVerifyStructure = {
      ...parseVerifyPinDirect(new Uint8Array(19)),
      bmFormatString: 0x80 | 0x04 | 0x02,
      bmPINBlockString: 0x06,
      wPINMaxExtraDigit: 0x0406,
      abData: fromHex('00 20 00 01 06 00 00 00 00 00 00'),
    };
    expect(hex(insertPin(s, '9876').subarray(5))).toBe('00 00 39 38 37 36');
  });

  it.each([
    ['too short', '123'],
    ['too long', '123456789'],
    ['not digits', '12a4'],
  ])('refuses a PIN %s', (_name, pin) => {
    const s = parseVerifyPinDirect(
      buildVerifyPinDirect({ apdu: { cla: 0, ins: 0x20, p1: 0, p2: 1 }, pinFormat: 'ascii', pinMinLength: 4, pinMaxLength: 8 }),
    );
    expect(() => insertPin(s, pin)).toThrow(RangeError);
  });

  it('refuses a block that lies beyond the APDU', () => {
    const s: PinVerifyStructure = {
      ...parseVerifyPinDirect(new Uint8Array(19)),
      bmFormatString: 0x82,
      bmPINBlockString: 0x08,
      wPINMaxExtraDigit: 0x0408,
      abData: fromHex('00 20 00 01 02 FF FF'),
    };
    expect(() => insertPin(s, '1234')).toThrow(RangeError);
  });
});
