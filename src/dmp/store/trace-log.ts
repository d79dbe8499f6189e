// The traces of src/dmp/traces kept in the store: appending the next entry of a chain inside a
// transaction (the chain is locked until commit, so nodes appending to one chain take turns),
// and checking every stored chain (cardbridge dmp verify-traces).
import { nextTrace, verifyChain, type TraceEntry, type TraceFields } from '../traces/index.js';
import type { DmpRepository, TraceRow } from './types.js';

export interface AppendTraceOptions {
  /** The patient row id, for a patient's own view of his traces (patient chains). */
  readonly patientId?: string;
}

/** The entry a stored row holds. */
export function traceEntryOf(row: TraceRow): TraceEntry {
  return JSON.parse(row.entry) as TraceEntry;
}

/**
 * Appends the next entry of `fields.chain`. Call it with the repository of a transaction, in the
 * same transaction as the operation it records (a trace is never written without it, nor the
 * operation without its trace).
 */
export async function appendTrace(tx: DmpRepository, fields: TraceFields & { at: Date | string }, options: AppendTraceOptions = {}): Promise<TraceEntry> {
  const last = await tx.lastTrace(fields.chain);
  const entry = nextTrace(last === null ? undefined : traceEntryOf(last), fields);
  await tx.appendTrace({
    chainId: entry.chain,
    seq: entry.seq,
    at: Date.parse(entry.at),
    patientId: options.patientId ?? null,
    actorId: entry.actor.id,
    action: entry.action,
    result: entry.result,
    prevHash: entry.prevHash,
    hash: entry.hash,
    entry: JSON.stringify(entry),
  });
  return entry;
}

export type TraceVerification =
  | { readonly ok: true; readonly chains: number; readonly entries: number }
  | { readonly ok: false; readonly chains: number; readonly entries: number; readonly chain: string; readonly seq: number; readonly reason: string };

const PAGE = 1000;

/** Reads one chain entirely, in order; the row's columns must agree with the entry it holds. */
async function readChain(repo: DmpRepository, chainId: string): Promise<{ entries: TraceEntry[]; problem?: { seq: number; reason: string } }> {
  const entries: TraceEntry[] = [];
  let afterSeq = 0;
  for (;;) {
    const rows = await repo.listTraces(chainId, { afterSeq, limit: PAGE });
    for (const row of rows) {
      let entry: TraceEntry;
      try {
        entry = traceEntryOf(row);
      } catch {
        return { entries, problem: { seq: row.seq, reason: 'stored entry is not JSON' } };
      }
      if (entry.chain !== row.chainId || entry.seq !== row.seq || entry.hash !== row.hash || entry.prevHash !== row.prevHash) {
        return { entries, problem: { seq: row.seq, reason: 'row columns disagree with the stored entry' } };
      }
      entries.push(entry);
    }
    const last = rows.at(-1);
    if (!last || rows.length < PAGE) return { entries };
    afterSeq = last.seq;
  }
}

/** Verifies every chain of the store (entries, links, recorded heads); stops at the first broken chain. */
export async function verifyStoredTraces(repo: DmpRepository, onChain?: (chainId: string) => void): Promise<TraceVerification> {
  let chains = 0;
  let count = 0;
  let after = '';
  for (;;) {
    const ids = await repo.listTraceChains({ after, limit: PAGE });
    for (const chainId of ids) {
      onChain?.(chainId);
      chains++;
      const { entries, problem } = await readChain(repo, chainId);
      if (problem) return { ok: false, chains, entries: count, chain: chainId, ...problem };
      const head = await repo.traceHead(chainId);
      const result = verifyChain(entries, head ? { heads: { [chainId]: head } } : {});
      if (!result.ok) return { ok: false, chains, entries: count, chain: chainId, seq: result.seq, reason: result.reason };
      if (!head && entries.length > 0) return { ok: false, chains, entries: count, chain: chainId, seq: entries.length, reason: 'no recorded head for this chain' };
      count += result.count;
    }
    const last = ids.at(-1);
    if (last === undefined || ids.length < PAGE) return { ok: true, chains, entries: count };
    after = last;
  }
}
