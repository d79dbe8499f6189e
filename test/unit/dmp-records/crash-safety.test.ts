// Crash safety (quality.md, Reliability): the real `cardbridge dmp` process, on SQLite and on
// PostgreSQL, receives a burst of document sends and is SIGKILLed in the middle of it. After a
// restart on the same database and master key, every acknowledged (201) document reads back
// intact, every stored document is whole (decryptable, its hash right, its send trace present)
// and no unacknowledged send left half a document; the trace chains verify.
//
// The process is node itself (`node --import tsx src/cli/main.ts dmp …`, what `npx tsx` runs):
// through npx, SIGKILL would reach npx and leave the service running.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDmpStore, verifyStoredTraces } from '../../../src/dmp/store/index.js';
import type { PractitionerCredentials } from '../../../src/pki/test-pki.js';
import { REPO_ROOT } from '../../support/system.js';
import {
  createTestDatabase,
  dmpStoreKinds,
  DpopClient,
  freshTempDir,
  loginAs,
  openDmpTestPki,
  TEST_ORIGIN,
  type DmpTestPki,
  type TestDatabase,
  type TestDmpService,
} from '../../support/dmp/index.js';
import { call, cdaDocument, createDmp, freshIns, sendDocument, sql, type Json, type Session } from './support.js';

const STORES = await dmpStoreKinds();
const BURST = 40;
const PARALLEL = 6;
const KILL_AFTER_ACKS = 8;

let pki: DmpTestPki;
let keys: PractitionerCredentials;
beforeAll(async () => {
  pki = await openDmpTestPki();
  keys = await pki.persona('cps:medecin');
});

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<NodeJS.Signals | number | null>;
}

async function startService(db: string, masterKey: string): Promise<Running> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'dmp',
      '--db',
      db,
      '--port',
      '0',
      '--trust-anchors',
      ...pki.trustAnchorFiles,
      '--crl',
      ...pki.crlFiles,
      '--no-crl-fetch',
      '--allowed-origins',
      TEST_ORIGIN,
      '--master-key',
      masterKey,
      '--log-level',
      'error',
      '--json',
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line:\n${out}`)), 30_000);
    child.stdout?.on('data', () => {
      const line = out.split('\n').find((l) => l.startsWith('{') && l.includes('"ready"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`exited before ready:\n${out}`));
    });
  });
  return { child, url, exited };
}

/** loginAs needs only a way to make clients of the service. */
function asService(url: string): TestDmpService {
  return { client: () => DpopClient.create(url) } as unknown as TestDmpService;
}

async function login(url: string): Promise<Session> {
  const logged = await loginAs(asService(url), pki, 'cps:medecin');
  return { client: logged.client, token: logged.sessionToken, nationalId: '899900000101' };
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe.each(STORES)('DMP crash safety on %s', (kind) => {
  let database: TestDatabase | undefined;
  let running: Running | undefined;

  afterAll(async () => {
    running?.child.kill('SIGKILL');
    await database?.drop();
  });

  it('SIGKILL during a burst of sends: every acknowledged document is intact after restart, none is half-present, the traces verify', async () => {
    const dir = freshTempDir('cardbridge-dmp-crash-');
    const masterKey = join(dir, 'master.key');
    if (kind === 'postgres') database = await createTestDatabase();
    const db = kind === 'sqlite' ? `sqlite:${join(dir, 'dmp.sqlite')}` : (database as TestDatabase).url;

    running = await startService(db, masterKey);
    let session = await login(running.url);
    const ins = freshIns();
    await createDmp(session, ins);

    // the burst: PARALLEL senders; the service is killed once KILL_AFTER_ACKS sends are acknowledged
    const sentHashes = new Map<string, string>(); // sha256 -> title, for every attempted send
    const acknowledged = new Map<string, string>(); // document id -> sha256
    let failures = 0;
    let next = 0;
    let killed = false;
    const victim = running;
    const sender = async (): Promise<void> => {
      while (next < BURST) {
        const n = next++;
        const content = cdaDocument(ins, `Envoi n°${n} ${'compte rendu détaillé '.repeat(200)}`);
        sentHashes.set(sha256(content), `n°${n}`);
        try {
          const response = await sendDocument(session, keys.signature, ins, { content, title: `n°${n}` });
          if (response.status === 201) acknowledged.set(String(response.body.id), sha256(content));
          else failures++;
        } catch {
          failures++; // connection reset by the kill
        }
        if (!killed && acknowledged.size >= KILL_AFTER_ACKS) {
          killed = true;
          victim.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, sender));
    expect(await victim.exited).toBe('SIGKILL');
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(failures, 'the kill interrupted the burst').toBeGreaterThan(0);

    // restart on the same database and master key
    running = await startService(db, masterKey);
    session = await login(running.url);

    for (const [id, hash] of acknowledged) {
      const content = await session.client.call('GET', `/v1/documents/${id}/content`, { sessionToken: session.token });
      expect(content.status, `acknowledged ${id}`).toBe(200);
      expect(sha256(new TextEncoder().encode(String(content.body)))).toBe(hash);
    }

    // every stored document is whole: listed, readable, one of the sent contents, with its send trace
    const rows = await sql<{ id: string }>(db, 'SELECT id FROM documents');
    const listed = await call<{ documents: Json[] }>(session, 'GET', `/v1/patients/${ins.path}/documents?limit=100`);
    expect(new Set(listed.body.documents.map((d) => d.id))).toEqual(new Set(rows.map((r) => r.id)));
    for (const { id } of rows) {
      const content = await session.client.call('GET', `/v1/documents/${id}/content`, { sessionToken: session.token });
      expect(content.status, `stored ${id}`).toBe(200);
      expect(sentHashes.has(sha256(new TextEncoder().encode(String(content.body)))), `stored ${id} is one of the sent documents`).toBe(true);
    }
    for (const id of acknowledged.keys()) expect(rows.map((r) => r.id)).toContain(id);
    expect(rows.length).toBeLessThan(BURST);

    running.child.kill('SIGTERM');
    await running.exited;
    running = undefined;
    const store = await openDmpStore(db, { migrate: false });
    try {
      expect(await verifyStoredTraces(store)).toMatchObject({ ok: true });
      const sends = (await store.listTraces(`patient:${ins.oid}:${ins.value}`)).filter((t) => t.action === 'document.send' && t.result === 'ok');
      expect(new Set(sends.map((t) => (JSON.parse(t.entry) as { target: string }).target))).toEqual(new Set(rows.map((r) => `document:${r.id}`)));
    } finally {
      await store.close();
    }
  });
});
