// What a pinpad reader does with the digits typed on its keypad: it writes them, and optionally
// their count, into the VERIFY APDU the host sent, as PIN_VERIFY_STRUCTURE's bmFormatString,
// bmPINBlockString and bmPINLengthFormat say (PC/SC part 10, CCID 6.1.11).

export interface PinBlockFormat {
  /** bmFormatString: bit 7 units (1 = bytes, 0 = bits), bits 6-3 PIN position, bit 2 right-justify, bits 1-0 type. */
  readonly formatString: number;
  /** bmPINBlockString: bits 7-4 size of the PIN length field in bits, bits 3-0 PIN block size in bytes. */
  readonly pinBlockString: number;
  /** bmPINLengthFormat: bit 4 units (1 = bytes, 0 = bits), bits 3-0 position of the PIN length. */
  readonly pinLengthFormat: number;
}

export class PinBlockError extends Error {}

type PinType = 'binary' | 'bcd' | 'ascii';

function pinType(formatString: number): PinType {
  switch (formatString & 0x03) {
    case 0:
      return 'binary';
    case 1:
      return 'bcd';
    case 2:
      return 'ascii';
    default:
      throw new PinBlockError('bmFormatString: PIN type 11 is reserved');
  }
}

/** Writes `bitCount` bits of `value`, most significant first, at bit `bitOffset` of `data`. */
function writeBits(data: Uint8Array, bitOffset: number, bitCount: number, value: number): void {
  for (let i = 0; i < bitCount; i++) {
    const bit = (value >>> (bitCount - 1 - i)) & 1;
    const pos = bitOffset + i;
    const byteIndex = pos >>> 3;
    if (byteIndex >= data.length) throw new PinBlockError('the PIN does not fit in the APDU data field');
    const mask = 0x80 >>> (pos & 7);
    const current = data[byteIndex] ?? 0;
    data[byteIndex] = bit ? current | mask : current & ~mask;
  }
}

/** The digits as the reader encodes them: one nibble (BCD), one byte value (binary) or character (ASCII) each. */
function encodedDigits(digits: string, type: PinType): { bitsPerDigit: number; values: number[] } {
  const values = [...digits].map((c) => c.charCodeAt(0) - 0x30);
  if (type === 'ascii') return { bitsPerDigit: 8, values: values.map((d) => d + 0x30) };
  if (type === 'bcd') return { bitsPerDigit: 4, values };
  return { bitsPerDigit: 8, values };
}

/**
 * Returns the APDU with the PIN in place. `apdu` is the short command template (CLA INS P1 P2 Lc
 * data) carried by the structure. With a PIN block size of 0 the data field ends with the PIN and
 * Lc is set to its length (variable-length PIN); otherwise the PIN is written into the template's
 * data field, whose other bytes (padding) stay as the host put them.
 */
export function formatPinApdu(format: PinBlockFormat, apdu: Uint8Array, digits: string): Uint8Array {
  if (!/^[0-9]+$/.test(digits)) throw new PinBlockError('a PIN is one or more decimal digits');
  if (apdu.length < 4) throw new PinBlockError('the APDU template is shorter than a header');
  const type = pinType(format.formatString);
  const pinUnitsBytes = (format.formatString & 0x80) !== 0;
  const pinPosition = (format.formatString >>> 3) & 0x0f;
  const rightJustify = (format.formatString & 0x04) !== 0;
  const lengthFieldBits = (format.pinBlockString >>> 4) & 0x0f;
  const blockBytes = format.pinBlockString & 0x0f;
  const lengthUnitsBytes = (format.pinLengthFormat & 0x10) !== 0;
  const lengthPosition = format.pinLengthFormat & 0x0f;

  const { bitsPerDigit, values } = encodedDigits(digits, type);
  const pinBits = bitsPerDigit * values.length;
  const pinStartBits = pinUnitsBytes ? pinPosition * 8 : pinPosition;

  let data: Uint8Array;
  if (blockBytes === 0) {
    const total = Math.ceil((pinStartBits + pinBits) / 8);
    const templateData = apdu.length > 5 ? apdu.subarray(5) : new Uint8Array(0);
    data = new Uint8Array(Math.max(total, Math.ceil(pinStartBits / 8)));
    data.set(templateData.subarray(0, Math.min(templateData.length, data.length)));
  } else {
    if (apdu.length < 5) throw new PinBlockError('the APDU template has no data field for the PIN block');
    const lc = apdu[4] ?? 0;
    if (apdu.length < 5 + lc) throw new PinBlockError('the APDU template is shorter than its Lc');
    data = Uint8Array.from(apdu.subarray(5, 5 + lc));
    if (blockBytes > data.length) throw new PinBlockError('the PIN block is larger than the APDU data field');
  }

  let start = pinStartBits;
  if (rightJustify) {
    const blockEndBits = (blockBytes === 0 ? data.length : blockBytes) * 8;
    start = blockEndBits - pinBits;
    if (start < pinStartBits) throw new PinBlockError('the PIN does not fit in the PIN block');
  }
  if (blockBytes !== 0 && start + pinBits > blockBytes * 8) throw new PinBlockError('the PIN does not fit in the PIN block');
  values.forEach((v, i) => writeBits(data, start + i * bitsPerDigit, bitsPerDigit, v));

  if (lengthFieldBits > 0) {
    const lengthStart = lengthUnitsBytes ? lengthPosition * 8 : lengthPosition;
    writeBits(data, lengthStart, lengthFieldBits, digits.length);
  }

  if (data.length > 255) throw new PinBlockError('the APDU data field is too long');
  const out = new Uint8Array(5 + data.length);
  out.set(apdu.subarray(0, 4));
  out[4] = data.length;
  out.set(data, 5);
  return out;
}
