// A fake cardbridge agent for the client tests: a `ws` server on 127.0.0.1 speaking the agent
// protocol (agent-protocol.md) with a persona's real keys — hello and the local token, pairing,
// subscriptions and events, every cps.* / vitale.read method, PIN page prompts, errors by code,
// held answers (to answer out of order) — and a restart on the same port.
import { constants, createHash, createPrivateKey, privateDecrypt, privateEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { PractitionerCredentials } from '../../../../src/pki/test-pki.js';
import type { CpsPersona } from '../../../../src/simulator/personas.js';

export const FAKE_TOKEN = 'local-token-of-the-tests';
export const BROWSER_ORIGIN = 'https://cabinet.example';
const DIGEST_INFO_SHA256 = Buffer.from('3031300d060960864801650304020105000420', 'hex');

export interface RecordedRequest {
  connection: number;
  id: number | string;
  method: string;
  params: unknown;
}

export interface RpcErrorBody {
  code: number;
  message: string;
  data: { code: string } & Record<string, unknown>;
}

interface Connection {
  id: number;
  socket: WebSocket;
  caller: 'local' | 'desktop' | 'origin' | 'unpaired';
  appId: string | undefined;
  lang: 'fr' | 'en';
  subscriptions: Set<string> | undefined;
  verified: boolean;
}

interface HeldAnswer {
  release(): void;
}

type Handler = (params: Record<string, unknown>, connection: Connection, id: number | string) => unknown;

const ALL_EVENTS = ['readers.changed', 'card.inserted', 'card.removed', 'pcsc.status'];
const PIN_METHODS = new Set(['cps.getActivities', 'cps.authenticate', 'cps.sign', 'cps.decrypt']);

function sha256(data: Buffer | string): Buffer {
  return createHash('sha256').update(data).digest();
}

export class RpcFailure extends Error {
  constructor(readonly body: RpcErrorBody) {
    super(body.message);
  }
}

export function rpcError(dataCode: string, details: Record<string, unknown> = {}, rpcCode?: number): RpcFailure {
  const code = rpcCode ?? (dataCode === 'INVALID_PARAMS' ? -32602 : dataCode === 'METHOD_NOT_FOUND' ? -32601 : -32000);
  return new RpcFailure({ code, message: `message de ${dataCode}`, data: { ...details, code: dataCode } });
}

export interface FakeAgentOptions {
  persona: CpsPersona;
  credentials: PractitionerCredentials;
  /** Browser connections: what Origin the fake pretends the page has ('origin' when paired). */
  browserCaller?: 'origin' | 'unpaired';
}

export class FakeAgent {
  readonly requests: RecordedRequest[] = [];
  readonly handlers = new Map<string, Handler>();
  /** When true, PIN methods of browser-like callers send a pin.prompt and wait for submitPin/cancelPin. */
  pinPage = false;
  /** `pin.prompt.requestId`: the JSON-RPC id of the call, or the prompt's own id (as the real agent does). */
  promptIdKind: 'rpc-id' | 'prompt-id' = 'rpc-id';
  readers: { name: string; card: { family: string; atr: string } | null }[] = [
    { name: 'Lecteur CPS 0', card: { family: 'CPS3', atr: '3B8F8001805A0A010320031102' } },
    { name: 'Lecteur Vitale 1', card: { family: 'VITALE2', atr: '3F6525082204689000' } },
  ];
  paired = false;

  private server: WebSocketServer | undefined;
  private port = 0;
  private nextConnection = 0;
  private readonly connections = new Set<Connection>();
  private readonly failures = new Map<string, RpcFailure[]>();
  private readonly holds = new Map<string, Promise<void>[]>();
  private readonly prompts = new Map<string, { resolve: () => void; reject: (error: RpcFailure) => void }>();
  private readonly authKey: KeyObject;
  private readonly signKey: KeyObject;
  private promptWaiters: ((requestId: string) => void)[] = [];

  private constructor(readonly options: FakeAgentOptions) {
    this.authKey = createPrivateKey({ key: Buffer.from(options.credentials.authentication.privateKeyPkcs8Der), format: 'der', type: 'pkcs8' });
    this.signKey = createPrivateKey({ key: Buffer.from(options.credentials.signature.privateKeyPkcs8Der), format: 'der', type: 'pkcs8' });
    this.installDefaults();
  }

  static async start(options: FakeAgentOptions): Promise<FakeAgent> {
    const agent = new FakeAgent(options);
    await agent.listen();
    return agent;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/v1`;
  }

  /** Requests of one method, in arrival order. */
  calls(method: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** The next call of `method` fails with this error (queued: one failure per call). */
  failNext(method: string, failure: RpcFailure): void {
    const list = this.failures.get(method) ?? [];
    list.push(failure);
    this.failures.set(method, list);
  }

  /** Holds the answers of `method` until released (each call waits for the hold present when it arrived). */
  hold(method: string): HeldAnswer {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const list = this.holds.get(method) ?? [];
    list.push(gate);
    this.holds.set(method, list);
    return { release };
  }

  /** Sends an event to the connections subscribed to it. */
  emit(event: string, params: unknown): void {
    for (const c of this.connections) {
      if (c.subscriptions?.has(event)) c.socket.send(JSON.stringify({ jsonrpc: '2.0', method: event, params }));
    }
  }

  /** Sends a raw frame to every connection. */
  sendRaw(text: string): void {
    for (const c of this.connections) c.socket.send(text);
  }

  /** Resolves with the requestId of the next pin.prompt sent. */
  nextPrompt(): Promise<string> {
    return new Promise((resolve) => this.promptWaiters.push(resolve));
  }

  submitPin(requestId: string): void {
    this.prompts.get(requestId)?.resolve();
  }

  cancelPin(requestId: string): void {
    this.prompts.get(requestId)?.reject(rpcError('USER_CANCELLED'));
  }

  /** Subscriptions of the live connections. */
  subscriptions(): (string[] | undefined)[] {
    return [...this.connections].map((c) => (c.subscriptions ? [...c.subscriptions].sort() : undefined));
  }

  /** Kills every connection (as a crashed agent) and stops listening. */
  async stop(): Promise<void> {
    for (const c of this.connections) c.socket.terminate();
    this.connections.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    await this.listen(this.port);
  }

  private async listen(port = 0): Promise<void> {
    const server = new WebSocketServer({ host: '127.0.0.1', port, path: '/v1' });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    server.on('connection', (socket, request) => {
      const browser = request.headers.origin !== undefined;
      const connection: Connection = {
        id: ++this.nextConnection,
        socket,
        caller: browser ? (this.paired || this.options.browserCaller === 'origin' ? 'origin' : 'unpaired') : 'local',
        appId: undefined,
        lang: 'fr',
        subscriptions: undefined,
        verified: false,
      };
      this.connections.add(connection);
      socket.on('close', () => this.connections.delete(connection));
      socket.on('message', (data, isBinary) => {
        if (isBinary) return;
        void this.onMessage(connection, data.toString());
      });
    });
  }

  private async onMessage(connection: Connection, text: string): Promise<void> {
    const message = JSON.parse(text) as { id: number | string; method: string; params?: Record<string, unknown> };
    this.requests.push({ connection: connection.id, id: message.id, method: message.method, params: message.params });
    const answer = (body: object) => {
      if (connection.socket.readyState === connection.socket.OPEN) connection.socket.send(JSON.stringify({ jsonrpc: '2.0', id: message.id, ...body }));
    };
    const holds = this.holds.get(message.method);
    const gate = holds?.shift();
    try {
      if (gate) await gate;
      const failure = this.failures.get(message.method)?.shift();
      if (failure) throw failure;
      const handler = this.handlers.get(message.method);
      if (!handler) throw rpcError('METHOD_NOT_FOUND');
      const params = message.params ?? {};
      if (this.pinPage && PIN_METHODS.has(message.method) && connection.caller !== 'desktop' && !connection.verified) {
        await this.prompt(connection, message.id);
      }
      answer({ result: await handler(params, connection, message.id) });
    } catch (error) {
      if (error instanceof RpcFailure) answer({ error: error.body });
      else answer({ error: { code: -32000, message: String(error), data: { code: 'INTERNAL' } } });
    }
  }

  private async prompt(connection: Connection, rpcId: number | string): Promise<void> {
    const promptId = randomBytes(12).toString('base64url');
    const requestId = this.promptIdKind === 'rpc-id' ? String(rpcId) : promptId;
    const done = new Promise<void>((resolve, reject) => this.prompts.set(requestId, { resolve, reject }));
    connection.socket.send(
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'pin.prompt',
        params: {
          requestId: this.promptIdKind === 'rpc-id' ? rpcId : promptId,
          url: `http://127.0.0.1:${this.port}/pin/${promptId}`,
          reader: 'Lecteur CPS 0',
          origin: BROWSER_ORIGIN,
          triesRemaining: 3,
        },
      }),
    );
    for (const waiter of this.promptWaiters.splice(0)) waiter(requestId);
    try {
      await done;
      connection.verified = true;
    } finally {
      this.prompts.delete(requestId);
    }
  }

  private callerOrigin(connection: Connection): string {
    return connection.caller === 'desktop' ? `app:${connection.appId ?? ''}` : BROWSER_ORIGIN;
  }

  private installDefaults(): void {
    const { persona, credentials } = this.options;
    const h = this.handlers;
    h.set('agent.info', (_p, c) => ({ version: '0.1.0-fake', protocol: 1, pcsc: 'ok', caller: c.caller === 'unpaired' && this.paired ? 'origin' : c.caller }));
    h.set('agent.hello', (p, c) => {
      if (typeof p.lang === 'string') c.lang = p.lang as 'fr' | 'en';
      if (p.token !== undefined) {
        if (p.token !== FAKE_TOKEN) throw rpcError('UNAUTHORIZED');
        c.caller = 'desktop';
      }
      if (typeof p.appId === 'string') c.appId = p.appId;
      return { caller: c.caller };
    });
    h.set('agent.pair', (p) => {
      if (!Array.isArray(p.scopes) || p.scopes.length === 0) throw rpcError('INVALID_PARAMS', { path: 'scopes' });
      return { code: '042917', expiresAt: new Date(Date.now() + 60_000).toISOString() };
    });
    h.set('agent.subscribe', (p, c) => {
      c.subscriptions = new Set(Array.isArray(p.events) ? (p.events as string[]) : ALL_EVENTS);
      return { ok: true };
    });
    h.set('readers.list', () => structuredClone(this.readers));
    h.set('cps.getIdentity', () => ({
      family: persona.family,
      serial: persona.cardSerial,
      nationalId: persona.rpps,
      idType: 'RPPS',
      surname: persona.surname,
      givenName: persona.givenName,
      professionCode: persona.professionCode,
      professionLabel: persona.professionLabel,
      ...(persona.specialtyCode ? { specialtyCode: persona.specialtyCode } : {}),
      notAfter: '2030-01-01T00:00:00.000Z',
    }));
    h.set('cps.getCertificates', () => ({
      authentication: Buffer.from(credentials.authentication.certificateDer).toString('base64'),
      signature: Buffer.from(credentials.signature.certificateDer).toString('base64'),
      chain: [],
    }));
    h.set('cps.getActivities', () => persona.activities.map((a, index) => ({ index: index + 1, ...a })));
    h.set('cps.pinStatus', (_p, c) => ({ triesRemaining: 3, maxTries: 3, blocked: false, verified: c.verified }));
    h.set('cps.verifyPin', (p, c) => {
      if (p.pin !== undefined && p.pin !== persona.pin) throw rpcError('PIN_INCORRECT', { triesRemaining: 2 });
      c.verified = true;
      return { verified: true };
    });
    h.set('cps.changePin', () => ({ ok: true }));
    h.set('cps.unblockPin', () => ({ ok: true }));
    h.set('cps.logout', (_p, c) => {
      c.verified = false;
      return { ok: true };
    });
    h.set('cps.authenticate', (p, c) => {
      const challenge = p.challenge;
      if (typeof challenge !== 'string' || challenge.length < 44 || challenge.length > 128) throw rpcError('INVALID_PARAMS', { path: 'challenge' });
      const origin = this.callerOrigin(c);
      const data = Buffer.concat([sha256(Buffer.from(origin, 'utf8')), sha256(Buffer.from(challenge, 'utf8'))]);
      const signature = privateEncrypt({ key: this.authKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO_SHA256, sha256(data)]));
      return {
        format: 'cardbridge-auth:1',
        algorithm: 'RS256',
        origin,
        unverifiedCertificate: Buffer.from(credentials.authentication.certificateDer).toString('base64'),
        signature: signature.toString('base64'),
        appVersion: '0.1.0-fake',
      };
    });
    h.set('cps.sign', (p) => {
      const hash = Buffer.from(String(p.hash), 'base64');
      if (hash.length !== 32 || p.hashAlgorithm !== 'SHA-256') throw rpcError('INVALID_PARAMS', { path: 'hash' });
      // What the card does with PSO CDS algorithm 42: DigestInfo(SHA-256) + PKCS#1 v1.5 type 1.
      const signature = privateEncrypt({ key: this.signKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO_SHA256, hash]));
      return { signature: signature.toString('base64'), algorithm: 'RS256', certificate: Buffer.from(credentials.signature.certificateDer).toString('base64') };
    });
    h.set('cps.decrypt', (p) => {
      try {
        // Node refuses PKCS#1 v1.5 private decryption (Marvin): raw RSA, then the type-2 block by hand.
        const block = privateDecrypt({ key: this.authKey, padding: constants.RSA_NO_PADDING }, Buffer.from(String(p.ciphertext), 'base64'));
        const separator = block.indexOf(0, 2);
        if (block[0] !== 0 || block[1] !== 2 || separator < 10) throw new Error('bad padding');
        return { plaintext: block.subarray(separator + 1).toString('base64') };
      } catch {
        throw rpcError('DECRYPT_FAILED');
      }
    });
    h.set('vitale.read', () => ({
      family: 'VITALE2',
      serial: '0123456789',
      beneficiaries: [
        {
          nir: '180057511234567',
          nirKeyValid: true,
          ownNir: null,
          surname: 'DUPONT',
          givenName: 'JEAN',
          birthDateRaw: '19800512',
          birthDate: '1980-05-12',
          insC: null,
        },
      ],
    }));
  }
}
