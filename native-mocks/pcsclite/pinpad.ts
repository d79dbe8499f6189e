// The pinpad reader's side of PC/SC part 10: the feature list (CM_IOCTL_GET_FEATURE_REQUEST) and
// FEATURE_VERIFY_PIN_DIRECT, which takes the PIN a test supplied beforehand instead of a keypad.
// Structure parsing and PIN insertion are the iso7816 layer's (parseVerifyPinDirect, insertPin).
import { encodeFeatureList, FEATURE_VERIFY_PIN_DIRECT, parseVerifyPinDirect, scardCtlCode } from '../../src/iso7816/part10.js';
import { insertPin, pinLayout } from '../../src/iso7816/pin-block.js';
import { SCARD_E } from './constants.js';
import type { Result } from './system.js';

export { FEATURE_VERIFY_PIN_DIRECT };

/** Digits typed on the keypad, or the user pressing Cancel, or nobody typing until the timeout. */
export type PinpadEntry = string | 'cancel' | 'timeout';

/** The control code this mock announces for FEATURE_VERIFY_PIN_DIRECT. */
export const FEATURE_VERIFY_PIN_DIRECT_CODE = scardCtlCode(3400 + FEATURE_VERIFY_PIN_DIRECT);

/** Reader answers of part 10 for an entry that never reached the card. */
const SW_TIMEOUT = [0x64, 0x00];
const SW_CANCELLED = [0x64, 0x01];
const SW_PIN_LENGTH = [0x64, 0x03];

/** The TLV list: tag, length 4, control code big-endian. A reader without keypad lists nothing. */
export function featureList(pinpad: boolean): Buffer {
  if (!pinpad) return Buffer.alloc(0);
  return Buffer.from(encodeFeatureList(new Map([[FEATURE_VERIFY_PIN_DIRECT, FEATURE_VERIFY_PIN_DIRECT_CODE]])));
}

/**
 * Runs a VERIFY PIN DIRECT: decodes the PIN_VERIFY_STRUCTURE, applies the entry, and sends the
 * formatted APDU through `toCard` (null when the card did not answer). Returns the card's response,
 * or the reader's own status word (64 00 timeout, 64 01 cancel, 64 03 PIN length out of bounds).
 * A structure the reader cannot read is refused as the CCID driver does (unsupported).
 */
export function runVerifyPinDirect(input: Buffer, entry: PinpadEntry, toCard: (apdu: Uint8Array) => Buffer | null): Result<Buffer> {
  let structure;
  let layout;
  try {
    structure = parseVerifyPinDirect(input);
    layout = pinLayout(structure);
  } catch {
    return { ok: false, code: SCARD_E.UNSUPPORTED_FEATURE };
  }
  if (entry === 'timeout') return { ok: true, value: Buffer.from(SW_TIMEOUT) };
  if (entry === 'cancel') return { ok: true, value: Buffer.from(SW_CANCELLED) };
  if (entry.length === 0 || entry.length < layout.minLength || entry.length > layout.maxLength) {
    return { ok: true, value: Buffer.from(SW_PIN_LENGTH) };
  }
  let apdu: Uint8Array;
  try {
    apdu = insertPin(structure, entry);
  } catch {
    return { ok: false, code: SCARD_E.NOT_TRANSACTED }; // the block the host described does not fit its APDU
  }
  const response = toCard(apdu);
  return response ? { ok: true, value: response } : { ok: false, code: SCARD_E.NOT_TRANSACTED };
}
