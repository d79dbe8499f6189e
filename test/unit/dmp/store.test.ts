// The DMP store on both implementations: migrations (fresh -> latest, rerun is a no-op, edited or
// newer schemas refused), the schema the next routes fill, atomic challenge redemption, the
// shared jti cache, transactions, append-only traces, parameterised text.
import { statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import Database from 'better-sqlite3';
import { openDmpStore, MigrationError, SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS, type DmpStore, type TraceRow } from '../../../src/dmp/store/index.js';
import { migrationChecksum } from '../../../src/dmp/store/migrations/migration.js';
import { dmpStoreKinds, openTestStore, type StoreKind } from '../../support/dmp/index.js';

const STORES = await dmpStoreKinds();

const TABLES = [
  'schema_migrations',
  'msg_messages',
  'msg_mailbox',
  'msg_certificates',
  'challenges',
  'dpop_jtis',
  'practitioners',
  'sessions',
  'traces',
  'trace_heads',
  'patients',
  'authorizations',
  'documents',
  'outbox',
  'portal_otps',
  'rate_limits',
];

/** Raw SQL on the test database, outside the store (what an operator or an attacker with DB access does). */
async function raw(db: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  if (db.startsWith('sqlite:')) {
    const database = new Database(db.slice('sqlite:'.length));
    try {
      const statement = database.prepare(sql);
      return statement.reader ? (statement.all(...params) as Record<string, unknown>[]) : (statement.run(...params), []);
    } finally {
      database.close();
    }
  }
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

async function tableNames(kind: StoreKind, db: string): Promise<string[]> {
  const rows =
    kind === 'sqlite'
      ? await raw(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      : await raw(db, "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'");
  return rows.map((r) => String(r.name)).sort();
}

function trace(chainId: string, seq: number, extra: Partial<TraceRow> = {}): TraceRow {
  return {
    chainId,
    seq,
    at: 1_700_000_000_000 + seq,
    patientId: null,
    actorId: 'actor',
    action: 'login',
    result: 'ok',
    prevHash: seq === 1 ? '' : `h${seq - 1}`,
    hash: `h${seq}`,
    entry: '{}',
    ...extra,
  };
}

describe.each(STORES)('DMP store on %s', (kind) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function fresh(): Promise<{ store: DmpStore; db: string }> {
    const opened = await openTestStore(kind);
    cleanups.push(opened.dispose);
    return opened;
  }

  describe('migrations', () => {
    it('bring a fresh database to the latest version; running them again is a no-op', async () => {
      const { store, db } = await fresh();
      const latest = (kind === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS).length;
      expect(latest).toBe(3);
      expect(await store.schemaVersion()).toBe(latest);
      expect(await tableNames(kind, db)).toEqual([...TABLES].sort());
      const applied = await raw(db, 'SELECT version, name, checksum FROM schema_migrations ORDER BY version');
      expect(applied.map((r) => Number(r.version))).toEqual([1, 2, 3]);
      expect(applied.every((r) => /^[0-9a-f]{64}$/.test(String(r.checksum)))).toBe(true);

      expect(await store.migrate()).toEqual({ applied: [], current: latest });
      const reopened = await openDmpStore(db);
      try {
        expect(await reopened.migrate()).toEqual({ applied: [], current: latest });
      } finally {
        await reopened.close();
      }
      expect((await raw(db, 'SELECT COUNT(*) AS n FROM schema_migrations'))[0]?.n).toEqual(kind === 'sqlite' ? 3 : '3');
    });

    it('report what they applied, starting from an empty database', async () => {
      const { db } = await fresh();
      // a second, empty database of the same kind
      const empty = await openTestStore(kind);
      cleanups.push(empty.dispose);
      await empty.store.close();
      const emptyDb = empty.db;
      for (const table of [...TABLES].reverse()) {
        if (kind === 'postgres') await raw(emptyDb, `DROP TABLE IF EXISTS ${table} CASCADE`);
        else await raw(emptyDb, `DROP TABLE IF EXISTS ${table}`);
      }
      if (kind === 'postgres') await raw(emptyDb, 'DROP FUNCTION IF EXISTS traces_append_only()');
      expect(await tableNames(kind, emptyDb)).toEqual([]);
      const store = await openDmpStore(emptyDb, { migrate: false });
      try {
        expect(await store.migrate()).toEqual({ applied: [1, 2, 3], current: 3 });
        expect(await tableNames(kind, emptyDb)).toEqual(await tableNames(kind, db));
      } finally {
        await store.close();
      }
    });

    it('refuse a database whose applied migration was edited, or that is newer than the program', async () => {
      const { store, db } = await fresh();
      await store.close();
      await raw(db, "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1");
      await expect(openDmpStore(db)).rejects.toBeInstanceOf(MigrationError);
      const first = (kind === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS)[0];
      if (!first) throw new Error('no migration 1');
      await raw(db, `UPDATE schema_migrations SET checksum = ${kind === 'sqlite' ? '?' : '$1'} WHERE version = 1`, [migrationChecksum(first)]);
      expect(await (await openDmpStore(db)).close()).toBeUndefined(); // repaired: opens again
      await raw(db, "INSERT INTO schema_migrations VALUES (4, 'future', 'x', 0)");
      await expect(openDmpStore(db)).rejects.toThrow(/newer/);
    });
  });

  it.skipIf(kind === 'postgres')('creates the SQLite files owner-only', async () => {
    const { store, db } = await fresh();
    await store.rememberJti('force-a-write', Date.now() + 1000);
    const file = db.slice('sqlite:'.length);
    for (const path of [file, `${file}-wal`]) expect(statSync(path).mode & 0o077, path).toBe(0);
  });

  it('redeems a challenge once, even with concurrent logins', async () => {
    const { store } = await fresh();
    const now = Date.now();
    await store.insertChallenge({ challenge: 'c'.repeat(44), keyThumbprint: 'key-1', createdAt: now, expiresAt: now + 300_000, usedAt: null });
    const results = await Promise.all(Array.from({ length: 8 }, () => store.consumeChallenge('key-1', now + 1)));
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(results.find((r) => r !== null)).toMatchObject({ challenge: 'c'.repeat(44), usedAt: now + 1 });
  });

  it('keeps one live challenge per key and never returns an expired one', async () => {
    const { store } = await fresh();
    const now = Date.now();
    await store.insertChallenge({ challenge: 'old', keyThumbprint: 'k', createdAt: now, expiresAt: now + 300_000, usedAt: null });
    await store.insertChallenge({ challenge: 'new', keyThumbprint: 'k', createdAt: now + 1, expiresAt: now + 300_001, usedAt: null });
    expect((await store.consumeChallenge('k', now + 2))?.challenge).toBe('new');
    expect(await store.consumeChallenge('k', now + 2)).toBeNull();
    await store.insertChallenge({ challenge: 'late', keyThumbprint: 'k2', createdAt: now, expiresAt: now + 10, usedAt: null });
    expect(await store.consumeChallenge('k2', now + 10)).toBeNull();
  });

  it('remembers a jti once, for concurrent callers too', async () => {
    const { store } = await fresh();
    const results = await Promise.all(Array.from({ length: 8 }, () => store.rememberJti('jti-1', Date.now() + 60_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('commits a transaction as a whole or not at all', async () => {
    const { store } = await fresh();
    await expect(
      store.transaction(async (tx) => {
        await tx.appendTrace(trace('chain-a', 1));
        await tx.rememberJti('in-failed-tx', Date.now() + 60_000);
        throw new Error('crash in the middle');
      }),
    ).rejects.toThrow('crash in the middle');
    expect(await store.listTraces('chain-a')).toEqual([]);
    expect(await store.rememberJti('in-failed-tx', Date.now() + 60_000)).toBe(true);
    await store.transaction(async (tx) => {
      await tx.appendTrace(trace('chain-a', 1));
      await tx.appendTrace(trace('chain-a', 2));
    });
    expect((await store.listTraces('chain-a')).map((t) => t.seq)).toEqual([1, 2]);
  });

  it('serialises appends to one trace chain across concurrent transactions', async () => {
    const { store } = await fresh();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.transaction(async (tx) => {
          const last = await tx.lastTrace('chain-c');
          await new Promise((resolve) => setTimeout(resolve, 2));
          const seq = (last?.seq ?? 0) + 1;
          await tx.appendTrace(trace('chain-c', seq, { prevHash: last?.hash ?? '', hash: `h-${i}` }));
        }),
      ),
    );
    const chain = await store.listTraces('chain-c');
    expect(chain.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    chain.forEach((t, i) => expect(t.prevHash).toBe(i === 0 ? '' : chain[i - 1]?.hash));
  });

  it('keeps traces append-only in the database itself', async () => {
    const { store, db } = await fresh();
    await store.transaction((tx) => tx.appendTrace(trace('chain-d', 1)));
    await expect(raw(db, "UPDATE traces SET result = 'altered'")).rejects.toThrow(/append-only/);
    await expect(raw(db, 'DELETE FROM traces')).rejects.toThrow(/append-only/);
    expect((await store.listTraces('chain-d'))[0]?.result).toBe('ok');
  });

  // SQLite only: on PostgreSQL a direct call just takes another pooled connection, no deadlock to guard against
  it.skipIf(kind === 'postgres')('refuses to be used directly inside its own transaction (the transaction repository must be)', async () => {
    const { store } = await fresh();
    await expect(store.transaction(async () => store.rememberJti('direct', Date.now()))).rejects.toThrow(/transaction/);
    await expect(store.transaction(async () => store.transaction(async () => undefined))).rejects.toThrow(/nested/);
  });

  it('stores SQL-looking and non-ASCII text verbatim', async () => {
    const { store } = await fresh();
    const texts = ["'; DROP TABLE practitioners; --", "1' OR '1'='1", 'Zoë Ñúñez — 日本', '?', '$1', '\\x27'];
    for (const [i, text] of texts.entries()) {
      const nationalId = `8${String(99900000300 + i)}`;
      await store.upsertPractitioner({
        nationalId,
        idType: 'RPPS',
        surname: text,
        givenName: text,
        professionCode: '10',
        professionLabel: text,
        specialtyCode: text,
        structureId: text,
        structureName: text,
        authCertificate: new Uint8Array([0x30, 0x00, i]),
        authCertificateFingerprint: text,
        firstSeenAt: 1,
        lastLoginAt: 2,
      });
      expect(await store.getPractitioner(nationalId)).toMatchObject({ surname: text, structureName: text, authCertificate: new Uint8Array([0x30, 0x00, i]) });
    }
    expect(await store.getPractitioner("' OR '1'='1")).toBeNull();
  });
});
