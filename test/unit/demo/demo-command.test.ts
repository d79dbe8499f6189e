// `cardbridge demo` as a user starts it (tsx src/cli/main.ts demo), in a fresh state directory,
// on free ports and with the readers simulated in its process (no pcscd needed): it creates the
// PKI, seeds the DMP, starts the service and the agent, and prints the addresses to open. The
// addresses answer, the seeded patient logs into the portal with the one-time password the demo
// prints, and SIGTERM stops everything cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/system.js';

interface DemoEvent {
  readonly event: string;
  readonly [field: string]: unknown;
}

interface Ready extends DemoEvent {
  readonly urls: { practitioner: string; portal: string; console: string; dmp: string; agent: string };
  readonly readers: string;
  readonly portal: { ins: { oid: string; value: string }; secretCode: string };
  readonly seed: { patients: { ins: { value: string }; documents: number }[] } | null;
}

let child: ChildProcess;
let output = '';
const events: DemoEvent[] = [];
let exited: Promise<number | null>;

function waitForEvent<T extends DemoEvent>(match: (e: DemoEvent) => boolean, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = (): void => {
      const found = events.find(match);
      if (found) return resolve(found as T);
      if (child.exitCode !== null) return reject(new Error(`demo exited (${child.exitCode}):\n${output}`));
      if (Date.now() - started > timeoutMs) return reject(new Error(`demo: event not seen in ${timeoutMs} ms:\n${output}`));
      setTimeout(check, 100);
    };
    check();
  });
}

beforeAll(async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'cardbridge-demo-'));
  child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--state-dir', stateDir, '--dmp-port', '0', '--agent-port', '0', '--crl-port', '0', '--pcsc', 'mock', '--json'],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CARDBRIDGE_BROWSER_DIR: join(stateDir, 'browser') } },
  );
  exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    pending += chunk.toString('utf8');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line.startsWith('{')) events.push(JSON.parse(line) as DemoEvent);
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
}, 10_000);

afterAll(async () => {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
});

describe('cardbridge demo', () => {
  let ready: Ready;

  it('starts the PKI, the seeded DMP service with its pages and the agent, and prints their addresses', async () => {
    ready = await waitForEvent<Ready>((e) => e.event === 'ready', 170_000);
    expect(ready.readers).toBe('mock');
    expect(ready.seed?.patients.map((p) => [p.ins.value, p.documents])).toEqual([
      ['280096912304532', 3],
      ['285062A00407867', 1],
    ]);
    const practitioner = await fetch(ready.urls.practitioner);
    expect(practitioner.status).toBe(200);
    expect(await practitioner.text()).toContain('Espace professionnel de santé');
    const portal = await fetch(ready.urls.portal);
    expect(portal.status).toBe(200);
    expect(await portal.text()).toContain('portail patient');
    expect((await fetch(`${ready.urls.dmp}/pages/agent-client.js`)).status).toBe(200);
    const agentConsole = await fetch(ready.urls.console);
    expect(agentConsole.status).toBe(200);
    expect(await agentConsole.text()).toContain('Console de l\'agent cardbridge');
    expect(ready.urls.practitioner).toContain(`agent=${encodeURIComponent(ready.urls.agent)}`);
  }, 180_000);

  it('the seeded patient logs into the portal with the one-time password the demo prints', async () => {
    const api = (path: string, body?: unknown, token?: string): Promise<Response> =>
      fetch(`${ready.urls.dmp}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const login = await api('/v1/portal/login', { ins: ready.portal.ins, secretCode: ready.portal.secretCode });
    expect(login.status).toBe(200);
    const { otpRequestId } = (await login.json()) as { otpRequestId: string };
    const sms = await waitForEvent<DemoEvent & { text: string }>((e) => e.event === 'outbox', 10_000);
    const otp = /\b(\d{6})\b/.exec(sms.text)?.[1];
    const verify = await api('/v1/portal/login/verify', { otpRequestId, otp });
    expect(verify.status).toBe(200);
    const { sessionToken } = (await verify.json()) as { sessionToken: string };
    const documents = (await (await api('/v1/portal/documents', undefined, sessionToken)).json()) as { documents: { title: string }[] };
    expect(documents.documents.map((d) => d.title).sort()).toEqual(['Bilan sanguin', 'Compte rendu de consultation du 12 mars', 'Lettre de liaison de sortie (Hôpital Édouard-Herriot)']);
  });

  it('stops everything on SIGTERM', async () => {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(events.at(-1)?.event).toBe('stopped');
    await expect(fetch(ready.urls.portal)).rejects.toThrow();
  }, 30_000);
});
