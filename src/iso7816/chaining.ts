// Command chaining (ISO 7816-4 §5.3.3): a command whose data does not fit one APDU is sent as
// several, all but the last with the chaining bit of CLA set (0x10) and no Le. The card answers
// 9000 to each intermediate part and the real response to the last. The CPS3 needs it for PSO
// DECIPHER of a 2048-bit cryptogram (1 padding-indicator byte + 256 bytes > 255).

import type { CommandApdu, ResponseApdu } from './apdu.js';
import { checkInteger } from './bytes.js';
import { withChaining } from './cla.js';
import { SW } from './status-words.js';
import type { RawTransmit, TransmitOptions } from './t0.js';
import { transmitApdu } from './t0.js';

/**
 * Splits `c` into chained commands of at most `maxChunk` data bytes each. A command that fits
 * is returned alone and unchanged (no chaining bit). Only the last part keeps `le`.
 * @throws RangeError when maxChunk is not in 1..65535.
 */
export function chainCommand(c: CommandApdu, maxChunk = 255): CommandApdu[] {
  checkInteger('maxChunk', maxChunk, 1, 65535);
  const data = c.data;
  if (data === undefined || data.length <= maxChunk) return [c];

  const parts: CommandApdu[] = [];
  for (let offset = 0; offset < data.length; offset += maxChunk) {
    const chunk = data.subarray(offset, offset + maxChunk);
    const last = offset + maxChunk >= data.length;
    const part: CommandApdu = { cla: last ? c.cla : withChaining(c.cla), ins: c.ins, p1: c.p1, p2: c.p2, data: chunk };
    if (last && c.le !== undefined) part.le = c.le;
    parts.push(part);
  }
  return parts;
}

/**
 * Sends `command` chained (each part through transmitApdu, so T=0 rules apply to each) and
 * resolves with the response to the last part. Stops at the first intermediate part that does
 * not answer 9000 and resolves with that response: the card has refused the chain (e.g. 6884
 * chaining not supported, 6982), and sending the rest would only be misread as a new chain.
 */
export async function transmitChained(
  raw: RawTransmit,
  command: CommandApdu,
  maxChunk = 255,
  opts: TransmitOptions = {},
): Promise<ResponseApdu> {
  const parts = chainCommand(command, maxChunk);
  const last = parts.pop() ?? command; // chainCommand always returns at least one part
  for (const part of parts) {
    const response = await transmitApdu(raw, part, opts);
    if (response.sw !== SW.SUCCESS) return response;
  }
  return transmitApdu(raw, last, opts);
}
