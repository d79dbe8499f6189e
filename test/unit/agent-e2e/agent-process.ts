// Starts the real `cardbridge agent` command in a child process (fixtures/agent-process.ts: the
// native mock's default machine with persona cards, then src/cli/main.ts `agent run --pcsc mock`),
// or, with `system: true`, the CLI itself over the machine's pcscd. The child is plain
// `node --import tsx`, so its pid is the agent's own process (RSS from /proc/<pid>/status).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/system.js';

export const AGENT_FIXTURE = join(REPO_ROOT, 'test', 'unit', 'agent-e2e', 'fixtures', 'agent-process.ts');
export const CLI_MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');

export interface AgentProcessOptions {
  /** Mock readers and the persona in each (null: empty). Ignored with `system`. */
  readonly readers?: Readonly<Record<string, string | null>>;
  /** Test PKI directory of the mock's persona cards. */
  readonly pkiDir?: string;
  readonly configDir: string;
  readonly stateDir: string;
  /** The real pcscd (`--pcsc system --allow-virtual-readers`) instead of the mock. */
  readonly system?: boolean;
  readonly logLevel?: string;
  readonly exposeGc?: boolean;
  readonly extraArgs?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly startTimeoutMs?: number;
  /**
   * Root of a tree of the sources transpiled to .js (the benchmarks' bench-results/.build): run
   * there under plain `node`, without the tsx loader. Default: the .ts sources through tsx.
   */
  readonly transpiledRoot?: string;
}

export interface AgentProcess {
  readonly pid: number;
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** A command to the fixture (mock only): insert, remove, gc, memory. */
  command(op: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** VmRSS of the agent's process, in kB. */
  rssKb(): number;
  /** SIGTERM (the agent closes cleanly), SIGKILL after a grace period; resolves with the exit code. */
  stop(): Promise<number | null>;
}

const alive = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of alive) c.kill('SIGKILL');
});

export function rssKbOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

export function spawnAgentProcess(options: AgentProcessOptions): Promise<AgentProcess> {
  const agentArgs = ['--port', '0', '--config', options.configDir, '--state-dir', options.stateDir, '--log-level', options.logLevel ?? 'info', ...(options.extraArgs ?? [])];
  const built = options.transpiledRoot;
  const nodeArgs = [...(built ? [] : ['--import', 'tsx']), ...(options.exposeGc ? ['--expose-gc'] : [])];
  const cliMain = built ? join(built, 'src', 'cli', 'main.js') : CLI_MAIN;
  const fixture = built ? join(built, 'test', 'unit', 'agent-e2e', 'fixtures', 'agent-process.js') : AGENT_FIXTURE;
  const args = options.system
    ? [...nodeArgs, cliMain, 'agent', 'run', '--pcsc', 'system', '--allow-virtual-readers', ...agentArgs]
    : [
        ...nodeArgs,
        fixture,
        options.pkiDir ?? join(options.stateDir, 'pki'),
        ...Object.entries(options.readers ?? {}).map(([reader, persona]) => `${reader}=${persona ?? '-'}`),
        '--',
        ...agentArgs,
      ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  alive.add(child);
  let out = '';
  let err = '';
  let pendingOut = '';
  let nextId = 1;
  const waiting = new Map<number, (answer: Record<string, unknown>) => void>();
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      alive.delete(child);
      resolve(code);
    }),
  );
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    out += chunk;
    pendingOut += chunk;
    let nl: number;
    while ((nl = pendingOut.indexOf('\n')) >= 0) {
      const line = pendingOut.slice(0, nl);
      pendingOut = pendingOut.slice(nl + 1);
      if (!line.startsWith('@@ ')) continue;
      const answer = JSON.parse(line.slice(3)) as Record<string, unknown>;
      waiting.get(answer.id as number)?.(answer);
      waiting.delete(answer.id as number);
    }
  });
  child.stderr!.on('data', (chunk: string) => (err += chunk));
  child.stdin!.on('error', () => undefined);

  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };

  return new Promise<AgentProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the agent did not print its URL within ${options.startTimeoutMs ?? 60_000} ms:\n${err}\n${out}`));
    }, options.startTimeoutMs ?? 60_000);
    const onErr = (): void => {
      const m = /écoute sur (ws:\/\/127\.0\.0\.1:(\d+)\/v1)/.exec(err);
      if (!m) return;
      clearTimeout(timer);
      child.stderr!.off('data', onErr);
      resolve({
        pid: child.pid!,
        url: m[1]!,
        port: Number(m[2]),
        child,
        stdout: () => out,
        stderr: () => err,
        command(op) {
          const id = nextId++;
          return new Promise((res, rej) => {
            const t = setTimeout(() => rej(new Error(`no answer to ${JSON.stringify(op)}`)), 30_000);
            waiting.set(id, (a) => {
              clearTimeout(t);
              if (a.ok === true) res(a);
              else rej(new Error(String(a.error)));
            });
            child.stdin!.write(`${JSON.stringify({ id, ...op })}\n`);
          });
        },
        rssKb: () => rssKbOf(child.pid!),
        stop,
      });
    };
    child.stderr!.on('data', onErr);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the agent exited (${code}) before listening:\n${err}\n${out}`));
    });
  });
}
