// Command and response APDUs (ISO 7816-4 §5.1): the byte layout only. What the bytes mean for a
// given card lives in the card sessions; the T=0 exchange rules live in t0.ts.
//
// Command cases (Nc = data length, Ne = expected response length):
//   1        CLA INS P1 P2
//   2 short  CLA INS P1 P2 Le                      Le = 01..FF, 00 means 256
//   3 short  CLA INS P1 P2 Lc data                 Lc = 01..FF
//   4 short  CLA INS P1 P2 Lc data Le
//   2 ext.   CLA INS P1 P2 00 Le1 Le2              Le = 0001..FFFF, 0000 means 65536
//   3 ext.   CLA INS P1 P2 00 Lc1 Lc2 data         Lc = 0001..FFFF
//   4 ext.   CLA INS P1 P2 00 Lc1 Lc2 data Le1 Le2 (no 00 before Le: the one before Lc marks it)

import { checkByte, checkInteger, copyBytes } from './bytes.js';
import { Iso7816ParseError } from './errors.js';

// Hex helpers live in hex.ts; re-exported here because APDU code and its callers use them together.
export { fromHex, hex } from './hex.js';

export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** Command data (Nc bytes). Absent or empty = no Lc field. */
  data?: Uint8Array;
  /** Ne, expected response bytes, 1..65536; 256 (short) / 65536 (extended) ask for "as many as available". Absent = no Le field. */
  le?: number;
}

export type ApduCase = 1 | 2 | 3 | 4;

export interface DecodedCommandApdu extends CommandApdu {
  /** Whether the length fields used the extended (3/2-byte) form. Always false for case 1. */
  extended: boolean;
  case: ApduCase;
}

export interface ResponseApdu {
  data: Uint8Array;
  /** SW1 << 8 | SW2 */
  sw: number;
  sw1: number;
  sw2: number;
}

export interface EncodeCommandOptions {
  /** Force extended length fields even when short ones would do (cases 2-4). */
  extended?: boolean;
}

const MAX_SHORT_NC = 255;
const MAX_SHORT_NE = 256;
const MAX_EXTENDED_NC = 65535;
const MAX_EXTENDED_NE = 65536;
/** A response carries at most Ne = 65536 data bytes plus SW1 SW2. */
const MAX_RESPONSE_DATA = 65536;

/**
 * Encodes a command APDU. Short form unless the data is longer than 255 bytes, Le is above 256,
 * or `opts.extended` asks for it.
 * @throws RangeError when a field is out of range (CLA/INS/P1/P2 not a byte, Nc > 65535,
 *   Le not in 1..65536): those are mistakes of the calling code.
 */
export function encodeCommandApdu(c: CommandApdu, opts: EncodeCommandOptions = {}): Uint8Array {
  checkByte('CLA', c.cla);
  checkByte('INS', c.ins);
  checkByte('P1', c.p1);
  checkByte('P2', c.p2);
  const data = c.data ?? new Uint8Array(0);
  const nc = data.length;
  if (nc > MAX_EXTENDED_NC) throw new RangeError(`command data too long: ${nc} > ${MAX_EXTENDED_NC} bytes`);
  const le = c.le;
  if (le !== undefined) {
    // 0 is refused rather than read as "maximum": it is the *encoding* of the maximum, and a
    // caller passing it has confused Ne with the Le byte.
    checkInteger('Le (expected length; use 256 or 65536 for "all available")', le, 1, MAX_EXTENDED_NE);
  }
  const extended = opts.extended === true || nc > MAX_SHORT_NC || (le !== undefined && le > MAX_SHORT_NE);

  const lcField: number[] = nc === 0 ? [] : extended ? [0x00, nc >> 8, nc & 0xff] : [nc];
  let leField: number[] = [];
  if (le !== undefined) {
    if (!extended) {
      leField = [le & 0xff]; // 256 -> 00
    } else {
      const two = [(le >> 8) & 0xff, le & 0xff]; // 65536 -> 00 00
      leField = nc === 0 ? [0x00, ...two] : two;
    }
  }

  const out = new Uint8Array(4 + lcField.length + nc + leField.length);
  out.set([c.cla, c.ins, c.p1, c.p2], 0);
  out.set(lcField, 4);
  out.set(data, 4 + lcField.length);
  out.set(leField, 4 + lcField.length + nc);
  return out;
}

function decoded(
  bytes: Uint8Array,
  apduCase: ApduCase,
  extended: boolean,
  data: Uint8Array | undefined,
  le: number | undefined,
): DecodedCommandApdu {
  const out: DecodedCommandApdu = {
    cla: bytes[0] ?? 0,
    ins: bytes[1] ?? 0,
    p1: bytes[2] ?? 0,
    p2: bytes[3] ?? 0,
    extended,
    case: apduCase,
  };
  // Only set the optional keys that exist, so a decoded APDU deep-equals a hand-written one.
  if (data !== undefined) out.data = data;
  if (le !== undefined) out.le = le;
  return out;
}

/**
 * Decodes a command APDU and tells which ISO case it is. Strict: every length field must match
 * the number of bytes exactly. Header values are not judged (CLA FF, odd INS...): answering
 * those with a status word is the card's job, not the parser's.
 * @throws Iso7816ParseError when the bytes are not one of the seven valid layouts.
 */
export function decodeCommandApdu(bytes: Uint8Array): DecodedCommandApdu {
  const n = bytes.length;
  if (n < 4) throw new Iso7816ParseError(`command APDU needs a 4-byte header, got ${n} bytes`, n);
  if (n === 4) return decoded(bytes, 1, false, undefined, undefined);

  const b4 = bytes[4] ?? 0;
  if (n === 5) return decoded(bytes, 2, false, undefined, b4 === 0 ? MAX_SHORT_NE : b4);

  if (b4 !== 0) {
    // Short Lc.
    const nc = b4;
    const data = copyBytes(bytes.subarray(5, 5 + nc));
    if (n === 5 + nc) return decoded(bytes, 3, false, data, undefined);
    if (n === 6 + nc) {
      const leByte = bytes[5 + nc] ?? 0;
      return decoded(bytes, 4, false, data, leByte === 0 ? MAX_SHORT_NE : leByte);
    }
    throw new Iso7816ParseError(
      n < 5 + nc ? `Lc announces ${nc} data bytes, only ${n - 5} present` : `${n - 6 - nc} unexpected bytes after Le`,
      n < 5 + nc ? 4 : 6 + nc,
    );
  }

  // 00 at offset 4 with more bytes after it: extended length fields.
  if (n === 6) throw new Iso7816ParseError('truncated extended length field', 5);
  const b56 = ((bytes[5] ?? 0) << 8) | (bytes[6] ?? 0);
  if (n === 7) return decoded(bytes, 2, true, undefined, b56 === 0 ? MAX_EXTENDED_NE : b56);

  const nc = b56;
  if (nc === 0) throw new Iso7816ParseError('extended Lc of 0 followed by data', 5);
  const data = copyBytes(bytes.subarray(7, 7 + nc));
  if (n === 7 + nc) return decoded(bytes, 3, true, data, undefined);
  if (n === 9 + nc) {
    const le = ((bytes[7 + nc] ?? 0) << 8) | (bytes[8 + nc] ?? 0);
    return decoded(bytes, 4, true, data, le === 0 ? MAX_EXTENDED_NE : le);
  }
  if (n < 7 + nc) throw new Iso7816ParseError(`Lc announces ${nc} data bytes, only ${n - 7} present`, 5);
  throw new Iso7816ParseError(
    n === 8 + nc ? 'extended Le must be 2 bytes, got 1' : `${n - 9 - nc} unexpected bytes after Le`,
    n === 8 + nc ? 7 + nc : 9 + nc,
  );
}

/**
 * Splits a response APDU into data and status word.
 * @throws Iso7816ParseError when fewer than the two status bytes are present.
 */
export function decodeResponseApdu(bytes: Uint8Array): ResponseApdu {
  const n = bytes.length;
  if (n < 2) throw new Iso7816ParseError(`response APDU needs SW1 SW2, got ${n} bytes`, n);
  const sw1 = bytes[n - 2] ?? 0;
  const sw2 = bytes[n - 1] ?? 0;
  return { data: copyBytes(bytes.subarray(0, n - 2)), sw: (sw1 << 8) | sw2, sw1, sw2 };
}

/**
 * data || SW1 SW2.
 * @throws RangeError when `sw` is not a 16-bit value or the data exceeds 65536 bytes.
 */
export function encodeResponseApdu(data: Uint8Array, sw: number): Uint8Array {
  checkInteger('SW', sw, 0, 0xffff);
  if (data.length > MAX_RESPONSE_DATA) {
    throw new RangeError(`response data too long: ${data.length} > ${MAX_RESPONSE_DATA} bytes`);
  }
  const out = new Uint8Array(data.length + 2);
  out.set(data, 0);
  out[data.length] = sw >> 8;
  out[data.length + 1] = sw & 0xff;
  return out;
}
