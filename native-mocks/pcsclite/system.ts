// The simulated machine behind the mock: "pcscd" (running or not), its readers, the cards in them,
// the connections (handles) clients hold, and the faults tests inject. It follows pcsc-lite 1.9's
// rules (winscard.c) as observed through the real `pcsclite` package against pcscd + vpcd:
// sharing, per-handle reset/removal events, protocol negotiation once per power-up, error codes.
import { EventEmitter } from 'node:events';
import { hex } from '../../src/iso7816/hex.js';
import type { VirtualCard } from '../../src/simulator/virtual-card.js';
import { CM_IOCTL_GET_FEATURE_REQUEST, SCARD, SCARD_E } from './constants.js';
import { FEATURE_VERIFY_PIN_DIRECT_CODE, featureList, runVerifyPinDirect, type PinpadEntry } from './pinpad.js';

export interface ApduLogEntry {
  /** ISO 8601 time the card answered. */
  readonly t: string;
  /** Hex, upper case, space separated (as `hex()` of src/iso7816). */
  readonly command: string;
  readonly response: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: number };

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = (code: number): Result<never> => ({ ok: false, code });

/** One physical insertion of a card: a card pulled and put back is a new insertion. */
interface Insertion {
  readonly card: VirtualCard;
  readonly atr: Buffer;
  /** Protocols the card offers (SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1 mask). */
  readonly protocols: number;
  /** Negotiated by the first connection after power-up; 0 = not yet (SCARD_PROTOCOL_UNDEFINED). */
  activeProtocol: number;
}

export interface ReaderState {
  readonly name: string;
  readonly pinpad: boolean;
  insertion: Insertion | null;
  /** Upper 16 bits of dwEventState: pcscd counts insertions and removals per reader. */
  eventCounter: number;
  readonly handles: Set<Handle>;
  exclusive: Handle | null;
  log: ApduLogEntry[];
  failures: number[];
  removeAfterApdus: number | null;
  pinpadEntry: PinpadEntry | null;
  removed: boolean;
}

/** A connection (SCARDHANDLE). `event` is what pcsc-lite reports on the next call until reconnect. */
export interface Handle {
  readonly id: number;
  readonly reader: ReaderState;
  readonly insertion: Insertion | null;
  readonly shareMode: number;
  readonly generation: number;
  event: 'none' | 'reset' | 'removed';
}

export interface ReaderStatus {
  readonly state: number;
  readonly atr: Buffer;
}

export interface InsertCardOptions {
  /** Protocols the card offers; default T=0 and T=1 (pcscd then negotiates T=1, like vpcd cards). */
  readonly protocols?: number;
}

/** Entries kept per reader; older ones are dropped first. */
export const APDU_LOG_LIMIT = 50_000;

/**
 * Events (internal, for the mock's client objects): 'readers' (the reader list changed),
 * 'card' (readerName; a card was inserted or removed), 'daemon-stop' (generation that ended).
 */
export class MockPcscSystem extends EventEmitter {
  private running: boolean;
  private gen = 1;
  private nextHandleId = 1;
  private readonly readerMap = new Map<string, ReaderState>();

  constructor(options: { daemonRunning?: boolean } = {}) {
    super();
    this.setMaxListeners(0);
    this.running = options.daemonRunning ?? true;
  }

  get daemonRunning(): boolean {
    return this.running;
  }

  /** Bumped at every daemon start: contexts and handles of an older generation are dead. */
  get generation(): number {
    return this.gen;
  }

  readerNames(): string[] {
    return [...this.readerMap.keys()];
  }

  reader(name: string): ReaderState {
    const r = this.readerMap.get(name);
    if (!r) throw new Error(`mock pcsclite: no reader named ${JSON.stringify(name)}`);
    return r;
  }

  hasReader(name: string): boolean {
    return this.readerMap.has(name);
  }

  // ---- the hardware side, driven by tests -------------------------------------------------------

  addReader(name: string, opts: { pinpad?: boolean } = {}): void {
    if (name.length === 0 || name.includes('\0')) throw new Error('mock pcsclite: invalid reader name');
    if (this.readerMap.has(name)) throw new Error(`mock pcsclite: reader ${JSON.stringify(name)} already exists`);
    this.readerMap.set(name, {
      name,
      pinpad: opts.pinpad ?? false,
      insertion: null,
      eventCounter: 0,
      handles: new Set(),
      exclusive: null,
      log: [],
      failures: [],
      removeAfterApdus: null,
      pinpadEntry: null,
      removed: false,
    });
    if (this.running) this.emit('readers');
  }

  removeReader(name: string): void {
    const r = this.reader(name);
    if (r.insertion) r.insertion.card.reset();
    r.insertion = null;
    r.removed = true;
    r.handles.clear();
    r.exclusive = null;
    this.readerMap.delete(name);
    if (this.running) this.emit('readers');
  }

  insertCard(readerName: string, card: VirtualCard, opts: InsertCardOptions = {}): void {
    const r = this.reader(readerName);
    if (r.insertion) throw new Error(`mock pcsclite: reader ${JSON.stringify(readerName)} already holds a card`);
    const protocols = opts.protocols ?? SCARD.SCARD_PROTOCOL_T0 | SCARD.SCARD_PROTOCOL_T1;
    if ((protocols & (SCARD.SCARD_PROTOCOL_T0 | SCARD.SCARD_PROTOCOL_T1)) === 0) {
      throw new Error('mock pcsclite: a card offers T=0, T=1 or both');
    }
    // A card just inserted is powered up from cold.
    card.reset();
    r.insertion = { card, atr: Buffer.from(card.atr), protocols, activeProtocol: 0 };
    r.eventCounter = (r.eventCounter + 1) & 0xffff;
    if (this.running) this.emit('card', readerName);
  }

  /** Pulls the card out (no-op on an empty reader). */
  removeCard(readerName: string): void {
    const r = this.reader(readerName);
    const ins = r.insertion;
    if (!ins) return;
    ins.card.reset(); // no power, no volatile state
    for (const h of r.handles) {
      if (h.insertion === ins) h.event = 'removed';
    }
    r.insertion = null;
    r.removeAfterApdus = null;
    r.eventCounter = (r.eventCounter + 1) & 0xffff;
    if (this.running) this.emit('card', readerName);
  }

  /** pcscd goes away: every client gets errors, every handle dies, cards lose power. */
  stopDaemon(): void {
    if (!this.running) return;
    this.running = false;
    for (const r of this.readerMap.values()) {
      r.insertion?.card.reset();
      if (r.insertion) r.insertion.activeProtocol = 0;
      r.handles.clear();
      r.exclusive = null;
    }
    this.emit('daemon-stop', this.gen);
  }

  /** pcscd is back: new clients work; clients created before the stop stay dead, as with pcscd. */
  startDaemon(): void {
    if (this.running) return;
    this.running = true;
    this.gen++;
    for (const r of this.readerMap.values()) r.eventCounter = r.insertion ? 1 : 0;
  }

  failNextTransmit(readerName: string, code: number = SCARD_E.NOT_TRANSACTED): void {
    this.reader(readerName).failures.push(code);
  }

  /** The next `n` APDUs reach the card, then it is pulled out (0 = now). */
  removeCardAfterApdus(readerName: string, n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new Error('mock pcsclite: removeCardAfterApdus needs an integer n >= 0');
    const r = this.reader(readerName);
    if (n === 0) {
      this.removeCard(readerName);
      return;
    }
    r.removeAfterApdus = n;
  }

  setPinpadEntry(readerName: string, entry: PinpadEntry): void {
    const r = this.reader(readerName);
    if (!r.pinpad) throw new Error(`mock pcsclite: reader ${JSON.stringify(readerName)} has no pinpad`);
    if (entry !== 'cancel' && entry !== 'timeout' && !/^[0-9]*$/.test(entry)) {
      throw new Error("mock pcsclite: a pinpad entry is digits, 'cancel' or 'timeout'");
    }
    r.pinpadEntry = entry;
  }

  apduLog(readerName: string): ApduLogEntry[] {
    return [...this.reader(readerName).log];
  }

  clearApduLog(readerName: string): void {
    this.reader(readerName).log = [];
  }

  status(readerName: string): ReaderStatus | null {
    const r = this.readerMap.get(readerName);
    if (!r) return null;
    const presence = r.insertion ? SCARD.SCARD_STATE_PRESENT : SCARD.SCARD_STATE_EMPTY;
    return {
      state: ((r.eventCounter << 16) | SCARD.SCARD_STATE_CHANGED | presence) >>> 0,
      atr: r.insertion ? Buffer.from(r.insertion.atr) : Buffer.alloc(0),
    };
  }

  // ---- the PC/SC side, called by the client objects --------------------------------------------

  private alive(generation: number): boolean {
    return this.running && generation === this.gen;
  }

  connect(generation: number, readerName: string, shareMode: number, preferred: number): Result<{ handle: Handle; protocol: number }> {
    const { SCARD_SHARE_SHARED: SHARED, SCARD_SHARE_EXCLUSIVE: EXCLUSIVE, SCARD_SHARE_DIRECT: DIRECT } = SCARD;
    const { SCARD_PROTOCOL_T0: T0, SCARD_PROTOCOL_T1: T1, SCARD_PROTOCOL_RAW: RAW } = SCARD;
    if (!this.alive(generation)) return fail(SCARD_E.NO_SERVICE);
    if (shareMode !== SHARED && shareMode !== EXCLUSIVE && shareMode !== DIRECT) return fail(SCARD_E.INVALID_VALUE);
    if (shareMode !== DIRECT && (preferred & (T0 | T1 | RAW)) === 0) return fail(SCARD_E.PROTO_MISMATCH);
    const r = this.readerMap.get(readerName);
    if (!r) return fail(SCARD_E.UNKNOWN_READER);
    if (r.exclusive) return fail(SCARD_E.SHARING_VIOLATION);
    const ins = r.insertion;
    if (shareMode !== DIRECT && !ins) return fail(SCARD_E.NO_SMARTCARD);

    let protocol = ins?.activeProtocol ?? 0;
    if (shareMode !== DIRECT && ins) {
      if (preferred & RAW) {
        protocol = RAW;
      } else if (ins.activeProtocol === 0) {
        const common = ins.protocols & preferred;
        if (common === 0) return fail(SCARD_E.PROTO_MISMATCH);
        ins.activeProtocol = common & T1 ? T1 : T0; // pcscd keeps T=1 when both are possible
        protocol = ins.activeProtocol;
      } else if ((preferred & ins.activeProtocol) === 0) {
        return fail(SCARD_E.PROTO_MISMATCH);
      }
    }
    if (shareMode === EXCLUSIVE && r.handles.size > 0) return fail(SCARD_E.SHARING_VIOLATION);

    const handle: Handle = { id: this.nextHandleId++, reader: r, insertion: ins, shareMode, generation, event: 'none' };
    r.handles.add(handle);
    if (shareMode === EXCLUSIVE) r.exclusive = handle;
    return ok({ handle, protocol });
  }

  disconnect(handle: Handle, disposition: number): Result<void> {
    if (!this.alive(handle.generation)) return fail(SCARD_E.NO_SERVICE);
    if (disposition < 0 || disposition > 3 || !Number.isInteger(disposition)) return fail(SCARD_E.INVALID_VALUE);
    const r = handle.reader;
    r.handles.delete(handle);
    if (r.exclusive === handle) r.exclusive = null;
    const ins = r.insertion;
    const sameCard = !r.removed && ins !== null && ins === handle.insertion;
    // EJECT has no mechanism on these readers and leaves the card, as pcscd does for them.
    if (sameCard && (disposition === SCARD.SCARD_RESET_CARD || disposition === SCARD.SCARD_UNPOWER_CARD)) {
      this.resetCard(r, ins);
    }
    return ok(undefined);
  }

  private resetCard(r: ReaderState, ins: Insertion): void {
    ins.card.reset();
    ins.activeProtocol = 0;
    for (const other of r.handles) {
      if (other.insertion === ins && other.event === 'none') other.event = 'reset';
    }
  }

  /** Common checks of SCardTransmit / SCardControl on a live handle; a code, or 0 to go on. */
  private handleError(handle: Handle): number {
    if (!this.alive(handle.generation)) return SCARD_E.NO_SERVICE;
    const r = handle.reader;
    if (r.removed) return SCARD_E.READER_UNAVAILABLE;
    if (r.exclusive && r.exclusive !== handle) return SCARD_E.SHARING_VIOLATION;
    if (handle.event === 'removed') return SCARD_E.REMOVED_CARD;
    if (handle.event === 'reset') return SCARD_E.RESET_CARD;
    return 0;
  }

  transmit(handle: Handle, command: Buffer, resLen: number, protocol: number): Result<Buffer> {
    const bad = this.handleError(handle);
    if (bad) return fail(bad);
    if (command.length < 4) return fail(SCARD_E.INVALID_PARAMETER);
    if (resLen < 2) return fail(SCARD_E.INSUFFICIENT_BUFFER);
    const r = handle.reader;
    const ins = r.insertion;
    if (!ins || ins !== handle.insertion) return fail(SCARD_E.NO_SMARTCARD);
    if (protocol !== SCARD.SCARD_PROTOCOL_RAW && protocol !== ins.activeProtocol) return fail(SCARD_E.PROTO_MISMATCH);
    const injected = r.failures.shift();
    if (injected !== undefined) return fail(injected);
    const response = this.toCard(r, ins, command);
    if (!response) return fail(SCARD_E.NOT_TRANSACTED);
    // The card has answered; only then does pcscd find the caller's buffer too small.
    if (response.length > resLen) return fail(SCARD_E.INSUFFICIENT_BUFFER);
    return ok(response);
  }

  /** One APDU to the card: logged, counted for `removeCardAfterApdus`. null when the card failed. */
  private toCard(r: ReaderState, ins: Insertion, command: Uint8Array): Buffer | null {
    let response: Buffer | null;
    try {
      response = Buffer.from(ins.card.transmit(Uint8Array.from(command)));
    } catch {
      response = null; // VirtualCard.transmit never throws by contract; a broken card is a mute card
    }
    if (response) {
      r.log.push({ t: new Date().toISOString(), command: hex(command), response: hex(response) });
      if (r.log.length > APDU_LOG_LIMIT) r.log.splice(0, r.log.length - APDU_LOG_LIMIT);
    }
    if (r.removeAfterApdus !== null) {
      r.removeAfterApdus--;
      if (r.removeAfterApdus <= 0) this.removeCard(r.name);
    }
    return response;
  }

  control(handle: Handle, controlCode: number, input: Buffer, resLen: number): Result<Buffer> {
    const bad = this.handleError(handle);
    if (bad) return fail(bad);
    const r = handle.reader;
    let out: Buffer;
    if (controlCode === CM_IOCTL_GET_FEATURE_REQUEST) {
      out = featureList(r.pinpad);
    } else if (r.pinpad && controlCode === FEATURE_VERIFY_PIN_DIRECT_CODE) {
      const ins = r.insertion;
      if (!ins || (handle.insertion !== null && handle.insertion !== ins)) return fail(SCARD_E.NO_SMARTCARD);
      const entry = r.pinpadEntry ?? 'timeout';
      r.pinpadEntry = null;
      const result = runVerifyPinDirect(input, entry, (apdu) => this.toCard(r, ins, apdu));
      if (!result.ok) return result;
      out = result.value;
    } else {
      return fail(SCARD_E.UNSUPPORTED_FEATURE);
    }
    if (out.length > resLen) return fail(SCARD_E.INSUFFICIENT_BUFFER);
    return ok(out);
  }
}
