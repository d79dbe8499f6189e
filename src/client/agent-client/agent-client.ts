// The client of the cardbridge agent (agent-protocol.md, version 1), for browser pages and Node
// desktop software: one WebSocket carrying JSON-RPC, a typed function per method, events, errors
// as classes with the contract's codes, reconnection with exponential back-off (hello and
// subscriptions re-sent), and the PIN page popup for browsers.
import { asBytes, toBase64 } from '../shared/bytes.js';
import {
  AgentClientError,
  AgentUnreachableError,
  ConnectionLostError,
  localMessage,
  TimeoutError,
} from './errors.js';
import { pairAndWait, type PairAndWaitOptions } from './pairing.js';
import { defaultOpenWindow, PinWindows, type OpenWindow, type PreparedPinWindow } from './pin-window.js';
import { RpcChannel, type WebSocketConstructor } from './rpc-channel.js';
import type {
  ActivitiesParams,
  AgentEventMap,
  AgentEventName,
  AgentInfo,
  AuthenticateParams,
  AuthenticationToken,
  CallerKind,
  ChangePinParams,
  ConnectionEvent,
  ConnectionState,
  CpsActivity,
  CpsCertificates,
  CpsIdentity,
  DecryptParams,
  DecryptResult,
  HelloParams,
  HelloResult,
  Lang,
  OkResult,
  PairResult,
  PinPrompt,
  PinStatus,
  ReaderInfo,
  ReaderParams,
  Scope,
  SignParams,
  SignResult,
  SubscribeResult,
  UnblockPinParams,
  VerifiedResult,
  VerifyPinParams,
  VitaleReadResult,
} from './types.js';

export const DEFAULT_AGENT_URL = 'ws://127.0.0.1:24820/v1';

export interface ReconnectOptions {
  /** First delay after a lost connection; doubled after each failed attempt. Default 500 ms. */
  initialDelayMs?: number;
  /** Ceiling of the delay. Default 30 s. */
  maxDelayMs?: number;
}

export interface AgentClientOptions {
  /** Default `ws://127.0.0.1:24820/v1`. */
  url?: string;
  /** The WebSocket class: the browser's global by default; in Node inject `ws`'s (`import { WebSocket } from 'ws'`). */
  WebSocket?: WebSocketConstructor;
  /** Desktop software: the local token (sent in `agent.hello { token, appId }`). */
  token?: string;
  /** Desktop software: the application's id (tokens from `cps.authenticate` are bound to `app:<appId>`). */
  appId?: string;
  /** Language of the agent's error messages (and the client's own). Default `fr`. */
  lang?: Lang;
  /** Reconnection after a lost connection; `false` to stay closed. */
  reconnect?: ReconnectOptions | false;
  /** Per-call timeout. Default 30 s. */
  timeoutMs?: number;
  /** Timeout of calls that may wait for a PIN entry (the agent gives the user 120 s). Default 150 s. */
  pinTimeoutMs?: number;
  /** How long to wait for the socket to open. Default 10 s. */
  connectTimeoutMs?: number;
  /** Called with a `pin.prompt` when no prepared window can show it (e.g. to show a button that opens `prompt.url`). */
  onPinPrompt?: (prompt: PinPrompt) => void;
  /** Opens a window (default `window.open`); injected by tests and non-browser hosts. */
  openWindow?: OpenWindow;
}

export interface CallOptions {
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
  /** Aborts the wait (the agent may still carry the operation out). */
  signal?: AbortSignal;
}

/** Methods that may wait for a PIN entry (longer timeout; the prepared PIN window is armed by them). */
const PIN_METHODS: ReadonlySet<string> = new Set([
  'cps.getActivities',
  'cps.verifyPin',
  'cps.changePin',
  'cps.unblockPin',
  'cps.authenticate',
  'cps.sign',
  'cps.decrypt',
]);

const AGENT_EVENTS: ReadonlySet<string> = new Set<AgentEventName>(['readers.changed', 'card.inserted', 'card.removed', 'pcsc.status']);

type Listener<E extends keyof AgentEventMap> = (payload: AgentEventMap[E]) => void;

/** Only `http(s)` URLs on a loopback host may reach a popup we opened: never `javascript:` or another site. */
function isAgentPageUrl(url: unknown): url is string {
  if (typeof url !== 'string') return false;
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
  } catch {
    return false;
  }
}

function withoutUndefined<T extends object>(params: T): T {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as T;
}

function bytesOrBase64(value: string | Uint8Array, what: string): string {
  return typeof value === 'string' ? value : toBase64(asBytes(value, what));
}

export interface CpsApi {
  getIdentity(params?: ReaderParams, options?: CallOptions): Promise<CpsIdentity>;
  getCertificates(params?: ReaderParams, options?: CallOptions): Promise<CpsCertificates>;
  getActivities(params?: ActivitiesParams, options?: CallOptions): Promise<CpsActivity[]>;
  pinStatus(params?: ReaderParams, options?: CallOptions): Promise<PinStatus>;
  verifyPin(params?: VerifyPinParams, options?: CallOptions): Promise<VerifiedResult>;
  changePin(params?: ChangePinParams, options?: CallOptions): Promise<OkResult>;
  unblockPin(params?: UnblockPinParams, options?: CallOptions): Promise<OkResult>;
  logout(params?: ReaderParams, options?: CallOptions): Promise<OkResult>;
  authenticate(params: AuthenticateParams, options?: CallOptions): Promise<AuthenticationToken>;
  sign(params: SignParams, options?: CallOptions): Promise<SignResult>;
  decrypt(params: DecryptParams, options?: CallOptions): Promise<DecryptResult>;
}

export interface VitaleApi {
  read(params?: ReaderParams, options?: CallOptions): Promise<VitaleReadResult>;
}

export class AgentClient {
  readonly url: string;
  /** `cps.*` methods. */
  readonly cps: CpsApi;
  /** `vitale.*` methods. */
  readonly vitale: VitaleApi;

  private readonly WebSocketImpl: WebSocketConstructor;
  private readonly reconnectOptions: Required<ReconnectOptions> | false;
  private readonly timeoutMs: number;
  private readonly pinTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly pinWindows: PinWindows;
  private readonly listeners = new Map<keyof AgentEventMap, Set<(payload: never) => void>>();
  /** Request ids still waiting for their answer (pin.prompt routing). */
  private readonly inFlight = new Set<string>();
  /** Those of them that may wait for a PIN entry. */
  private readonly pinInFlight = new Set<string>();

  private lang: Lang;
  private helloParams: HelloParams | undefined;
  /** undefined: never subscribed; 'all': every event; else the union of the events asked for. */
  private subscription: 'all' | Set<AgentEventName> | undefined;
  private channel: RpcChannel | undefined;
  private connectionState: ConnectionState = 'connecting';
  private callerKind: CallerKind | undefined;
  private nextId = 0;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private closing = false;

  private constructor(options: AgentClientOptions) {
    this.url = options.url ?? DEFAULT_AGENT_URL;
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocketImpl) throw new TypeError('no WebSocket available: in Node pass { WebSocket } from the "ws" package');
    this.WebSocketImpl = WebSocketImpl;
    this.lang = options.lang ?? 'fr';
    this.reconnectOptions =
      options.reconnect === false
        ? false
        : { initialDelayMs: options.reconnect?.initialDelayMs ?? 500, maxDelayMs: options.reconnect?.maxDelayMs ?? 30_000 };
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.pinTimeoutMs = options.pinTimeoutMs ?? 150_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.pinWindows = new PinWindows(options.openWindow ?? defaultOpenWindow, options.onPinPrompt);
    if (options.token !== undefined || options.appId !== undefined || options.lang !== undefined) {
      this.helloParams = withoutUndefined({ token: options.token, appId: options.appId, lang: options.lang });
    }

    const call = <T>(method: string, params: object | undefined, options?: CallOptions) =>
      this.call<T>(method, params === undefined ? {} : withoutUndefined(params), options);
    this.cps = {
      getIdentity: (params, options) => call('cps.getIdentity', params, options),
      getCertificates: (params, options) => call('cps.getCertificates', params, options),
      getActivities: (params, options) => call('cps.getActivities', params, options),
      pinStatus: (params, options) => call('cps.pinStatus', params, options),
      verifyPin: (params, options) => call('cps.verifyPin', params, options),
      changePin: (params, options) => call('cps.changePin', params, options),
      unblockPin: (params, options) => call('cps.unblockPin', params, options),
      logout: (params, options) => call('cps.logout', params, options),
      authenticate: (params, options) => call('cps.authenticate', params, options),
      sign: (params, options) => call('cps.sign', { ...params, hash: bytesOrBase64(params.hash, 'hash') }, options),
      decrypt: (params, options) => call('cps.decrypt', { ...params, ciphertext: bytesOrBase64(params.ciphertext, 'ciphertext') }, options),
    };
    this.vitale = {
      read: (params, options) => call('vitale.read', params, options),
    };
  }

  /**
   * Connects to the agent and, when `token`, `appId` or `lang` is given, says `agent.hello`.
   * Rejects with AgentUnreachableError when no connection can be opened, or with the agent's
   * error when `agent.hello` is refused (UnauthorizedError for a wrong token).
   */
  static async connect(options: AgentClientOptions = {}): Promise<AgentClient> {
    const client = new AgentClient(options);
    await client.start();
    return client;
  }

  /** `connecting`, `open`, `reconnecting` or `closed`. */
  get state(): ConnectionState {
    return this.connectionState;
  }

  /** What the agent answered to the last `agent.hello` (undefined before any). */
  get caller(): CallerKind | undefined {
    return this.callerKind;
  }

  // --- the contract's methods -----------------------------------------------------------------

  info(options?: CallOptions): Promise<AgentInfo> {
    return this.call('agent.info', undefined, options);
  }

  /** Says hello again (e.g. to switch `lang`); the parameters are kept and re-sent after a reconnect. */
  async hello(params: HelloParams = {}, options?: CallOptions): Promise<HelloResult> {
    const merged = withoutUndefined({ ...this.helloParams, ...params });
    const result = await this.call<HelloResult>('agent.hello', merged, options);
    this.helloParams = merged;
    if (merged.lang) this.lang = merged.lang;
    this.callerKind = result.caller;
    return result;
  }

  pair(scopes: readonly Scope[], options?: CallOptions): Promise<PairResult> {
    return this.call('agent.pair', { scopes: [...scopes] }, options);
  }

  /**
   * Asks for pairing, hands the 6-digit code to the page (`onCode`) and polls `agent.info` until
   * the user approved it in the agent (`caller` becomes `origin`). Rejects with TimeoutError once
   * the code expired.
   */
  pairAndWait(scopes: readonly Scope[], options: PairAndWaitOptions): Promise<AgentInfo> {
    return pairAndWait(this, scopes, options);
  }

  /**
   * Subscribes to the agent's events (all when `events` is omitted). Subscriptions add up: the
   * agent is always sent the union of what was asked, and it is sent again after a reconnect.
   */
  async subscribe(events?: readonly AgentEventName[], options?: CallOptions): Promise<SubscribeResult> {
    const next = this.subscriptionWith(events);
    const result = await this.call<SubscribeResult>('agent.subscribe', this.subscribeParams(next), options);
    this.subscription = next;
    return result;
  }

  readers(options?: CallOptions): Promise<ReaderInfo[]> {
    return this.call('readers.list', undefined, options);
  }

  /** Any method by name (future additions to the protocol). */
  async call<T = unknown>(method: string, params?: unknown, options: CallOptions = {}): Promise<T> {
    const channel = this.channel;
    if (!channel || this.connectionState !== 'open') {
      throw new ConnectionLostError(localMessage(this.connectionState === 'closed' ? 'closed' : 'notConnected', this.lang), { data: { method } });
    }
    const id = ++this.nextId;
    const key = String(id);
    const pinCapable = PIN_METHODS.has(method);
    const timeoutMs = options.timeoutMs ?? (pinCapable ? this.pinTimeoutMs : this.timeoutMs);
    this.inFlight.add(key);
    if (pinCapable) {
      this.pinInFlight.add(key);
      this.pinWindows.callStarted(key);
    }
    try {
      return (await channel.call(id, method, params, { timeoutMs, signal: options.signal })) as T;
    } finally {
      this.inFlight.delete(key);
      this.pinInFlight.delete(key);
      this.pinWindows.callSettled(key);
    }
  }

  // --- events ---------------------------------------------------------------------------------

  /**
   * Listens to `readers.changed`, `card.inserted`, `card.removed`, `pcsc.status` (after
   * `subscribe()`), `pin.prompt` and `connection` (state changes). Returns the unsubscribe function.
   */
  on<E extends keyof AgentEventMap>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => this.off(event, listener);
  }

  off<E extends keyof AgentEventMap>(event: E, listener: Listener<E>): void {
    this.listeners.get(event)?.delete(listener as (payload: never) => void);
  }

  // --- PIN page -------------------------------------------------------------------------------

  /**
   * Opens a blank window for the agent's PIN page. Call it synchronously in the user's click
   * handler (browsers block popups opened after an await), then start the call: when the agent
   * sends `pin.prompt`, the window goes to the PIN page; it closes when the call settles (also
   * when no PIN was needed). Null when no window could be opened.
   */
  preparePinWindow(): PreparedPinWindow | null {
    return this.pinWindows.prepare();
  }

  /** Closes the connection for good; pending calls fail with ConnectionLostError. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const channel = this.channel;
    this.channel = undefined;
    channel?.close(1000, 'client closed');
    this.pinWindows.closeAll();
    this.setState({ state: 'closed' });
  }

  // --- connection -----------------------------------------------------------------------------

  private async start(): Promise<void> {
    let channel: RpcChannel;
    try {
      channel = await this.openChannel();
    } catch (error) {
      this.closing = true;
      this.setState({ state: 'closed' });
      throw new AgentUnreachableError(localMessage('unreachable', this.lang), { data: { url: this.url }, cause: error });
    }
    try {
      await this.handshake(channel);
    } catch (error) {
      this.closing = true;
      channel.close(1000, 'hello refused');
      this.setState({ state: 'closed' });
      throw error;
    }
    this.channel = channel;
    this.setState({ state: 'open' });
  }

  private async openChannel(): Promise<RpcChannel> {
    const socket = await RpcChannel.open(this.WebSocketImpl, this.url, this.connectTimeoutMs);
    let channel: RpcChannel | undefined = undefined;
    channel = new RpcChannel(
      socket,
      {
        notification: (method, params) => this.onNotification(method, params),
        closed: () => {
          if (channel) this.onChannelClosed(channel);
        },
      },
      () => this.lang,
    );
    return channel;
  }

  /** hello (when configured) and the subscriptions, on a fresh socket, before any other call. */
  private async handshake(channel: RpcChannel): Promise<void> {
    if (this.helloParams) {
      const result = (await channel.call(++this.nextId, 'agent.hello', this.helloParams, { timeoutMs: this.timeoutMs })) as HelloResult;
      this.callerKind = result.caller;
    }
    if (this.subscription !== undefined) {
      await channel.call(++this.nextId, 'agent.subscribe', this.subscribeParams(this.subscription), { timeoutMs: this.timeoutMs });
    }
  }

  private onChannelClosed(channel: RpcChannel): void {
    if (channel !== this.channel) return; // a socket still in its handshake, or already replaced
    this.channel = undefined;
    if (this.closing) return;
    const error = new ConnectionLostError(localMessage('connectionLost', this.lang));
    if (this.reconnectOptions === false) {
      this.closing = true;
      this.pinWindows.closeAll();
      this.setState({ state: 'closed', error });
      return;
    }
    this.attempt = 0;
    this.scheduleReconnect(error);
  }

  private scheduleReconnect(error: Error): void {
    if (this.closing || this.reconnectOptions === false) return;
    this.attempt += 1;
    const { initialDelayMs, maxDelayMs } = this.reconnectOptions;
    const delayMs = Math.min(initialDelayMs * 2 ** (this.attempt - 1), maxDelayMs);
    this.setState({ state: 'reconnecting', error, attempt: this.attempt, delayMs });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.reconnect();
    }, delayMs);
  }

  private async reconnect(): Promise<void> {
    let channel: RpcChannel;
    try {
      channel = await this.openChannel();
    } catch (error) {
      this.scheduleReconnect(new AgentUnreachableError(localMessage('unreachable', this.lang), { data: { url: this.url }, cause: error }));
      return;
    }
    if (this.closing) {
      channel.close(1000, 'client closed');
      return;
    }
    try {
      await this.handshake(channel);
    } catch (error) {
      channel.close(1000, 'handshake failed');
      const transient = !(error instanceof AgentClientError) || error instanceof ConnectionLostError || error instanceof TimeoutError;
      if (transient) {
        this.scheduleReconnect(error as Error);
      } else {
        // The agent answered and refused (e.g. UNAUTHORIZED: the token changed): retrying will not help.
        this.closing = true;
        this.pinWindows.closeAll();
        this.setState({ state: 'closed', error: error as Error });
      }
      return;
    }
    if (this.closing) {
      channel.close(1000, 'client closed');
      return;
    }
    this.channel = channel;
    this.attempt = 0;
    this.setState({ state: 'open' });
  }

  private setState(event: ConnectionEvent): void {
    this.connectionState = event.state;
    this.emit('connection', event);
  }

  private subscriptionWith(events: readonly AgentEventName[] | undefined): 'all' | Set<AgentEventName> {
    if (events === undefined || this.subscription === 'all') return 'all';
    return new Set([...(this.subscription ?? []), ...events]);
  }

  private subscribeParams(subscription: 'all' | Set<AgentEventName>): { events?: AgentEventName[] } {
    return subscription === 'all' ? {} : { events: [...subscription] };
  }

  private onNotification(method: string, params: unknown): void {
    if (method === 'pin.prompt') {
      const prompt = params as PinPrompt;
      if (typeof prompt !== 'object' || prompt === null || !isAgentPageUrl(prompt.url)) return;
      // The contract's requestId may be the JSON-RPC id of the call or the prompt's own id (as the
      // agent's one-time URL has it): in the second case the prompt belongs to a pending call
      // that may need the PIN, usually the only one.
      const requestId = String(prompt.requestId);
      this.pinWindows.prompt(prompt, this.inFlight.has(requestId) ? [requestId] : [...this.pinInFlight]);
      this.emit('pin.prompt', prompt);
      return;
    }
    if (AGENT_EVENTS.has(method) && typeof params === 'object' && params !== null) {
      this.emit(method as AgentEventName, params as AgentEventMap[AgentEventName]);
    }
  }

  private emit<E extends keyof AgentEventMap>(event: E, payload: AgentEventMap[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<E>)(payload);
      } catch (error) {
        // A listener's bug must not break the connection.
        console.error(`cardbridge agent-client: "${event}" listener failed`, error);
      }
    }
  }
}
