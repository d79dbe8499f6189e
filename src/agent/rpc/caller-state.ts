// One WebSocket connection as the RPC layer sees it: who the caller is (from the upgrade request,
// then agent.hello), its language, its subscriptions and its rate limits. The caller's kind and
// scopes are read from the pairing store at each call, so an approval or a revocation takes
// effect on open connections at their next request.
import { SCOPES, type CallerContext, type CallerKind, type Lang, type Scope } from '../caller.js';
import type { AgentEventName } from './schemas.js';
import { SlidingWindowLimiter, type Clock } from './rate-limit.js';

export const PAIR_LIMIT_PER_MINUTE = 5;
export const DECRYPT_LIMIT_PER_MINUTE = 10;
export const DEFAULT_APP_ID = 'unknown';

const ALL_SCOPES: ReadonlySet<Scope> = new Set(SCOPES);
const NO_SCOPES: ReadonlySet<Scope> = new Set();

export interface PairedScopes {
  scopesOf(origin: string): readonly Scope[] | undefined;
}

export interface CallerStateInit {
  readonly id: string;
  /** The upgrade request's Origin header, exactly as sent; null when there was none. */
  readonly originHeader: string | null;
  /** Authenticated on the upgrade (`Authorization: Bearer <local token>`). */
  readonly desktop: boolean;
  readonly appId?: string;
  readonly pairings: PairedScopes;
  readonly notify: (method: string, params: unknown) => void;
  readonly now?: Clock;
}

export class CallerState {
  readonly id: string;
  readonly originHeader: string | null;
  lang: Lang = 'fr';
  subscriptions: ReadonlySet<AgentEventName> | null = null;
  inFlight = 0;
  readonly abort = new AbortController();
  readonly pairLimiter: SlidingWindowLimiter;
  readonly decryptLimiter: SlidingWindowLimiter;
  private desktop: boolean;
  private appId: string;
  private readonly pairings: PairedScopes;
  private readonly notifyFn: (method: string, params: unknown) => void;

  constructor(init: CallerStateInit) {
    this.id = init.id;
    this.originHeader = init.originHeader;
    this.desktop = init.desktop && init.originHeader === null;
    this.appId = init.appId ?? DEFAULT_APP_ID;
    this.pairings = init.pairings;
    this.notifyFn = init.notify;
    const now = init.now ?? Date.now;
    this.pairLimiter = new SlidingWindowLimiter(PAIR_LIMIT_PER_MINUTE, 60_000, now);
    this.decryptLimiter = new SlidingWindowLimiter(DECRYPT_LIMIT_PER_MINUTE, 60_000, now);
  }

  /** A browser page (any Origin header): never a PIN value, never the desktop methods. */
  get isBrowser(): boolean {
    return this.originHeader !== null;
  }

  kind(): CallerKind {
    if (this.originHeader !== null) return this.pairings.scopesOf(this.originHeader) ? 'origin' : 'unpaired';
    return this.desktop ? 'desktop' : 'local';
  }

  scopes(): ReadonlySet<Scope> {
    if (this.originHeader !== null) {
      const granted = this.pairings.scopesOf(this.originHeader);
      return granted ? new Set(granted) : NO_SCOPES;
    }
    return this.desktop ? ALL_SCOPES : NO_SCOPES;
  }

  /** The origin bound into tokens and audit lines: the Origin header, `app:<appId>`, or '' (local). */
  origin(): string {
    if (this.originHeader !== null) return this.originHeader;
    return this.desktop ? `app:${this.appId}` : '';
  }

  /** The local token was presented (agent.hello): only ever for a caller without Origin. */
  authenticateDesktop(appId: string | undefined): void {
    if (this.originHeader !== null) throw new Error('a browser caller cannot become a desktop caller');
    this.desktop = true;
    if (appId !== undefined) this.appId = appId;
  }

  setAppId(appId: string): void {
    if (this.desktop) this.appId = appId;
  }

  /** A snapshot for one call. */
  context(): CallerContext {
    const notify = this.notifyFn;
    return {
      connectionId: this.id,
      kind: this.kind(),
      origin: this.origin(),
      scopes: this.scopes(),
      lang: this.lang,
      notify: (method, params) => notify(method, params),
      signal: this.abort.signal,
    };
  }
}
