import type { IncomingMessage, ServerResponse } from 'node:http';

// Who is calling the agent, as the connection layer established it (agent-protocol.md "Who may
// call what"). Built once per WebSocket connection from the upgrade request — the origin comes
// from the browser's Origin header, never from a message — and handed to every method.

export const SCOPES = ['cps.read', 'cps.sign', 'cps.authenticate', 'cps.decrypt', 'vitale.read'] as const;
export type Scope = (typeof SCOPES)[number];

export type CallerKind = 'desktop' | 'origin' | 'unpaired' | 'local';

export type Lang = 'fr' | 'en';

export interface CallerContext {
  /** Unique per WebSocket connection: PIN verified state and queued work belong to it. */
  readonly connectionId: string;
  readonly kind: CallerKind;
  /**
   * The origin bound into authentication tokens and audit lines: the ASCII serialisation of the
   * browser's Origin (`https://app.example:8443`) or `app:<appId>` for desktop callers.
   */
  readonly origin: string;
  /** Scopes granted at pairing (browser origins); every scope for desktop callers. */
  readonly scopes: ReadonlySet<Scope>;
  readonly lang: Lang;
  /** Sends a JSON-RPC notification to this connection only (e.g. `pin.prompt`). */
  notify(method: string, params: unknown): void;
  /** Aborted when the connection closes: queued work is dropped, PIN prompts withdrawn. */
  readonly signal: AbortSignal;
}

/** The card side of the agent, as the JSON-RPC layer sees it. */
export interface CardService {
  /** Runs a card method (`readers.list`, `cps.*`, `vitale.read`) with already-authorised params. */
  call(method: string, params: unknown, caller: CallerContext): Promise<unknown>;
  /** Subscribes to `readers.changed`, `card.inserted`, `card.removed`, `pcsc.status`. */
  onEvent(listener: (event: string, params: unknown) => void): () => void;
  /**
   * Serves the card side's own pages on the agent's HTTP port (the PIN page under `/pin/`).
   * Resolves true when it answered the request. The connection layer has already checked Host.
   */
  handleHttp(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean>;
  /** Called when a connection closes: drop its queued work, withdraw its PIN prompts, end its PIN state. */
  connectionClosed(connectionId: string): void;
  /** `pcsc: "ok" | "unavailable"` for agent.info. */
  pcscStatus(): 'ok' | 'unavailable';
  close(): Promise<void>;
}
