// A CardChannel over any function that exchanges raw APDU bytes: an in-process virtual card in
// tests, or a PC/SC connection once wrapped. The T=0 and chaining rules live in iso7816.
import type { CommandApdu, ResponseApdu } from '../iso7816/apdu.js';
import type { RawTransmit } from '../iso7816/t0.js';
import type { CardChannel } from './card-channel.js';
import { exchangeCommand } from './exchange.js';

export class RawCardChannel implements CardChannel {
  constructor(
    readonly readerName: string,
    readonly atr: Uint8Array,
    private readonly raw: RawTransmit,
  ) {}

  transmit(command: CommandApdu): Promise<ResponseApdu> {
    return exchangeCommand(this.raw, command);
  }
}
