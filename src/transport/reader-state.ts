// What a reader's dwEventState says about its card: present or not, and pcsc-lite's per-reader
// event counter (upper 16 bits, bumped at every insertion and removal), which tells a card pulled
// and put back between two notifications from the same card left in place.
import type { PcscConstants } from './pcsc-types.js';

export interface CardPresence {
  readonly present: boolean;
  readonly eventCounter: number;
}

export function cardPresence(state: number, constants: Pick<PcscConstants, 'SCARD_STATE_PRESENT'>): CardPresence {
  return {
    present: (state & constants.SCARD_STATE_PRESENT) !== 0,
    eventCounter: (state >>> 16) & 0xffff,
  };
}
