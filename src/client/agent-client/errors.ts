// Errors of the agent client, one class per stable code (agent-protocol.md "Errors"): callers
// switch on `instanceof` or on `code`, never on messages. Every class carries the JSON-RPC code
// it came with (`rpcCode`, undefined for errors the client raises itself) and the error's `data`
// object as the agent sent it (details such as `triesRemaining` or `sw`).
import type { Lang } from './types.js';

/** The contract's `data.code` values, plus the two the client raises on its own. */
export type AgentErrorCode =
  | 'ORIGIN_NOT_PAIRED'
  | 'SCOPE_NOT_GRANTED'
  | 'UNAUTHORIZED'
  | 'INVALID_PARAMS'
  | 'METHOD_NOT_FOUND'
  | 'PCSC_UNAVAILABLE'
  | 'READER_NOT_FOUND'
  | 'CARD_ABSENT'
  | 'CARD_AMBIGUOUS'
  | 'CARD_REMOVED'
  | 'UNSUPPORTED_CARD'
  | 'UNSUPPORTED_ALGORITHM'
  | 'PIN_REQUIRED'
  | 'PIN_INCORRECT'
  | 'PIN_BLOCKED'
  | 'PIN_LAST_TRY'
  | 'PIN_VALUE_NOT_ALLOWED'
  | 'DECRYPT_FAILED'
  | 'RATE_LIMITED'
  | 'USER_CANCELLED'
  | 'TIMEOUT'
  | 'BUSY'
  | 'CARD_ERROR'
  | 'INTERNAL';

export type ClientErrorCode = AgentErrorCode | 'CONNECTION_LOST' | 'AGENT_UNREACHABLE';

export interface AgentClientErrorInit {
  /** The JSON-RPC error code (-32xxx), undefined when the client raised the error itself. */
  rpcCode?: number | undefined;
  data?: Record<string, unknown>;
  cause?: unknown;
}

export class AgentClientError extends Error {
  override name = 'AgentClientError';
  /** Stable: the contract's `data.code` (or CONNECTION_LOST / AGENT_UNREACHABLE). */
  readonly code: string;
  readonly rpcCode: number | undefined;
  /** The error's `data` object, `code` included. */
  readonly data: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, init: AgentClientErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.rpcCode = init.rpcCode;
    this.data = { ...init.data, code };
  }
}

/** A class per known code: constructed with a message only, its code comes from the class (`CardAbsentError.CODE`). */
export abstract class KnownAgentError extends AgentClientError {
  constructor(message?: string, init: AgentClientErrorInit = {}) {
    const code = (new.target as unknown as { readonly CODE: string }).CODE;
    super(code, message ?? code, init);
  }
}

// One subclass per code. `declare readonly code` narrows the type without a runtime field.
export class OriginNotPairedError extends KnownAgentError { static readonly CODE = 'ORIGIN_NOT_PAIRED'; override name = 'OriginNotPairedError'; declare readonly code: 'ORIGIN_NOT_PAIRED'; }
export class ScopeNotGrantedError extends KnownAgentError { static readonly CODE = 'SCOPE_NOT_GRANTED'; override name = 'ScopeNotGrantedError'; declare readonly code: 'SCOPE_NOT_GRANTED'; }
export class UnauthorizedError extends KnownAgentError { static readonly CODE = 'UNAUTHORIZED'; override name = 'UnauthorizedError'; declare readonly code: 'UNAUTHORIZED'; }
export class InvalidParamsError extends KnownAgentError { static readonly CODE = 'INVALID_PARAMS'; override name = 'InvalidParamsError'; declare readonly code: 'INVALID_PARAMS'; }
export class MethodNotFoundError extends KnownAgentError { static readonly CODE = 'METHOD_NOT_FOUND'; override name = 'MethodNotFoundError'; declare readonly code: 'METHOD_NOT_FOUND'; }
export class PcscUnavailableError extends KnownAgentError { static readonly CODE = 'PCSC_UNAVAILABLE'; override name = 'PcscUnavailableError'; declare readonly code: 'PCSC_UNAVAILABLE'; }
export class ReaderNotFoundError extends KnownAgentError { static readonly CODE = 'READER_NOT_FOUND'; override name = 'ReaderNotFoundError'; declare readonly code: 'READER_NOT_FOUND'; }
export class CardAbsentError extends KnownAgentError { static readonly CODE = 'CARD_ABSENT'; override name = 'CardAbsentError'; declare readonly code: 'CARD_ABSENT'; }
export class CardAmbiguousError extends KnownAgentError { static readonly CODE = 'CARD_AMBIGUOUS'; override name = 'CardAmbiguousError'; declare readonly code: 'CARD_AMBIGUOUS'; }
export class CardRemovedError extends KnownAgentError { static readonly CODE = 'CARD_REMOVED'; override name = 'CardRemovedError'; declare readonly code: 'CARD_REMOVED'; }
export class UnsupportedCardError extends KnownAgentError { static readonly CODE = 'UNSUPPORTED_CARD'; override name = 'UnsupportedCardError'; declare readonly code: 'UNSUPPORTED_CARD'; }
export class UnsupportedAlgorithmError extends KnownAgentError { static readonly CODE = 'UNSUPPORTED_ALGORITHM'; override name = 'UnsupportedAlgorithmError'; declare readonly code: 'UNSUPPORTED_ALGORITHM'; }
export class PinRequiredError extends KnownAgentError { static readonly CODE = 'PIN_REQUIRED'; override name = 'PinRequiredError'; declare readonly code: 'PIN_REQUIRED'; }
export class PinBlockedError extends KnownAgentError { static readonly CODE = 'PIN_BLOCKED'; override name = 'PinBlockedError'; declare readonly code: 'PIN_BLOCKED'; }
export class PinLastTryError extends KnownAgentError { static readonly CODE = 'PIN_LAST_TRY'; override name = 'PinLastTryError'; declare readonly code: 'PIN_LAST_TRY'; }
export class PinValueNotAllowedError extends KnownAgentError { static readonly CODE = 'PIN_VALUE_NOT_ALLOWED'; override name = 'PinValueNotAllowedError'; declare readonly code: 'PIN_VALUE_NOT_ALLOWED'; }
export class DecryptFailedError extends KnownAgentError { static readonly CODE = 'DECRYPT_FAILED'; override name = 'DecryptFailedError'; declare readonly code: 'DECRYPT_FAILED'; }
export class RateLimitedError extends KnownAgentError { static readonly CODE = 'RATE_LIMITED'; override name = 'RateLimitedError'; declare readonly code: 'RATE_LIMITED'; }
export class UserCancelledError extends KnownAgentError { static readonly CODE = 'USER_CANCELLED'; override name = 'UserCancelledError'; declare readonly code: 'USER_CANCELLED'; }
/** The agent's TIMEOUT (PIN page left unanswered), or the client's own per-call timeout (`data.source: 'client'`). */
export class TimeoutError extends KnownAgentError { static readonly CODE = 'TIMEOUT'; override name = 'TimeoutError'; declare readonly code: 'TIMEOUT'; }
export class BusyError extends KnownAgentError { static readonly CODE = 'BUSY'; override name = 'BusyError'; declare readonly code: 'BUSY'; }
export class InternalError extends KnownAgentError { static readonly CODE = 'INTERNAL'; override name = 'InternalError'; declare readonly code: 'INTERNAL'; }

export class PinIncorrectError extends KnownAgentError {
  static readonly CODE = 'PIN_INCORRECT';
  override name = 'PinIncorrectError';
  declare readonly code: 'PIN_INCORRECT';
  /** Tries left before the PIN blocks, as the agent reported them. */
  get triesRemaining(): number | undefined {
    const value = this.data.triesRemaining;
    return typeof value === 'number' ? value : undefined;
  }
}

export class CardError extends KnownAgentError {
  static readonly CODE = 'CARD_ERROR';
  override name = 'CardError';
  declare readonly code: 'CARD_ERROR';
  /** The card's status word (hex), as the agent reported it. */
  get sw(): string | undefined {
    const value = this.data.sw;
    return typeof value === 'string' ? value : undefined;
  }
}

/** The connection to the agent closed while the call was pending, or the client is not connected. */
export class ConnectionLostError extends KnownAgentError { static readonly CODE = 'CONNECTION_LOST'; override name = 'ConnectionLostError'; declare readonly code: 'CONNECTION_LOST'; }

/** The agent could not be reached (not running, wrong port, refused the connection). */
export class AgentUnreachableError extends KnownAgentError { static readonly CODE = 'AGENT_UNREACHABLE'; override name = 'AgentUnreachableError'; declare readonly code: 'AGENT_UNREACHABLE'; }

type ErrorClass = (new (message?: string, init?: AgentClientErrorInit) => KnownAgentError) & { readonly CODE: string };

const CLASSES: Readonly<Record<AgentErrorCode, ErrorClass>> = {
  ORIGIN_NOT_PAIRED: OriginNotPairedError,
  SCOPE_NOT_GRANTED: ScopeNotGrantedError,
  UNAUTHORIZED: UnauthorizedError,
  INVALID_PARAMS: InvalidParamsError,
  METHOD_NOT_FOUND: MethodNotFoundError,
  PCSC_UNAVAILABLE: PcscUnavailableError,
  READER_NOT_FOUND: ReaderNotFoundError,
  CARD_ABSENT: CardAbsentError,
  CARD_AMBIGUOUS: CardAmbiguousError,
  CARD_REMOVED: CardRemovedError,
  UNSUPPORTED_CARD: UnsupportedCardError,
  UNSUPPORTED_ALGORITHM: UnsupportedAlgorithmError,
  PIN_REQUIRED: PinRequiredError,
  PIN_INCORRECT: PinIncorrectError,
  PIN_BLOCKED: PinBlockedError,
  PIN_LAST_TRY: PinLastTryError,
  PIN_VALUE_NOT_ALLOWED: PinValueNotAllowedError,
  DECRYPT_FAILED: DecryptFailedError,
  RATE_LIMITED: RateLimitedError,
  USER_CANCELLED: UserCancelledError,
  TIMEOUT: TimeoutError,
  BUSY: BusyError,
  CARD_ERROR: CardError,
  INTERNAL: InternalError,
};

export const AGENT_ERROR_CODES = Object.keys(CLASSES) as readonly AgentErrorCode[];

/** The class of a contract code (undefined for a code this version of the client does not know). */
export function errorClassOf(code: string): ErrorClass | undefined {
  return Object.hasOwn(CLASSES, code) ? CLASSES[code as AgentErrorCode] : undefined;
}

/** JSON-RPC codes without a `data.code` (a non-conforming or older agent): the closest contract code. */
function codeForRpc(rpcCode: number): string {
  switch (rpcCode) {
    case -32601:
      return 'METHOD_NOT_FOUND';
    case -32602:
      return 'INVALID_PARAMS';
    case -32600:
    case -32700:
      return 'INVALID_REQUEST';
    default:
      return 'INTERNAL';
  }
}

/** The error for a JSON-RPC `error` member. Unknown `data.code` values give a plain AgentClientError with that code. */
export function errorFromRpc(error: unknown): AgentClientError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: unknown; data?: unknown };
  const rpcCode = typeof e.code === 'number' ? e.code : undefined;
  const data = typeof e.data === 'object' && e.data !== null && !Array.isArray(e.data) ? (e.data as Record<string, unknown>) : {};
  const code = typeof data.code === 'string' && data.code !== '' ? data.code : codeForRpc(rpcCode ?? -32000);
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : code;
  const Class = errorClassOf(code);
  return Class ? new Class(message, { rpcCode, data }) : new AgentClientError(code, message, { rpcCode, data });
}

// --- the client's own errors, in the caller's language ----------------------------------------

const LOCAL_MESSAGES = {
  connectionLost: { fr: "La connexion à l'agent cardbridge a été perdue.", en: 'The connection to the cardbridge agent was lost.' },
  notConnected: { fr: "Pas de connexion à l'agent cardbridge (reconnexion en cours).", en: 'Not connected to the cardbridge agent (reconnecting).' },
  closed: { fr: "La connexion à l'agent cardbridge est fermée.", en: 'The connection to the cardbridge agent is closed.' },
  unreachable: { fr: "L'agent cardbridge est injoignable : est-il démarré sur ce poste ?", en: 'The cardbridge agent cannot be reached: is it running on this computer?' },
  timeout: { fr: "L'agent n'a pas répondu à temps.", en: 'The agent did not answer in time.' },
  tooLarge: { fr: 'Requête trop volumineuse pour le protocole de l’agent (1 Mio au plus).', en: 'Request too large for the agent protocol (1 MiB at most).' },
} as const;

export type LocalMessage = keyof typeof LOCAL_MESSAGES;

export function localMessage(key: LocalMessage, lang: Lang): string {
  return LOCAL_MESSAGES[key][lang];
}
