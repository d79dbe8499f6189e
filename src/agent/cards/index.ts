// The card side of the agent: `createCardService()` gives the object the connection layer calls
// (CardService of ../caller.ts) for `readers.list`, `cps.*` and `vitale.read`, the PIN page, and
// the reader/card events. Contract: shared/spec/agent-protocol.md; guide: docs/agent-cards.md.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ReaderMonitor } from '../../transport/reader-monitor.js';
import { TransportError } from '../../transport/errors.js';
import type { PcscProvider } from '../../transport/pcsc-types.js';
import type { CallerContext, CardService } from '../caller.js';
import { AgentError } from '../errors.js';
import { handlePinHttp } from '../pin/http.js';
import { PromptRegistry } from '../pin/prompts.js';
import { isTransportCode, toAgentError } from './agent-errors.js';
import type { CardSlot } from './card-slot.js';
import type { CardAuditEntry, ResolvedOptions, RunOptions, ServiceContext } from './context.js';
import { HANDLERS } from './methods.js';
import { isCardMethod, parseParams, type CardMethod } from './params.js';
import { atrHex, ReaderRegistry, readerView } from './registry.js';
import { cardFamilyFromAtr } from '../../cards/atr.js';

export type { CardAuditEntry } from './context.js';
export type { ReaderView } from './registry.js';

export interface CardServiceOptions {
  /** The `pcsclite` factory: the real module (loadPcsclite(), the default) or the native mock's. */
  readonly pcsc?: PcscProvider | undefined;
  /** Use vsmartcard-vpcd's readers (`--allow-virtual-readers`; CARDBRIDGE_ALLOW_VIRTUAL_READERS=1 also allows them). */
  readonly allowVirtualReaders: boolean;
  /**
   * The agent's own base URL (`http://127.0.0.1:24820`): PIN page URLs and the only origin its form
   * accepts. A function when the port is known only once the server listens.
   */
  readonly agentBaseUrl?: string | (() => string);
  /** Same as agentBaseUrl as a function (the name src/agent/daemon.ts's wiring uses). */
  readonly httpOrigin?: () => string;
  /** Put in authentication tokens (`appVersion`). */
  readonly appVersion?: string;
  /** Same as appVersion (the name src/agent/daemon.ts's wiring uses). */
  readonly version?: string;
  /** Where to say that pcsclite could not be loaded (pino-like); optional. */
  readonly logger?: { warn(obj: object, msg?: string): void };
  /** `--pin-per-signature`: the PIN before every cps.sign. */
  readonly pinPerSignature?: boolean;
  /** Verified state ends after this long unused; default 15 min. */
  readonly pinIdleTimeoutMs?: number;
  /** A PIN page left unanswered this long fails with TIMEOUT; default 120 s. */
  readonly pinPromptTimeoutMs?: number;
  /** Operations per reader, running one included, before BUSY; default 64. */
  readonly queueDepth?: number;
  /** Audit lines (PIN entries, private-key operations): never a PIN value. */
  readonly audit?: (entry: CardAuditEntry) => void;
  /** Environment read for CARDBRIDGE_ALLOW_VIRTUAL_READERS; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/** PIN-bearing fields a browser page may never send (agent-protocol.md "Who may call what"). */
const VALUE_FIELDS = ['pin', 'newPin', 'puk'] as const;

/** The agent's origin (`http://127.0.0.1:24820`, no path) from a base URL. */
function originOf(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`agentBaseUrl is not a URL: ${JSON.stringify(baseUrl)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('agentBaseUrl must be http(s)');
  return url.origin;
}

function agentOriginSource(options: CardServiceOptions): () => string {
  const base = options.agentBaseUrl ?? options.httpOrigin;
  if (typeof base === 'string') {
    const origin = originOf(base);
    return () => origin;
  }
  if (typeof base === 'function') return () => originOf(base());
  throw new TypeError('createCardService needs agentBaseUrl (or httpOrigin)');
}

class AgentCardService implements CardService, ServiceContext {
  readonly registry: ReaderRegistry;
  readonly prompts: PromptRegistry;
  readonly options: ResolvedOptions;
  private readonly monitor: ReaderMonitor;
  private readonly listeners = new Set<(event: string, params: unknown) => void>();
  private readonly watched = new Map<string, AbortSignal>();
  private readonly auditSink: ((entry: CardAuditEntry) => void) | undefined;
  private readonly ready: Promise<void>;
  private startError: unknown = null;
  private closed = false;

  constructor(options: CardServiceOptions) {
    const agentOrigin = agentOriginSource(options);
    this.options = {
      agentOrigin,
      appVersion: options.appVersion ?? options.version ?? 'unknown',
      pinPerSignature: options.pinPerSignature ?? false,
      pinIdleTimeoutMs: options.pinIdleTimeoutMs ?? 15 * 60_000,
      pinPromptTimeoutMs: options.pinPromptTimeoutMs ?? 120_000,
      queueDepth: options.queueDepth ?? 64,
    };
    this.auditSink = options.audit;
    this.prompts = new PromptRegistry(agentOrigin);
    this.monitor = new ReaderMonitor({
      allowVirtualReaders: options.allowVirtualReaders,
      ...(options.pcsc ? { pcsc: options.pcsc } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
    this.registry = new ReaderRegistry(this.monitor, {
      queueDepth: this.options.queueDepth,
      idleTimeoutMs: this.options.pinIdleTimeoutMs,
      onIdle: (slot, connectionId) => this.endStateOf(slot, connectionId),
      onSlotGone: (slot) => this.prompts.withdrawCard(slot),
    });
    this.monitor.on('readers.changed', ({ readers }) => this.emit('readers.changed', { readers: readers.map(readerView) }));
    this.monitor.on('card.inserted', ({ reader, atr }) => this.emit('card.inserted', { reader, family: cardFamilyFromAtr(atr), atr: atrHex(atr) }));
    this.monitor.on('card.removed', ({ reader }) => this.emit('card.removed', { reader }));
    this.monitor.on('pcsc.status', ({ status }) => this.emit('pcsc.status', { status }));
    this.ready = this.monitor.start().catch((error: unknown) => {
      // pcsclite missing or not built: every card call answers PCSC_UNAVAILABLE.
      this.startError = error;
      options.logger?.warn({ err: error instanceof Error ? error.message : String(error) }, 'pcsclite unavailable: card methods answer PCSC_UNAVAILABLE');
    });
  }

  /** Resolves once the readers present at start are known (tests, agent start-up). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  // ---- CardService -----------------------------------------------------------------------------

  async call(method: string, params: unknown, caller: CallerContext): Promise<unknown> {
    if (!isCardMethod(method)) throw new AgentError('METHOD_NOT_FOUND');
    if (caller.kind !== 'desktop' && caller.kind !== 'origin') throw new AgentError('UNAUTHORIZED');
    if (caller.signal.aborted) throw new AgentError('USER_CANCELLED', { reason: 'connection-closed' });
    this.watch(caller);
    const parsed = parseParams(method, params);
    if (caller.kind === 'origin') {
      const p = parsed as Record<string, unknown>;
      if (VALUE_FIELDS.some((f) => p[f] !== undefined) || p.method === 'value') throw new AgentError('PIN_VALUE_NOT_ALLOWED');
    }
    await this.ready;
    if (this.closed) throw new AgentError('PCSC_UNAVAILABLE', { reason: 'closed' });
    if (this.startError) throw new AgentError('PCSC_UNAVAILABLE');
    try {
      const handler = HANDLERS[method] as (ctx: ServiceContext, params: unknown, caller: CallerContext) => Promise<unknown>;
      return await handler(this, parsed, caller);
    } catch (error) {
      throw toAgentError(error);
    }
  }

  onEvent(listener: (event: string, params: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  handleHttp(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean> {
    return handlePinHttp(this.prompts, this.options.agentOrigin(), request, response, url);
  }

  connectionClosed(connectionId: string): void {
    this.watched.delete(connectionId);
    for (const queue of this.registry.allQueues()) queue.dropConnection(connectionId);
    this.prompts.withdrawConnection(connectionId);
    for (const slot of this.registry.allSlots()) if (slot.pin.isHeldBy(connectionId)) this.endStateOf(slot, connectionId);
  }

  pcscStatus(): 'ok' | 'unavailable' {
    return this.startError || this.closed ? 'unavailable' : this.monitor.status;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.prompts.closeAll();
    await this.ready;
    // Nothing stays verified behind the agent: reset the cards it verified.
    const verified = this.registry.allSlots().filter((s) => s.pin.owner !== null && !s.removed);
    await Promise.all(
      verified.map((slot) =>
        this.registry
          .queue(slot.reader)
          .enqueue({ connectionId: null, run: () => this.resetCard(slot) })
          .catch(() => undefined),
      ),
    );
    for (const queue of this.registry.allQueues()) queue.close();
    for (const slot of this.registry.allSlots()) slot.pin.clear();
    this.listeners.clear();
    await this.monitor.close();
  }

  // ---- ServiceContext --------------------------------------------------------------------------

  run<T>(slot: CardSlot, caller: CallerContext, body: () => Promise<T>, options: RunOptions = {}): Promise<T> {
    return this.registry.queue(slot.reader).enqueue({
      connectionId: caller.connectionId,
      signal: caller.signal,
      run: async () => {
        if (slot.removed) throw new AgentError('CARD_REMOVED');
        try {
          return await body();
        } catch (error) {
          // Another application reset the card between two of our APDUs: a read is sent once
          // more; anything else (a signature, a decryption) is never repeated blindly.
          if (!options.idempotent || !isTransportCode(error, 'CARD_RESET') || slot.removed) throw error;
          return body();
        }
      },
    });
  }

  async resetCard(slot: CardSlot): Promise<void> {
    slot.pin.clear();
    try {
      await slot.channel.resetCard();
    } catch (error) {
      // A card or pcscd already gone took its state with it.
      if (!(error instanceof TransportError)) throw error;
    }
  }

  async audit(slot: CardSlot, caller: CallerContext, operation: string, outcome: unknown, method?: CardAuditEntry['method']): Promise<void> {
    const sink = this.auditSink;
    if (!sink) return;
    if (slot.serial === undefined && !slot.removed) {
      try {
        slot.serial = await (await slot.cps()).getSerial();
      } catch {
        // card gone or unreadable: the line goes without the serial
      }
    }
    const entry: CardAuditEntry = {
      time: new Date().toISOString(),
      operation,
      ...(method ? { method } : {}),
      origin: caller.origin,
      reader: slot.reader,
      cardSerial: slot.serial ?? null,
      outcome: outcome === 'ok' ? 'ok' : toAgentError(outcome).code,
    };
    try {
      sink(entry);
    } catch {
      // an audit sink's failure must not change the card operation's result
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  private emit(event: string, params: unknown): void {
    for (const listener of this.listeners) {
      try {
        listener(event, params);
      } catch {
        // one subscriber's failure is not the others' problem
      }
    }
  }

  /** Learns of the connection's close through its signal too (the layer may call either). */
  private watch(caller: CallerContext): void {
    if (this.watched.has(caller.connectionId)) return;
    this.watched.set(caller.connectionId, caller.signal);
    caller.signal.addEventListener('abort', () => this.connectionClosed(caller.connectionId), { once: true });
  }

  /** The agent's own operation: end `connectionId`'s verified state on this card, if it still holds it. */
  private endStateOf(slot: CardSlot, connectionId: string): void {
    void this.registry
      .queue(slot.reader)
      .enqueue({
        connectionId: null,
        run: async () => {
          if (!slot.pin.isHeldBy(connectionId) || slot.removed) return;
          await this.resetCard(slot);
        },
      })
      .catch(() => undefined);
  }
}

/** The card side of the agent over `options.pcsc` (starts watching the readers at once). */
export function createCardService(options: CardServiceOptions): CardService & { whenReady(): Promise<void> } {
  return new AgentCardService(options);
}

export type { CardMethod };
