// The T=0 exchange rules as seen from the host through PC/SC (ISO 7816-3 §10.3.5, 7816-4 §5.3.4):
// a T=0 card cannot send response data in the same exchange as the command, so it answers
//   61 xx  "xx more bytes ready": fetch them with GET RESPONSE (Le = xx, 00 = 256), maybe again;
//   6C xx  "wrong Le, xx is right": send the same command again with Le = xx (00 = 256).
// The CPS3 is a T=0 card. Cards on T=1 never answer these, so this is harmless for them.

import type { CommandApdu, ResponseApdu } from './apdu.js';
import { decodeResponseApdu, encodeCommandApdu } from './apdu.js';
import { concatBytes, checkInteger } from './bytes.js';
import { getResponseCla } from './cla.js';
import { Iso7816ProtocolError } from './errors.js';

/** Sends one command APDU to the card and resolves with its response APDU (data || SW1 SW2). */
export type RawTransmit = (apdu: Uint8Array) => Promise<Uint8Array>;

export interface TransmitOptions {
  /**
   * Most follow-up exchanges (GET RESPONSE or Le-corrected re-sends) after the command itself.
   * A faulty or hostile card answering 61xx forever would otherwise hang the reader's queue.
   * The default allows 64 x 256 = 16 KiB of response, far above any CPS or Vitale answer.
   */
  maxGetResponse?: number;
}

export const DEFAULT_MAX_GET_RESPONSE = 64;

export const INS_GET_RESPONSE = 0xc0;

/** GET RESPONSE for `sw2` bytes (00 = 256) on the logical channel of `cla`. */
export function getResponseCommand(cla: number, sw2: number): CommandApdu {
  return { cla: getResponseCla(cla), ins: INS_GET_RESPONSE, p1: 0x00, p2: 0x00, le: sw2 === 0 ? 256 : sw2 };
}

/**
 * Sends `command` and resolves 61xx / 6Cxx into one response: the data of every part
 * concatenated, and the status word of the last exchange (so a GET RESPONSE that fails shows
 * its own status, with the data gathered so far).
 * @throws Iso7816ProtocolError after `maxGetResponse` follow-ups without a final status.
 * @throws Iso7816ParseError when the card answers fewer than 2 bytes.
 * Errors of `raw` (card removed, reader gone) propagate unchanged.
 */
export async function transmitApdu(
  raw: RawTransmit,
  command: CommandApdu,
  opts: TransmitOptions = {},
): Promise<ResponseApdu> {
  const maxFollowUps = opts.maxGetResponse ?? DEFAULT_MAX_GET_RESPONSE;
  checkInteger('maxGetResponse', maxFollowUps, 0, Number.MAX_SAFE_INTEGER);

  const parts: Uint8Array[] = [];
  let current = command;
  for (let followUps = 0; ; followUps++) {
    const response = decodeResponseApdu(await raw(encodeCommandApdu(current)));
    if (response.sw1 === 0x6c) {
      // Same command, corrected Le; a 6C answer carries no data worth keeping.
      current = { ...current, le: response.sw2 === 0 ? 256 : response.sw2 };
    } else if (response.sw1 === 0x61) {
      // Some cards (and T=1 readers mapping T=0) already send part of the data with 61xx.
      parts.push(response.data);
      current = getResponseCommand(command.cla, response.sw2);
    } else {
      parts.push(response.data);
      const data = parts.length === 1 ? response.data : concatBytes(parts);
      return { data, sw: response.sw, sw1: response.sw1, sw2: response.sw2 };
    }
    if (followUps >= maxFollowUps) {
      throw new Iso7816ProtocolError(
        `card still answers ${response.sw1.toString(16).toUpperCase()}xx after ${maxFollowUps} follow-up exchanges`,
      );
    }
  }
}
