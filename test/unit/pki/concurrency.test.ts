import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { withFileLock } from '../../../src/pki/file-lock.js';
import { TestPki } from '../../../src/pki/test-pki.js';
import { doctor, freshDir } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/open-and-issue.ts', import.meta.url));

function runChild(stateDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('two processes on one fresh state directory', () => {
  it('end up with one PKI: same CAs, same issued card, no temporary or lock file left', async () => {
    const stateDir = freshDir();
    const outputs = await Promise.all([runChild(stateDir), runChild(stateDir), runChild(stateDir)]);
    const parsed = outputs.map((line) => JSON.parse(line) as Record<string, string>);
    expect(parsed[0]?.root).toMatch(/^[0-9a-f]{64}$/);
    expect(parsed[1]).toEqual(parsed[0]);
    expect(parsed[2]).toEqual(parsed[0]);

    const files = allFiles(stateDir);
    expect(files.filter((f) => f.endsWith('.tmp') || f.endsWith('/lock'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.key.pem'))).toHaveLength(3 + 2); // three CAs, one card's two keys

    const pki = await TestPki.open(stateDir);
    expect(pki.created).toBe(false);
    const again = await runChild(stateDir);
    expect(JSON.parse(again)).toEqual(parsed[0]);
  }, 60_000);
});

describe('one process, several instances', () => {
  it('opens a fresh directory concurrently into one PKI and issues a key once', async () => {
    const stateDir = freshDir();
    const [a, b] = await Promise.all([TestPki.open(stateDir), TestPki.open(stateDir)]);
    if (!a || !b) throw new Error('open failed');
    expect([a.created, b.created].filter(Boolean)).toHaveLength(1);
    expect(Buffer.from(a.caCertificate('root')).equals(Buffer.from(b.caCertificate('root')))).toBe(true);
    const [x, y, z] = await Promise.all([
      a.issuePractitioner('cps:medecin', doctor),
      b.issuePractitioner('cps:medecin', doctor),
      a.issuePractitioner('cps:medecin', doctor),
    ]);
    expect(y?.authentication.serialHex).toBe(x?.authentication.serialHex);
    expect(z?.signature.serialHex).toBe(x?.signature.serialHex);
    // a revocation through one instance is seen by the other
    await a.revoke(x?.signature.serialHex ?? '');
    expect(b.isRevoked(x?.signature.serialHex ?? '')).toBe(true);
  });
});

describe('file lock', () => {
  it('runs holders one at a time', async () => {
    const lockPath = join(freshDir(), 'lock');
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 5 }, () =>
        withFileLock(lockPath, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((resolve) => setTimeout(resolve, 5));
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
  });

  it('takes over a lock left by a dead process, and times out on a live one', async () => {
    const dir = freshDir();
    const lockPath = join(dir, 'lock');
    const deadPid = 2 ** 22 + 12345; // above Linux's pid_max default: no such process
    writeFileSync(lockPath, JSON.stringify({ pid: deadPid, hostname: (await import('node:os')).hostname(), token: 'x', createdAt: '' }));
    await expect(withFileLock(lockPath, async () => 'got it', { timeoutMs: 2_000 })).resolves.toBe('got it');

    writeFileSync(lockPath, JSON.stringify({ pid: process.ppid, hostname: (await import('node:os')).hostname(), token: 'y', createdAt: '' }));
    await expect(withFileLock(lockPath, async () => 'got it', { timeoutMs: 300 })).rejects.toThrow(/timed out/);
  });
});
