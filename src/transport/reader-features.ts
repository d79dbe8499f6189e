// PC/SC part 10 feature discovery over a connection: SCardControl(CM_IOCTL_GET_FEATURE_REQUEST)
// -> map of feature tag (FEATURE_VERIFY_PIN_DIRECT, …) to the reader's control code for it.
import { CM_IOCTL_GET_FEATURE_REQUEST, parseFeatureList } from '../iso7816/part10.js';
import { TransportError } from './errors.js';

/** SCARD_E_UNSUPPORTED_FEATURE: drivers without part 10 (vpcd, many contactless readers) answer it. */
const UNSUPPORTED_FEATURE = 0x8010001f;

export interface ControlChannel {
  control(controlCode: number, data?: Uint8Array): Promise<Uint8Array>;
}

/**
 * The reader's part 10 features; an empty map when the reader offers none (or its driver does not
 * know the request). The control code used is pcsc-lite's (Linux, macOS).
 * @throws Iso7816ParseError when the reader's answer is malformed; TransportError as control() does.
 */
export async function readerFeatures(channel: ControlChannel): Promise<Map<number, number>> {
  let answer: Uint8Array;
  try {
    answer = await channel.control(CM_IOCTL_GET_FEATURE_REQUEST);
  } catch (err) {
    if (err instanceof TransportError && err.pcscCode === UNSUPPORTED_FEATURE) return new Map();
    throw err;
  }
  return parseFeatureList(answer);
}
