// One accepted WebSocket: text frames to the dispatcher, answers and notifications back, a flood
// guard in front (a token bucket: past it RATE_LIMITED, and a connection that keeps flooding is
// closed with 1008), and the clean-up when it closes (the card service drops the connection's
// queued work, prompts and PIN state; its CallerContext signal aborts).
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { AuditSink } from '../audit/audit-log.js';
import type { CardService } from '../caller.js';
import { AgentError } from '../errors.js';
import type { CallerState } from '../rpc/caller-state.js';
import type { RpcDispatcher } from '../rpc/dispatcher.js';
import { errorFrame, framingError, notificationFrame, type RpcId } from '../rpc/jsonrpc.js';
import { TokenBucket } from '../rpc/rate-limit.js';

export interface FloodLimits {
  /** Messages accepted at once. */
  readonly burst: number;
  /** Messages per second accepted in the long run. */
  readonly perSecond: number;
  /** Refused messages within `windowMs` after which the connection is closed with 1008. */
  readonly closeAfterRefused: number;
  readonly windowMs: number;
  /** Bytes waiting to be sent to a client that does not read, after which it is dropped. */
  readonly maxBufferedBytes: number;
}

export const DEFAULT_FLOOD_LIMITS: FloodLimits = {
  burst: 200,
  perSecond: 200,
  closeAfterRefused: 1000,
  windowMs: 5000,
  maxBufferedBytes: 16 * 1024 * 1024,
};

export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_GOING_AWAY = 1001;

export interface ConnectionDeps {
  readonly dispatcher: RpcDispatcher;
  readonly cardService: CardService;
  readonly audit: AuditSink;
  readonly logger: Logger;
  readonly limits: FloodLimits;
}

export class AgentConnection {
  private readonly bucket: TokenBucket;
  private refused = 0;
  private refusedWindowStart = performance.now();
  private closed = false;

  constructor(
    readonly ws: WebSocket,
    readonly state: CallerState,
    private readonly deps: ConnectionDeps,
    private readonly onClosed: (connection: AgentConnection) => void,
  ) {
    this.bucket = new TokenBucket(deps.limits.burst, deps.limits.perSecond);
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('error', (error) => deps.logger.debug({ conn: state.id, err: error.message }, 'erreur WebSocket'));
    ws.on('close', (code) => this.onClose(code));
    deps.audit.record({ event: 'connection.open', connectionId: state.id, callerKind: state.kind(), origin: state.origin() || undefined });
  }

  send(frame: string): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > this.deps.limits.maxBufferedBytes) {
      this.deps.logger.warn({ conn: this.state.id }, 'client qui ne lit pas ses réponses : connexion fermée');
      this.close(CLOSE_POLICY_VIOLATION, 'client trop lent');
      return;
    }
    this.ws.send(frame);
  }

  notify(method: string, params: unknown): void {
    this.send(notificationFrame(method, params));
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    if (!this.bucket.take()) {
      this.onFlood(data, isBinary);
      return;
    }
    if (isBinary) {
      this.send(errorFrame(null, framingError('INVALID_REQUEST', this.state.lang, { reason: 'BINARY_FRAME' })));
      return;
    }
    this.deps.dispatcher.handleText(this.state, data.toString('utf8')).then(
      (frame) => {
        if (frame !== undefined) this.send(frame);
      },
      (error: unknown) => this.deps.logger.error({ conn: this.state.id, err: (error as Error)?.name }, 'réponse impossible'),
    );
  }

  private onFlood(data: Buffer, isBinary: boolean): void {
    const now = performance.now();
    if (now - this.refusedWindowStart > this.deps.limits.windowMs) {
      if (this.refused > 0) this.deps.logger.warn({ conn: this.state.id, refused: this.refused }, 'messages refusés (débit excessif)');
      this.refusedWindowStart = now;
      this.refused = 0;
    }
    this.refused += 1;
    if (this.refused > this.deps.limits.closeAfterRefused) {
      this.deps.logger.warn({ conn: this.state.id, refused: this.refused }, 'inondation de messages : connexion fermée (1008)');
      this.close(CLOSE_POLICY_VIOLATION, 'trop de messages');
      this.closed = true;
      return;
    }
    const id = isBinary ? null : cheapId(data);
    this.send(errorFrame(id, new AgentError('RATE_LIMITED', { reason: 'TOO_MANY_MESSAGES' }).toRpcError(this.state.lang)));
  }

  private onClose(code: number): void {
    this.closed = true;
    this.state.abort.abort();
    try {
      this.deps.cardService.connectionClosed(this.state.id);
    } catch (error) {
      this.deps.logger.error({ conn: this.state.id, err: (error as Error)?.name }, 'connectionClosed a échoué');
    }
    this.deps.audit.record({ event: 'connection.close', connectionId: this.state.id, callerKind: this.state.kind(), origin: this.state.origin() || undefined });
    this.deps.logger.debug({ conn: this.state.id, code }, 'connexion fermée');
    this.onClosed(this);
  }
}

/** The id of a refused message, when it is small enough to read cheaply; else null. */
function cheapId(data: Buffer): RpcId {
  if (data.length > 4096) return null;
  try {
    const id = (JSON.parse(data.toString('utf8')) as { id?: unknown } | null)?.id;
    return typeof id === 'string' || typeof id === 'number' ? id : null;
  } catch {
    return null;
  }
}
