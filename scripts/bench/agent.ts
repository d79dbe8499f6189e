// `npm run bench:agent`: the agent's performance targets of shared/spec/quality.md, measured side by
// side in one run (ratios and counts, not absolute timings):
//   P1  cps.sign through the WebSocket agent (AgentClient -> agent -> card) vs the same
//       CpsSession.signHash in process, on the SAME virtual card: over the native mock, and over
//       pcscd + vpcd when available. Blocks of each alternate, so drift hits both alike.
//   P2  APDUs per operation, cardbridge vs OpenSC (pkcs15-tool / pkcs11-tool) on the same virtual
//       CPS3 through pcscd + vpcd, counted from the VpcdLink's APDU log; a second certificate read
//       of the same insertion.
//   P3  50 desktop clients × 20 cps.sign (each passing its PIN) on one card, queue depth 64: errors,
//       interleaving (each MSE/PSO pair and each VERIFY with its signature contiguous in the APDU
//       log), p99 vs 1.5 × (queue length × single-op time).
//   P7  RSS of the idle agent process with two cards (CPS3 + Vitale 2): `cardbridge agent` under
//       plain node (sources transpiled file by file), under tsx, and startAgent alone.
// Prints Markdown tables on stdout and writes bench-results/agent-<time>.json (+ agent-latest.json).
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import { defaultMockPcsc } from '../../native-mocks/pcsclite/index.js';
import { startAgent, type RunningAgent } from '../../src/agent/daemon.js';
import { TOKEN_FILE } from '../../src/agent/security/local-secrets.js';
import { CpsSession } from '../../src/cards/cps-session.js';
import { AgentClient, type AgentEventMap } from '../../src/client/agent-client/index.js';
import { TestPki } from '../../src/pki/test-pki.js';
import { createPersonaCard } from '../../src/simulator/card-factory.js';
import type { VirtualCard } from '../../src/simulator/virtual-card.js';
import { VpcdLink } from '../../src/simulator/vpcd/vpcd-link.js';
import { loadPcsclite } from '../../src/transport/load-pcsclite.js';
import type { PcscProvider } from '../../src/transport/pcsc-types.js';
import { ReaderMonitor } from '../../src/transport/reader-monitor.js';
import { rssKbOf, spawnAgentProcess } from '../../test/unit/agent-e2e/agent-process.js';
import { waitForFreeVpcdSlots } from '../../test/unit/agent-e2e/vpcd-slots.js';
import { onPath, pcscdAvailable, startSimProcess, VPCD_PORT } from '../../test/support/system.js';
import { BUILD_ROOT, transpileForNode } from './lib/build.js';
import { createProgress, type Progress } from './lib/progress.js';
import { table, writeResults, type Cell } from './lib/report.js';
import { msSince, round, summarize, type Summary } from './lib/stats.js';

const run = promisify(execFile);
const PIN = '1234';
const PKCS11_MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const MOCK_CPS = 'Lecteur CPS';
const MOCK_VITALE = 'Lecteur Vitale';
const SLOT0 = 'Virtual PCD 00 00';
const SLOT1 = 'Virtual PCD 00 01';
/** No flood limit in the way of a benchmark's sequential calls (docs/agent.md "Limits"). */
const BENCH_FLOOD = { burst: 1_000_000, perSecond: 1_000_000, closeAfterRefused: 1_000_000, maxBufferedBytes: 256 * 2 ** 20 };
const P3_CLIENTS = 50;
const P3_SIGNS = 20;
const P3_WARMUP = 2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ApduLogLike {
  entries(): readonly { command: string; response: string }[];
  clear(): void;
}

function mockLog(reader: string): ApduLogLike {
  return { entries: () => defaultMockPcsc.apduLog(reader), clear: () => defaultMockPcsc.clearApduLog(reader) };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

// ---- an agent in this process ----------------------------------------------------------------

interface LocalAgent {
  readonly agent: RunningAgent;
  token(): string;
  desktop(appId: string): Promise<AgentClient>;
  close(): Promise<void>;
}

async function localAgent(root: string, pcsc: 'mock' | 'system'): Promise<LocalAgent> {
  const dir = mkdtempSync(join(root, `agent-${pcsc}-`));
  const agent = await startAgent({
    port: 0,
    configDir: join(dir, 'config'),
    stateDir: join(dir, 'state'),
    logDestination: join(dir, 'agent.log'),
    logLevel: 'info',
    pcsc,
    allowVirtualReaders: pcsc === 'system',
    floodLimits: BENCH_FLOOD,
  });
  const clients: AgentClient[] = [];
  const token = () => readFileSync(join(dir, 'config', TOKEN_FILE), 'utf8').trim();
  return {
    agent,
    token,
    async desktop(appId) {
      const c = await AgentClient.connect({ url: agent.url, WebSocket, token: token(), appId, reconnect: false });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) await c.close();
      await agent.close();
    },
  };
}

// ---- P1 --------------------------------------------------------------------------------------

interface P1Result {
  readonly path: string;
  readonly agent: Summary;
  readonly inProcess: Summary;
  readonly overheadMedianMs: number;
  readonly overheadP99Ms: number;
  readonly overheadMeanMs: number;
  readonly ratioMedian: number;
  readonly apdusPerOpAgent: number;
  readonly apdusPerOpInProcess: number;
  /** agent.info round trips in the same blocks: the WebSocket + JSON-RPC part of the overhead. */
  readonly infoRoundTrip: Summary;
}

async function p1(path: string, local: LocalAgent, reader: string, pcsc: PcscProvider, log: ApduLogLike, rounds: number, block: number, progress: Progress): Promise<P1Result> {
  const bar = progress.bar(`P1 ${path}`, 3 * rounds * block + 60);
  const client = await local.desktop('bench-p1');
  await client.cps.verifyPin({ reader, method: 'value', pin: PIN });
  const monitor = new ReaderMonitor({ pcsc, allowVirtualReaders: true, env: {} });
  await monitor.start();
  try {
    await waitFor(`${reader} with its card in the in-process monitor`, () => monitor.readers().some((r) => r.name === reader && r.card !== null));
    const session = await CpsSession.open(await monitor.connect(reader));
    await session.verifyPin(PIN);
    const hash = randomBytes(32);
    const viaAgent = async () => {
      await client.cps.sign({ reader, hash, hashAlgorithm: 'SHA-256' });
    };
    const inProcess = async () => {
      await session.signHash(hash);
    };
    for (let i = 0; i < 30; i++, bar.tick(2)) {
      await viaAgent();
      await inProcess();
    }
    log.clear();
    await viaAgent();
    const apdusPerOpAgent = log.entries().length;
    log.clear();
    await inProcess();
    const apdusPerOpInProcess = log.entries().length;
    const a: number[] = [];
    const b: number[] = [];
    const info: number[] = [];
    const infoCall = async () => {
      await client.info();
    };
    const measure = async (fn: () => Promise<void>, into: number[]) => {
      for (let i = 0; i < block; i++, bar.tick()) {
        const t = process.hrtime.bigint();
        await fn();
        into.push(msSince(t));
      }
    };
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        await measure(viaAgent, a);
        await measure(inProcess, b);
      } else {
        await measure(inProcess, b);
        await measure(viaAgent, a);
      }
      await measure(infoCall, info);
    }
    bar.done();
    const sa = summarize(a);
    const sb = summarize(b);
    return {
      path,
      agent: sa,
      inProcess: sb,
      overheadMedianMs: sa.median - sb.median,
      overheadP99Ms: sa.p99 - sb.p99,
      overheadMeanMs: sa.mean - sb.mean,
      ratioMedian: sa.median / sb.median,
      apdusPerOpAgent,
      apdusPerOpInProcess,
      infoRoundTrip: summarize(info),
    };
  } finally {
    await client.cps.logout({ reader }).catch(() => undefined);
    await monitor.close();
  }
}

// ---- P3 --------------------------------------------------------------------------------------

interface Interleaving {
  readonly signatures: number;
  readonly verifies: number;
  /** MSE not directly followed by its PSO (+ GET RESPONSE), or VERIFY not directly followed by SELECT + MSE. */
  readonly broken: number;
}

/** The sign operations in an APDU log, and how many were not contiguous. */
function interleaving(log: readonly { command: string; response: string }[]): Interleaving {
  const ins = (i: number) => log[i]?.command.split(' ').slice(0, 4).join(' ') ?? '';
  let signatures = 0;
  let verifies = 0;
  let broken = 0;
  for (let i = 0; i < log.length; i++) {
    const head = ins(i);
    if (head === '00 22 41 B6') {
      // MSE SET (DST) then PSO COMPUTE DIGITAL SIGNATURE, then GET RESPONSE when the PSO said 61xx
      if (ins(i + 1) !== '00 2A 9E 9A') broken++;
      else if (log[i + 1]!.response.startsWith('61') && !ins(i + 2).startsWith('00 C0')) broken++;
    } else if (head === '00 2A 9E 9A') {
      signatures++;
    } else if (head.startsWith('00 20 00') && log[i]!.command.split(' ').length > 5) {
      // a PIN presented for a signature: its SELECT and MSE follow at once
      verifies++;
      if (!ins(i + 1).startsWith('00 A4 04') || ins(i + 2) !== '00 22 41 B6') broken++;
    }
  }
  return { signatures, verifies, broken };
}

interface P3Result {
  readonly path: string;
  readonly clients: number;
  readonly signsPerClient: number;
  readonly ok: number;
  readonly errors: Record<string, number>;
  readonly badSignatures: number;
  readonly log: Interleaving;
  readonly singleOp: Summary;
  readonly latency: Summary;
  readonly queueLength: number;
  readonly boundMs: number;
  readonly p99WithinBound: boolean;
  /** Mean time per operation during the run (wall time / operations): the service time under load. */
  readonly serviceMsUnderLoad: number;
  /** 1.5 × queue length × that service time. */
  readonly boundUnderLoadMs: number;
  readonly p99WithinBoundUnderLoad: boolean;
  readonly wallMs: number;
  readonly opsPerSecond: number;
  /** The 15 slowest calls: client, its n-th call, when it started (ms from the start), latency. */
  readonly slowest: { client: number; call: number; startedAtMs: number; ms: number }[];
}

interface P3Target {
  readonly url: string;
  readonly token: string;
  readonly reader: string;
  clearLog(): Promise<void>;
  log(): Promise<readonly { command: string; response: string }[]>;
}

async function p3(path: string, target: P3Target, progress: Progress): Promise<P3Result> {
  const bar = progress.bar(`P3 ${path}`, P3_CLIENTS * P3_SIGNS + 40);
  const { reader } = target;
  const connect = (appId: string) => AgentClient.connect({ url: target.url, WebSocket, token: target.token, appId, reconnect: false });
  // single-op time: the same operation (a client that does not hold the card's PIN state presents
  // its PIN, then signs), uncontended: two clients taking turns
  const [x, y] = [await connect('bench-p3-x'), await connect('bench-p3-y')];
  const single: number[] = [];
  for (let i = 0; i < 40; i++, bar.tick()) {
    const t = process.hrtime.bigint();
    await (i % 2 ? x : y).cps.sign({ reader, hash: randomBytes(32), hashAlgorithm: 'SHA-256', pin: PIN });
    if (i >= 10) single.push(msSince(t));
  }
  await x.close();
  await y.close();
  const clients = await Promise.all(Array.from({ length: P3_CLIENTS }, (_, i) => connect(`bench-p3-${i}`)));
  // warm-up, not timed: every client signs twice together (the agent's first calls on 50 new
  // connections run cold code paths)
  await Promise.all(clients.map(async (client) => {
    for (let i = 0; i < P3_WARMUP; i++) await client.cps.sign({ reader, hash: randomBytes(32), hashAlgorithm: 'SHA-256', pin: PIN });
  }));
  await target.clearLog();
  const latency: number[] = [];
  const errors: Record<string, number> = {};
  const signed: { message: Buffer; signature: string; certificate: string }[] = [];
  const calls: { client: number; call: number; startedAtMs: number; ms: number }[] = [];
  const start = process.hrtime.bigint();
  await Promise.all(
    clients.map(async (client, c) => {
      for (let i = 0; i < P3_SIGNS; i++, bar.tick()) {
        const message = Buffer.from(`P3 client ${c} signature ${i}`);
        const t = process.hrtime.bigint();
        try {
          const r = await client.cps.sign({ reader, hash: createHash('sha256').update(message).digest(), hashAlgorithm: 'SHA-256', pin: PIN });
          const ms = msSince(t);
          latency.push(ms);
          calls.push({ client: c, call: i, startedAtMs: round(Number(t - start) / 1e6, 1), ms: round(ms, 2) });
          signed.push({ message, signature: r.signature, certificate: r.certificate });
        } catch (error) {
          const code = (error as { code?: string }).code ?? (error as Error).name;
          errors[code] = (errors[code] ?? 0) + 1;
        }
      }
    }),
  );
  const wallMs = msSince(start);
  bar.done();
  for (const c of clients) await c.close();
  // every signature checked with the certificate it came with, after the timed part
  let badSignatures = 0;
  for (const s of signed) {
    const cert = new X509Certificate(Buffer.from(s.certificate, 'base64'));
    if (!verify('sha256', s.message, cert.publicKey, Buffer.from(s.signature, 'base64'))) badSignatures++;
  }
  const singleOp = summarize(single);
  const lat = summarize(latency);
  const boundMs = 1.5 * P3_CLIENTS * singleOp.median;
  return {
    path,
    clients: P3_CLIENTS,
    signsPerClient: P3_SIGNS,
    ok: signed.length,
    errors,
    badSignatures,
    log: interleaving(await target.log()),
    singleOp,
    latency: lat,
    queueLength: P3_CLIENTS,
    boundMs,
    p99WithinBound: lat.p99 <= boundMs,
    serviceMsUnderLoad: wallMs / Math.max(1, signed.length),
    boundUnderLoadMs: 1.5 * P3_CLIENTS * (wallMs / Math.max(1, signed.length)),
    p99WithinBoundUnderLoad: lat.p99 <= 1.5 * P3_CLIENTS * (wallMs / Math.max(1, signed.length)),
    wallMs,
    opsPerSecond: (signed.length * 1000) / wallMs,
    slowest: calls.sort((a, b) => b.ms - a.ms).slice(0, 15),
  };
}

// ---- P2 --------------------------------------------------------------------------------------

interface P2Row {
  readonly operation: string;
  readonly cardbridgeFirst: number;
  readonly cardbridgeThen: number;
  readonly opensc: number;
  readonly openscCommand: string;
  readonly fewer: boolean;
}

interface P2Result {
  readonly rows: P2Row[];
  readonly secondCertificateRead: number;
  readonly openscExtra: Record<string, number>;
}

async function p2(local: LocalAgent, link: VpcdLink, card: VirtualCard, authCert: X509Certificate, root: string, progress: Progress): Promise<P2Result> {
  const bar = progress.bar('P2 APDU counts (pcscd + vpcd, OpenSC)', 16);
  const client = await local.desktop('bench-p2');
  const seen: { event: string; reader: string }[] = [];
  client.on('card.inserted', (e: AgentEventMap['card.inserted']) => seen.push({ event: 'inserted', reader: e.reader }));
  client.on('card.removed', (e: AgentEventMap['card.removed']) => seen.push({ event: 'removed', reader: e.reader }));
  await client.subscribe(['card.inserted', 'card.removed']);
  const log = link.apduLog;
  /** Takes the card out and puts it back: a new insertion (caches and verified state gone). */
  const reinsert = async () => {
    const from = seen.length;
    link.remove();
    await waitFor('card.removed', () => seen.slice(from).some((e) => e.event === 'removed' && e.reader === SLOT0));
    link.insert(card);
    await waitFor('card.inserted', () => seen.slice(from).some((e) => e.event === 'inserted' && e.reader === SLOT0));
    await sleep(100);
    log.clear();
  };
  const count = async (fn: () => Promise<unknown>) => {
    log.clear();
    await fn();
    return log.entries().length;
  };
  const challenge = randomBytes(32).toString('base64');
  const hash = randomBytes(32);

  await reinsert();
  const certsFirst = await count(() => client.cps.getCertificates({ reader: SLOT0 }));
  const certsThen = await count(() => client.cps.getCertificates({ reader: SLOT0 }));
  bar.tick(2);
  await reinsert();
  const verifyFirst = await count(() => client.cps.verifyPin({ reader: SLOT0, method: 'value', pin: PIN }));
  const verifyThen = await count(() => client.cps.verifyPin({ reader: SLOT0, method: 'value', pin: PIN }));
  bar.tick(2);
  await reinsert();
  const signFirst = await count(() => client.cps.sign({ reader: SLOT0, hash, hashAlgorithm: 'SHA-256', pin: PIN }));
  const signThen = await count(() => client.cps.sign({ reader: SLOT0, hash, hashAlgorithm: 'SHA-256' }));
  bar.tick(2);
  await reinsert();
  const authFirst = await count(() => client.cps.authenticate({ reader: SLOT0, challenge, pin: PIN }));
  const authThen = await count(() => client.cps.authenticate({ reader: SLOT0, challenge }));
  bar.tick(2);
  await client.cps.logout({ reader: SLOT0 });

  // OpenSC on the same card in the same reader: one process per operation, each after a new insertion
  const readers = (await run('opensc-tool', ['--list-readers'])).stdout;
  const readerIndex = /^\s*(\d+)\s+\S+\s+(?:\S+\s+)?Virtual PCD 00 00\s*$/m.exec(readers)?.[1] ?? '0';
  const slots = (await run('pkcs11-tool', ['--module', PKCS11_MODULE, '--list-slots'])).stdout;
  const slotLines = slots.split('\n').filter((l) => /^Slot \d+/.test(l));
  const slotIndex = String(Math.max(0, slotLines.findIndex((l) => l.includes(SLOT0))));
  const digestInfo = join(root, 'digest-info.bin');
  writeFileSync(digestInfo, Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), createHash('sha256').update('P2').digest()]));
  const sigFile = join(root, 'opensc.sig');
  const opensc = async (tool: string, args: string[]) => {
    await reinsert();
    const { stdout, stderr } = await run(tool, args, { timeout: 60_000 });
    return { apdus: log.entries().length, out: stdout + stderr, log: log.entries() };
  };
  const listCerts = await opensc('pkcs15-tool', ['--reader', readerIndex, '--list-certificates']);
  if (!listCerts.out.includes('Certificat de Signature CPS')) throw new Error(`pkcs15-tool did not list the certificates:\n${listCerts.out}`);
  bar.tick();
  const readCert1 = await opensc('pkcs15-tool', ['--reader', readerIndex, '--read-certificate', '01']);
  const readCert2 = await opensc('pkcs15-tool', ['--reader', readerIndex, '--read-certificate', '02']);
  bar.tick(2);
  const verifyPin = await opensc('pkcs15-tool', ['--reader', readerIndex, '--verify-pin', '--auth-id', '01', '--pin', PIN]);
  if (!verifyPin.log.some((e) => e.command.startsWith('00 20 00') && e.command.split(' ').length > 5 && e.response === '90 00')) {
    throw new Error('pkcs15-tool --verify-pin presented no PIN');
  }
  bar.tick();
  const login = await opensc('pkcs11-tool', ['--module', PKCS11_MODULE, '--slot-index', slotIndex, '--login', '--pin', PIN, '--list-objects', '--type', 'privkey']);
  bar.tick();
  const sign = await opensc('pkcs11-tool', ['--module', PKCS11_MODULE, '--slot-index', slotIndex, '--login', '--pin', PIN, '--sign', '--id', '02', '-m', 'RSA-PKCS', '--input-file', digestInfo, '--output-file', sigFile]);
  if (!verify('sha256', Buffer.from('P2'), authCert.publicKey, readFileSync(sigFile))) throw new Error('the OpenSC signature does not verify');
  bar.tick();
  bar.done();

  const row = (operation: string, first: number, then: number, os: number, command: string): P2Row => ({
    operation,
    cardbridgeFirst: first,
    cardbridgeThen: then,
    opensc: os,
    openscCommand: command,
    fewer: first < os,
  });
  return {
    rows: [
      row('read both certificates', certsFirst, certsThen, listCerts.apdus, 'pkcs15-tool --list-certificates'),
      row('verify PIN', verifyFirst, verifyThen, verifyPin.apdus, 'pkcs15-tool --verify-pin --auth-id 01 --pin …'),
      row('sign a hash (first: with the PIN)', signFirst, signThen, sign.apdus, 'pkcs11-tool --login --sign --id 02 -m RSA-PKCS'),
      row('authenticate (first: with the PIN)', authFirst, authThen, sign.apdus, 'pkcs11-tool --login --sign --id 02 -m RSA-PKCS'),
    ],
    secondCertificateRead: certsThen,
    openscExtra: {
      'pkcs15-tool --read-certificate 01 + 02': readCert1.apdus + readCert2.apdus,
      'pkcs11-tool --login --list-objects --type privkey': login.apdus,
    },
  };
}

// ---- P7 --------------------------------------------------------------------------------------

interface P7Row {
  readonly agent: string;
  readonly cards: string;
  readonly rssMb: number;
  readonly startRssMb: number;
}

/** Median of 5 VmRSS samples 200 ms apart, in MB. */
async function settledRssMb(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(rssKbOf(pid) / 1024);
    await sleep(200);
  }
  return samples.sort((a, b) => a - b)[2]!;
}

/** Connects, waits for two cards, reads them once (sessions and caches exist), disconnects. */
async function touchCards(url: string, token: string, cps: string, vitale: string): Promise<void> {
  const c = await AgentClient.connect({ url, WebSocket, token, appId: 'bench-p7', reconnect: false });
  try {
    await waitFor('two cards', async () => (await c.readers()).filter((r) => r.card !== null).length >= 2);
    await c.cps.getCertificates({ reader: cps });
    await c.cps.getIdentity({ reader: cps });
    await c.cps.pinStatus({ reader: cps });
    await c.vitale.read({ reader: vitale });
  } finally {
    await c.close();
  }
}

/** startAgent alone (no CLI around it) under plain node, from the transpiled tree. */
async function daemonOnlyRss(root: string, system: boolean): Promise<{ rssMb: number; startRssMb: number }> {
  const dir = mkdtempSync(join(root, 'p7-daemon-'));
  const script = join(BUILD_ROOT, 'bench-daemon-only.mjs');
  writeFileSync(
    script,
    `import { startAgent } from './src/agent/daemon.js';\n` +
      `const agent = await startAgent({ port: 0, configDir: process.argv[2], stateDir: process.argv[3], logLevel: 'info', pcsc: 'system', allowVirtualReaders: true });\n` +
      `process.stderr.write('écoute sur ' + agent.url + '\\n');\n` +
      `process.on('SIGTERM', () => void agent.close().then(() => process.exit(0)));\n`,
  );
  if (!system) throw new Error('daemon-only P7 runs over pcscd');
  const child = spawn(process.execPath, [script, join(dir, 'config'), join(dir, 'state')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`daemon-only agent did not start:\n${err}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /écoute sur (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`daemon-only agent exited ${code}:\n${err}`)));
  });
  try {
    const startRssMb = rssKbOf(child.pid!) / 1024;
    await touchCards(url, readFileSync(join(dir, 'config', TOKEN_FILE), 'utf8').trim(), SLOT0, SLOT1);
    await sleep(2000);
    return { rssMb: await settledRssMb(child.pid!), startRssMb };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function cliAgentRss(root: string, options: { system: boolean; transpiled: boolean; pkiDir: string }): Promise<{ rssMb: number; startRssMb: number }> {
  const dir = mkdtempSync(join(root, 'p7-cli-'));
  const agent = await spawnAgentProcess({
    system: options.system,
    readers: { [MOCK_CPS]: 'cps:medecin', [MOCK_VITALE]: 'vitale:famille' },
    pkiDir: options.pkiDir,
    configDir: join(dir, 'config'),
    stateDir: join(dir, 'state'),
    ...(options.transpiled ? { transpiledRoot: BUILD_ROOT } : {}),
  });
  try {
    const startRssMb = agent.rssKb() / 1024;
    const token = readFileSync(join(dir, 'config', TOKEN_FILE), 'utf8').trim();
    await touchCards(agent.url, token, options.system ? SLOT0 : MOCK_CPS, options.system ? SLOT1 : MOCK_VITALE);
    await sleep(2000);
    return { rssMb: await settledRssMb(agent.pid), startRssMb };
  } finally {
    await agent.stop();
  }
}

// ---- main ------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  const loadAtStart = loadavg().map((l) => round(l, 2));
  const progress = createProgress();
  const root = mkdtempSync(join(tmpdir(), 'cb-bench-agent-'));
  const withVpcd = pcscdAvailable();
  const withOpensc = withVpcd && onPath('pkcs15-tool') && onPath('pkcs11-tool') && onPath('opensc-tool');
  const notes: string[] = [];
  if (!withVpcd) notes.push('pcscd + vpcd not available: P1 over vpcd, P2, P3 over vpcd and P7 over pcscd skipped (scripts/start-pcscd.sh)');
  else if (!withOpensc) notes.push('OpenSC tools missing: P2 skipped (apt-get install opensc)');
  const p1s: P1Result[] = [];
  const p3s: P3Result[] = [];
  let p2r: P2Result | undefined;
  const p7s: P7Row[] = [];
  try {
    const pki = await TestPki.open(join(root, 'pki'));

    // the native mock: one CPS3 and one Vitale 2 in the agent's (this process's) default machine
    defaultMockPcsc.addReader(MOCK_CPS);
    defaultMockPcsc.insertCard(MOCK_CPS, await createPersonaCard('cps:medecin', { pki }));
    defaultMockPcsc.addReader(MOCK_VITALE);
    defaultMockPcsc.insertCard(MOCK_VITALE, await createPersonaCard('vitale:famille', { pki }));
    const mock = await localAgent(root, 'mock');
    try {
      const probe = await mock.desktop('bench-probe');
      await waitFor('the mock readers', async () => (await probe.readers()).filter((r) => r.card).length === 2);
      p1s.push(await p1('native mock', mock, MOCK_CPS, defaultMockPcsc.pcsclite as unknown as PcscProvider, mockLog(MOCK_CPS), 10, 50, progress));
    } finally {
      await mock.close();
    }

    // P3 against agents in processes of their own (node, transpiled), as installed: the clients
    // (and, over vpcd, the card) are this process, the agent has its own event loop
    await transpileForNode();
    {
      const dir = mkdtempSync(join(root, 'p3-mock-'));
      const child = await spawnAgentProcess({
        readers: { [MOCK_CPS]: 'cps:medecin', [MOCK_VITALE]: 'vitale:famille' },
        pkiDir: join(root, 'pki'),
        configDir: join(dir, 'config'),
        stateDir: join(dir, 'state'),
        transpiledRoot: BUILD_ROOT,
      });
      try {
        p3s.push(
          await p3(
            'native mock (agent process)',
            {
              url: child.url,
              token: readFileSync(join(dir, 'config', TOKEN_FILE), 'utf8').trim(),
              reader: MOCK_CPS,
              clearLog: async () => void (await child.command({ op: 'clear-apdu-logs' })),
              log: async () => (await child.command({ op: 'apdu-log', reader: MOCK_CPS })).entries as { command: string; response: string }[],
            },
            progress,
          ),
        );
      } finally {
        await child.stop();
      }
    }

    if (withVpcd) {
      await waitForFreeVpcdSlots([VPCD_PORT, VPCD_PORT + 1], 240_000, 'bench:agent');
      const link0 = new VpcdLink({ port: VPCD_PORT });
      const link1 = new VpcdLink({ port: VPCD_PORT + 1 });
      const cps = await createPersonaCard('cps:medecin', { pki });
      link0.insert(cps);
      link1.insert(await createPersonaCard('vitale:famille', { pki }));
      try {
        const sys = await localAgent(root, 'system');
        try {
          const probe = await sys.desktop('bench-probe');
          await waitFor('both vpcd cards', async () => (await probe.readers()).filter((r) => r.card && r.name.startsWith('Virtual PCD')).length === 2, 20_000);
          const certs = await probe.cps.getCertificates({ reader: SLOT0 });
          const authCert = new X509Certificate(Buffer.from(certs.authentication, 'base64'));
          p1s.push(await p1('pcscd + vpcd', sys, SLOT0, await loadPcsclite(), link0.apduLog, 8, 30, progress));
          if (withOpensc) p2r = await p2(sys, link0, cps, authCert, root, progress);
        } finally {
          await sys.close();
        }
      } finally {
        await link0.close();
        await link1.close();
      }
      // P3 and P7: every part in a process of its own, as on a workstation — the agent, pcscd, the
      // cards (the `cardbridge sim` process on both vpcd slots) and the clients (this process)
      await waitForFreeVpcdSlots([VPCD_PORT, VPCD_PORT + 1], 240_000, 'bench:agent');
      const sim = await startSimProcess(['--state-dir', join(root, 'sim'), '--slot', '0=cps:medecin', '--slot', '1=vitale:famille']);
      const simApi = async (method: string, path: string) => {
        const res = await fetch(`${sim.url}${path}`, { method });
        const text = await res.text();
        return text ? (JSON.parse(text) as unknown) : undefined;
      };
      try {
        {
          const dir = mkdtempSync(join(root, 'p3-vpcd-'));
          const child = await spawnAgentProcess({ system: true, configDir: join(dir, 'config'), stateDir: join(dir, 'state'), transpiledRoot: BUILD_ROOT });
          try {
            const token = readFileSync(join(dir, 'config', TOKEN_FILE), 'utf8').trim();
            await touchCards(child.url, token, SLOT0, SLOT1);
            p3s.push(
              await p3(
                'pcscd + vpcd (agent process, sim process)',
                {
                  url: child.url,
                  token,
                  reader: SLOT0,
                  clearLog: async () => void (await simApi('DELETE', '/slots/0/apdu-log')),
                  log: async () => (await simApi('GET', '/slots/0/apdu-log')) as { command: string; response: string }[],
                },
                progress,
              ),
            );
          } finally {
            await child.stop();
          }
        }
        const bar = progress.bar('P7 idle RSS', 3);
        const node = await cliAgentRss(root, { system: true, transpiled: true, pkiDir: join(root, 'pki') });
        p7s.push({ agent: '`cardbridge agent` (node, transpiled)', cards: 'CPS3 + Vitale 2 via pcscd + vpcd', ...node });
        bar.tick();
        const viaTsx = await cliAgentRss(root, { system: true, transpiled: false, pkiDir: join(root, 'pki') });
        p7s.push({ agent: '`cardbridge agent` (tsx)', cards: 'CPS3 + Vitale 2 via pcscd + vpcd', ...viaTsx });
        bar.tick();
        const daemonOnly = await daemonOnlyRss(root, true);
        p7s.push({ agent: 'startAgent alone, no CLI (node, transpiled)', cards: 'CPS3 + Vitale 2 via pcscd + vpcd', ...daemonOnly });
        bar.done();
      } finally {
        await sim.stop();
      }
    } else {
      const bar = progress.bar('P7 idle RSS (mock)', 1);
      const node = await cliAgentRss(root, { system: false, transpiled: true, pkiDir: join(root, 'pki') });
      p7s.push({ agent: '`cardbridge agent --pcsc mock` (node, transpiled)', cards: 'CPS3 + Vitale 2 virtual cards inside the agent process', ...node });
      bar.done();
    }
  } finally {
    progress.stop();
    rmSync(root, { recursive: true, force: true });
  }

  const machine = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? '?', loadavgAtStart: loadAtStart, loadavg: loadavg().map((l) => round(l, 2)) };
  const out: string[] = [];
  out.push(`# bench:agent — ${new Date().toISOString()} — node ${machine.node}, ${machine.cpus} × ${machine.cpu}, load average ${machine.loadavgAtStart.join(' ')} at start, ${machine.loadavg.join(' ')} at the end`);
  out.push('', '## P1 — cps.sign through the WebSocket agent vs CpsSession.signHash in process, same card (target: median overhead ≤ 0.3 ms)', '');
  out.push(
    table(
      ['path', 'n', 'agent median', 'in-process median', 'overhead median', 'agent p99', 'in-process p99', 'overhead p99', 'ratio (medians)', 'agent.info round trip', 'APDUs/op agent, in-process', '≤ 0.3 ms'],
      p1s.map((r): Cell[] => [
        r.path,
        r.agent.n,
        round(r.agent.median),
        round(r.inProcess.median),
        round(r.overheadMedianMs),
        round(r.agent.p99),
        round(r.inProcess.p99),
        round(r.overheadP99Ms),
        `${round(r.ratioMedian, 3)}×`,
        round(r.infoRoundTrip.median),
        `${r.apdusPerOpAgent}, ${r.apdusPerOpInProcess}`,
        r.overheadMedianMs <= 0.3,
      ]),
    ),
  );
  if (p2r) {
    out.push('', '## P2 — APDUs per operation, virtual CPS3 through pcscd + vpcd (target: fewer than OpenSC; second certificate read 0)', '');
    out.push(
      table(
        ['operation', 'cardbridge, first call of an insertion', 'cardbridge, then', 'OpenSC', 'OpenSC command', 'fewer'],
        p2r.rows.map((r): Cell[] => [r.operation, r.cardbridgeFirst, r.cardbridgeThen, r.opensc, r.openscCommand, r.fewer]),
      ),
    );
    out.push('', `Second certificate read of the same insertion: ${p2r.secondCertificateRead} APDUs. OpenSC, other ways: ${Object.entries(p2r.openscExtra).map(([k, v]) => `${k}: ${v}`).join('; ')}.`);
  }
  out.push('', `## P3 — ${P3_CLIENTS} clients × ${P3_SIGNS} cps.sign (PIN passed) on one card, queue depth 64 (target: no error, no interleaving, p99 ≤ 1.5 × queue × single op)`, '');
  out.push(
    table(
      ['path', 'ok', 'errors', 'bad sig.', 'PSO / VERIFY in log', 'interleaved', 'single op (alone) median', 'p50', 'p99', '1.5×50×single', 'p99 ≤ it', 'op time in the run', '1.5×50×that', 'p99 ≤ it ', 'ops/s'],
      p3s.map((r): Cell[] => [
        r.path,
        r.ok,
        Object.entries(r.errors).map(([k, v]) => `${k}:${v}`).join(' ') || '0',
        r.badSignatures,
        `${r.log.signatures} / ${r.log.verifies}`,
        r.log.broken,
        round(r.singleOp.median),
        round(r.latency.median),
        round(r.latency.p99),
        round(r.boundMs, 1),
        r.p99WithinBound,
        round(r.serviceMsUnderLoad),
        round(r.boundUnderLoadMs, 1),
        r.p99WithinBoundUnderLoad,
        round(r.opsPerSecond, 1),
      ]),
    ),
  );
  out.push('', '## P7 — agent RSS, idle, two cards (target ≤ 60 MB)', '');
  out.push(table(['agent process', 'cards', 'RSS at start (MB)', 'RSS idle after use (MB)', '≤ 60 MB'], p7s.map((r): Cell[] => [r.agent, r.cards, round(r.startRssMb, 1), round(r.rssMb, 1), r.rssMb <= 60])));
  for (const n of notes) out.push('', `Note: ${n}`);
  const seconds = (Date.now() - started) / 1000;
  out.push('', `Total ${seconds.toFixed(1)} s.`);
  const file = writeResults('agent', { date: new Date().toISOString(), machine, seconds, p1: p1s, p2: p2r ?? null, p3: p3s, p7: p7s, notes });
  out.push(`Results: ${file}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:agent failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
