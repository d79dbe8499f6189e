// One trace: who did what to which DMP, when, in which access mode, with what result
// (dmp-service.md, "Traces"). Traces form chains: one per patient's DMP (`patient:<ins>`), so
// service nodes never serialise on a global chain, and one per practitioner for logins
// (`practitioner:<id>`).

export type TraceActorKind = 'practitioner' | 'patient' | 'establishment' | 'system';
export type TraceMode = 'normal' | 'bris_de_glace' | 'centre_15' | 'portal';
export type TraceResult = 'ok' | 'refused';

export interface TraceActor {
  kind: TraceActorKind;
  id: string;
  role?: string;
}

export interface TraceEntry {
  /** 'patient:<ins>' or 'practitioner:<id>' */
  chain: string;
  /** 1 for the first entry of a chain, then +1 each entry. */
  seq: number;
  /** ISO 8601 UTC, e.g. 2025-03-12T09:30:00.000Z */
  at: string;
  actor: TraceActor;
  mode: TraceMode;
  action: string;
  target?: string;
  result: TraceResult;
  detail?: Record<string, unknown>;
  /** The previous entry's hash; GENESIS_HASH for seq 1. */
  prevHash: string;
  /** SHA-256 (hex) of the canonical JSON of every other field. */
  hash: string;
}

export const TRACE_ACTOR_KINDS: readonly TraceActorKind[] = ['practitioner', 'patient', 'establishment', 'system'];
export const TRACE_MODES: readonly TraceMode[] = ['normal', 'bris_de_glace', 'centre_15', 'portal'];
export const TRACE_RESULTS: readonly TraceResult[] = ['ok', 'refused'];

/** prevHash of the first entry of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

const CHAIN = /^(patient|practitioner):[^\s]{1,200}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const HEX_HASH = /^[0-9a-f]{64}$/;

export function isTraceChainName(value: unknown): value is string {
  return typeof value === 'string' && CHAIN.test(value);
}

export function isIsoUtc(value: unknown): value is string {
  return typeof value === 'string' && ISO_UTC.test(value) && !Number.isNaN(Date.parse(value));
}

const oneOf = <T extends string>(values: readonly T[], value: unknown): value is T => typeof value === 'string' && (values as readonly string[]).includes(value);

function nonEmpty(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

/**
 * What is wrong with the shape of a trace (fields without `seq`/`prevHash`/`hash` when
 * `withChainFields` is false), or undefined when nothing is.
 */
export function traceShapeProblem(entry: unknown, withChainFields = true): string | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return 'not an object';
  const e = entry as Record<string, unknown>;
  if (!isTraceChainName(e.chain)) return 'chain must be patient:<ins> or practitioner:<id>';
  if (!isIsoUtc(e.at)) return 'at must be an ISO 8601 UTC time';
  const actor = e.actor as Record<string, unknown> | undefined;
  if (typeof actor !== 'object' || actor === null || !oneOf(TRACE_ACTOR_KINDS, actor.kind) || !nonEmpty(actor.id, 200)) {
    return 'actor must have a kind and an id';
  }
  if (actor.role !== undefined && !nonEmpty(actor.role, 200)) return 'actor.role must be a non-empty string';
  if (!oneOf(TRACE_MODES, e.mode)) return 'unknown mode';
  if (!nonEmpty(e.action, 100)) return 'action must be a non-empty string';
  if (e.target !== undefined && !nonEmpty(e.target, 500)) return 'target must be a non-empty string';
  if (!oneOf(TRACE_RESULTS, e.result)) return 'result must be ok or refused';
  if (e.detail !== undefined && (typeof e.detail !== 'object' || e.detail === null || Array.isArray(e.detail))) return 'detail must be an object';
  if (withChainFields) {
    if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 1) return 'seq must be a positive integer';
    if (typeof e.prevHash !== 'string' || !HEX_HASH.test(e.prevHash)) return 'prevHash must be 64 hex digits';
    if (typeof e.hash !== 'string' || !HEX_HASH.test(e.hash)) return 'hash must be 64 hex digits';
  }
  return undefined;
}
