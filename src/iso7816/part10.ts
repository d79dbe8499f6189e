// PC/SC v2 part 10 ("IFDs with secure PIN entry"): how the host discovers what a reader offers
// beyond plain APDUs (pinpad verification above all) and the control codes to reach it.
// The flow: SCardControl(CM_IOCTL_GET_FEATURE_REQUEST) -> feature list -> control code of
// FEATURE_VERIFY_PIN_DIRECT -> SCardControl(that code, PIN_VERIFY_STRUCTURE) -> card's response.
// The PIN then goes from the reader's keypad to the card without passing through the host.

import { checkInteger, copyBytes } from './bytes.js';
import { Iso7816ParseError } from './errors.js';

// Feature tags (part 10 §2.3, numbering as in pcsc-lite's reader.h).
export const FEATURE_VERIFY_PIN_START = 0x01;
export const FEATURE_VERIFY_PIN_FINISH = 0x02;
export const FEATURE_MODIFY_PIN_START = 0x03;
export const FEATURE_MODIFY_PIN_FINISH = 0x04;
export const FEATURE_GET_KEY_PRESSED = 0x05;
export const FEATURE_VERIFY_PIN_DIRECT = 0x06;
export const FEATURE_MODIFY_PIN_DIRECT = 0x07;
export const FEATURE_MCT_READER_DIRECT = 0x08;
export const FEATURE_MCT_UNIVERSAL = 0x09;
export const FEATURE_IFD_PIN_PROPERTIES = 0x0a;
export const FEATURE_ABORT = 0x0b;
export const FEATURE_SET_SPE_MESSAGE = 0x0c;
export const FEATURE_VERIFY_PIN_DIRECT_APP_ID = 0x0d;
export const FEATURE_MODIFY_PIN_DIRECT_APP_ID = 0x0e;
export const FEATURE_WRITE_DISPLAY = 0x0f;
export const FEATURE_GET_KEY = 0x10;
export const FEATURE_IFD_DISPLAY_PROPERTIES = 0x11;
export const FEATURE_GET_TLV_PROPERTIES = 0x12;
export const FEATURE_CCID_ESC_COMMAND = 0x13;
export const FEATURE_EXECUTE_PACE = 0x20;

// Properties returned by FEATURE_GET_TLV_PROPERTIES (part 10 §2.6.14).
export const PROPERTY_wLcdLayout = 0x01;
export const PROPERTY_bEntryValidationCondition = 0x02;
export const PROPERTY_bTimeOut2 = 0x03;
export const PROPERTY_wLcdMaxCharacters = 0x04;
export const PROPERTY_wLcdMaxLines = 0x05;
export const PROPERTY_bMinPINSize = 0x06;
export const PROPERTY_bMaxPINSize = 0x07;
export const PROPERTY_sFirmwareID = 0x08;
export const PROPERTY_bPPDUSupport = 0x09;
export const PROPERTY_dwMaxAPDUDataSize = 0x0a;
export const PROPERTY_wIdVendor = 0x0b;
export const PROPERTY_wIdProduct = 0x0c;

/**
 * SCARD_CTL_CODE as pcsc-lite defines it (Linux, and macOS's pcsc-lite-derived stack):
 * 0x42000000 + code. The `pcsclite` module passes control codes straight to it.
 */
export function scardCtlCode(code: number): number {
  checkInteger('control code function', code, 0, 0xffffff);
  return 0x42000000 + code;
}

/**
 * SCARD_CTL_CODE on Windows: CTL_CODE(FILE_DEVICE_SMARTCARD = 0x31, code, METHOD_BUFFERED,
 * FILE_ANY_ACCESS) = 0x310000 | code << 2. Differs from pcsc-lite's: never hard-code either.
 */
export function scardCtlCodeWindows(code: number): number {
  checkInteger('control code function', code, 0, 0xfff);
  return 0x310000 + code * 4;
}

/** The control code that asks a reader for its feature list (pcsc-lite value: 0x42000D48). */
export const CM_IOCTL_GET_FEATURE_REQUEST = scardCtlCode(3400);

const FEATURE_ENTRY_LENGTH = 6; // tag, length (= 4), 4-byte control code

/**
 * Reads a GET_FEATURE_REQUEST answer: entries of tag (1 byte), length (always 4), control code
 * (4 bytes, big-endian: part 10 fixes network order here, unlike the PIN structures).
 * @throws Iso7816ParseError on a truncated entry, a length other than 4 or a repeated tag
 *   (a reader that lists a feature twice cannot be trusted with either code).
 */
export function parseFeatureList(bytes: Uint8Array): Map<number, number> {
  const features = new Map<number, number>();
  for (let i = 0; i < bytes.length; i += FEATURE_ENTRY_LENGTH) {
    const tag = bytes[i] ?? 0;
    if (i + 1 >= bytes.length) throw new Iso7816ParseError('truncated feature entry: missing length', i + 1);
    const length = bytes[i + 1] ?? 0;
    if (length !== 4) throw new Iso7816ParseError(`feature 0x${tag.toString(16)} has length ${length}, expected 4`, i + 1);
    if (i + FEATURE_ENTRY_LENGTH > bytes.length) throw new Iso7816ParseError('truncated feature control code', i + 2);
    if (features.has(tag)) throw new Iso7816ParseError(`feature 0x${tag.toString(16)} listed twice`, i);
    const code = (bytes[i + 2] ?? 0) * 0x1000000 + (((bytes[i + 3] ?? 0) << 16) | ((bytes[i + 4] ?? 0) << 8) | (bytes[i + 5] ?? 0));
    features.set(tag, code);
  }
  return features;
}

/** The inverse of parseFeatureList, in the map's order (mock readers answer with it). */
export function encodeFeatureList(features: ReadonlyMap<number, number>): Uint8Array {
  const out = new Uint8Array(features.size * FEATURE_ENTRY_LENGTH);
  let i = 0;
  for (const [tag, code] of features) {
    checkInteger('feature tag', tag, 0, 0xff);
    checkInteger('control code', code, 0, 0xffffffff);
    out.set([tag, 4, (code >>> 24) & 0xff, (code >>> 16) & 0xff, (code >>> 8) & 0xff, code & 0xff], i);
    i += FEATURE_ENTRY_LENGTH;
  }
  return out;
}

/**
 * Reads a FEATURE_GET_TLV_PROPERTIES answer: tag (1 byte), length (1 byte), value. Values are
 * raw; numeric ones are little-endian (read them with littleEndian()).
 * @throws Iso7816ParseError on truncation or a repeated tag.
 */
export function parseTlvProperties(bytes: Uint8Array): Map<number, Uint8Array> {
  const properties = new Map<number, Uint8Array>();
  let i = 0;
  while (i < bytes.length) {
    const tag = bytes[i] ?? 0;
    if (i + 1 >= bytes.length) throw new Iso7816ParseError('truncated property: missing length', i + 1);
    const length = bytes[i + 1] ?? 0;
    if (i + 2 + length > bytes.length) throw new Iso7816ParseError(`property 0x${tag.toString(16)} value truncated`, i + 1);
    if (properties.has(tag)) throw new Iso7816ParseError(`property 0x${tag.toString(16)} listed twice`, i);
    properties.set(tag, copyBytes(bytes.subarray(i + 2, i + 2 + length)));
    i += 2 + length;
  }
  return properties;
}

/** Unsigned little-endian integer of 0 to 4 bytes (the byte order of part 10 structures). */
export function littleEndian(bytes: Uint8Array): number {
  if (bytes.length > 4) throw new RangeError(`littleEndian reads at most 4 bytes, got ${bytes.length}`);
  let value = 0;
  for (let i = bytes.length - 1; i >= 0; i--) value = value * 256 + (bytes[i] ?? 0);
  return value;
}

export * from './pin-verify-structure.js';
