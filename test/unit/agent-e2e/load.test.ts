// quality.md Reliability: 200 concurrent WebSocket clients, 10k requests, no error, no leak.
// The agent is the real `cardbridge agent` command in its own process over the native mock (a
// CPS3 and a Vitale 2 card). After a warm-up round (200 clients × 5 requests: JIT, first reads),
// two halves of 200 clients × 25 requests each (5,000 per half, every client a new connection
// that says hello with the local token and closes at the end). After each half the mock's own APDU
// logs are cleared (test instrumentation, up to 50,000 entries per reader), the child's GC runs
// and its RSS (VmRSS from /proc/<pid>/status) is read once settled: the second half's must be
// within 10 % of the first's, and so must the V8 heap in use. Clients reading the CPS are at most 60 and those reading the Vitale card at most 40, so
// the per-reader queue (depth 64) is never full: any error is a failure.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../../src/client/agent-client/index.js';
import { spawnAgentProcess, type AgentProcess } from './agent-process.js';

const CLIENTS = 200;
const PER_CLIENT_PER_HALF = 25;
const CPS_CLIENTS = 60;
const VITALE_CLIENTS = 40;

let root: string;
let agent: AgentProcess;
let token: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cb-agent-load-'));
  agent = await spawnAgentProcess({
    readers: { 'Lecteur CPS': 'cps:medecin', 'Lecteur Vitale': 'vitale:famille' },
    pkiDir: join(root, 'pki'),
    configDir: join(root, 'config'),
    stateDir: join(root, 'state'),
    exposeGc: true,
  });
  token = readFileSync(join(root, 'config', 'token'), 'utf8').trim();
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

type Role = 'cps' | 'vitale' | 'agent';
const roleOf = (i: number): Role => (i < CPS_CLIENTS ? 'cps' : i < CPS_CLIENTS + VITALE_CLIENTS ? 'vitale' : 'agent');

/** One request of a client's role; throws on a wrong answer. */
async function request(client: AgentClient, role: Role, n: number): Promise<void> {
  switch (role) {
    case 'cps': {
      const k = n % 3;
      if (k === 0) {
        if ((await client.cps.getIdentity()).surname !== 'MARTIN') throw new Error('wrong identity');
      } else if (k === 1) {
        if ((await client.cps.getCertificates()).authentication.length < 500) throw new Error('no certificate');
      } else if ((await client.cps.pinStatus()).maxTries !== 3) throw new Error('wrong PIN status');
      return;
    }
    case 'vitale':
      if ((await client.vitale.read()).beneficiaries.length !== 3) throw new Error('wrong Vitale read');
      return;
    case 'agent':
      if (n % 2 === 0) {
        if ((await client.info()).caller !== 'desktop') throw new Error('not desktop');
      } else if ((await client.readers()).length !== 2) throw new Error('wrong readers');
  }
}

interface HalfResult {
  readonly ok: number;
  readonly errors: string[];
  readonly peakRssKb: number;
  readonly endRssKb: number;
  readonly heapUsedMb: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function half(label: string, perClient = PER_CLIENT_PER_HALF): Promise<HalfResult> {
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) => AgentClient.connect({ url: agent.url, WebSocket, token, appId: `charge-${label}-${i}`, reconnect: false })),
  );
  let ok = 0;
  const errors: string[] = [];
  let peakRssKb = agent.rssKb();
  const sampler = setInterval(() => (peakRssKb = Math.max(peakRssKb, agent.rssKb())), 100);
  try {
    await Promise.all(
      clients.map(async (client, i) => {
        for (let n = 0; n < perClient; n++) {
          try {
            await request(client, roleOf(i), n);
            ok++;
          } catch (error) {
            errors.push(`${roleOf(i)} #${i}: ${(error as Error).name} ${(error as Error).message}`);
          }
        }
      }),
    );
  } finally {
    clearInterval(sampler);
    await Promise.all(clients.map((c) => c.close()));
  }
  await agent.command({ op: 'clear-apdu-logs' });
  await sleep(500); // the agent cleans up the closed connections
  await agent.command({ op: 'gc' });
  await sleep(1000); // GC's helper threads give the freed pages back
  const samples: number[] = [];
  for (let k = 0; k < 5; k++, await sleep(100)) samples.push(agent.rssKb());
  const { memory } = (await agent.command({ op: 'memory' })) as { memory: { heapUsed: number } };
  return { ok, errors, peakRssKb, endRssKb: samples.sort((a, b) => a - b)[2]!, heapUsedMb: memory.heapUsed / 2 ** 20 };
}

describe('200 concurrent WebSocket clients × 50 requests against the agent process', () => {
  it('10,000 requests: no error; the RSS of the second half within 10 % of the first', async () => {
    const idleKb = agent.rssKb();
    const warm = await half('warm-up', 5);
    expect(warm.errors.slice(0, 5)).toEqual([]);
    const first = await half('a');
    const second = await half('b');
    const report = {
      idleMb: +(idleKb / 1024).toFixed(1),
      first: { endMb: +(first.endRssKb / 1024).toFixed(1), peakMb: +(first.peakRssKb / 1024).toFixed(1), heapUsedMb: +first.heapUsedMb.toFixed(1) },
      second: { endMb: +(second.endRssKb / 1024).toFixed(1), peakMb: +(second.peakRssKb / 1024).toFixed(1), heapUsedMb: +second.heapUsedMb.toFixed(1) },
    };
    console.log('agent RSS under load:', JSON.stringify(report));
    expect(first.errors.slice(0, 5)).toEqual([]);
    expect(second.errors.slice(0, 5)).toEqual([]);
    expect(first.ok + second.ok).toBe(CLIENTS * PER_CLIENT_PER_HALF * 2);
    expect(Math.abs(second.endRssKb - first.endRssKb) / first.endRssKb).toBeLessThanOrEqual(0.1);
    expect(Math.abs(second.heapUsedMb - first.heapUsedMb) / first.heapUsedMb).toBeLessThanOrEqual(0.1);
    // the agent is still well and counted every request in its audit
    const audit = readFileSync(join(root, 'state', 'agent-audit.jsonl'), 'utf8');
    const rpcLines = audit.split('\n').filter((l) => l.includes('"event":"rpc"'));
    expect(rpcLines.filter((l) => l.includes('"outcome":"error"'))).toEqual([]);
    expect(rpcLines.length).toBeGreaterThanOrEqual(CLIENTS * (PER_CLIENT_PER_HALF * 2 + 5));
  }, 180_000);
});
