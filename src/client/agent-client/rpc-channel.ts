// One WebSocket to the agent carrying JSON-RPC 2.0: requests matched to their responses by id
// (responses may come in any order), notifications handed up, per-call timeouts. A channel lives
// as long as its socket; reconnection (a new channel) is the client's business.
import { AgentClientError, ConnectionLostError, errorFromRpc, InvalidParamsError, localMessage, TimeoutError } from './errors.js';
import type { Lang } from './types.js';

/** What the client needs of a WebSocket: the browser's and `ws`'s both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // `any`: the DOM's and `ws`'s listener types differ; the channel reads only `data`, `code`, `reason`.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: any) => void): void;
}

/** The browser's `WebSocket`, or `ws`'s in Node (`import { WebSocket } from 'ws'`). */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

const OPEN = 1;

/** The agent closes the socket (1009) past 1 MiB: refuse such a request before it costs the connection. */
export const MAX_FRAME_BYTES = 1024 * 1024;

export interface CallSettings {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  cleanup: () => void;
}

export interface ChannelHandlers {
  notification(method: string, params: unknown): void;
  /** The socket closed (whoever closed it); pending calls have already been failed. */
  closed(info: { code: number; reason: string }): void;
}

function frameBytes(text: string): number {
  // UTF-8 length without allocating when the text is plain ASCII (the usual case).
  return /^[\x00-\x7f]*$/.test(text) ? text.length : new TextEncoder().encode(text).length;
}

export class RpcChannel {
  private readonly pending = new Map<string, Pending>();
  private closedInfo: { code: number; reason: string } | undefined;

  constructor(
    private readonly socket: WebSocketLike,
    private readonly handlers: ChannelHandlers,
    private readonly lang: () => Lang,
  ) {
    socket.addEventListener('message', (event: { data: unknown }) => this.onMessage(event.data));
    socket.addEventListener('close', (event: { code?: number; reason?: string }) => this.onClose(event.code ?? 1006, event.reason ?? ''));
  }

  /**
   * Opens a socket and resolves once it is open; rejects (with the event) when it errors or
   * closes first, or after `timeoutMs`.
   */
  static open(WebSocketImpl: WebSocketConstructor, url: string, timeoutMs: number): Promise<WebSocketLike> {
    return new Promise((resolve, reject) => {
      let socket: WebSocketLike;
      try {
        socket = new WebSocketImpl(url);
      } catch (error) {
        reject(error);
        return;
      }
      let settled = false;
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error === undefined) resolve(socket);
        else {
          try {
            socket.close();
          } catch {
            // already closing
          }
          reject(error);
        }
      };
      const timer = setTimeout(() => finish(new Error(`no WebSocket connection after ${timeoutMs} ms`)), timeoutMs);
      socket.addEventListener('open', () => finish());
      socket.addEventListener('error', (event: unknown) => finish(event ?? new Error('WebSocket error')));
      socket.addEventListener('close', (event: { code?: number }) => finish(new Error(`WebSocket closed (${event.code ?? 1006})`)));
    });
  }

  get isOpen(): boolean {
    return this.closedInfo === undefined && this.socket.readyState === OPEN;
  }

  /** Sends a request with this id; settles with its result or its error. */
  call(id: number, method: string, params: unknown, settings: CallSettings): Promise<unknown> {
    const lang = this.lang();
    if (!this.isOpen) return Promise.reject(new ConnectionLostError(localMessage('notConnected', lang), { data: { method } }));
    if (settings.signal?.aborted) return Promise.reject(settings.signal.reason);
    const message = JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
    if (frameBytes(message) > MAX_FRAME_BYTES) {
      return Promise.reject(new InvalidParamsError(localMessage('tooLarge', lang), { data: { method, maxFrameBytes: MAX_FRAME_BYTES } }));
    }
    const key = String(id);
    return new Promise((resolve, reject) => {
      const onAbort = () => this.settle(key, undefined, settings.signal?.reason ?? new Error('aborted'));
      const entry: Pending = {
        method,
        resolve,
        reject,
        timer: undefined,
        cleanup: () => settings.signal?.removeEventListener('abort', onAbort),
      };
      if (Number.isFinite(settings.timeoutMs) && settings.timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          this.settle(key, undefined, new TimeoutError(localMessage('timeout', lang), { data: { source: 'client', method, timeoutMs: settings.timeoutMs } }));
        }, settings.timeoutMs);
      }
      settings.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(key, entry);
      try {
        this.socket.send(message);
      } catch (error) {
        this.settle(key, undefined, new ConnectionLostError(localMessage('connectionLost', lang), { data: { method }, cause: error }));
      }
    });
  }

  /** Closes the socket; pending calls fail with ConnectionLostError. */
  close(code = 1000, reason = ''): void {
    try {
      this.socket.close(code, reason);
    } catch {
      // already closed
    }
    this.onClose(code, reason);
  }

  private settle(key: string, result: unknown, error: Error | undefined): void {
    const entry = this.pending.get(key);
    if (!entry) return; // late answer after a timeout or an abort
    this.pending.delete(key);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.cleanup();
    if (error) entry.reject(error);
    else entry.resolve(result);
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') return; // the protocol is text frames only
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return;
    const m = message as { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
    if (typeof m.method === 'string' && (m.id === undefined || m.id === null)) {
      this.handlers.notification(m.method, m.params);
      return;
    }
    if (typeof m.id !== 'number' && typeof m.id !== 'string') return; // e.g. a parse error about no request of ours
    const key = String(m.id);
    if ('error' in m && m.error !== undefined && m.error !== null) this.settle(key, undefined, errorFromRpc(m.error));
    else if ('result' in m) this.settle(key, m.result, undefined);
  }

  private onClose(code: number, reason: string): void {
    if (this.closedInfo) return;
    this.closedInfo = { code, reason };
    const lang = this.lang();
    for (const [key, entry] of [...this.pending]) {
      this.settle(key, undefined, new ConnectionLostError(localMessage('connectionLost', lang), { data: { method: entry.method, closeCode: code } }));
    }
    this.handlers.closed(this.closedInfo);
  }
}

export function isAgentClientError(error: unknown): error is AgentClientError {
  return error instanceof AgentClientError;
}
