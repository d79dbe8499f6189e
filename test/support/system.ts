// Tests that need the machine's own components (pcscd + vpcd, OpenSC) and the `sim` process.
//
//   const ok = requireSystem('pcscd with vsmartcard-vpcd', pcscdAvailable());
//   describe.skipIf(!ok)('…', () => { … });
//
// On CI (CI=true) a missing component is a FAILED test, never a silent skip; on a developer
// machine the suite is skipped with a banner saying what to install or start.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
export const VPCD_PORT = 35963;

export function isCi(): boolean {
  return process.env.CI === 'true';
}

/**
 * True when the component is there. Otherwise, on CI, registers a test that fails with `what` and
 * returns false (the caller skips the rest, the run fails); locally, prints a banner and returns false.
 * Call it at the top level of a test file (it may register a test).
 */
export function requireSystem(what: string, available: boolean, hint = ''): boolean {
  if (available) return true;
  const message = `${what} is not available${hint ? ` — ${hint}` : ''}`;
  if (isCi()) {
    it(`system requirement: ${what}`, () => {
      throw new Error(`${message}. CI=true: tests that need it must run, not be skipped.`);
    });
    return false;
  }
  const bar = '!'.repeat(Math.min(100, message.length + 24));
  console.warn(`\n${bar}\n!!! SKIPPING TESTS: ${message}\n!!! (on CI this fails the run)\n${bar}\n`);
  return false;
}

/** Executable on PATH. */
export function onPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** A TCP port in LISTEN state on this machine (from /proc/net/tcp{,6}; Linux). */
export function tcpListening(port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (local?.endsWith(`:${hexPort}`) && fields[3] === '0A') return true;
    }
  }
  return false;
}

/** pcscd answering on its socket with vsmartcard-vpcd loaded (its first slot listening). */
export function pcscdAvailable(): boolean {
  try {
    if (!statSync(PCSCD_SOCKET).isSocket()) return false;
  } catch {
    return false;
  }
  return tcpListening(VPCD_PORT);
}

export function openscAvailable(): boolean {
  return onPath('opensc-tool');
}

export const PCSCD_HINT = 'install the system packages (scripts/install-system-deps.sh) and start pcscd (scripts/start-pcscd.sh)';

// ---- the `cardbridge sim` process ------------------------------------------------------------

export interface SimEvent {
  readonly event: string;
  readonly [field: string]: unknown;
}

export interface SimProcess {
  /** Control API base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Parsed JSON event lines so far. */
  events(): SimEvent[];
  /** Resolves with the first event (past or future) that matches. */
  waitForEvent(match: (e: SimEvent) => boolean, timeoutMs?: number, from?: number): Promise<SimEvent>;
  /** SIGTERM to its process group, SIGKILL after a grace period; resolves with npx's exit code (null when killed by the signal). */
  stop(): Promise<number | null>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the group we created (detached): npx, tsx and node
  } catch {
    // already gone
  }
}

/**
 * Starts `npx tsx src/cli/main.ts sim --control-port 0 --json <args>` in its own process group
 * and resolves once it is ready (its control URL is known). Stop it with `stop()` in afterAll.
 */
export function startSimProcess(args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<SimProcess> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const child = spawn('npx', ['tsx', 'src/cli/main.ts', 'sim', '--control-port', '0', '--json', ...args], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  running.add(child);
  let text = '';
  let pending = '';
  const events: SimEvent[] = [];
  const listeners = new Set<() => void>();
  // 'close': every process of the group holding our pipes is gone and all output is read
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      running.delete(child);
      resolve(code);
      for (const l of listeners) l();
    }),
  );
  const onData = (chunk: Buffer): void => {
    const s = chunk.toString('utf8');
    text += s;
    pending += s;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      try {
        const parsed = JSON.parse(line) as SimEvent;
        if (typeof parsed.event === 'string') events.push(parsed);
      } catch {
        // not an event line
      }
    }
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  const waitForEvent = (match: (e: SimEvent) => boolean, waitMs = 10_000, from = 0): Promise<SimEvent> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = events.slice(from).find(match);
        if (found) {
          done();
          resolve(found);
          return true;
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          done();
          reject(new Error(`sim exited (${child.exitCode ?? child.signalCode}) before the expected event:\n${text}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`sim: expected event not seen within ${waitMs} ms; output so far:\n${text}`));
      }, waitMs);
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(listener);
      };
      const listener = (): void => {
        check();
      };
      if (!check()) listeners.add(listener);
    });

  const stop = async (): Promise<number | null> => {
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };

  return waitForEvent((e) => e.event === 'ready', timeoutMs).then(
    (ready) => {
      const url = String(ready.control);
      const m = /^http:\/\/127\.0\.0\.1:(\d+)$/.exec(url);
      if (!m) throw new Error(`sim printed an unexpected control URL: ${url}`);
      return {
        url,
        port: Number(m[1]),
        pid: child.pid ?? -1,
        output: () => text,
        events: () => [...events],
        waitForEvent,
        stop,
      };
    },
    async (e: unknown) => {
      await stop();
      throw e;
    },
  );
}

/** The simulator test cards module (for `--card-source`). */
export const TEST_CARD_SOURCE = path.join('test', 'support', 'test-card-source.ts');
