// JSON-RPC 2.0 framing of the agent protocol: what a text frame may be, and the three kinds of
// frame the agent sends (result, error, notification). Batches are refused with -32600: every
// request is its own frame, which keeps rate limits and ordering per message.
import type { Lang } from '../caller.js';
import { RPC } from '../errors.js';

export type RpcId = string | number | null;

export interface RpcRequest {
  readonly id: RpcId;
  readonly method: string;
  readonly params: unknown;
}

export interface RpcErrorObject {
  readonly code: number;
  readonly message: string;
  readonly data: { readonly code: string } & Record<string, unknown>;
}

/** Errors of the framing itself, which have no AgentErrorCode of their own: `data.code` additions. */
export type FramingErrorCode = 'PARSE_ERROR' | 'INVALID_REQUEST';

const FRAMING_MESSAGES: Record<FramingErrorCode, Record<Lang, string>> = {
  PARSE_ERROR: { fr: "Message illisible : ce n'est pas du JSON.", en: 'Unreadable message: not JSON.' },
  INVALID_REQUEST: { fr: "Ce message n'est pas une requête JSON-RPC 2.0 valable.", en: 'Not a valid JSON-RPC 2.0 request.' },
};

export function framingError(code: FramingErrorCode, lang: Lang, details: Record<string, unknown> = {}): RpcErrorObject {
  return {
    code: code === 'PARSE_ERROR' ? RPC.PARSE_ERROR : RPC.INVALID_REQUEST,
    message: FRAMING_MESSAGES[code][lang],
    data: { ...details, code },
  };
}

export type ParsedFrame =
  | { readonly kind: 'request'; readonly request: RpcRequest }
  /** A JSON-RPC notification from the client (no `id`): never answered, never executed. */
  | { readonly kind: 'notification'; readonly method: string }
  | { readonly kind: 'invalid'; readonly id: RpcId; readonly error: FramingErrorCode; readonly reason: string };

const MAX_ID_LENGTH = 128;
const MAX_METHOD_LENGTH = 64;

function isValidId(id: unknown): id is RpcId {
  return id === null || (typeof id === 'string' && id.length <= MAX_ID_LENGTH) || (typeof id === 'number' && Number.isFinite(id));
}

/** Reads one text frame. Never throws. */
export function parseFrame(text: string): ParsedFrame {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { kind: 'invalid', id: null, error: 'PARSE_ERROR', reason: 'NOT_JSON' };
  }
  if (Array.isArray(message)) return { kind: 'invalid', id: null, error: 'INVALID_REQUEST', reason: 'BATCH_NOT_SUPPORTED' };
  if (typeof message !== 'object' || message === null) return { kind: 'invalid', id: null, error: 'INVALID_REQUEST', reason: 'NOT_AN_OBJECT' };
  const m = message as Record<string, unknown>;
  const hasId = Object.hasOwn(m, 'id');
  const id = hasId && isValidId(m.id) ? m.id : null;
  if (hasId && !isValidId(m.id)) return { kind: 'invalid', id: null, error: 'INVALID_REQUEST', reason: 'BAD_ID' };
  if (m.jsonrpc !== '2.0') return { kind: 'invalid', id, error: 'INVALID_REQUEST', reason: 'NOT_JSONRPC_2' };
  if (typeof m.method !== 'string' || m.method.length === 0 || m.method.length > MAX_METHOD_LENGTH) {
    return { kind: 'invalid', id, error: 'INVALID_REQUEST', reason: 'BAD_METHOD' };
  }
  if (m.params !== undefined && (typeof m.params !== 'object' || m.params === null)) {
    return { kind: 'invalid', id, error: 'INVALID_REQUEST', reason: 'BAD_PARAMS_TYPE' };
  }
  if (!hasId) return { kind: 'notification', method: m.method };
  return { kind: 'request', request: { id, method: m.method, params: m.params } };
}

export function resultFrame(id: RpcId, result: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', id, result: result === undefined ? null : result });
}

export function errorFrame(id: RpcId, error: RpcErrorObject): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error });
}

export function notificationFrame(method: string, params: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', method, params });
}
