// One request, start to finish: framing (-32700 / -32600), method lookup (-32601), who may call
// it, PIN values from browsers, params (-32602), the per-connection limits, then the built-in
// method or the CardService. Every request that gets this far leaves one audit line; nothing
// from params reaches a log.
import type { Logger } from 'pino';
import type { CardService } from '../caller.js';
import { AgentError } from '../errors.js';
import type { AuditSink } from '../audit/audit-log.js';
import type { Secret } from '../security/local-secrets.js';
import type { PairingStore } from '../security/pairing-store.js';
import { BUILTINS } from './builtins.js';
import type { CallerState } from './caller-state.js';
import { errorFrame, framingError, parseFrame, resultFrame, type RpcRequest } from './jsonrpc.js';
import { authorize, carriesPinValue, methodSpec } from './methods.js';
import { errorCodeOf, toRpcErrorObject } from './rpc-errors.js';
import { PARAMS, summariseIssues, type MethodName } from './schemas.js';

/** Requests of one connection running at once (above the flood burst, so it only bounds slow card work); past it, BUSY. */
export const MAX_IN_FLIGHT = 256;

export interface DispatcherDeps {
  readonly cardService: CardService;
  readonly pairings: PairingStore;
  readonly token: Secret;
  readonly audit: AuditSink;
  readonly logger: Logger;
  readonly version: string;
}

export class RpcDispatcher {
  /** Card serials learnt per reader since the card went in (for audit lines of later calls). */
  private readonly serialByReader = new Map<string, string>();

  constructor(private readonly deps: DispatcherDeps) {}

  /** Answers one text frame: the response frame, or undefined for a client notification. */
  async handleText(state: CallerState, text: string): Promise<string | undefined> {
    const frame = parseFrame(text);
    if (frame.kind === 'invalid') {
      this.deps.logger.debug({ conn: state.id, reason: frame.reason }, 'message JSON-RPC refusé');
      return errorFrame(frame.id, framingError(frame.error, state.lang, { reason: frame.reason }));
    }
    if (frame.kind === 'notification') {
      this.deps.logger.debug({ conn: state.id }, 'notification du client ignorée');
      return undefined;
    }
    const { request } = frame;
    const started = performance.now();
    let reader: string | undefined;
    const known = methodSpec(request.method) ? (request.method as MethodName) : undefined;
    try {
      if (state.inFlight >= MAX_IN_FLIGHT) throw new AgentError('BUSY', { reason: 'TOO_MANY_PENDING_REQUESTS' });
      state.inFlight += 1;
      try {
        const run = this.prepare(state, request);
        reader = run.reader;
        const result = await run.execute();
        this.record(state, known, reader, started, undefined, result);
        return resultFrame(request.id, result);
      } finally {
        state.inFlight -= 1;
      }
    } catch (error) {
      if (errorCodeOf(error) === 'INTERNAL') this.deps.logger.error({ conn: state.id, method: known, err: describe(error) }, "erreur interne pendant l'appel");
      this.record(state, known, reader, started, error, undefined);
      return errorFrame(request.id, toRpcErrorObject(error, state.lang));
    }
  }

  /** Everything checked before running: throws the refusal, or returns what to run. */
  private prepare(state: CallerState, request: RpcRequest): { reader: string | undefined; execute: () => Promise<unknown> } {
    const spec = methodSpec(request.method);
    if (!spec) throw new AgentError('METHOD_NOT_FOUND');
    const method = request.method as MethodName;
    const refusal = authorize(spec.access, { kind: state.kind(), scopes: state.scopes() });
    if (refusal) throw refusal;
    if (state.isBrowser && carriesPinValue(request.params)) throw new AgentError('PIN_VALUE_NOT_ALLOWED');
    const parsed = PARAMS[method].safeParse(request.params);
    if (!parsed.success) throw new AgentError('INVALID_PARAMS', summariseIssues(parsed.error));
    const params = parsed.data as Record<string, unknown> | undefined;
    const reader = typeof params?.reader === 'string' ? params.reader : undefined;
    if (method === 'cps.sign' && params?.hashAlgorithm !== 'SHA-256') throw new AgentError('UNSUPPORTED_ALGORITHM', { supported: ['SHA-256'] });
    if (method === 'cps.decrypt' && !state.decryptLimiter.take()) throw new AgentError('RATE_LIMITED', { retryAfterMs: state.decryptLimiter.retryAfterMs() });
    if (!spec.card) {
      const builtin = BUILTINS[method];
      if (!builtin) throw new AgentError('METHOD_NOT_FOUND');
      return { reader, execute: async () => builtin(state, params, this.deps) };
    }
    return { reader, execute: () => this.deps.cardService.call(method, params ?? {}, state.context()) };
  }

  private record(state: CallerState, method: MethodName | undefined, reader: string | undefined, started: number, error: unknown, result: unknown): void {
    const resultSerial = (result as { serial?: unknown } | null | undefined)?.serial;
    if (reader !== undefined && typeof resultSerial === 'string') this.serialByReader.set(reader, resultSerial);
    const cardSerial = typeof resultSerial === 'string' ? resultSerial : reader !== undefined ? this.serialByReader.get(reader) : undefined;
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    const errorCode = error === undefined ? undefined : errorCodeOf(error);
    this.deps.audit.record({
      event: 'rpc',
      connectionId: state.id,
      callerKind: state.kind(),
      origin: state.origin() || undefined,
      method: method ?? '(inconnue)',
      reader,
      cardSerial,
      outcome: error === undefined ? 'ok' : 'error',
      errorCode,
      durationMs,
    });
    this.deps.logger.debug({ conn: state.id, method: method ?? '(inconnue)', outcome: errorCode ?? 'ok', ms: durationMs }, 'appel');
  }

  /** A card left its reader: what was learnt about it no longer holds. */
  forgetReader(reader: string): void {
    this.serialByReader.delete(reader);
  }

  forgetAllReaders(): void {
    this.serialByReader.clear();
  }
}

/** An error for the log: its class and where it was thrown, not its message (which may quote data). */
function describe(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { type: error.name, at: error.stack?.split('\n').slice(1, 6).join('\n') };
  return { type: typeof error };
}
