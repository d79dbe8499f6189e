// PIN_VERIFY_STRUCTURE (PC/SC v2 part 10 §2.5.2, the CCID "PIN verification data structure"
// plus a T=1 prologue): what the host sends with FEATURE_VERIFY_PIN_DIRECT. It carries the VERIFY
// APDU with a placeholder PIN block, and tells the reader how to write the typed PIN into it.
//
// offset size field                      encoding
//  0     1    bTimerOut                  seconds, 00 = reader default
//  1     1    bTimerOut2                 seconds after the first key stroke
//  2     1    bmFormatString             b7 units (1 bytes / 0 bits), b6-3 PIN position after
//                                        Lc, b2 right-justify, b1-0 00 binary 01 BCD 10 ASCII
//  3     1    bmPINBlockString           b7-4 size in bits of a PIN length field, b3-0 PIN
//                                        block size in bytes
//  4     1    bmPINLengthFormat          b4 units (1 bytes / 0 bits), b3-0 position of the
//                                        PIN length field after Lc
//  5     2    wPINMaxExtraDigit          LITTLE-ENDIAN 0xXXYY: XX min digits, YY max digits,
//                                        so byte 5 = max, byte 6 = min
//  7     1    bEntryValidationCondition  01 max size reached, 02 validation key, 04 timeout
//  8     1    bNumberMessage             messages to show, FF = reader default
//  9     2    wLangId                    LITTLE-ENDIAN USB language id (040C = French)
// 11     1    bMsgIndex
// 12     3    bTeoPrologue               T=1 NAD PCB LEN for the reader; 00 00 00 on T=0
// 15     4    ulDataLength               LITTLE-ENDIAN length of abData
// 19     n    abData                     the APDU to send, PIN block included
// Multi-byte fields are little-endian because CCID is a USB protocol; the feature list's control
// codes (part10.ts) are big-endian: the two must not share a helper by accident.

import type { CommandApdu } from './apdu.js';
import { encodeCommandApdu } from './apdu.js';
import { checkByte, checkInteger, copyBytes } from './bytes.js';
import { Iso7816ParseError } from './errors.js';

export interface PinVerifyStructure {
  bTimerOut: number;
  bTimerOut2: number;
  bmFormatString: number;
  bmPINBlockString: number;
  bmPINLengthFormat: number;
  /** As a number, 0xXXYY: XX = minimum, YY = maximum PIN length in digits. */
  wPINMaxExtraDigit: number;
  bEntryValidationCondition: number;
  bNumberMessage: number;
  wLangId: number;
  bMsgIndex: number;
  /** 3 bytes. */
  bTeoPrologue: Uint8Array;
  /** The command APDU with its placeholder PIN block (ulDataLength is its length). */
  abData: Uint8Array;
}

export const PIN_VERIFY_HEADER_LENGTH = 19;

/** Bits of bmFormatString. */
export const PIN_FORMAT_UNITS_BYTES = 0x80;
export const PIN_FORMAT_RIGHT_JUSTIFY = 0x04;
export const PIN_FORMAT_BINARY = 0x00;
export const PIN_FORMAT_BCD = 0x01;
export const PIN_FORMAT_ASCII = 0x02;
/** Bits of bEntryValidationCondition. */
export const PIN_ENTRY_MAX_SIZE_REACHED = 0x01;
export const PIN_ENTRY_VALIDATION_KEY = 0x02;
export const PIN_ENTRY_TIMEOUT = 0x04;
export const LANG_ID_FRENCH = 0x040c;

/** Largest abData a reader could ever take: an extended APDU with 65535 data bytes and Le. */
const MAX_AB_DATA = 4 + 3 + 65535 + 2;

/**
 * Serialises a structure field by field.
 * @throws RangeError on a field out of range or a prologue that is not 3 bytes.
 */
export function encodePinVerifyStructure(s: PinVerifyStructure): Uint8Array {
  checkByte('bTimerOut', s.bTimerOut);
  checkByte('bTimerOut2', s.bTimerOut2);
  checkByte('bmFormatString', s.bmFormatString);
  checkByte('bmPINBlockString', s.bmPINBlockString);
  checkByte('bmPINLengthFormat', s.bmPINLengthFormat);
  checkInteger('wPINMaxExtraDigit', s.wPINMaxExtraDigit, 0, 0xffff);
  checkByte('bEntryValidationCondition', s.bEntryValidationCondition);
  checkByte('bNumberMessage', s.bNumberMessage);
  checkInteger('wLangId', s.wLangId, 0, 0xffff);
  checkByte('bMsgIndex', s.bMsgIndex);
  if (s.bTeoPrologue.length !== 3) throw new RangeError(`bTeoPrologue must be 3 bytes, got ${s.bTeoPrologue.length}`);
  if (s.abData.length > MAX_AB_DATA) throw new RangeError(`abData too long: ${s.abData.length} bytes`);

  const n = s.abData.length;
  const out = new Uint8Array(PIN_VERIFY_HEADER_LENGTH + n);
  out.set([
    s.bTimerOut,
    s.bTimerOut2,
    s.bmFormatString,
    s.bmPINBlockString,
    s.bmPINLengthFormat,
    s.wPINMaxExtraDigit & 0xff,
    s.wPINMaxExtraDigit >> 8,
    s.bEntryValidationCondition,
    s.bNumberMessage,
    s.wLangId & 0xff,
    s.wLangId >> 8,
    s.bMsgIndex,
  ]);
  out.set(s.bTeoPrologue, 12);
  out.set([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, 0], 15);
  out.set(s.abData, PIN_VERIFY_HEADER_LENGTH);
  return out;
}

/**
 * Reads a PIN_VERIFY_STRUCTURE (the mock pinpad reader's side). Structural checks only: the
 * 19-byte header and ulDataLength = the bytes that follow; field values are the reader's to judge.
 * @throws Iso7816ParseError on a short header or an ulDataLength that does not match.
 */
export function parseVerifyPinDirect(bytes: Uint8Array): PinVerifyStructure {
  if (bytes.length < PIN_VERIFY_HEADER_LENGTH) {
    throw new Iso7816ParseError(`PIN_VERIFY_STRUCTURE needs ${PIN_VERIFY_HEADER_LENGTH} header bytes, got ${bytes.length}`, bytes.length);
  }
  const b = (i: number): number => bytes[i] ?? 0;
  const ulDataLength = b(15) + b(16) * 0x100 + b(17) * 0x10000 + b(18) * 0x1000000;
  const present = bytes.length - PIN_VERIFY_HEADER_LENGTH;
  if (ulDataLength !== present) {
    throw new Iso7816ParseError(`ulDataLength says ${ulDataLength} bytes of APDU, ${present} present`, 15);
  }
  return {
    bTimerOut: b(0),
    bTimerOut2: b(1),
    bmFormatString: b(2),
    bmPINBlockString: b(3),
    bmPINLengthFormat: b(4),
    wPINMaxExtraDigit: b(5) | (b(6) << 8),
    bEntryValidationCondition: b(7),
    bNumberMessage: b(8),
    wLangId: b(9) | (b(10) << 8),
    bMsgIndex: b(11),
    bTeoPrologue: copyBytes(bytes.subarray(12, 15)),
    abData: copyBytes(bytes.subarray(PIN_VERIFY_HEADER_LENGTH)),
  };
}

export interface VerifyPinDirectParams {
  /**
   * The VERIFY command header, e.g. CPS3 cardholder PIN: 00 20 00 01. `data` and `le` of a full
   * CommandApdu are ignored: the data is the placeholder PIN block built here.
   */
  apdu: Pick<CommandApdu, 'cla' | 'ins' | 'p1' | 'p2'>;
  /** From the AODF pinAttributes (ISO 7816-15 pinType): how each digit is encoded. */
  pinFormat: 'ascii' | 'bcd';
  /** Digits. */
  pinMinLength: number;
  pinMaxLength: number;
  /** Byte the block is filled with before the reader writes the PIN (AODF padChar). Default FF. */
  padChar?: number;
  /** PIN block size in bytes (1..15). Default: enough for pinMaxLength digits. */
  blockSize?: number;
  /** bTimerOut, seconds; 0 (default) lets the reader choose. */
  timeout?: number;
  /** bTimerOut2, seconds after the first key; default 0. */
  timeoutAfterFirstKey?: number;
  /** bEntryValidationCondition; default: validation key. */
  entryValidation?: number;
  /** wLangId; default French (040C). */
  langId?: number;
  /** bNumberMessage; default 1 (the reader's "enter PIN" prompt). */
  numberMessage?: number;
  /** bMsgIndex; default 0. */
  messageIndex?: number;
}

/**
 * Builds the PIN_VERIFY_STRUCTURE for a plain VERIFY whose data is the PIN block: digits
 * left-justified from the first data byte, no length field, the rest of the block padded.
 * @throws RangeError on inconsistent lengths (min > max, PIN longer than the block, block > 15).
 */
export function buildVerifyPinDirect(params: VerifyPinDirectParams): Uint8Array {
  const { pinFormat, pinMinLength, pinMaxLength } = params;
  checkInteger('pinMaxLength', pinMaxLength, 1, 0xff);
  checkInteger('pinMinLength', pinMinLength, 1, pinMaxLength);
  const digitsPerByte = pinFormat === 'bcd' ? 2 : 1;
  const blockSize = params.blockSize ?? Math.ceil(pinMaxLength / digitsPerByte);
  checkInteger('blockSize (4 bits in bmPINBlockString)', blockSize, 1, 15);
  if (pinMaxLength > blockSize * digitsPerByte) {
    throw new RangeError(`a ${blockSize}-byte ${pinFormat} block holds at most ${blockSize * digitsPerByte} digits, pinMaxLength is ${pinMaxLength}`);
  }
  const padChar = params.padChar ?? 0xff;
  checkByte('padChar', padChar);

  const abData = encodeCommandApdu({ ...pickHeader(params.apdu), data: new Uint8Array(blockSize).fill(padChar) });
  return encodePinVerifyStructure({
    bTimerOut: params.timeout ?? 0,
    bTimerOut2: params.timeoutAfterFirstKey ?? 0,
    bmFormatString: PIN_FORMAT_UNITS_BYTES | (pinFormat === 'bcd' ? PIN_FORMAT_BCD : PIN_FORMAT_ASCII),
    bmPINBlockString: blockSize,
    bmPINLengthFormat: 0x00,
    wPINMaxExtraDigit: (pinMinLength << 8) | pinMaxLength,
    bEntryValidationCondition: params.entryValidation ?? PIN_ENTRY_VALIDATION_KEY,
    bNumberMessage: params.numberMessage ?? 0x01,
    wLangId: params.langId ?? LANG_ID_FRENCH,
    bMsgIndex: params.messageIndex ?? 0,
    bTeoPrologue: new Uint8Array(3),
    abData,
  });
}

function pickHeader(apdu: VerifyPinDirectParams['apdu']): CommandApdu {
  return { cla: apdu.cla, ins: apdu.ins, p1: apdu.p1, p2: apdu.p2 };
}
