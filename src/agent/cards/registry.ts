// The readers and the cards in them, over the transport's ReaderMonitor: which card of the needed
// kind a call addresses (agent-protocol.md: `reader` optional, the only reader holding a card of
// that family, CARD_AMBIGUOUS when several), one CardSlot per insertion, one operation queue per
// reader, and the monitor's events in the protocol's shape.
import { cardFamilyFromAtr, type CardFamily } from '../../cards/atr.js';
import type { ReaderMonitor, ReaderInfo } from '../../transport/reader-monitor.js';
import { AgentError } from '../errors.js';
import { CardSlot } from './card-slot.js';
import { OperationQueue } from './queue.js';

export type CardKind = 'cps' | 'vitale';

/** Families each kind of method may drive; the others of the kind are reported UNSUPPORTED_CARD. */
const KIND_FAMILIES: Record<CardKind, { readonly all: readonly CardFamily[]; readonly supported: readonly CardFamily[] }> = {
  cps: { all: ['CPS3', 'CPS4'], supported: ['CPS3', 'CPS4'] },
  vitale: { all: ['VITALE2', 'VITALE1'], supported: ['VITALE2'] },
};

export interface ReaderView {
  readonly name: string;
  readonly card: null | { readonly family: CardFamily; readonly atr: string };
}

/** `3B AC 00 40 …`: upper-case hex bytes separated by spaces, as `cardbridge cards list` shows them. */
export function atrHex(atr: Uint8Array): string {
  return Buffer.from(atr).toString('hex').toUpperCase().replace(/(..)(?=.)/g, '$1 ');
}

export function readerView(info: ReaderInfo): ReaderView {
  return { name: info.name, card: info.card ? { family: cardFamilyFromAtr(info.card.atr), atr: atrHex(info.card.atr) } : null };
}

export interface RegistryOptions {
  readonly queueDepth: number;
  readonly idleTimeoutMs: number;
  /** The verified state of `connectionId` on this card went idle. */
  readonly onIdle: (slot: CardSlot, connectionId: string) => void;
  /** The card of this slot left (removal, replacement, pcscd gone). */
  readonly onSlotGone: (slot: CardSlot) => void;
}

export class ReaderRegistry {
  private readonly slots = new Map<string, CardSlot>();
  private readonly queues = new Map<string, OperationQueue>();

  constructor(
    private readonly monitor: ReaderMonitor,
    private readonly options: RegistryOptions,
  ) {
    monitor.on('card.removed', ({ reader }) => this.drop(reader));
    monitor.on('card.inserted', ({ reader, insertion }) => {
      const slot = this.slots.get(reader);
      if (slot && slot.insertion !== insertion) this.drop(reader);
    });
  }

  get status(): 'ok' | 'unavailable' {
    return this.monitor.status;
  }

  list(): ReaderView[] {
    return this.monitor.readers().map(readerView);
  }

  /**
   * The card a `kind` method addresses.
   * @throws AgentError PCSC_UNAVAILABLE, READER_NOT_FOUND, CARD_ABSENT, CARD_AMBIGUOUS, UNSUPPORTED_CARD.
   */
  resolve(kind: CardKind, reader: string | undefined): CardSlot {
    if (this.monitor.status !== 'ok') throw new AgentError('PCSC_UNAVAILABLE');
    const readers = this.monitor.readers();
    const families = KIND_FAMILIES[kind];
    let chosen: ReaderInfo;
    if (reader !== undefined) {
      const named = readers.find((r) => r.name === reader);
      if (!named) throw new AgentError('READER_NOT_FOUND', { reader });
      if (!named.card) throw new AgentError('CARD_ABSENT', { reader });
      chosen = named;
    } else {
      const candidates = readers.filter((r) => r.card && families.all.includes(cardFamilyFromAtr(r.card.atr)));
      if (candidates.length === 0) throw new AgentError('CARD_ABSENT');
      if (candidates.length > 1) throw new AgentError('CARD_AMBIGUOUS', { readers: candidates.map((r) => r.name) });
      chosen = candidates[0]!;
    }
    const card = chosen.card!;
    const family = cardFamilyFromAtr(card.atr);
    if (!families.supported.includes(family)) throw new AgentError('UNSUPPORTED_CARD', { reader: chosen.name, family });
    return this.slotFor(chosen.name, card.atr, card.insertion);
  }

  /** The slot of the card now in `reader`, if the agent has one. */
  current(reader: string): CardSlot | undefined {
    return this.slots.get(reader);
  }

  allSlots(): CardSlot[] {
    return [...this.slots.values()];
  }

  queue(reader: string): OperationQueue {
    let queue = this.queues.get(reader);
    if (!queue) {
      queue = new OperationQueue(this.options.queueDepth);
      this.queues.set(reader, queue);
    }
    return queue;
  }

  allQueues(): OperationQueue[] {
    return [...this.queues.values()];
  }

  private slotFor(reader: string, atr: Uint8Array, insertion: number): CardSlot {
    const existing = this.slots.get(reader);
    if (existing && existing.insertion === insertion) return existing;
    if (existing) this.drop(reader);
    const slot = new CardSlot(this.monitor, reader, atr, insertion, {
      idleTimeoutMs: this.options.idleTimeoutMs,
      onIdle: this.options.onIdle,
    });
    this.slots.set(reader, slot);
    return slot;
  }

  private drop(reader: string): void {
    const slot = this.slots.get(reader);
    if (!slot) return;
    this.slots.delete(reader);
    slot.markRemoved();
    this.options.onSlotGone(slot);
  }
}
