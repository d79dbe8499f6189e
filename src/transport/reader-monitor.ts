// Watches pcscd through `pcsclite`: the readers, the cards in them, and pcscd itself. When pcscd
// goes away the monitor says so, drops its PC/SC context and keeps trying to open a new one with
// back-off; when pcscd is back, readers and cards are announced again (a pcscd restart powers the
// cards down, so they come back as new insertions). Readers of vsmartcard-vpcd are left out unless
// allowed (virtual-readers.ts). One PC/SC connection per reader, shared by the callers of connect().
import { EventEmitter } from 'node:events';
import { backoffDelay } from './backoff.js';
import { TransportError } from './errors.js';
import { loadPcsclite } from './load-pcsclite.js';
import { disconnectWith } from './pcsc-calls.js';
import { PcscCardChannel } from './pcsc-card-channel.js';
import { isServiceLoss, pcscCodeOf, toTransportError } from './pcsc-errors.js';
import type { PcscLite, PcscProvider, PcscReader, PcscReaderStatus } from './pcsc-types.js';
import { cardPresence } from './reader-state.js';
import { isReaderAllowed, isVirtualReaderName, virtualReadersAllowed } from './virtual-readers.js';

export type PcscStatus = 'ok' | 'unavailable';

export interface ReaderCard {
  readonly atr: Uint8Array;
  /** This reader's insertion counter for the card (see ReaderMonitor.insertionCount). */
  readonly insertion: number;
}

export interface ReaderInfo {
  readonly name: string;
  readonly card: ReaderCard | null;
}

export interface ReadersChangedEvent {
  readonly readers: ReaderInfo[];
}
export interface CardInsertedEvent {
  readonly reader: string;
  readonly atr: Uint8Array;
  readonly insertion: number;
}
export interface CardRemovedEvent {
  readonly reader: string;
}
export interface PcscStatusEvent {
  readonly status: PcscStatus;
  /** Why pcscd is unavailable (PCSC_UNAVAILABLE), when status is 'unavailable'. */
  readonly error?: TransportError;
}

export interface ReaderMonitorEvents {
  /** The set of readers changed (a reader appeared or went, pcscd went or came back). */
  'readers.changed': [ReadersChangedEvent];
  'card.inserted': [CardInsertedEvent];
  'card.removed': [CardRemovedEvent];
  /** pcscd became reachable or unreachable (also emitted once at start). */
  'pcsc.status': [PcscStatusEvent];
}

export interface ReaderMonitorOptions {
  /** The `pcsclite` factory; default: the real module (loadPcsclite()). Tests pass the native mock's. */
  readonly pcsc?: PcscProvider;
  /** Show vsmartcard-vpcd readers (`Virtual PCD …`); also enabled by CARDBRIDGE_ALLOW_VIRTUAL_READERS=1. */
  readonly allowVirtualReaders?: boolean;
  /** Environment read for CARDBRIDGE_ALLOW_VIRTUAL_READERS; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** First delay before opening a new PC/SC context after a failure; doubles up to maxRetryMs. Default 100. */
  readonly minRetryMs?: number;
  /** Default 1000 (pcscd back -> readers back within about a second). */
  readonly maxRetryMs?: number;
  /** start() waits until readers have been quiet this long (ms); default 100. */
  readonly settleMs?: number;
}

interface ReaderEntry {
  readonly reader: PcscReader;
  /** First status seen: the reader is listed from then on. */
  announced: boolean;
  eventCounter: number;
  card: ReaderCard | null;
  channel: PcscCardChannel | null;
  connecting: Promise<PcscCardChannel> | null;
}

/** One PC/SC context (one `pcsclite()` instance) and what it reported. */
interface Context {
  readonly pcsc: PcscLite;
  readonly entries: Map<string, ReaderEntry>;
  /** Readers left out (virtual ones), kept to be closed with the context. */
  readonly ignored: Set<PcscReader>;
  alive: boolean;
}

const MAX_SETTLE_MS = 2000;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class ReaderMonitor extends EventEmitter<ReaderMonitorEvents> {
  readonly allowVirtualReaders: boolean;

  private readonly provider: PcscProvider | undefined;
  private readonly minRetryMs: number;
  private readonly maxRetryMs: number;
  private readonly settleMs: number;
  private pcsclite: PcscProvider | null = null;
  private context: Context | null = null;
  private currentStatus: PcscStatus = 'unavailable';
  private statusReported = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private starting: Promise<void> | null = null;
  private closed = false;
  private lastActivity = 0;
  private readonly insertions = new Map<string, number>();

  constructor(options: ReaderMonitorOptions = {}) {
    super();
    this.provider = options.pcsc;
    this.allowVirtualReaders = virtualReadersAllowed(options.allowVirtualReaders, options.env ?? process.env);
    this.minRetryMs = options.minRetryMs ?? 100;
    this.maxRetryMs = options.maxRetryMs ?? 1000;
    this.settleMs = options.settleMs ?? 100;
  }

  /**
   * Opens the PC/SC context and resolves once the readers present have reported their state.
   * pcscd not running is not an error: status is 'unavailable' and the monitor keeps retrying.
   * @throws TransportError PCSC_UNAVAILABLE when the `pcsclite` module cannot be loaded.
   */
  start(): Promise<void> {
    this.starting ??= (async () => {
      this.pcsclite = this.provider ?? (await loadPcsclite());
      if (this.closed) return;
      this.openContext();
      await this.settle();
    })();
    return this.starting;
  }

  get status(): PcscStatus {
    return this.currentStatus;
  }

  /** The readers now listed (allowed ones whose state is known), with their cards. */
  readers(): ReaderInfo[] {
    const context = this.context;
    if (!context) return [];
    return [...context.entries.entries()].filter(([, e]) => e.announced).map(([name, e]) => ({ name, card: e.card }));
  }

  /**
   * How many card insertions this monitor has seen in `readerName` (0 = none yet). Every insertion
   * gets a new number, also after a pcscd restart: a cache keyed by (reader, insertion) is safe.
   */
  insertionCount(readerName: string): number {
    return this.insertions.get(readerName) ?? 0;
  }

  /**
   * A channel to the card now in `readerName` (SHARED, LEAVE_CARD on disconnect). While it stays
   * open, later calls for the same card get the same channel; a new card gets a new one.
   * @throws TransportError PCSC_UNAVAILABLE, READER_NOT_FOUND (also for a virtual reader that is not
   *   allowed), CARD_ABSENT, SHARING_VIOLATION (another application holds the card exclusively).
   */
  async connect(readerName: string): Promise<PcscCardChannel> {
    if (this.closed) throw new TransportError('TRANSPORT_ERROR', 'the reader monitor is closed');
    if (!this.starting) throw new TransportError('TRANSPORT_ERROR', 'the reader monitor is not started (call start() first)');
    const context = this.context;
    if (!context) throw new TransportError('PCSC_UNAVAILABLE', 'the PC/SC service (pcscd) is not available');
    const entry = context.entries.get(readerName);
    if (!entry?.announced) {
      const hint = isVirtualReaderName(readerName) && !this.allowVirtualReaders ? ' (virtual readers are ignored unless allowed)' : '';
      throw new TransportError('READER_NOT_FOUND', `no reader named ${JSON.stringify(readerName)}${hint}`);
    }
    const card = entry.card;
    if (!card) throw new TransportError('CARD_ABSENT', `${readerName}: no card in the reader`);
    const existing = entry.channel;
    if (existing?.isOpen && existing.insertion === card.insertion) return existing;
    entry.connecting ??= this.openChannel(context, entry, readerName, card).finally(() => {
      entry.connecting = null;
    });
    return entry.connecting;
  }

  /** Stops everything: channels disconnected (LEAVE_CARD), PC/SC context released, no timer left. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const context = this.context;
    this.context = null;
    if (!context) return;
    context.alive = false;
    const channels = [...context.entries.values()].map((e) => e.channel).filter((c): c is PcscCardChannel => c !== null);
    await Promise.all(channels.map((c) => c.invalidate('TRANSPORT_ERROR', 'the reader monitor was closed')));
    await this.disposeContext(context);
  }

  // ---- PC/SC context life -----------------------------------------------------------------------

  private openContext(): void {
    this.retryTimer = null;
    const provider = this.pcsclite;
    if (this.closed || !provider) return;
    let pcsc: PcscLite;
    try {
      pcsc = provider();
    } catch (err) {
      this.failures++;
      this.setStatus('unavailable', serviceError(err));
      this.scheduleRetry();
      return;
    }
    const context: Context = { pcsc, entries: new Map(), ignored: new Set(), alive: true };
    this.context = context;
    this.failures = 0;
    this.lastActivity = Date.now();
    pcsc.on('error', (err) => this.lost(context, err));
    pcsc.on('reader', (reader) => this.onReader(context, reader));
    this.setStatus('ok');
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    const delay = backoffDelay(this.failures, this.minRetryMs, this.maxRetryMs);
    this.retryTimer = setTimeout(() => this.openContext(), delay);
  }

  /** pcscd went away: report it, forget readers and cards, drop the context, try again later. */
  private lost(context: Context, err: unknown): void {
    if (!context.alive) return;
    context.alive = false;
    if (this.context === context) this.context = null;
    this.setStatus('unavailable', serviceError(err));
    let listed = false;
    for (const [name, entry] of context.entries) {
      if (!entry.announced) continue;
      listed = true;
      if (entry.card) this.cardGone(name, entry, 'PCSC_UNAVAILABLE', 'the PC/SC service (pcscd) stopped');
    }
    if (listed) this.emit('readers.changed', { readers: [] });
    void this.disposeContext(context);
    this.scheduleRetry();
  }

  /** Releases the native objects of a context, never from inside one of their own callbacks. */
  private async disposeContext(context: Context): Promise<void> {
    await nextTurn();
    const readers = new Set<PcscReader>([...context.ignored, ...[...context.entries.values()].map((e) => e.reader), ...Object.values(context.pcsc.readers)]);
    for (const reader of readers) {
      try {
        reader.close();
      } catch {
        // already stopped
      }
    }
    try {
      context.pcsc.close();
    } catch {
      // already stopped
    }
  }

  private setStatus(status: PcscStatus, error?: TransportError): void {
    if (this.statusReported && status === this.currentStatus) return;
    this.statusReported = true;
    this.currentStatus = status;
    this.emit('pcsc.status', error ? { status, error } : { status });
  }

  // ---- readers and cards ------------------------------------------------------------------------

  private onReader(context: Context, reader: PcscReader): void {
    // An 'error' without a listener would throw out of pcsclite's native callback.
    reader.on('error', (err) => this.onReaderError(context, err));
    if (!context.alive) return;
    this.lastActivity = Date.now();
    if (!isReaderAllowed(reader.name, this.allowVirtualReaders)) {
      context.ignored.add(reader);
      return;
    }
    const entry: ReaderEntry = { reader, announced: false, eventCounter: -1, card: null, channel: null, connecting: null };
    context.entries.set(reader.name, entry);
    reader.on('status', (status) => this.onStatus(context, entry, status));
    reader.on('end', () => this.onReaderEnd(context, entry));
  }

  private onReaderError(context: Context, err: Error): void {
    // A reader's own failure ends its status thread ('end' follows); a lost pcscd ends everything.
    if (isServiceLoss(pcscCodeOf(err))) this.lost(context, err);
  }

  private onStatus(context: Context, entry: ReaderEntry, status: PcscReaderStatus): void {
    if (!context.alive || context.entries.get(entry.reader.name) !== entry) return;
    this.lastActivity = Date.now();
    const name = entry.reader.name;
    const { present, eventCounter } = cardPresence(status.state, entry.reader);
    const atr = status.atr ? new Uint8Array(status.atr) : new Uint8Array(0);
    if (!entry.announced) {
      entry.announced = true;
      entry.eventCounter = eventCounter;
      if (present) entry.card = this.newInsertion(name, atr);
      this.emit('readers.changed', { readers: this.readers() });
      if (entry.card) this.emit('card.inserted', { reader: name, atr: entry.card.atr, insertion: entry.card.insertion });
      return;
    }
    // Same presence but another counter: the card was pulled and put back between two notifications.
    const sameInsertion = eventCounter === entry.eventCounter;
    entry.eventCounter = eventCounter;
    if (entry.card && (!present || !sameInsertion)) this.cardGone(name, entry, 'CARD_REMOVED', 'the card was removed');
    if (present && !entry.card) {
      entry.card = this.newInsertion(name, atr);
      this.emit('card.inserted', { reader: name, atr: entry.card.atr, insertion: entry.card.insertion });
    }
  }

  private onReaderEnd(context: Context, entry: ReaderEntry): void {
    const name = entry.reader.name;
    if (!context.alive || context.entries.get(name) !== entry) return;
    this.lastActivity = Date.now();
    context.entries.delete(name);
    if (!entry.announced) return;
    if (entry.card) this.cardGone(name, entry, 'READER_NOT_FOUND', 'the reader was disconnected');
    this.emit('readers.changed', { readers: this.readers() });
  }

  private newInsertion(readerName: string, atr: Uint8Array): ReaderCard {
    const insertion = this.insertionCount(readerName) + 1;
    this.insertions.set(readerName, insertion);
    return { atr, insertion };
  }

  private cardGone(name: string, entry: ReaderEntry, code: 'CARD_REMOVED' | 'PCSC_UNAVAILABLE' | 'READER_NOT_FOUND', message: string): void {
    entry.card = null;
    const channel = entry.channel;
    entry.channel = null;
    if (channel) void channel.invalidate(code, message);
    this.emit('card.removed', { reader: name });
  }

  private async openChannel(context: Context, entry: ReaderEntry, name: string, card: ReaderCard): Promise<PcscCardChannel> {
    // A channel left from an earlier card of this reader holds the reader object's one connection.
    const previous = entry.channel;
    entry.channel = null;
    if (previous) await previous.invalidate('CARD_REMOVED', 'the card was replaced');
    if (entry.reader.connected) await releaseStaleConnection(entry.reader);
    const channel = await PcscCardChannel.connect(entry.reader, {
      atr: card.atr,
      insertion: card.insertion,
      onClose: (closed) => {
        if (entry.channel === closed) entry.channel = null;
      },
    });
    if (!context.alive || this.closed) {
      await channel.invalidate('PCSC_UNAVAILABLE', 'the PC/SC service (pcscd) stopped');
      throw new TransportError('PCSC_UNAVAILABLE', `${name}: the PC/SC service (pcscd) stopped`);
    }
    if (entry.card?.insertion !== card.insertion) {
      await channel.invalidate('CARD_REMOVED', 'the card was removed');
      throw new TransportError('CARD_REMOVED', `${name}: the card was removed`);
    }
    entry.channel = channel;
    return channel;
  }

  /** Resolves once every reader reported its state and nothing changed for settleMs (at most 2 s). */
  private async settle(): Promise<void> {
    const deadline = Date.now() + MAX_SETTLE_MS;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, this.settleMs));
      const context = this.context;
      if (this.closed || !context || Date.now() >= deadline) return;
      const pending = [...context.entries.values()].some((e) => !e.announced);
      if (!pending && Date.now() - this.lastActivity >= this.settleMs) return;
    }
  }
}

/** A connection left on the reader object by a channel that could not disconnect: drop it. */
async function releaseStaleConnection(reader: PcscReader): Promise<void> {
  try {
    await disconnectWith(reader, reader.SCARD_LEAVE_CARD);
  } catch {
    // PcscCardChannel.connect reports what is wrong with the reader
  }
}

function serviceError(err: unknown): TransportError {
  const e = toTransportError(err, 'pcscd', 'connect');
  if (e.code === 'PCSC_UNAVAILABLE') return e;
  return new TransportError('PCSC_UNAVAILABLE', `pcscd: the PC/SC service is not usable (${e.message})`, {
    cause: err,
    ...(e.pcscCode === undefined ? {} : { pcscCode: e.pcscCode }),
  });
}
