// `cardbridge agent status|console|pair …` against a running (test) agent, as a desktop caller
// with the local token; and what they do when no agent runs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  agentStatus,
  consoleUrl,
  installService,
  pairApprove,
  pairList,
  pairRevoke,
  renderStatus,
  renderUnit,
} from '../../../src/cli/commands/agent.js';
import { packageRoot } from '../../../src/agent/config.js';
import { httpRequest } from '../../support/agent/http.js';
import { startTestAgent, type TestAgent } from '../../support/agent/test-agent.js';

let t: TestAgent;
let opts: { port: number; config: string };
beforeAll(async () => {
  t = await startTestAgent();
  opts = { port: t.port, config: t.configDir };
});
afterAll(async () => {
  await t.close();
});

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('agent status', () => {
  test('running: version, pcsc, readers (through readers.list as a desktop caller), pairings', async () => {
    const status = await agentStatus(opts);
    expect(status).toMatchObject({ running: true, protocol: 1, pcsc: 'ok', readers: [{ name: 'Lecteur de test 00' }] });
    expect(t.card.calls.at(-1)?.caller).toMatchObject({ kind: 'desktop', origin: 'app:cardbridge-cli' });
    const text = renderStatus(status);
    expect(text).toContain('en marche');
    expect(text).toContain('Lecteur de test 00 : CPS3');
  });

  test('not running: says so, lists the paired origins from the file', async () => {
    const status = await agentStatus({ port: await freePort(), config: t.configDir });
    expect(status.running).toBe(false);
    expect(renderStatus(status)).toMatch(/arrêté/);
  });

  test('a wrong local token is reported, not mistaken for a stopped agent', async () => {
    const other = mkdtempSync(join(tmpdir(), 'cardbridge-cli-'));
    try {
      await expect(agentStatus({ port: t.port, config: other })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test('the real command line: cardbridge agent status --json', async () => {
    // async spawn: the agent answering it runs in this very process
    const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot(), 'src/cli/main.ts'), 'agent', 'status', '--json', '--port', String(t.port), '--config', t.configDir]);
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ running: true, protocol: 1 });
  });
});

describe('agent console', () => {
  test('prints a URL that opens the console', async () => {
    const { url } = consoleUrl(opts);
    expect(url).toBe(`http://127.0.0.1:${t.port}/console?k=${t.consoleKey()}`);
    const parsed = new URL(url);
    expect((await httpRequest(t.port, { path: `${parsed.pathname}${parsed.search}` })).status).toBe(200);
  });
});

describe('agent pair', () => {
  test('approve <code>: shows the origin, asks, approves through agent.approvePairing', async () => {
    const page = await t.connect({ origin: 'https://cli.example' });
    const { code } = await page.result<{ code: string }>('agent.pair', { scopes: ['cps.read', 'vitale.read'] });
    const questions: string[] = [];
    await expect(pairApprove(code, opts, async (q) => (questions.push(q), false))).rejects.toMatchObject({ code: 'USER_CANCELLED' });
    expect((await page.result<{ caller: string }>('agent.info')).caller).toBe('unpaired');
    const paired = await pairApprove(code, opts, async () => true);
    expect(paired).toMatchObject({ origin: 'https://cli.example', scopes: ['cps.read', 'vitale.read'] });
    expect(questions).toHaveLength(1);
    expect((await page.result<{ caller: string }>('agent.info')).caller).toBe('origin');
    await expect(pairApprove('000000', { ...opts, yes: true })).rejects.toMatchObject({ code: 'UNKNOWN_CODE' });
    await expect(pairApprove('12ab', { ...opts, yes: true })).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
  });

  test('list and revoke, running and stopped', async () => {
    const page = await t.connect({ origin: 'https://cli-revoke.example' });
    const { code } = await page.result<{ code: string }>('agent.pair', { scopes: ['cps.sign'] });
    await pairApprove(code, { ...opts, yes: true });
    expect((await pairList(opts)).paired.map((p) => p.origin)).toContain('https://cli-revoke.example');
    expect(await pairRevoke('https://cli-revoke.example', opts)).toEqual({ origin: 'https://cli-revoke.example', revoked: true, running: true });
    expect((await page.closed).code).toBe(1008);

    // stopped agent: the file is edited directly
    const page2 = await t.connect({ origin: 'https://offline.example' });
    const second = await page2.result<{ code: string }>('agent.pair', { scopes: ['cps.read'] });
    await pairApprove(second.code, { ...opts, yes: true });
    const stopped = { port: await freePort(), config: t.configDir };
    expect((await pairList(stopped)).running).toBe(false);
    expect((await pairList(stopped)).paired.map((p) => p.origin)).toContain('https://offline.example');
    expect(await pairRevoke('https://offline.example', stopped)).toMatchObject({ revoked: true, running: false });
    expect(readFileSync(join(t.configDir, 'pairings.json'), 'utf8')).not.toContain('https://offline.example');
  });
});

describe('agent install', () => {
  test('the unit runs this node and this cardbridge with the given options', () => {
    const template = readFileSync(join(packageRoot(), 'scripts', 'cardbridge-agent.service'), 'utf8');
    const unit = renderUnit(template, { node: '/usr/bin/node', cli: '/opt/cardbridge/bin/cardbridge.js', args: ['--port', '24821', '--config', '/home/a b/cfg'], docs: '/d' });
    expect(unit).toContain('ExecStart=/usr/bin/node /opt/cardbridge/bin/cardbridge.js agent --port 24821 --config "/home/a b/cfg"\n');
    expect(unit).not.toMatch(/@[A-Z]+@/);
    expect(unit).toContain('UMask=0077');
  });

  test('writes ~/.config/systemd/user/cardbridge-agent.service and enables it when systemd answers; says what to do otherwise', () => {
    const home = mkdtempSync(join(tmpdir(), 'cardbridge-home-'));
    try {
      if (!(() => {
        try {
          readFileSync(join(packageRoot(), 'dist', 'src', 'cli', 'main.js'));
          return true;
        } catch {
          return false;
        }
      })()) {
        expect(() => installService({}, { HOME: home })).toThrow(/npm run build/);
        return;
      }
      const calls: string[][] = [];
      const ok = installService({ port: '24830' }, { HOME: home }, (cmd, args) => (calls.push([cmd, ...args]), { status: 0, stderr: '' }));
      expect(ok.unitPath).toBe(join(home, '.config', 'systemd', 'user', 'cardbridge-agent.service'));
      expect(ok.started).toBe(true);
      expect(readFileSync(ok.unitPath, 'utf8')).toMatch(/ExecStart=\S+ \S+bin\/cardbridge\.js agent --port 24830\n/);
      expect(calls).toEqual([
        ['systemctl', '--user', 'daemon-reload'],
        ['systemctl', '--user', 'enable', '--now', 'cardbridge-agent.service'],
      ]);
      const none = installService({}, { HOME: home }, () => ({ status: null, stderr: '' }));
      expect(none.started).toBe(false);
      expect(none.message).toMatch(/systemctl --user daemon-reload && systemctl --user enable --now/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
