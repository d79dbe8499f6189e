// One command through a RawTransmit as CardChannel promises it: chained when its data does not fit
// a short APDU, T=0 61xx/6Cxx resolved (iso7816 does both; this only picks which).
import type { CommandApdu, ResponseApdu } from '../iso7816/apdu.js';
import { transmitChained } from '../iso7816/chaining.js';
import { transmitApdu, type RawTransmit } from '../iso7816/t0.js';

export const SHORT_MAX_DATA = 255;

export function exchangeCommand(raw: RawTransmit, command: CommandApdu): Promise<ResponseApdu> {
  if ((command.data?.length ?? 0) > SHORT_MAX_DATA) return transmitChained(raw, command, SHORT_MAX_DATA);
  return transmitApdu(raw, command);
}
