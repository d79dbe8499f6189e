// What the card methods share: the registry, the prompts, the options, the audit sink, and the two
// ways of reaching a card: an operation in the reader's queue for a caller, and the agent's own
// work (ending a verified state) which no connection can drop.
import type { CallerContext } from '../caller.js';
import type { PromptRegistry } from '../pin/prompts.js';
import type { CardSlot } from './card-slot.js';
import type { ReaderRegistry } from './registry.js';

/** One audit line: what was done with the card, for whom, and how it ended. Never a PIN value. */
export interface CardAuditEntry {
  readonly time: string;
  /** `cps.verifyPin`, `cps.sign`, … */
  readonly operation: string;
  /** How the PIN was entered, for PIN operations: `page`, `pinpad` or `value`. */
  readonly method?: 'page' | 'pinpad' | 'value';
  /** The caller's origin (Origin header, or app:<appId>). */
  readonly origin: string;
  readonly reader: string;
  /** null when the card left before its serial was known. */
  readonly cardSerial: string | null;
  /** `ok`, or the protocol error code. */
  readonly outcome: string;
}

export interface ResolvedOptions {
  /** The agent's own origin, the only one whose POSTs the PIN page accepts (may be known late). */
  readonly agentOrigin: () => string;
  readonly appVersion: string;
  readonly pinPerSignature: boolean;
  readonly pinIdleTimeoutMs: number;
  readonly pinPromptTimeoutMs: number;
  readonly queueDepth: number;
}

export interface RunOptions {
  /** A read that may be sent again once after another application reset the card. */
  readonly idempotent?: boolean;
}

export interface ServiceContext {
  readonly registry: ReaderRegistry;
  readonly prompts: PromptRegistry;
  readonly options: ResolvedOptions;
  /** Runs `body` as one operation in the reader's queue for `caller` (CARD_REMOVED if the card left meanwhile). */
  run<T>(slot: CardSlot, caller: CallerContext, body: () => Promise<T>, options?: RunOptions): Promise<T>;
  /** Ends the card's verified state by a reset; call only inside an operation. */
  resetCard(slot: CardSlot): Promise<void>;
  /** Records an audit line (inside an operation: may read the card serial the first time). */
  audit(slot: CardSlot, caller: CallerContext, operation: string, outcome: unknown, method?: CardAuditEntry['method']): Promise<void>;
}
