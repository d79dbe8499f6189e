// The pinpad reader's side of PC/SC part 10: the feature list (CM_IOCTL_GET_FEATURE_REQUEST) and
// FEATURE_VERIFY_PIN_DIRECT, which takes the PIN a test supplied beforehand instead of a keypad.
import { SCARD_E, scardCtlCode } from './constants.js';
import { formatPinApdu, PinBlockError } from './pin-block.js';
import { decodeVerifyPinStructure } from './verify-structure.js';
import type { Result } from './system.js';

/** Digits typed on the keypad, or the user pressing Cancel, or nobody typing until the timeout. */
export type PinpadEntry = string | 'cancel' | 'timeout';

/** PC/SC part 10 feature tag. */
export const FEATURE_VERIFY_PIN_DIRECT = 0x06;
/** The control code this mock announces for FEATURE_VERIFY_PIN_DIRECT. */
export const FEATURE_VERIFY_PIN_DIRECT_CODE = scardCtlCode(3400 + FEATURE_VERIFY_PIN_DIRECT);

/** Reader answers of part 10 for an entry that never reached the card. */
const SW_TIMEOUT = Buffer.from([0x64, 0x00]);
const SW_CANCELLED = Buffer.from([0x64, 0x01]);
const SW_PIN_LENGTH = Buffer.from([0x64, 0x03]);

/** The TLV list: tag, length 4, control code big-endian. A reader without keypad lists nothing. */
export function featureList(pinpad: boolean): Buffer {
  if (!pinpad) return Buffer.alloc(0);
  const tlv = Buffer.alloc(6);
  tlv[0] = FEATURE_VERIFY_PIN_DIRECT;
  tlv[1] = 4;
  tlv.writeUInt32BE(FEATURE_VERIFY_PIN_DIRECT_CODE >>> 0, 2);
  return tlv;
}

/**
 * Runs a VERIFY PIN DIRECT: decodes the PIN_VERIFY_STRUCTURE, applies the entry, and sends the
 * formatted APDU through `toCard` (null when the card did not answer). Returns the card's response,
 * or the reader's own status word (64 00 timeout, 64 01 cancel, 64 03 PIN length out of bounds).
 */
export function runVerifyPinDirect(
  input: Buffer,
  entry: PinpadEntry,
  toCard: (apdu: Uint8Array) => Buffer | null,
): Result<Buffer> {
  let structure;
  try {
    structure = decodeVerifyPinStructure(input);
  } catch {
    return { ok: false, code: SCARD_E.UNSUPPORTED_FEATURE };
  }
  if (entry === 'timeout') return { ok: true, value: Buffer.from(SW_TIMEOUT) };
  if (entry === 'cancel') return { ok: true, value: Buffer.from(SW_CANCELLED) };
  if (entry.length < structure.minDigits || entry.length > structure.maxDigits || entry.length === 0) {
    return { ok: true, value: Buffer.from(SW_PIN_LENGTH) };
  }
  let apdu: Uint8Array;
  try {
    apdu = formatPinApdu(structure, structure.apdu, entry);
  } catch (e) {
    if (e instanceof PinBlockError) return { ok: false, code: SCARD_E.NOT_TRANSACTED };
    throw e;
  }
  const response = toCard(apdu);
  return response ? { ok: true, value: response } : { ok: false, code: SCARD_E.NOT_TRANSACTED };
}
