// A CardChannel bound to ONE insertion of a card in a reader, so the card sessions (and their
// caches) live as long as the card stays in, across reconnections: ending a verified state is a
// PC/SC disconnect with RESET, after which the next command opens a new connection through the
// ReaderMonitor. A command for a card that is no longer the one inserted fails with CARD_REMOVED,
// never reaches the next card.
import type { CommandApdu, ResponseApdu } from '../../iso7816/apdu.js';
import type { CardChannel } from '../../transport/card-channel.js';
import { TransportError } from '../../transport/errors.js';
import type { PcscCardChannel } from '../../transport/pcsc-card-channel.js';
import type { ReaderMonitor } from '../../transport/reader-monitor.js';

export class InsertionChannel implements CardChannel {
  private current: PcscCardChannel | null = null;
  private opening: Promise<PcscCardChannel> | null = null;

  constructor(
    private readonly monitor: ReaderMonitor,
    readonly readerName: string,
    readonly atr: Uint8Array,
    readonly insertion: number,
    /** Told when another application reset the card: its verified state is gone. */
    private readonly onCardReset: () => void,
  ) {}

  async transmit(command: CommandApdu): Promise<ResponseApdu> {
    const channel = await this.channel();
    try {
      return await channel.transmit(command);
    } catch (error) {
      this.noticeReset(error);
      throw error;
    }
  }

  /** SCardControl (PC/SC part 10). */
  async control(controlCode: number, data?: Uint8Array): Promise<Uint8Array> {
    const channel = await this.channel();
    try {
      return await channel.control(controlCode, data);
    } catch (error) {
      this.noticeReset(error);
      throw error;
    }
  }

  /** The reader's part 10 features (tag -> control code). */
  async features(): Promise<Map<number, number>> {
    return (await this.channel()).features();
  }

  /**
   * Ends the card's volatile state (verified PIN): disconnect with SCARD_RESET_CARD. The next
   * command reconnects. A card already gone has no state left: not an error.
   */
  async resetCard(): Promise<void> {
    let channel: PcscCardChannel;
    try {
      channel = await this.channel();
    } catch (error) {
      if (error instanceof TransportError) return;
      throw error;
    }
    if (this.current === channel) this.current = null;
    await channel.disconnect('reset');
  }

  private noticeReset(error: unknown): void {
    if (error instanceof TransportError && error.code === 'CARD_RESET') this.onCardReset();
  }

  private async channel(): Promise<PcscCardChannel> {
    const current = this.current;
    if (current?.isOpen) return current;
    this.current = null;
    this.opening ??= this.open().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private async open(): Promise<PcscCardChannel> {
    let channel: PcscCardChannel;
    try {
      channel = await this.monitor.connect(this.readerName);
    } catch (error) {
      // Our card is no longer there: for an operation on it, it was removed.
      if (error instanceof TransportError && error.code === 'CARD_ABSENT') {
        throw new TransportError('CARD_REMOVED', `${this.readerName}: the card was removed`, { cause: error });
      }
      throw error;
    }
    if (channel.insertion !== this.insertion) {
      throw new TransportError('CARD_REMOVED', `${this.readerName}: the card was removed (another card is in the reader)`);
    }
    this.current = channel;
    return channel;
  }
}
