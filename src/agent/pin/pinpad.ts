// PIN entry on the reader's keypad (PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT): the host describes
// the VERIFY command and its PIN block, the reader asks the user, writes the digits in and sends
// it; the PIN never passes through the host. The block format comes from the card's PKCS#15 PIN
// object (AODF pinAttributes), read here once per insertion because CpsSession keeps its AODF to
// itself (see docs/agent-cards.md).
import { CardIo } from '../../cards/card-io.js';
import { CPS_PKCS15_AID, CPS4_APPLET_AID, type CpsFamily } from '../../cards/cps-profile.js';
import { bytesEqual } from '../../cards/ber.js';
import { cardStatusError } from '../../cards/errors.js';
import { parseAodf, parseEfDir, parseOdf, PIN_FLAG, type PinAttributes, type Pkcs15Path } from '../../cards/pkcs15.js';
import { buildVerifyPinDirect, FEATURE_VERIFY_PIN_DIRECT } from '../../iso7816/part10.js';
import { AgentError } from '../errors.js';

/** What a pinpad verification needs to know about the card's cardholder PIN. */
export interface PinpadPinObject {
  /** The PKCS#15 application (CPS3: selected before the VERIFY). */
  readonly aid: Uint8Array;
  readonly attributes: PinAttributes;
}

/** The two things of the channel this module uses (InsertionChannel has both, and transmit). */
export interface PinpadChannel {
  features(): Promise<Map<number, number>>;
  control(controlCode: number, data?: Uint8Array): Promise<Uint8Array>;
}

const OP = { fr: 'Lecture du code porteur de la carte', en: 'Reading the card PIN object' };
const READ_CHUNK = 0xe7;
const EF_DIR = Uint8Array.of(0x3f, 0x00, 0x2f, 0x00);
const ODF = Uint8Array.of(0x50, 0x31);
const SW_SUCCESS = 0x9000;

const claOf = (family: CpsFamily): number => (family === 'CPS4' ? 0x01 : 0x00);

/**
 * Reads EF.DIR, the ODF and the AODF (an operation of its own: starts by selecting) and returns the
 * cardholder PIN object: the AODF's PIN that is neither an unblocking nor an SO PIN.
 * @throws CardError on a card answer or file the host cannot use; TransportError as the channel does.
 */
export async function readPinpadPinObject(io: CardIo, family: CpsFamily): Promise<PinpadPinObject> {
  let inApplication = false;
  if (family === 'CPS4') await expectSuccess(io.selectAid(CPS4_APPLET_AID));
  const dir = await io.selectPath(EF_DIR);
  let aid: Uint8Array = CPS_PKCS15_AID;
  if (dir.sw === SW_SUCCESS) {
    const apps = parseEfDir(await io.readBinary({ chunk: READ_CHUNK }, OP));
    aid = (apps.find((a) => bytesEqual(a.aid, CPS_PKCS15_AID)) ?? apps[0])?.aid ?? CPS_PKCS15_AID;
  } else if (dir.sw !== 0x6a82) {
    throw cardStatusError(OP, dir.sw);
  }
  const enter = async (): Promise<void> => {
    if (inApplication) return;
    await expectSuccess(io.selectAid(aid));
    inApplication = true;
  };
  const read = async (path: Pkcs15Path): Promise<Uint8Array> => {
    const absolute = path.path.length >= 2 && path.path[0] === 0x3f && path.path[1] === 0x00;
    if (path.aid) {
      await expectSuccess(io.selectAid(path.aid));
      inApplication = false;
    } else if (!absolute) {
      await enter();
    }
    if (path.path.length > 0) {
      await expectSuccess(io.selectPath(path.path));
      if (absolute || path.path.length > 2) inApplication = false;
    }
    return io.readBinary(
      { chunk: READ_CHUNK, ...(path.index === undefined ? {} : { offset: path.index }), ...(path.length === undefined ? {} : { length: path.length }) },
      OP,
    );
  };
  const odf = parseOdf(await read({ path: ODF }));
  for (const path of odf.authObjects) {
    const pin = parseAodf(await read(path)).find((p) => !p.pin.pinFlags.has(PIN_FLAG.unblockingPin) && !p.pin.pinFlags.has(PIN_FLAG.soPin));
    if (pin) return { aid, attributes: pin.pin };
  }
  throw new AgentError('UNSUPPORTED_CARD', { reason: 'no-cardholder-pin' });

  async function expectSuccess(answer: Promise<{ sw: number }>): Promise<void> {
    const r = await answer;
    if (r.sw !== SW_SUCCESS) throw cardStatusError(OP, r.sw);
  }
}

/**
 * The PIN_VERIFY_STRUCTURE for the card's VERIFY: digits in ASCII or BCD as the AODF says, in a
 * block of storedLength bytes filled with padChar (needs-padding), or of exactly the PIN length
 * when the PIN has a fixed length and no padding.
 * @throws AgentError UNSUPPORTED_CARD for a PIN format a part 10 structure cannot describe.
 */
export function verifyPinDirectStructure(family: CpsFamily, attributes: PinAttributes, timeoutSeconds: number): Uint8Array {
  const unsupported = (why: string) => new AgentError('UNSUPPORTED_CARD', { reason: 'pinpad-pin-format', format: why });
  const format = attributes.pinType === 'bcd' ? 'bcd' : attributes.pinType === 'ascii-numeric' || attributes.pinType === 'utf8' ? 'ascii' : null;
  if (!format) throw unsupported(attributes.pinType);
  const digitsPerByte = format === 'bcd' ? 2 : 1;
  const max = attributes.maxLength ?? attributes.storedLength;
  const min = Math.max(1, attributes.minLength);
  let blockSize: number;
  let padChar = 0xff;
  if (attributes.pinFlags.has(PIN_FLAG.needsPadding)) {
    if (attributes.padChar === undefined) throw unsupported('padding without a pad character');
    blockSize = attributes.storedLength;
    padChar = attributes.padChar;
  } else {
    // Without padding the card takes exactly the digits: only a fixed length fits a fixed block.
    if (min !== max) throw unsupported('variable length without padding');
    blockSize = Math.ceil(max / digitsPerByte);
  }
  if (blockSize < 1 || blockSize > 15 || max > blockSize * digitsPerByte || min > max) throw unsupported('block size');
  return buildVerifyPinDirect({
    apdu: { cla: claOf(family), ins: 0x20, p1: 0x00, p2: attributes.pinReference },
    pinFormat: format,
    pinMinLength: min,
    pinMaxLength: max,
    padChar,
    blockSize,
    timeout: Math.max(0, Math.min(255, Math.ceil(timeoutSeconds))),
  });
}

/**
 * Selects the application (CPS3) or the applet (CPS4) and has the reader verify the PIN typed on
 * its keypad.
 * @throws AgentError INVALID_PARAMS (`reason: 'no-pinpad'`) on a reader without the feature,
 *   PIN_INCORRECT (triesRemaining), PIN_BLOCKED, USER_CANCELLED (Cancel key), TIMEOUT, CARD_ERROR.
 */
export async function verifyWithPinpad(
  channel: PinpadChannel,
  io: CardIo,
  family: CpsFamily,
  pin: PinpadPinObject,
  timeoutSeconds: number,
): Promise<void> {
  const features = await channel.features();
  const controlCode = features.get(FEATURE_VERIFY_PIN_DIRECT);
  if (controlCode === undefined) throw new AgentError('INVALID_PARAMS', { reason: 'no-pinpad' });
  const structure = verifyPinDirectStructure(family, pin.attributes, timeoutSeconds);
  const selected = await io.selectAid(family === 'CPS4' ? CPS4_APPLET_AID : pin.aid);
  if (selected.sw !== SW_SUCCESS) throw cardStatusError(OP, selected.sw);
  const answer = await channel.control(controlCode, structure);
  if (answer.length < 2) throw new AgentError('CARD_ERROR', { reason: 'pinpad-answer' });
  const sw = (answer[answer.length - 2]! << 8) | answer[answer.length - 1]!;
  if (sw === SW_SUCCESS) return;
  if ((sw & 0xfff0) === 0x63c0) {
    const tries = sw & 0x0f;
    throw tries === 0 ? new AgentError('PIN_BLOCKED') : new AgentError('PIN_INCORRECT', { triesRemaining: tries });
  }
  if (sw === 0x6983 || sw === 0x6984) throw new AgentError('PIN_BLOCKED');
  // The reader's own answers (part 10): no key within the time, Cancel key, PIN length out of bounds.
  if (sw === 0x6400) throw new AgentError('TIMEOUT', { reason: 'pinpad' });
  if (sw === 0x6401) throw new AgentError('USER_CANCELLED', { reason: 'pinpad' });
  if (sw === 0x6403) throw new AgentError('INVALID_PARAMS', { reason: 'pin-length' });
  throw new AgentError('CARD_ERROR', { sw: sw.toString(16).toUpperCase().padStart(4, '0') });
}
