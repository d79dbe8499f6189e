// The shared card-session suite over an in-process channel: RawCardChannel straight onto the
// virtual card, counting the APDUs the card receives.
import { RawCardChannel } from '../../../src/transport/raw-channel.js';
import { describeCardSessions } from './session-suite.js';

describeCardSessions('card sessions over an in-process channel', async () => ({
  async insert(card) {
    let count = 0;
    const channel = new RawCardChannel('in-process reader', card.atr, async (apdu) => {
      count++;
      return card.transmit(apdu);
    });
    card.reset();
    return {
      channel,
      apduCount: () => count,
      resetApduCount: () => {
        count = 0;
      },
      remove: async () => card.reset(),
    };
  },
  close: async () => undefined,
}));
