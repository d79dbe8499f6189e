// The simulator's slots: slot n is vpcd port base + n, holding at most one card. One card object
// per persona for the whole process, like a physical card taken from reader to reader: its PIN
// tries and changed PIN follow it; `fresh` swaps in the persona's card as issued. With a state
// directory, each persona's persistent state is saved to <stateDir>/cards/<persona>.json.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { VirtualCard } from './virtual-card.js';
import { ApduLog, type ApduLogEntry } from './vpcd/apdu-log.js';
import { VPCD_DEFAULT_PORT } from './vpcd/protocol.js';
import { VpcdLink } from './vpcd/vpcd-link.js';

/** Where cards come from: the personas (createPersonaCard), or test cards. */
export interface CardSource {
  /** Card ids this source can make ("cps:medecin", ...). */
  readonly ids: readonly string[];
  /**
   * A card as issued (no savedState) or resumed from state it reported earlier through
   * onStateChange. onStateChange receives JSON-able values.
   */
  create(id: string, options: { savedState?: unknown; onStateChange?: (state: unknown) => void }): Promise<VirtualCard>;
}

/** What a slot needs from its transport (VpcdLink in production, fakes in tests). */
export interface SlotLink {
  readonly apduLog: ApduLog;
  insert(card: VirtualCard): void;
  remove(): void;
  close(): Promise<void>;
}

export interface SlotRegistryOptions {
  /** Number of slots: 0 .. slots-1. */
  readonly slots: number;
  readonly cardSource: CardSource;
  readonly vpcdHost?: string;
  /** Port of slot 0; slot n uses vpcdPort + n. */
  readonly vpcdPort?: number;
  /** Persist card states under <stateDir>/cards. */
  readonly stateDir?: string;
  /** Transport per slot; default: a VpcdLink to vpcdHost:vpcdPort+slot. */
  readonly createLink?: (slot: number, port: number) => SlotLink;
}

export type SlotErrorCode = 'unknown-slot' | 'unknown-card' | 'slot-occupied' | 'card-in-use';

export class SlotError extends Error {
  constructor(
    readonly code: SlotErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SlotError';
  }
}

export interface SlotInfo {
  readonly slot: number;
  /** Persona (card id) in the slot, null when empty. */
  readonly card: string | null;
}

interface Slot {
  readonly index: number;
  readonly port: number;
  readonly link: SlotLink;
  /** Set as soon as an insertion starts (card creation is asynchronous). */
  cardId: string | null;
}

export class SlotRegistry {
  private readonly slots: Slot[];
  private readonly source: CardSource;
  private readonly stateDir: string | undefined;
  /** The one card object of each persona used so far in this process. */
  private readonly cards = new Map<string, VirtualCard>();
  private closed = false;

  constructor(options: SlotRegistryOptions) {
    if (!Number.isInteger(options.slots) || options.slots < 1) throw new RangeError('at least one slot');
    const basePort = options.vpcdPort ?? VPCD_DEFAULT_PORT;
    if (!Number.isInteger(basePort) || basePort < 1 || basePort + options.slots - 1 > 65535) {
      throw new RangeError(`vpcd ports ${basePort}..${basePort + options.slots - 1} out of range`);
    }
    const createLink =
      options.createLink ?? ((_slot: number, port: number) => new VpcdLink({ port, host: options.vpcdHost ?? '127.0.0.1' }));
    this.source = options.cardSource;
    this.stateDir = options.stateDir;
    this.slots = Array.from({ length: options.slots }, (_, index) => {
      const port = basePort + index;
      return { index, port, link: createLink(index, port), cardId: null };
    });
  }

  get size(): number {
    return this.slots.length;
  }

  /** vpcd port of a slot. */
  port(slot: number): number {
    return this.slot(slot).port;
  }

  link(slot: number): SlotLink {
    return this.slot(slot).link;
  }

  isKnownCard(id: string): boolean {
    return this.source.ids.includes(id);
  }

  list(): SlotInfo[] {
    return this.slots.map((s) => ({ slot: s.index, card: s.cardId }));
  }

  private slot(n: number): Slot {
    const s = Number.isInteger(n) ? this.slots[n] : undefined;
    if (!s) throw new SlotError('unknown-slot', `no slot ${n} (slots 0..${this.slots.length - 1})`);
    return s;
  }

  /**
   * Inserts the persona's card into the slot.
   * @throws SlotError unknown-slot / unknown-card / slot-occupied / card-in-use (in another slot)
   */
  async insert(slotIndex: number, cardId: string, options: { fresh?: boolean } = {}): Promise<void> {
    if (this.closed) throw new Error('slot registry closed');
    const slot = this.slot(slotIndex);
    if (!this.isKnownCard(cardId)) throw new SlotError('unknown-card', `unknown card ${JSON.stringify(cardId)}`);
    if (slot.cardId !== null) throw new SlotError('slot-occupied', `slot ${slot.index} already holds ${slot.cardId}`);
    const elsewhere = this.slots.find((s) => s.cardId === cardId);
    if (elsewhere) throw new SlotError('card-in-use', `${cardId} is in slot ${elsewhere.index}`);
    slot.cardId = cardId; // reserve before awaiting: a concurrent insert gets slot-occupied
    try {
      const card = await this.cardFor(cardId, options.fresh ?? false);
      if (slot.cardId !== cardId || this.closed) return; // removed while the card was being made
      slot.link.insert(card);
    } catch (e) {
      if (slot.cardId === cardId) slot.cardId = null;
      throw e;
    }
  }

  /** Takes the card out of the slot (nothing happens on an empty slot). */
  remove(slotIndex: number): void {
    const slot = this.slot(slotIndex);
    if (slot.cardId === null) return;
    slot.cardId = null;
    slot.link.remove();
  }

  apduLog(slotIndex: number): ApduLogEntry[] {
    return this.slot(slotIndex).link.apduLog.entries();
  }

  clearApduLog(slotIndex: number): void {
    this.slot(slotIndex).link.apduLog.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.slots) s.cardId = null;
    await Promise.all(this.slots.map((s) => s.link.close()));
  }

  private statePath(cardId: string): string | null {
    return this.stateDir ? path.join(this.stateDir, 'cards', `${cardId}.json`) : null;
  }

  private async cardFor(cardId: string, fresh: boolean): Promise<VirtualCard> {
    const known = this.cards.get(cardId);
    if (known && !fresh) return known;
    const file = this.statePath(cardId);
    let savedState: unknown;
    if (file && fresh) {
      rmSync(file, { force: true });
    } else if (file) {
      savedState = readState(file);
    }
    const onStateChange = file ? (state: unknown) => writeState(file, state) : undefined;
    const card = await this.source.create(cardId, {
      ...(savedState !== undefined ? { savedState } : {}),
      ...(onStateChange ? { onStateChange } : {}),
    });
    this.cards.set(cardId, card);
    return card;
  }
}

function readState(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`card state ${file} is not valid JSON; delete it or insert the card with "fresh": true`);
  }
}

/** Write-then-rename: a crash never leaves half a state file. Owner-only: states hold PIN values. */
function writeState(file: string, state: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
