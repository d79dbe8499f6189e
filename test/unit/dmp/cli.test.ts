// `cardbridge dmp verify-traces` on both stores (intact chains pass; an altered, removed or
// cut-off entry fails with exit code 1 and names the chain), and `cardbridge dmp` itself: it
// prints its URL, serves, and stops on SIGTERM.
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerDmpCommand } from '../../../src/cli/commands/dmp.js';
import { REPO_ROOT } from '../../support/system.js';
import {
  dmpStoreKinds,
  freshTempDir,
  loginAs,
  openDmpTestPki,
  startTestDmpService,
  type DmpTestPki,
  type StoreKind,
  type TestDmpService,
} from '../../support/dmp/index.js';

const STORES = await dmpStoreKinds();

let pki: DmpTestPki;
beforeAll(async () => {
  pki = await openDmpTestPki();
  await pki.persona('cps:medecin');
  await pki.persona('cps:infirmier');
});

async function sql(db: string, statement: string): Promise<void> {
  if (db.startsWith('sqlite:')) {
    const database = new Database(db.slice('sqlite:'.length));
    try {
      database.exec(statement);
    } finally {
      database.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

const DROP_GUARDS: Record<StoreKind, string> = {
  sqlite: 'DROP TRIGGER traces_no_update; DROP TRIGGER traces_no_delete;',
  postgres: 'DROP TRIGGER traces_no_update_or_delete ON traces;',
};

/** Runs `cardbridge dmp verify-traces --db <db> [--json]` in process; stdout and exit code. */
async function verifyTraces(db: string, json: boolean): Promise<{ out: string; exitCode: number }> {
  const program = new Command('cardbridge').exitOverride();
  registerDmpCommand(program);
  const chunks: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  const previous = process.exitCode;
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'cardbridge', 'dmp', 'verify-traces', '--db', db, ...(json ? ['--json'] : [])]);
    return { out: chunks.join(''), exitCode: Number(process.exitCode ?? 0) };
  } finally {
    write.mockRestore();
    process.exitCode = previous;
  }
}

describe.each(STORES)('cardbridge dmp verify-traces on %s', (kind) => {
  let service: TestDmpService;

  beforeAll(async () => {
    service = await startTestDmpService(pki, { store: kind });
    for (let i = 0; i < 3; i++) await loginAs(service, pki, 'cps:medecin');
    await loginAs(service, pki, 'cps:infirmier');
  });
  afterAll(async () => {
    await service?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('passes intact chains (exit 0), in French and in JSON', async () => {
    const french = await verifyTraces(service.db, false);
    expect(french.exitCode).toBe(0);
    expect(french.out).toMatch(/Traces intègres : 2 chaîne\(s\), 4 entrée\(s\)/);
    const json = await verifyTraces(service.db, true);
    expect(JSON.parse(json.out)).toEqual({ ok: true, chains: 2, entries: 4 });
  });

  it('fails on an altered entry, then on a removed last entry (exit 1, chain named)', async () => {
    await sql(service.db, DROP_GUARDS[kind]);
    // an attacker with database access rewrites who logged in
    await sql(service.db, "UPDATE traces SET entry = replace(entry, '\"origin\":\"https://app.cardbridge.test\"', '\"origin\":\"https://other.test\"') WHERE chain_id = 'practitioner:899900000101' AND seq = 2");
    const altered = await verifyTraces(service.db, true);
    expect(altered.exitCode).toBe(1);
    expect(JSON.parse(altered.out)).toMatchObject({ ok: false, chain: 'practitioner:899900000101', seq: 2, reason: expect.stringMatching(/altered/) });
    const french = await verifyTraces(service.db, false);
    expect(french.exitCode).toBe(1);
    expect(french.out).toContain('Chaîne de traces rompue : practitioner:899900000101, entrée n° 2');

    // put it back, then cut the chain's tail off instead
    await sql(service.db, "UPDATE traces SET entry = replace(entry, '\"origin\":\"https://other.test\"', '\"origin\":\"https://app.cardbridge.test\"') WHERE chain_id = 'practitioner:899900000101' AND seq = 2");
    expect((await verifyTraces(service.db, true)).exitCode).toBe(0);
    await sql(service.db, "DELETE FROM traces WHERE chain_id = 'practitioner:899900000101' AND seq = 3");
    const cut = await verifyTraces(service.db, true);
    expect(cut.exitCode).toBe(1);
    expect(JSON.parse(cut.out)).toMatchObject({ ok: false, chain: 'practitioner:899900000101', reason: expect.stringMatching(/cut off/) });

    // and a removed middle entry
    await sql(service.db, "DELETE FROM traces WHERE chain_id = 'practitioner:899900000101' AND seq = 1");
    const removed = await verifyTraces(service.db, true);
    expect(JSON.parse(removed.out)).toMatchObject({ ok: false, chain: 'practitioner:899900000101', seq: 2, reason: expect.stringMatching(/missing|removed/) });
  });
});

describe('cardbridge dmp (run)', () => {
  it('prints its URL, serves the OpenAPI document, and stops cleanly on SIGTERM', async () => {
    const dir = freshTempDir('cardbridge-dmp-cli-');
    // node itself (not npx) so that SIGTERM reaches the command's own handler
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'dmp',
        '--db',
        `sqlite:${dir}/dmp.sqlite`,
        '--port',
        '0',
        '--trust-anchors',
        ...pki.trustAnchorFiles,
        '--crl',
        ...pki.crlFiles,
        '--no-crl-fetch',
        '--allowed-origins',
        'https://app.cardbridge.test',
        '--master-key',
        `${dir}/master.key`,
        '--log-level',
        'warn',
        '--json',
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    try {
      const ready = await new Promise<{ url: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ready line:\n${out}`)), 30_000);
        const check = (): void => {
          const line = out.split('\n').find((l) => l.startsWith('{') && l.includes('"ready"'));
          if (line) {
            clearTimeout(timer);
            resolve(JSON.parse(line) as { url: string });
          }
        };
        child.stdout.on('data', check);
        void exited.then(() => reject(new Error(`exited before ready:\n${out}`)));
      });
      expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const openapi = await fetch(`${ready.url}/openapi.json`);
      expect(openapi.status).toBe(200);
      expect(((await openapi.json()) as { openapi: string }).openapi).toBe('3.1.0');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('"event":"stopped"');
  });

  it('refuses plain HTTP on a non-loopback interface, in French', async () => {
    const program = new Command('cardbridge').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    registerDmpCommand(program);
    await expect(
      program.parseAsync(['node', 'cardbridge', 'dmp', '--host', '0.0.0.0', '--trust-anchors', ...pki.trustAnchorFiles, '--db', `sqlite:${freshTempDir('cb-')}/x.sqlite`]),
    ).rejects.toThrow(/boucle locale/);
  });
});
