// Turns whatever a method threw into the protocol's `error` member, in the caller's language.
// AgentErrors carry their own; errors of the card layers that use the protocol's codes (CardError,
// TransportError) keep their code and details; anything else is INTERNAL, with no message of its
// own going out (it may quote data).
import type { Lang } from '../caller.js';
import { AGENT_ERROR_CODES, AgentError, type AgentErrorCode, agentMessage } from '../errors.js';
import type { RpcErrorObject } from './jsonrpc.js';

const KNOWN = new Set<string>(AGENT_ERROR_CODES);

function isAgentErrorCode(code: unknown): code is AgentErrorCode {
  return typeof code === 'string' && KNOWN.has(code);
}

export function toRpcErrorObject(error: unknown, lang: Lang): RpcErrorObject {
  if (error instanceof AgentError) return error.toRpcError(lang);
  const e = error as { code?: unknown; messageIn?: unknown; toData?: unknown; triesRemaining?: unknown } | null;
  if (e !== null && typeof e === 'object' && isAgentErrorCode(e.code)) {
    const base = new AgentError(e.code).toRpcError(lang);
    const message = typeof e.messageIn === 'function' ? String((e.messageIn as (l: Lang) => unknown).call(e, lang)) : agentMessage(e.code, lang);
    const data = typeof e.toData === 'function' ? ((e.toData as () => Record<string, unknown>).call(e) ?? {}) : {};
    return { code: base.code, message, data: { ...data, code: e.code } };
  }
  return new AgentError('INTERNAL').toRpcError(lang);
}

/** The stable code of an error, for the audit log. */
export function errorCodeOf(error: unknown): string {
  if (error instanceof AgentError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return isAgentErrorCode(code) ? code : 'INTERNAL';
}
