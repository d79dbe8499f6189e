// A stand-in for vsmartcard's vpcd on an ephemeral port: accepts the virtual card's connection
// and speaks the same framing (2-byte big-endian length + payload), for tests without pcscd.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export class FakeVpcd {
  private server: net.Server | null = null;
  private client: net.Socket | null = null;
  private buffered = Buffer.alloc(0);
  private readers: ((frame: Buffer) => void)[] = [];
  private connectionWaiters: ((s: net.Socket) => void)[] = [];
  private endWaiters: (() => void)[] = [];
  connections = 0;

  private constructor(public port: number) {}

  /** Listens on 127.0.0.1 (port 0 = ephemeral). */
  static async start(port = 0): Promise<FakeVpcd> {
    const fake = new FakeVpcd(port);
    await fake.listen();
    return fake;
  }

  async listen(): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: this.port }, () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private accept(socket: net.Socket): void {
    this.connections++;
    this.client = socket;
    this.buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      if (this.client !== socket) return;
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 2) {
        const n = this.buffered.readUInt16BE(0);
        if (this.buffered.length < 2 + n) break;
        const frame = Buffer.from(this.buffered.subarray(2, 2 + n));
        this.buffered = Buffer.from(this.buffered.subarray(2 + n));
        this.readers.shift()?.(frame);
      }
    });
    socket.on('close', () => {
      if (this.client === socket) this.client = null;
      for (const w of this.endWaiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
    for (const w of this.connectionWaiters.splice(0)) w(socket);
  }

  get hasClient(): boolean {
    return this.client !== null;
  }

  waitConnection(timeoutMs = 3000): Promise<void> {
    if (this.client) return Promise.resolve();
    return withTimeout(new Promise<void>((resolve) => this.connectionWaiters.push(() => resolve())), timeoutMs, 'no connection from the card');
  }

  waitClientGone(timeoutMs = 3000): Promise<void> {
    if (!this.client) return Promise.resolve();
    return withTimeout(new Promise<void>((resolve) => this.endWaiters.push(resolve)), timeoutMs, 'the card did not disconnect');
  }

  /** Sends a raw message (frame built here) without waiting for an answer. */
  send(payload: Uint8Array | number[]): void {
    if (!this.client) throw new Error('no card connected');
    const body = Buffer.from(payload);
    const frame = Buffer.alloc(2 + body.length);
    frame.writeUInt16BE(body.length, 0);
    body.copy(frame, 2);
    this.client.write(frame);
  }

  /** Sends bytes as they are (to split or batch frames). */
  sendRaw(bytes: Uint8Array): void {
    if (!this.client) throw new Error('no card connected');
    this.client.write(bytes);
  }

  /** Next frame the card sends. */
  nextFrame(timeoutMs = 3000): Promise<Buffer> {
    return withTimeout(new Promise<Buffer>((resolve) => this.readers.push(resolve)), timeoutMs, 'no answer from the card');
  }

  async request(payload: Uint8Array | number[]): Promise<Buffer> {
    const answer = this.nextFrame();
    this.send(payload);
    return answer;
  }

  /** vpcd (pcscd) going away: drops the client and stops listening. */
  async stop(): Promise<void> {
    this.client?.destroy();
    this.client = null;
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  dropClient(): void {
    this.client?.destroy();
    this.client = null;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
