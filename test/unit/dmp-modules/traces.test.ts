// Traces: canonical JSON, hashing, chaining, and detection of every kind of tampering.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, CanonicalJsonError } from '../../../src/dmp/traces/canonical-json.js';
import { computeTraceHash, nextTrace, TraceError, verifyChain, type TraceFields } from '../../../src/dmp/traces/trace-chain.js';
import { GENESIS_HASH, type TraceEntry } from '../../../src/dmp/traces/trace-entry.js';

const PATIENT = 'patient:1.2.250.1.213.1.4.10:180057511234567';
const OTHER = 'patient:1.2.250.1.213.1.4.10:279035121518989';

function fields(chain: string, i: number): TraceFields {
  return {
    chain,
    at: new Date(Date.UTC(2025, 2, 12, 9, 30, i)),
    actor: { kind: 'practitioner', id: '899900000101', role: 'medecin' },
    mode: i === 3 ? 'bris_de_glace' : 'normal',
    action: i === 0 ? 'create' : 'read',
    target: `doc-${i}`,
    result: 'ok',
    ...(i === 3 ? { detail: { reason: 'Patient inconscient aux urgences', notified: ['patient', 'medecin_traitant'] } } : {}),
  };
}

function chainOf(chain: string, length: number): TraceEntry[] {
  const entries: TraceEntry[] = [];
  for (let i = 0; i < length; i++) entries.push(nextTrace(entries.at(-1), fields(chain, i)));
  return entries;
}

describe('canonicalJson', () => {
  it('sorts keys at every level, drops whitespace, omits undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'é"\n' }, u: undefined })).toBe(
      '{"a":{"c":"é\\"\\n","d":[3,{"y":null,"z":true}]},"b":1}',
    );
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
    expect(canonicalJson(-0)).toBe('0');
    expect(canonicalJson(1e21)).toBe('1e+21');
    expect(canonicalJson({ '\u00e9': 1, z: 2, A: 3 })).toBe('{"A":3,"z":2,"é":1}'); // UTF-16 code unit order
  });

  it('refuses what is not JSON instead of coercing it', () => {
    for (const bad of [undefined, NaN, Infinity, new Date(0), new Map(), 1n, [undefined], { f: () => 1 }, Symbol('s')]) {
      expect(() => canonicalJson(bad)).toThrow(CanonicalJsonError);
    }
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => canonicalJson(cycle)).toThrow(CanonicalJsonError);
  });

  it('is stable through a JSON round trip and key reordering (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('nextTrace and computeTraceHash', () => {
  it('starts a chain at seq 1 from the genesis hash and links each entry to the previous', () => {
    const [first, second] = chainOf(PATIENT, 2);
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, at: '2025-03-12T09:30:00.000Z' });
    expect(first?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(second).toMatchObject({ seq: 2, prevHash: first?.hash });
    expect(computeTraceHash(second as TraceEntry)).toBe(second?.hash); // a full entry: its own hash is left out
  });

  it('hashes the same after a trip through JSON storage (key order and absent optionals)', () => {
    const entries = chainOf(PATIENT, 4);
    const stored = JSON.parse(JSON.stringify(entries.map((e) => Object.fromEntries(Object.entries(e).reverse())))) as TraceEntry[];
    expect(verifyChain(stored)).toEqual({ ok: true, count: 4 });
  });

  it('refuses bad fields, another chain as predecessor, and non-JSON detail', () => {
    const [first] = chainOf(PATIENT, 1);
    expect(() => nextTrace(first, fields(OTHER, 1))).toThrow(TraceError);
    expect(() => nextTrace(undefined, { ...fields(PATIENT, 0), chain: 'dmp:all' })).toThrow(/chain/);
    expect(() => nextTrace(undefined, { ...fields(PATIENT, 0), at: '2025-03-12 09:30' })).toThrow(/ISO/);
    expect(() => nextTrace(undefined, { ...fields(PATIENT, 0), mode: 'urgence' as never })).toThrow(/mode/);
    expect(() => nextTrace(undefined, { ...fields(PATIENT, 0), detail: { when: new Date() } })).toThrow(/JSON/);
    expect(() => nextTrace(undefined, { ...fields(PATIENT, 0), detail: { f: () => 1 } })).toThrow(TraceError);
  });

  it('keeps the detail as it was when traced', () => {
    const detail = { reason: 'urgence' };
    const entry = nextTrace(undefined, { ...fields(PATIENT, 0), detail });
    detail.reason = 'changed later';
    expect(entry.detail).toEqual({ reason: 'urgence' });
    expect(verifyChain([entry]).ok).toBe(true);
  });
});

describe('verifyChain', () => {
  it('accepts intact chains, several interleaved', () => {
    const a = chainOf(PATIENT, 5);
    const b = chainOf(OTHER, 3);
    expect(verifyChain(a)).toEqual({ ok: true, count: 5 });
    expect(verifyChain([a[0], b[0], a[1], b[1], b[2], a[2], a[3], a[4]] as TraceEntry[])).toEqual({ ok: true, count: 8 });
    expect(verifyChain([])).toEqual({ ok: true, count: 0 });
  });

  it('detects an altered entry, even one whose hash was recomputed', () => {
    const entries = chainOf(PATIENT, 5);
    const altered = entries.map((e) => ({ ...e }));
    altered[2] = { ...(altered[2] as TraceEntry), result: 'refused' };
    expect(verifyChain(altered)).toMatchObject({ ok: false, chain: PATIENT, seq: 3, reason: expect.stringMatching(/altered/) });

    const rehashed = entries.map((e) => ({ ...e }));
    const forged = { ...(rehashed[2] as TraceEntry), actor: { kind: 'practitioner' as const, id: '899900000103' } };
    forged.hash = computeTraceHash(forged);
    rehashed[2] = forged;
    expect(verifyChain(rehashed)).toMatchObject({ ok: false, seq: 4, reason: expect.stringMatching(/prevHash/) });

    const detail = entries.map((e) => ({ ...e }));
    detail[3] = { ...(detail[3] as TraceEntry), detail: { reason: 'autre motif', notified: ['patient', 'medecin_traitant'] } };
    expect(verifyChain(detail)).toMatchObject({ ok: false, seq: 4 });
  });

  it('detects a removed entry, first, middle or (with the head) last', () => {
    const entries = chainOf(PATIENT, 5);
    expect(verifyChain(entries.filter((e) => e.seq !== 3))).toMatchObject({ ok: false, seq: 4, reason: expect.stringMatching(/missing/) });
    expect(verifyChain(entries.slice(1))).toMatchObject({ ok: false, seq: 2, reason: expect.stringMatching(/missing/) });
    const last = entries.at(-1) as TraceEntry;
    const heads = { [PATIENT]: { seq: last.seq, hash: last.hash } };
    expect(verifyChain(entries, { heads })).toEqual({ ok: true, count: 5 });
    expect(verifyChain(entries.slice(0, 4), { heads })).toMatchObject({ ok: false, seq: 4, reason: expect.stringMatching(/cut off/) });
    expect(verifyChain([], { heads })).toMatchObject({ ok: false, reason: expect.stringMatching(/no entries/) });
  });

  it('detects a removed entry whose successors were renumbered', () => {
    const entries = chainOf(PATIENT, 5).filter((e) => e.seq !== 2).map((e, i) => ({ ...e, seq: i + 1 }));
    expect(verifyChain(entries).ok).toBe(false);
  });

  it('detects reordered and duplicated entries', () => {
    const entries = chainOf(PATIENT, 5);
    const swapped = [entries[0], entries[2], entries[1], entries[3], entries[4]] as TraceEntry[];
    expect(verifyChain(swapped)).toMatchObject({ ok: false, seq: 3 });
    expect(verifyChain([...entries.slice(0, 3), entries[2] as TraceEntry, ...entries.slice(3)])).toMatchObject({ ok: false, reason: expect.stringMatching(/duplicated/) });
  });

  it('detects an entry moved to another chain and malformed rows without throwing', () => {
    const a = chainOf(PATIENT, 2);
    const b = chainOf(OTHER, 2);
    expect(verifyChain([...a, { ...(b[1] as TraceEntry), chain: PATIENT }]).ok).toBe(false);
    for (const junk of [null, 42, 'x', {}, { ...a[0], seq: 1.5 }, { ...a[0], hash: 'XYZ' }, { ...a[0], detail: { d: new Date() } }]) {
      expect(verifyChain([junk as unknown as TraceEntry]).ok).toBe(false);
    }
  });

  it('finds any single random change in a stored chain (property)', () => {
    const entries = chainOf(PATIENT, 6);
    const mutableFields = ['at', 'action', 'target', 'mode', 'result', 'prevHash', 'hash', 'seq'] as const;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.constantFrom(...mutableFields), (index, field) => {
        const copy = entries.map((e) => ({ ...e })) as Record<string, unknown>[];
        const target = copy[index] as Record<string, unknown>;
        const value = target[field];
        target[field] =
          field === 'seq' ? (value as number) + 1
            : field === 'mode' ? (value === 'normal' ? 'centre_15' : 'normal')
              : field === 'result' ? (value === 'ok' ? 'refused' : 'ok')
                : field === 'at' ? '2030-01-01T00:00:00.000Z'
                  : field === 'prevHash' || field === 'hash' ? (value as string).replace(/^./, (c) => (c === '0' ? '1' : '0'))
                    : `${String(value)}x`;
        expect(verifyChain(copy as unknown as TraceEntry[]).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
