// Who may call each method (agent-protocol.md "Who may call what", plus the scope of each card
// method) and whether the card service runs it.
import type { CallerKind, Scope } from '../caller.js';
import { AgentError } from '../errors.js';
import type { MethodName } from './schemas.js';

export type Access =
  /** Everyone who reached the agent: agent.info, agent.hello. */
  | { readonly kind: 'open' }
  /** Browser pages, paired or not (and desktop callers, who are refused by the method itself). */
  | { readonly kind: 'pair' }
  /** Desktop callers, and paired origins holding `scope` ('any' = at least one scope). */
  | { readonly kind: 'scoped'; readonly scope: Scope | 'any' }
  /** Desktop callers only (the local token): pairing administration. */
  | { readonly kind: 'desktop' };

export interface MethodSpec {
  readonly access: Access;
  /** Run by the CardService (else built into the connection layer). */
  readonly card: boolean;
}

const scoped = (scope: Scope | 'any', card = true): MethodSpec => ({ access: { kind: 'scoped', scope }, card });

export const METHODS: Record<MethodName, MethodSpec> = {
  'agent.info': { access: { kind: 'open' }, card: false },
  'agent.hello': { access: { kind: 'open' }, card: false },
  'agent.pair': { access: { kind: 'pair' }, card: false },
  'agent.subscribe': scoped('any', false),
  'agent.approvePairing': { access: { kind: 'desktop' }, card: false },
  'agent.denyPairing': { access: { kind: 'desktop' }, card: false },
  'agent.listPairings': { access: { kind: 'desktop' }, card: false },
  'agent.revokePairing': { access: { kind: 'desktop' }, card: false },

  'readers.list': scoped('any'),
  'cps.getIdentity': scoped('cps.read'),
  'cps.getCertificates': scoped('cps.read'),
  'cps.getActivities': scoped('cps.read'),
  'cps.pinStatus': scoped('cps.read'),
  'cps.verifyPin': scoped('cps.read'),
  'cps.changePin': scoped('cps.read'),
  'cps.unblockPin': scoped('cps.read'),
  'cps.logout': scoped('cps.read'),
  'cps.sign': scoped('cps.sign'),
  'cps.authenticate': scoped('cps.authenticate'),
  'cps.decrypt': scoped('cps.decrypt'),
  'vitale.read': scoped('vitale.read'),
};

export function methodSpec(method: string): MethodSpec | undefined {
  return Object.hasOwn(METHODS, method) ? METHODS[method as MethodName] : undefined;
}

/** Refuses the call (an AgentError to send back) or returns undefined when `caller` may make it. */
export function authorize(access: Access, caller: { readonly kind: CallerKind; readonly scopes: ReadonlySet<Scope> }): AgentError | undefined {
  if (access.kind === 'open') return undefined;
  if (access.kind === 'desktop') return caller.kind === 'desktop' ? undefined : new AgentError('UNAUTHORIZED');
  if (caller.kind === 'desktop') return undefined;
  if (caller.kind === 'local') return new AgentError('UNAUTHORIZED');
  if (access.kind === 'pair') return undefined;
  if (caller.kind === 'unpaired') return new AgentError('ORIGIN_NOT_PAIRED');
  if (access.scope === 'any') return caller.scopes.size > 0 ? undefined : new AgentError('SCOPE_NOT_GRANTED');
  return caller.scopes.has(access.scope) ? undefined : new AgentError('SCOPE_NOT_GRANTED', { scope: access.scope });
}

/**
 * True when a browser caller's params carry a PIN value: `pin`, `puk` or `newPin` members (whatever
 * their value) or `method: "value"`. Such calls are refused before validation, before the card.
 */
export function carriesPinValue(params: unknown): boolean {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return false;
  const p = params as Record<string, unknown>;
  return Object.hasOwn(p, 'pin') || Object.hasOwn(p, 'puk') || Object.hasOwn(p, 'newPin') || p.method === 'value';
}
