// The methods the connection layer answers itself: agent.info, agent.hello, agent.pair,
// agent.subscribe, and the pairing administration reserved to desktop callers
// (agent.approvePairing / denyPairing / listPairings / revokePairing, used by
// `cardbridge agent pair …`).
import type { Logger } from 'pino';
import type { CardService, Scope } from '../caller.js';
import { PROTOCOL_VERSION } from '../config.js';
import { AgentError } from '../errors.js';
import type { Secret } from '../security/local-secrets.js';
import { PairingError, type PairingStore } from '../security/pairing-store.js';
import type { CallerState } from './caller-state.js';
import { AGENT_EVENTS, type AgentEventName } from './schemas.js';

export interface BuiltinDeps {
  readonly cardService: CardService;
  readonly pairings: PairingStore;
  readonly token: Secret;
  readonly logger: Logger;
  readonly version: string;
}

type Params = Record<string, unknown> | undefined;

export type Builtin = (state: CallerState, params: Params, deps: BuiltinDeps) => unknown;

export const BUILTINS: Record<string, Builtin> = {
  'agent.info': (state, _params, deps) => ({
    version: deps.version,
    protocol: PROTOCOL_VERSION,
    pcsc: safePcscStatus(deps.cardService),
    caller: state.kind(),
  }),

  'agent.hello': (state, params, deps) => {
    const p = (params ?? {}) as { token?: string; appId?: string; lang?: 'fr' | 'en' };
    if (p.lang !== undefined) state.lang = p.lang;
    if (p.token !== undefined) {
      // A browser page never becomes a desktop caller, even holding the token.
      if (state.isBrowser || !deps.token.matches(p.token)) throw new AgentError('UNAUTHORIZED');
      state.authenticateDesktop(p.appId);
    } else if (p.appId !== undefined) {
      state.setAppId(p.appId);
    }
    return { caller: state.kind() };
  },

  'agent.pair': (state, params, deps) => {
    const origin = state.originHeader;
    if (origin === null) throw new AgentError('INVALID_PARAMS', { reason: 'NO_ORIGIN' });
    if (!state.pairLimiter.take()) throw new AgentError('RATE_LIMITED', { retryAfterMs: state.pairLimiter.retryAfterMs() });
    const scopes = (params as { scopes: Scope[] }).scopes;
    try {
      const pending = deps.pairings.request(origin, scopes);
      return { code: pending.code, expiresAt: pending.expiresAt };
    } catch (error) {
      if (error instanceof PairingError && error.reason === 'NOT_PAIRABLE') throw new AgentError('ORIGIN_NOT_PAIRED', { reason: 'ORIGIN_NOT_PAIRABLE' });
      if (error instanceof PairingError) throw new AgentError('RATE_LIMITED', { reason: 'TOO_MANY_PENDING' });
      throw error;
    }
  },

  'agent.subscribe': (state, params) => {
    const events = (params as { events?: AgentEventName[] } | undefined)?.events ?? AGENT_EVENTS;
    state.subscriptions = new Set(events);
    return { ok: true };
  },

  'agent.approvePairing': (_state, params, deps) => {
    const paired = deps.pairings.approve((params as { code: string }).code, 'desktop');
    if (!paired) throw new AgentError('INVALID_PARAMS', { path: 'code', reason: 'UNKNOWN_OR_EXPIRED_CODE' });
    return paired;
  },

  'agent.denyPairing': (_state, params, deps) => {
    const pending = deps.pairings.deny((params as { code: string }).code, 'desktop');
    if (!pending) throw new AgentError('INVALID_PARAMS', { path: 'code', reason: 'UNKNOWN_OR_EXPIRED_CODE' });
    return { ok: true };
  },

  'agent.listPairings': (_state, _params, deps) => ({ paired: deps.pairings.paired(), pending: deps.pairings.pending() }),

  'agent.revokePairing': (_state, params, deps) => ({ revoked: deps.pairings.revoke((params as { origin: string }).origin, 'desktop') }),
};

function safePcscStatus(cardService: CardService): 'ok' | 'unavailable' {
  try {
    return cardService.pcscStatus() === 'ok' ? 'ok' : 'unavailable';
  } catch {
    return 'unavailable';
  }
}
