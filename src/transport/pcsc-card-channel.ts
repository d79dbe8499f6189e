// A CardChannel over one `pcsclite` connection. Shared mode, so other PC/SC applications (the
// official CPS middleware, billing software) keep working; disconnect leaves the card powered
// unless the verified state must end. pcsclite has no transactions: another application may reset
// the card between two of our APDUs; then we reconnect once and report CARD_RESET so the session
// re-selects and re-verifies (never a blind retry of what may have been a signature).
import type { CommandApdu, ResponseApdu } from '../iso7816/apdu.js';
import type { CardChannel } from './card-channel.js';
import { TransportError, type TransportErrorCode } from './errors.js';
import { exchangeCommand } from './exchange.js';
import { connectShared, controlBytes, disconnectWith, transmitBytes } from './pcsc-calls.js';
import { toTransportError } from './pcsc-errors.js';
import type { PcscReader } from './pcsc-types.js';
import { readerFeatures } from './reader-features.js';

/** `leave`: the card stays powered and keeps its state (default). `reset`: the verified state ends. */
export type DisconnectDisposition = 'leave' | 'reset';

/** res_len for SCardTransmit / SCardControl: 65536 data bytes + SW1 SW2. */
export const DEFAULT_MAX_RESPONSE_LENGTH = 65538;

export interface PcscCardChannelOptions {
  /** The card's ATR, from the reader's status (pcsclite's connect does not return it). */
  readonly atr: Uint8Array;
  /** Which insertion of a card in this reader the connection belongs to (ReaderMonitor's counter). */
  readonly insertion?: number;
  /** Protocols offered at connection; default T=0 | T=1 (pcscd keeps the card's). */
  readonly protocols?: number;
  /** res_len passed to pcsclite; default DEFAULT_MAX_RESPONSE_LENGTH. */
  readonly maxResponseLength?: number;
  /** Called once when the channel ends, whatever the reason. */
  readonly onClose?: (channel: PcscCardChannel) => void;
}

/** Codes after which the connection is dead: the channel ends and frees the reader object. */
const FATAL: ReadonlySet<TransportErrorCode> = new Set(['CARD_REMOVED', 'PCSC_UNAVAILABLE', 'READER_NOT_FOUND']);

export class PcscCardChannel implements CardChannel {
  readonly readerName: string;
  readonly atr: Uint8Array;
  readonly insertion: number;

  private activeProtocol: number;
  private readonly protocols: number;
  private readonly maxResponseLength: number;
  private readonly onClose: ((channel: PcscCardChannel) => void) | undefined;
  private ended: TransportError | null = null;
  /** Operations run one after the other: a GET RESPONSE never lands between another command and its 61xx. */
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly reader: PcscReader,
    protocol: number,
    protocols: number,
    options: PcscCardChannelOptions,
  ) {
    this.readerName = reader.name;
    this.atr = Uint8Array.from(options.atr);
    this.insertion = options.insertion ?? 0;
    this.activeProtocol = protocol;
    this.protocols = protocols;
    this.maxResponseLength = options.maxResponseLength ?? DEFAULT_MAX_RESPONSE_LENGTH;
    this.onClose = options.onClose;
  }

  /**
   * Connects `reader` (SHARED, the card's protocol). A reader object holds one connection: use one
   * channel per reader object.
   * @throws TransportError CARD_ABSENT, READER_NOT_FOUND, SHARING_VIOLATION, PCSC_UNAVAILABLE…
   */
  static async connect(reader: PcscReader, options: PcscCardChannelOptions): Promise<PcscCardChannel> {
    const protocols = options.protocols ?? reader.SCARD_PROTOCOL_T0 | reader.SCARD_PROTOCOL_T1;
    let protocol: number;
    try {
      protocol = await connectShared(reader, protocols);
    } catch (err) {
      throw toTransportError(err, reader.name, 'connect');
    }
    return new PcscCardChannel(reader, protocol, protocols, options);
  }

  /** SCARD_PROTOCOL_T0 or SCARD_PROTOCOL_T1, as negotiated (may change after a reconnect). */
  get protocol(): number {
    return this.activeProtocol;
  }

  get isOpen(): boolean {
    return this.ended === null;
  }

  /** Why the channel ended (CARD_REMOVED, PCSC_UNAVAILABLE, …; TRANSPORT_ERROR after disconnect()), or null. */
  get closedReason(): TransportErrorCode | null {
    return this.ended?.code ?? null;
  }

  transmit(command: CommandApdu): Promise<ResponseApdu> {
    return this.serialized(() => exchangeCommand((apdu) => this.rawTransmit(apdu), command));
  }

  /**
   * SCardControl on this connection (PC/SC part 10: feature list, pinpad verification).
   * Same error rules as transmit().
   */
  control(controlCode: number, data: Uint8Array = new Uint8Array(0), maxResponseLength = this.maxResponseLength): Promise<Uint8Array> {
    return this.serialized(async () => {
      this.ensureOpen();
      try {
        return await controlBytes(this.reader, controlCode, data, maxResponseLength);
      } catch (err) {
        throw await this.failure(err);
      }
    });
  }

  /** The reader's part 10 features (tag -> control code); empty when it has none. */
  features(): Promise<Map<number, number>> {
    return readerFeatures(this);
  }

  /**
   * Ends the connection: `leave` (default) keeps the card powered and its state (a verified PIN
   * stays verified for the next connection); `reset` ends the verified state. No-op when already
   * ended. A failure because the card or pcscd is already gone is not an error (the state is gone
   * with it).
   */
  disconnect(disposition: DisconnectDisposition = 'leave'): Promise<void> {
    if (this.ended) return this.tail.then(() => undefined);
    this.end(new TransportError('TRANSPORT_ERROR', `${this.readerName}: the connection was closed`));
    return this.serialized(async () => {
      const value = disposition === 'reset' ? this.reader.SCARD_RESET_CARD : this.reader.SCARD_LEAVE_CARD;
      try {
        await disconnectWith(this.reader, value);
      } catch (err) {
        const e = toTransportError(err, this.readerName, 'exchange');
        if (!FATAL.has(e.code) && e.code !== 'CARD_RESET') throw e;
      }
    });
  }

  /**
   * Ends the channel because the monitor saw the card or the service go: pending and later calls
   * fail with `code` without waiting for a PC/SC error, and the reader object is freed (LEAVE_CARD).
   */
  invalidate(code: TransportErrorCode, message: string): Promise<void> {
    if (this.ended) return this.tail.then(() => undefined);
    this.end(new TransportError(code, `${this.readerName}: ${message}`));
    return this.serialized(() => this.quietDisconnect());
  }

  // ---- internals --------------------------------------------------------------------------------

  private serialized<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(op);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private ensureOpen(): void {
    if (this.ended) {
      throw new TransportError(this.ended.code, this.ended.message, this.ended.pcscCode === undefined ? {} : { pcscCode: this.ended.pcscCode });
    }
  }

  private async rawTransmit(apdu: Uint8Array): Promise<Uint8Array> {
    this.ensureOpen();
    try {
      return await transmitBytes(this.reader, apdu, this.maxResponseLength, this.activeProtocol);
    } catch (err) {
      throw await this.failure(err);
    }
  }

  /** Maps a pcsclite failure; reconnects after a reset; ends the channel when the connection is dead. */
  private async failure(err: unknown): Promise<TransportError> {
    const e = toTransportError(err, this.readerName, 'exchange');
    if (e.code === 'CARD_RESET') {
      const reconnectError = await this.reconnect();
      if (reconnectError) {
        this.end(reconnectError);
        await this.quietDisconnect();
        return reconnectError;
      }
      return e;
    }
    if (FATAL.has(e.code)) {
      this.end(e);
      await this.quietDisconnect();
    }
    return e;
  }

  /** Drops the handle that saw the reset and connects again (pcsclite has no SCardReconnect). */
  private async reconnect(): Promise<TransportError | null> {
    try {
      await disconnectWith(this.reader, this.reader.SCARD_LEAVE_CARD);
    } catch {
      // the handle is unusable anyway; connectShared reports what matters
    }
    try {
      this.activeProtocol = await connectShared(this.reader, this.protocols);
      return null;
    } catch (err) {
      const e = toTransportError(err, this.readerName, 'connect');
      // The card went away while being reset: for the operation in progress it was removed.
      if (e.code === 'CARD_ABSENT') {
        return new TransportError('CARD_REMOVED', e.message, { cause: err, ...(e.pcscCode === undefined ? {} : { pcscCode: e.pcscCode }) });
      }
      return e;
    }
  }

  private async quietDisconnect(): Promise<void> {
    if (!this.reader.connected) return;
    try {
      await disconnectWith(this.reader, this.reader.SCARD_LEAVE_CARD);
    } catch {
      // pcscd gone or card gone: nothing left to release
    }
  }

  private end(reason: TransportError): void {
    if (this.ended) return;
    this.ended = reason;
    this.onClose?.(this);
  }
}
