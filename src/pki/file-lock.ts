// A lock shared by processes through a lock file created with O_EXCL ("wx"). Within one process
// the holders of the same lock are queued in memory first, so only one of them polls the file.
// A lock whose holder died (same host, process gone) or that is older than `staleMs` is taken
// over; that takeover is the one racy step, and only happens after a crash.
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FileLockOptions {
  /** Give up after this long (default 60 s). */
  readonly timeoutMs?: number;
  /** A lock older than this is considered abandoned (default 10 min). */
  readonly staleMs?: number;
}

interface LockOwner {
  pid: number;
  hostname: string;
  token: string;
  createdAt: string;
}

const queues = new Map<string, Promise<unknown>>();

/** Runs `fn` while holding the lock file at `lockPath` (released even when `fn` throws). */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const key = resolve(lockPath);
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    const token = await acquire(key, options);
    try {
      return await fn();
    } finally {
      await release(key, token);
    }
  });
  const tail = run.catch(() => undefined);
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return run;
}

async function acquire(lockPath: string, options: FileLockOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const staleMs = options.staleMs ?? 10 * 60_000;
  const deadline = Date.now() + timeoutMs;
  const owner: LockOwner = { pid: process.pid, hostname: hostname(), token: randomUUID(), createdAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await fs.open(lockPath, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify(owner));
      } finally {
        await handle.close();
      }
      return owner.token;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isAbandoned(lockPath, staleMs)) {
      await fs.rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for the lock ${lockPath}`);
    await sleep(Math.min(200, 10 * 2 ** Math.min(attempt, 4)) + Math.random() * 10);
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isAbandoned(lockPath: string, staleMs: number): Promise<boolean> {
  let text: string;
  let ageMs: number;
  try {
    text = await fs.readFile(lockPath, 'utf8');
    ageMs = Date.now() - (await fs.stat(lockPath)).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // released meanwhile: retry
    throw error;
  }
  if (ageMs > staleMs) return true;
  let owner: Partial<LockOwner>;
  try {
    owner = JSON.parse(text) as Partial<LockOwner>;
  } catch {
    return ageMs > 5_000; // created but not written yet, or written by a process that died right then
  }
  return owner.hostname === hostname() && typeof owner.pid === 'number' && owner.pid !== process.pid && !processIsAlive(owner.pid);
}

async function release(lockPath: string, token: string): Promise<void> {
  try {
    const owner = JSON.parse(await fs.readFile(lockPath, 'utf8')) as Partial<LockOwner>;
    if (owner.token === token) await fs.rm(lockPath, { force: true });
  } catch {
    // already gone (or taken over as stale): nothing to release
  }
}
