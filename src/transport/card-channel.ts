// A connection to the card in one reader, as the card sessions see it: send a command APDU, get
// the complete response (T=0 `61xx`/`6Cxx` already resolved, long commands already chained).
// Implementations: PC/SC (pcsclite or its native mock) and a raw in-process one for tests.
import type { CommandApdu, ResponseApdu } from '../iso7816/apdu.js';

export interface CardChannel {
  /** The reader this channel talks through. */
  readonly readerName: string;
  /** The card's answer-to-reset, as the reader reported it at connection. */
  readonly atr: Uint8Array;
  /**
   * Sends one command and resolves with the final response; commands longer than 255 data
   * bytes are sent with ISO command chaining (CLA | 0x10) unless `extended` is asked.
   * Rejects with a TransportError (CARD_REMOVED, CARD_RESET, PCSC_UNAVAILABLE…) when the card
   * or the reader goes away; a status word other than 90 00 is NOT an error at this level.
   */
  transmit(command: CommandApdu): Promise<ResponseApdu>;
}
