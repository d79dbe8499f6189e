// One card insertion as the agent sees it: its family, the channel bound to it, the card sessions
// (created once, so the CPS certificates are read once per insertion), and whose verified PIN it
// holds. Dropped when the card leaves the reader.
import { cardFamilyFromAtr, type CardFamily } from '../../cards/atr.js';
import { CpsSession } from '../../cards/cps-session.js';
import { VitaleSession } from '../../cards/vitale-session.js';
import type { ReaderMonitor } from '../../transport/reader-monitor.js';
import { VerifiedState } from '../pin/verified-state.js';
import type { PinpadPinObject } from '../pin/pinpad.js';
import { InsertionChannel } from './insertion-channel.js';

export class CardSlot {
  readonly family: CardFamily;
  readonly channel: InsertionChannel;
  readonly pin: VerifiedState;
  /** The card serial once known (audit lines). */
  serial: string | undefined;
  /** The PIN object for pinpad entry, read from the AODF the first time a pinpad is used. */
  pinpadPin: PinpadPinObject | undefined;
  private removedFlag = false;
  private cpsSession: Promise<CpsSession> | null = null;
  private vitaleSession: Promise<VitaleSession> | null = null;

  constructor(
    monitor: ReaderMonitor,
    readonly reader: string,
    readonly atr: Uint8Array,
    readonly insertion: number,
    options: { idleTimeoutMs: number; onIdle: (slot: CardSlot, connectionId: string) => void },
  ) {
    this.family = cardFamilyFromAtr(atr);
    this.pin = new VerifiedState(options.idleTimeoutMs, (connectionId) => options.onIdle(this, connectionId));
    this.channel = new InsertionChannel(monitor, reader, atr, insertion, () => this.pin.clear());
  }

  get removed(): boolean {
    return this.removedFlag;
  }

  /** The card left the reader (or another took its place): its state is gone with it. */
  markRemoved(): void {
    this.removedFlag = true;
    this.pin.clear();
  }

  cps(): Promise<CpsSession> {
    this.cpsSession ??= CpsSession.open(this.channel);
    return this.cpsSession;
  }

  vitale(): Promise<VitaleSession> {
    this.vitaleSession ??= VitaleSession.open(this.channel);
    return this.vitaleSession;
  }
}
