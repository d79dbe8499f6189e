// Hash-chained, append-only traces. Each entry's hash covers all its other fields, prevHash
// included, so altering an entry breaks its hash, removing or reordering one breaks the next
// entry's prevHash or the seq sequence. What a chain alone cannot show is its last entries
// being cut off: pass the heads (last seq and hash of each chain, kept apart from the traces,
// e.g. in the patient's row or an export) to verifyChain to catch that too.
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { GENESIS_HASH, isIsoUtc, traceShapeProblem, type TraceEntry } from './trace-entry.js';

export type TraceFields = Omit<TraceEntry, 'seq' | 'at' | 'prevHash' | 'hash'> & {
  /** Default now. */
  at?: string | Date;
};

export type ChainVerification = { ok: true; count: number } | { ok: false; chain: string; seq: number; reason: string };

export interface ChainHead {
  seq: number;
  hash: string;
}

export class TraceError extends Error {
  override readonly name = 'TraceError';
}

/** SHA-256 (lower-case hex) of the canonical JSON of the entry without its `hash` field. */
export function computeTraceHash(entry: Omit<TraceEntry, 'hash'>): string {
  // A full entry passed by mistake must not hash its own hash.
  const { hash: _ignored, ...fields } = entry as TraceEntry;
  return createHash('sha256').update(canonicalJson(fields), 'utf8').digest('hex');
}

/** The entry that follows `previous` (or starts a chain), hashed. Throws TraceError on bad fields. */
export function nextTrace(previous: TraceEntry | undefined, fields: TraceFields): TraceEntry {
  if (previous !== undefined && previous.chain !== fields.chain) {
    throw new TraceError(`previous entry belongs to ${previous.chain}, not ${fields.chain}`);
  }
  const at = fields.at === undefined ? new Date().toISOString() : fields.at instanceof Date ? fields.at.toISOString() : fields.at;
  if (!isIsoUtc(at)) throw new TraceError('at must be an ISO 8601 UTC time');
  const entry: Omit<TraceEntry, 'hash'> = {
    chain: fields.chain,
    seq: previous === undefined ? 1 : previous.seq + 1,
    at,
    actor: fields.actor.role === undefined ? { kind: fields.actor.kind, id: fields.actor.id } : { ...fields.actor },
    mode: fields.mode,
    action: fields.action,
    result: fields.result,
    prevHash: previous === undefined ? GENESIS_HASH : previous.hash,
  };
  if (fields.target !== undefined) entry.target = fields.target;
  if (fields.detail !== undefined) {
    try {
      entry.detail = structuredClone(fields.detail); // the caller's object may change later; the trace must not
    } catch (error) {
      throw new TraceError(`detail is not plain JSON: ${(error as Error).message}`);
    }
  }
  const problem = traceShapeProblem(entry, false);
  if (problem) throw new TraceError(problem);
  let hash: string;
  try {
    hash = computeTraceHash(entry);
  } catch (error) {
    throw new TraceError(`detail is not plain JSON: ${(error as Error).message}`);
  }
  return { ...entry, hash };
}

/**
 * Verifies entries in the order given (as stored, by chain then seq). Entries of several chains
 * may be mixed; each chain must start at seq 1 and run without gaps. With `heads`, every chain
 * named there must end exactly at that head (nothing cut off) and must be present.
 */
export function verifyChain(entries: readonly TraceEntry[], options: { heads?: Readonly<Record<string, ChainHead>> } = {}): ChainVerification {
  const state = new Map<string, { seq: number; hash: string }>();
  let count = 0;
  for (const entry of entries) {
    const chain = typeof entry?.chain === 'string' ? entry.chain : '?';
    const seq = Number.isSafeInteger(entry?.seq) ? entry.seq : -1;
    const fail = (reason: string): ChainVerification => ({ ok: false, chain, seq, reason });

    const problem = traceShapeProblem(entry);
    if (problem) return fail(`malformed entry: ${problem}`);
    let recomputed: string;
    try {
      recomputed = computeTraceHash(entry);
    } catch (error) {
      return fail(`malformed entry: ${(error as Error).message}`);
    }
    if (recomputed !== entry.hash) return fail('hash does not match the entry (entry altered)');

    const last = state.get(chain);
    const expectedSeq = last === undefined ? 1 : last.seq + 1;
    if (seq > expectedSeq) return fail(`entries ${expectedSeq}..${seq - 1} missing (removed)`);
    if (seq < expectedSeq) return fail(`seq ${seq} after ${expectedSeq - 1} (reordered or duplicated)`);
    const expectedPrev = last === undefined ? GENESIS_HASH : last.hash;
    if (entry.prevHash !== expectedPrev) return fail('prevHash does not match the previous entry (entry removed, reordered or replaced)');
    state.set(chain, { seq, hash: entry.hash });
    count++;
  }
  for (const [chain, head] of Object.entries(options.heads ?? {})) {
    const last = state.get(chain);
    if (!last) return { ok: false, chain, seq: head.seq, reason: 'chain has no entries but a head was recorded (entries removed)' };
    if (last.seq !== head.seq || last.hash !== head.hash) {
      return { ok: false, chain, seq: last.seq, reason: `chain ends at seq ${last.seq}, recorded head is seq ${head.seq} (entries cut off or replaced)` };
    }
  }
  return { ok: true, count };
}
