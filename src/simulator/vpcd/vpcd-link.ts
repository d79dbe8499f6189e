// One vpcd slot: while a card is inserted, keep a TCP connection to vpcd (pcscd's virtual reader
// driver) and answer it for the card; vpcd reports "card present" exactly while a client is
// connected, so inserting is connecting and removing is closing. When pcscd is absent or restarts,
// the link reconnects by itself with back-off.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { VirtualCard } from '../virtual-card.js';
import { ApduLog, type ApduLogEntry } from './apdu-log.js';
import { encodeFrame, FrameDecoder, VPCD_CTRL_ATR, VPCD_CTRL_OFF, VPCD_CTRL_ON, VPCD_CTRL_RESET, VPCD_MAX_PAYLOAD } from './protocol.js';

export interface VpcdLinkOptions {
  /** vpcd's port for this slot (35963 + slot with the default reader.conf entry). */
  readonly port: number;
  readonly host?: string;
  /** First reconnection delay; doubles on each failure up to maxBackoffMs. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly apduLog?: ApduLog;
}

export type VpcdLinkState = 'empty' | 'connecting' | 'connected' | 'waiting';

/** Status word sent when a card throws (the VirtualCard contract says it never does). */
const SW_NO_PRECISE_DIAGNOSIS = Uint8Array.from([0x6f, 0x00]);

/**
 * Events: 'connected' (), 'disconnected' (error?: Error) — the connection ended while a card was
 * in, 'retry' (delayMs: number, error?: Error), 'apdu' (entry: ApduLogEntry), 'control' (byte).
 */
export class VpcdLink extends EventEmitter {
  readonly host: string;
  readonly port: number;
  readonly apduLog: ApduLog;

  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private current: VirtualCard | null = null;
  private socket: net.Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private linkState: VpcdLinkState = 'empty';
  private closed = false;

  constructor(options: VpcdLinkOptions) {
    super();
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port;
    this.minBackoffMs = options.minBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 1000;
    this.apduLog = options.apduLog ?? new ApduLog();
  }

  get card(): VirtualCard | null {
    return this.current;
  }

  get state(): VpcdLinkState {
    return this.linkState;
  }

  get connected(): boolean {
    return this.linkState === 'connected';
  }

  /** Puts a card in the slot: connects to vpcd (and keeps reconnecting while the card is in). */
  insert(card: VirtualCard): void {
    if (this.closed) throw new Error('VpcdLink is closed');
    if (this.current) throw new Error(`vpcd slot on port ${this.port} already holds a card`);
    this.current = card;
    this.failures = 0;
    this.connect();
  }

  /** Takes the card out: closes the connection; vpcd then reports an empty reader. */
  remove(): void {
    const card = this.current;
    this.current = null;
    this.clearTimer();
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
    this.linkState = 'empty';
    card?.reset(); // out of the reader, the card has no power
  }

  /** Removes the card and stops for good. */
  async close(): Promise<void> {
    const socket = this.socket;
    this.closed = true;
    this.remove();
    if (socket && !socket.closed) await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private connect(): void {
    const card = this.current;
    if (!card || this.closed) return;
    this.linkState = 'connecting';
    const socket = net.connect({ host: this.host, port: this.port });
    this.socket = socket;
    socket.setNoDelay(true);
    const decoder = new FrameDecoder();
    let lastError: Error | undefined;
    let wasConnected = false;

    socket.on('connect', () => {
      if (this.socket !== socket) return;
      wasConnected = true;
      this.linkState = 'connected';
      // A new connection is a new insertion as far as pcscd knows: power comes from cold.
      card.reset();
      this.emit('connected');
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      // A live vpcd talks to us: the next failure starts the back-off from the beginning.
      this.failures = 0;
      for (const frame of decoder.push(chunk)) this.handle(socket, card, frame);
    });
    socket.on('error', (err: Error) => {
      lastError = err;
    });
    socket.on('close', () => {
      if (this.socket !== socket) return; // removed on purpose, or replaced
      this.socket = null;
      if (wasConnected) this.emit('disconnected', lastError);
      this.scheduleReconnect(lastError);
    });
  }

  private scheduleReconnect(error: Error | undefined): void {
    if (!this.current || this.closed) return;
    const delay = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** Math.min(this.failures, 16));
    this.failures++;
    this.linkState = 'waiting';
    this.emit('retry', delay, error);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
    this.timer.unref?.();
  }

  private handle(socket: net.Socket, card: VirtualCard, payload: Buffer): void {
    if (payload.length === 0) return;
    if (payload.length === 1) {
      const ctrl = payload[0] ?? 0;
      this.emit('control', ctrl);
      switch (ctrl) {
        case VPCD_CTRL_ATR:
          socket.write(encodeFrame(card.atr));
          return;
        case VPCD_CTRL_OFF:
        case VPCD_CTRL_RESET:
          card.reset();
          return;
        case VPCD_CTRL_ON:
        default:
          return; // power on after off: the reset already happened; unknown bytes get no answer
      }
    }
    let response: Uint8Array;
    try {
      response = card.transmit(Uint8Array.from(payload));
    } catch {
      response = SW_NO_PRECISE_DIAGNOSIS;
    }
    if (response.length > VPCD_MAX_PAYLOAD) response = SW_NO_PRECISE_DIAGNOSIS;
    socket.write(encodeFrame(response));
    const entry: ApduLogEntry = this.apduLog.record(payload, response);
    this.emit('apdu', entry);
  }
}
