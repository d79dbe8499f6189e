// The APDUs a slot's card answered, for the control API (`GET /slots/{n}/apdu-log`): command APDUs
// and their responses only, never vpcd's power and ATR polls.
import { hex } from '../../iso7816/hex.js';

export interface ApduLogEntry {
  /** ISO 8601 time of the answer. */
  readonly t: string;
  /** Upper-case hex, bytes separated by spaces ("00 A4 04 00 ..."). */
  readonly command: string;
  readonly response: string;
}

/** Entries kept per log; the oldest go first beyond it (a long `sim` run stays bounded). */
export const APDU_LOG_LIMIT = 50_000;

export class ApduLog {
  private items: ApduLogEntry[] = [];

  constructor(private readonly limit: number = APDU_LOG_LIMIT) {}

  record(command: Uint8Array, response: Uint8Array, at: Date = new Date()): ApduLogEntry {
    const entry = { t: at.toISOString(), command: hex(command), response: hex(response) };
    this.items.push(entry);
    if (this.items.length > this.limit) this.items.splice(0, this.items.length - this.limit);
    return entry;
  }

  entries(): ApduLogEntry[] {
    return [...this.items];
  }

  get size(): number {
    return this.items.length;
  }

  clear(): void {
    this.items = [];
  }
}
