// A JSON-RPC client over `ws` for the tests: calls matched by id, raw frames, notifications,
// the close code, and any header (Origin, Host, Authorization) on the upgrade.
import WebSocket from 'ws';

export interface RpcResponse {
  readonly jsonrpc: '2.0';
  readonly id: string | number | null;
  readonly result?: unknown;
  readonly error?: { code: number; message: string; data: { code: string } & Record<string, unknown> };
}

export interface ConnectOptions {
  /** Origin header (a browser page); none by default (desktop or local caller). */
  readonly origin?: string;
  readonly headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly bearer?: string;
  readonly path?: string;
}

export class TestClient {
  readonly messages: unknown[] = [];
  readonly notifications: { method: string; params: unknown }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private nextId = 1;
  private readonly pending = new Map<string | number, (response: RpcResponse) => void>();
  private readonly waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as RpcResponse & { method?: string; params?: unknown };
      this.messages.push(message);
      if (message.method !== undefined && !Object.hasOwn(message, 'id')) this.notifications.push({ method: message.method, params: message.params });
      else if (message.id !== null && this.pending.has(message.id)) {
        this.pending.get(message.id)?.(message);
        this.pending.delete(message.id);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('error', () => {});
  }

  static connect(url: string, options: ConnectOptions = {}): Promise<TestClient> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.bearer !== undefined) headers.Authorization = `Bearer ${options.bearer}`;
    const target = options.path === undefined ? url : url.replace(/\/v1$/, options.path);
    const ws = new WebSocket(target, { headers, ...(options.origin !== undefined ? { origin: options.origin } : {}) });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new TestClient(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  /** Sends a request and resolves with the whole response (result or error). */
  call(method: string, params?: unknown): Promise<RpcResponse> {
    const id = this.nextId++;
    const response = new Promise<RpcResponse>((resolve) => this.pending.set(id, resolve));
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }));
    return response;
  }

  /** The result, or throws with the error's data.code. */
  async result<T = unknown>(method: string, params?: unknown): Promise<T> {
    const response = await this.call(method, params);
    if (response.error) throw new Error(`${method}: ${response.error.data.code}`);
    return response.result as T;
  }

  /** The error's data.code (throws when the call succeeded). */
  async errorCode(method: string, params?: unknown): Promise<string> {
    const response = await this.call(method, params);
    if (!response.error) throw new Error(`${method} succeeded: ${JSON.stringify(response.result)}`);
    return response.error.data.code;
  }

  send(raw: string | Buffer): void {
    this.ws.send(raw);
  }

  /** Resolves when `count` messages in total have arrived. */
  async waitForMessages(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.messages.length} of ${count} messages`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async waitForNotification(method: string, timeoutMs = 2000): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.notifications.find((n) => n.method === method);
      if (found) return found.params;
      if (Date.now() > deadline) throw new Error(`no ${method} notification`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }
}
