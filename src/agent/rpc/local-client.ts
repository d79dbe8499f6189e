// A desktop caller of the running agent, for the CLI (`cardbridge agent status`, `pair approve`):
// connects to ws://127.0.0.1:<port>/v1 with the local token as `Authorization: Bearer`, no Origin.
import WebSocket from 'ws';
import type { RpcErrorObject } from './jsonrpc.js';

export class AgentNotRunningError extends Error {
  override readonly name = 'AgentNotRunningError';
  constructor(readonly url: string, options?: { cause?: unknown }) {
    super(`Aucun agent ne répond sur ${url}.`, options);
  }
}

export class AgentCallError extends Error {
  override readonly name = 'AgentCallError';
  readonly code: string;
  constructor(readonly error: RpcErrorObject) {
    super(error.message);
    this.code = error.data.code;
  }
}

export interface LocalClientOptions {
  readonly port: number;
  readonly token: string;
  readonly host?: string;
  readonly appId?: string;
  readonly timeoutMs?: number;
}

export class LocalAgentClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly ws: WebSocket,
    private readonly timeoutMs: number,
  ) {
    ws.on('message', (data) => {
      let message: { id?: unknown; result?: unknown; error?: RpcErrorObject };
      try {
        message = JSON.parse(data.toString()) as typeof message;
      } catch {
        return;
      }
      if (typeof message.id !== 'number') return;
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.error) waiter.reject(new AgentCallError(message.error));
      else waiter.resolve(message.result);
    });
    ws.on('close', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error("L'agent a fermé la connexion."));
      this.pending.clear();
    });
  }

  static connect(options: LocalClientOptions): Promise<LocalAgentClient> {
    const host = options.host ?? '127.0.0.1';
    const url = `ws://${host.includes(':') ? `[${host}]` : host}:${options.port}/v1?appId=${encodeURIComponent(options.appId ?? 'cardbridge-cli')}`;
    const timeoutMs = options.timeoutMs ?? 5000;
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${options.token}` }, handshakeTimeout: timeoutMs });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new LocalAgentClient(ws, timeoutMs)));
      ws.once('unexpected-response', (_request, response) => {
        ws.terminate();
        reject(new AgentCallError({ code: -32000, message: `L'agent a refusé la connexion (HTTP ${response.statusCode}) : jeton local différent ?`, data: { code: 'UNAUTHORIZED' } }));
      });
      ws.once('error', (error) => reject(new AgentNotRunningError(url.split('?')[0] ?? url, { cause: error })));
    });
  }

  call<T = unknown>(method: string, params?: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`Pas de réponse de l'agent à ${method}.`));
      }, this.timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }));
    });
  }

  close(): void {
    this.ws.close();
  }
}
