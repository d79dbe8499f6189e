// The agent end to end through the machine's real pcscd + vsmartcard-vpcd: the `cardbridge agent`
// command in its own process (`--pcsc system --allow-virtual-readers`), the `cardbridge sim`
// process inserting and removing cards through its control API (PUT/DELETE /slots/{n}), and the
// project's AgentClient over real WebSockets. A desktop client with the local token the agent
// created calls every method; events on insert/remove; a browser-like client (Origin header)
// pairs through a desktop approval, gets tokens bound to its origin, never passes PIN values,
// types its PIN on the agent's page; a page leaving during its prompt leaves nothing verified
// (the card's own answer read from the simulator's APDU log); pcscd restarted under the running
// agent; no PIN or PUK in the agent's files or output.
//
// Only one pcscd serves the machine and other suites may hold a vpcd slot: the suite waits for
// both slots to be free, and an insertion that does not show up is retried.
import { execFile } from 'node:child_process';
import { constants, createHash, publicEncrypt, randomBytes, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgentClient,
  CardAbsentError,
  CardAmbiguousError,
  OriginNotPairedError,
  PcscUnavailableError,
  PinBlockedError,
  PinIncorrectError,
  PinRequiredError,
  PinValueNotAllowedError,
  UnauthorizedError,
  type AgentClientOptions,
  type AgentEventMap,
  type PinPrompt,
} from '../../src/client/agent-client/index.js';
import { CPS_PERSONAS } from '../../src/simulator/personas.js';
import { spawnAgentProcess, type AgentProcess } from '../unit/agent-e2e/agent-process.js';
import { vpcdSlotHeld, waitForFreeVpcdSlots } from '../unit/agent-e2e/vpcd-slots.js';
import {
  BROWSER_ORIGIN,
  browserWebSocket,
  csrfOf,
  enterPinOnPage,
  getPinPage,
  lastPinStatusAnswer,
  pinPresentations,
  postPinForm,
  tokenVerifiesFor,
  waitFor,
} from '../unit/agent-e2e/harness.js';
import { pcscdAvailable, PCSCD_HINT, REPO_ROOT, requireSystem, startSimProcess, VPCD_PORT, type SimProcess } from '../support/system.js';

const run = promisify(execFile);
const ready = requireSystem('pcscd with vsmartcard-vpcd', pcscdAvailable(), PCSCD_HINT);

const SLOT0 = 'Virtual PCD 00 00';
const SLOT1 = 'Virtual PCD 00 01';
const READER = [SLOT0, SLOT1] as const;
const PIN = '1234';
const PUK = '12345678';
const NEW_PIN = '61937258';
const UNBLOCKED_PIN = '40716293';
const WRONG_PIN = '9753';

const sha256 = (text: string): Uint8Array => createHash('sha256').update(text).digest();
const challenge = (): string => randomBytes(32).toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readAll(dir: string): string {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return '';
  }
  return names
    .map((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? readAll(p) : readFileSync(p, 'utf8');
    })
    .join('\n');
}

describe.skipIf(!ready)('the agent process through pcscd + vpcd, cards from the sim process', () => {
  let root: string;
  let sim: SimProcess;
  let agent: AgentProcess;
  let desktop: AgentClient;
  const clients: AgentClient[] = [];
  const seen: { event: string; params: Record<string, unknown> }[] = [];
  let authCert: X509Certificate;
  let signCert: X509Certificate;

  const token = (): string => readFileSync(join(root, 'config', 'token'), 'utf8').trim();
  async function connect(options: AgentClientOptions): Promise<AgentClient> {
    const c = await AgentClient.connect({ url: agent.url, reconnect: false, ...options });
    clients.push(c);
    return c;
  }
  const desktopClient = (appId = 'logiciel-vpcd') => connect({ WebSocket, token: token(), appId });
  const browserClient = () => connect({ WebSocket: browserWebSocket(BROWSER_ORIGIN) });

  async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${sim.url}${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
  }

  async function apduLog(slot: 0 | 1): Promise<{ command: string; response: string }[]> {
    return (await api('GET', `/slots/${slot}/apdu-log`)).json as { command: string; response: string }[];
  }

  async function nextEvent<E extends keyof AgentEventMap>(event: E, match: (p: AgentEventMap[E]) => boolean, from: number, timeoutMs = 10_000): Promise<AgentEventMap[E]> {
    let found: AgentEventMap[E] | undefined;
    await waitFor(
      `${event}`,
      () => {
        found = seen.slice(from).find((s) => s.event === event && match(s.params as AgentEventMap[E]))?.params as AgentEventMap[E] | undefined;
        return found !== undefined;
      },
      timeoutMs,
      25,
    );
    return found!;
  }

  /** PUT /slots/{n} and wait for the agent's card.inserted; a slot another suite grabbed meanwhile is waited for and tried again. */
  async function insert(slot: 0 | 1, persona: string, family: string): Promise<void> {
    const end = Date.now() + 240_000;
    for (;;) {
      const from = seen.length;
      const put = await api('PUT', `/slots/${slot}`, { card: persona, fresh: true });
      expect(put.status).toBe(201);
      try {
        await nextEvent('card.inserted', (p) => p.reader === READER[slot] && p.family === family, from, 15_000);
        return;
      } catch (error) {
        if (Date.now() > end) throw error;
        await api('DELETE', `/slots/${slot}`);
        console.warn(`agent-e2e: ${persona} did not show up in ${READER[slot]}; waiting for the slot and retrying`);
        while (vpcdSlotHeld(VPCD_PORT + slot)) await sleep(500);
      }
    }
  }

  async function remove(slot: 0 | 1): Promise<void> {
    const from = seen.length;
    expect((await api('DELETE', `/slots/${slot}`)).status).toBe(204);
    await nextEvent('card.removed', (p) => p.reader === READER[slot], from);
  }

  function nextPrompt(client: AgentClient, timeoutMs = 10_000): Promise<PinPrompt> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error('no pin.prompt'));
      }, timeoutMs);
      const off = client.on('pin.prompt', (p) => {
        clearTimeout(timer);
        off();
        resolve(p);
      });
    });
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'cb-agent-e2e-vpcd-'));
    await waitForFreeVpcdSlots([VPCD_PORT, VPCD_PORT + 1]);
    sim = await startSimProcess(['--state-dir', join(root, 'sim')]);
    agent = await spawnAgentProcess({ system: true, configDir: join(root, 'config'), stateDir: join(root, 'state'), logLevel: 'debug' });
    desktop = await desktopClient();
    for (const event of ['readers.changed', 'card.inserted', 'card.removed', 'pcsc.status'] as const) {
      desktop.on(event, (params) => seen.push({ event, params: params as unknown as Record<string, unknown> }));
    }
    await desktop.subscribe();
    await waitFor('both vpcd readers', async () => {
      const names = (await desktop.readers()).map((r) => r.name);
      return names.includes(SLOT0) && names.includes(SLOT1);
    }, 15_000);
  }, 360_000);

  afterAll(async () => {
    for (const c of clients) await c.close();
    await agent?.stop();
    await sim?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('card.inserted for a CPS3 and a Vitale 2 put in through the control API; readers.list shows them', async () => {
    expect(await desktop.info()).toEqual({ version: expect.any(String), protocol: 1, pcsc: 'ok', caller: 'desktop' });
    await insert(0, 'cps:medecin', 'CPS3');
    expect(seen.find((s) => s.event === 'card.inserted' && s.params.reader === SLOT0)?.params).toEqual({ reader: SLOT0, family: 'CPS3', atr: '3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00' });
    await insert(1, 'vitale:famille', 'VITALE2');
    const readers = await desktop.readers();
    expect(readers.find((r) => r.name === SLOT0)?.card?.family).toBe('CPS3');
    expect(readers.find((r) => r.name === SLOT1)?.card?.family).toBe('VITALE2');
  }, 300_000);

  it('desktop: identity, certificates, PIN status, activities, verifyPin, sign, authenticate, decrypt, logout, vitale.read', async () => {
    const p = CPS_PERSONAS['cps:medecin'];
    expect(await desktop.cps.getIdentity()).toMatchObject({ family: 'CPS3', serial: p.cardSerial, nationalId: p.rpps, surname: p.surname });
    const certs = await desktop.cps.getCertificates();
    authCert = new X509Certificate(Buffer.from(certs.authentication, 'base64'));
    signCert = new X509Certificate(Buffer.from(certs.signature, 'base64'));
    expect(certs.chain).toEqual([]);
    expect(await desktop.cps.pinStatus()).toEqual({ triesRemaining: 3, maxTries: 3, blocked: false, verified: false });
    await expect(desktop.cps.getActivities()).rejects.toBeInstanceOf(PinRequiredError);
    const wrong = await desktop.cps.verifyPin({ method: 'value', pin: WRONG_PIN }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(PinIncorrectError);
    expect((wrong as PinIncorrectError).triesRemaining).toBe(2);
    expect(await desktop.cps.verifyPin({ method: 'value', pin: PIN })).toEqual({ verified: true });
    expect((await desktop.cps.getActivities()).length).toBeGreaterThan(0);

    const message = Buffer.from('Arrêt de travail');
    const signed = await desktop.cps.sign({ hash: createHash('sha256').update(message).digest(), hashAlgorithm: 'SHA-256' });
    expect(verify('sha256', message, signCert.publicKey, Buffer.from(signed.signature, 'base64'))).toBe(true);
    expect(verify('sha256', message, authCert.publicKey, Buffer.from(signed.signature, 'base64'))).toBe(false);

    const c = challenge();
    const t = await desktop.cps.authenticate({ challenge: c });
    expect(t.origin).toBe('app:logiciel-vpcd');
    expect(tokenVerifiesFor(t, 'app:logiciel-vpcd', c)).toBe(true);
    expect(tokenVerifiesFor(t, BROWSER_ORIGIN, c)).toBe(false);

    const secret = randomBytes(32);
    const { plaintext } = await desktop.cps.decrypt({ ciphertext: publicEncrypt({ key: authCert.publicKey, padding: constants.RSA_PKCS1_PADDING }, secret) });
    expect(Buffer.from(plaintext, 'base64').equals(secret)).toBe(true);

    expect(await desktop.cps.logout()).toEqual({ ok: true });
    expect((await desktop.cps.pinStatus()).verified).toBe(false);
    expect(lastPinStatusAnswer(await apduLog(0))).toBe('63 C3');

    const vitale = await desktop.vitale.read();
    expect(vitale.family).toBe('VITALE2');
    expect(vitale.beneficiaries).toHaveLength(3);
  });

  it('changePin and back; a blocked CPS in slot 1 (ambiguous without reader) unblocked with the PUK; card.removed on DELETE', async () => {
    expect(await desktop.cps.changePin({ method: 'value', pin: PIN, newPin: NEW_PIN })).toEqual({ ok: true });
    await expect(desktop.cps.verifyPin({ pin: PIN })).rejects.toBeInstanceOf(PinIncorrectError);
    expect(await desktop.cps.verifyPin({ pin: NEW_PIN })).toEqual({ verified: true });
    expect(await desktop.cps.changePin({ pin: NEW_PIN, newPin: PIN })).toEqual({ ok: true });
    expect(await desktop.cps.verifyPin({ pin: PIN })).toEqual({ verified: true });
    await desktop.cps.logout();

    await remove(1);
    expect(seen.filter((s) => s.event === 'card.removed').at(-1)?.params).toEqual({ reader: SLOT1 });
    await expect(desktop.vitale.read()).rejects.toBeInstanceOf(CardAbsentError);
    await insert(1, 'cps:blocked', 'CPS3');
    await expect(desktop.cps.getIdentity()).rejects.toBeInstanceOf(CardAmbiguousError);
    expect(await desktop.cps.pinStatus({ reader: SLOT1 })).toMatchObject({ blocked: true });
    await expect(desktop.cps.verifyPin({ reader: SLOT1, pin: PIN })).rejects.toBeInstanceOf(PinBlockedError);
    expect(await desktop.cps.unblockPin({ reader: SLOT1, method: 'value', puk: PUK, newPin: UNBLOCKED_PIN })).toEqual({ ok: true });
    expect(await desktop.cps.verifyPin({ reader: SLOT1, pin: UNBLOCKED_PIN })).toEqual({ verified: true });
    await remove(1);
    await insert(1, 'vitale:famille', 'VITALE2');
  }, 300_000);

  it('browser: pairing approved by the desktop method, token verifies for https://app.example only, PIN values refused, PIN page for cps.sign', async () => {
    const page = await browserClient();
    expect((await page.info()).caller).toBe('unpaired');
    await expect(page.cps.getIdentity()).rejects.toBeInstanceOf(OriginNotPairedError);
    const { code } = await page.pair(['cps.read', 'cps.sign', 'cps.authenticate']);
    await expect(page.call('agent.approvePairing', { code })).rejects.toBeInstanceOf(UnauthorizedError);
    expect(await desktop.call('agent.approvePairing', { code })).toMatchObject({ origin: BROWSER_ORIGIN });
    expect((await page.info()).caller).toBe('origin');

    const before = pinPresentations(await apduLog(0));
    await expect(page.cps.verifyPin({ method: 'value', pin: PIN })).rejects.toBeInstanceOf(PinValueNotAllowedError);
    await expect(page.cps.sign({ hash: sha256('v'), hashAlgorithm: 'SHA-256', pin: PIN })).rejects.toBeInstanceOf(PinValueNotAllowedError);
    expect(pinPresentations(await apduLog(0))).toBe(before);

    const c = challenge();
    const prompt = nextPrompt(page);
    const pending = page.cps.authenticate({ challenge: c });
    const p = await prompt;
    expect(p).toMatchObject({ reader: SLOT0, origin: BROWSER_ORIGIN, triesRemaining: 3 });
    expect((await enterPinOnPage(p, PIN)).status).toBe(200);
    const t = await pending;
    expect(t.origin).toBe(BROWSER_ORIGIN);
    expect(Buffer.from(t.unverifiedCertificate, 'base64').equals(authCert.raw)).toBe(true);
    expect(tokenVerifiesFor(t, BROWSER_ORIGIN, c)).toBe(true);
    expect(tokenVerifiesFor(t, 'https://other.example', c)).toBe(false);

    await page.cps.logout();
    const signPrompt = nextPrompt(page);
    const message = Buffer.from('Compte rendu opératoire');
    const signing = page.cps.sign({ hash: createHash('sha256').update(message).digest(), hashAlgorithm: 'SHA-256' });
    const sp = await signPrompt;
    const html = await getPinPage(sp);
    expect(html.body).toContain(BROWSER_ORIGIN);
    expect((await postPinForm(sp, { csrf: csrfOf(html.body), pin: PIN, action: 'submit' }, { Origin: BROWSER_ORIGIN })).status).toBe(403);
    expect((await postPinForm(sp, { csrf: csrfOf(html.body), pin: PIN, action: 'submit' })).status).toBe(200);
    expect(verify('sha256', message, signCert.publicKey, Buffer.from((await signing).signature, 'base64'))).toBe(true);
    await page.cps.logout();
  });

  it('a page leaving during its PIN prompt: withdrawn, no VERIFY sent, the card answers "not verified" to another desktop caller', async () => {
    const page = await browserClient();
    const prompt = nextPrompt(page);
    const pending = page.cps.sign({ hash: sha256('abandon'), hashAlgorithm: 'SHA-256' });
    pending.catch(() => undefined);
    const p = await prompt;
    const html = await getPinPage(p);
    const before = pinPresentations(await apduLog(0));
    await page.close();
    await waitFor('the prompt withdrawn', async () => (await getPinPage(p)).status === 410);
    expect((await postPinForm(p, { csrf: csrfOf(html.body), pin: PIN, action: 'submit' })).status).toBe(410);
    expect(pinPresentations(await apduLog(0))).toBe(before);
    const other = await desktopClient('logiciel-temoin');
    expect(await other.cps.pinStatus()).toMatchObject({ verified: false, triesRemaining: 3 });
    expect(lastPinStatusAnswer(await apduLog(0))).toBe('63 C3');
  });

  it('pcscd stopped and started again under the running agent: pcsc.status unavailable (calls PCSC_UNAVAILABLE) then ok, readers and both cards back within 5 s, same agent process', async () => {
    const pid = agent.pid;
    const script = join(REPO_ROOT, 'scripts', 'start-pcscd.sh');
    const from = seen.length;
    let pcscdBack = 0;
    try {
      // start-pcscd.sh --restart is --stop then start: split, to look at the agent in between
      await run('bash', [script, '--stop'], { timeout: 60_000 });
      await nextEvent('pcsc.status', (p) => p.status === 'unavailable', from, 5000);
      expect((await desktop.info()).pcsc).toBe('unavailable');
      await expect(desktop.readers()).rejects.toBeInstanceOf(PcscUnavailableError);
      await expect(desktop.cps.getIdentity()).rejects.toBeInstanceOf(PcscUnavailableError);
    } finally {
      // whatever happened, leave a pcscd running for the other suites
      await run('bash', [script], { timeout: 60_000 });
      pcscdBack = Date.now();
    }
    await nextEvent('pcsc.status', (p) => p.status === 'ok', from, 5000);
    await nextEvent('readers.changed', (p) => [SLOT0, SLOT1].every((n) => p.readers.some((r) => r.name === n)), from, 5000);
    await nextEvent('card.inserted', (p) => p.reader === SLOT0 && p.family === 'CPS3', from, 5000);
    await nextEvent('card.inserted', (p) => p.reader === SLOT1 && p.family === 'VITALE2', from, 5000);
    const recovered = Date.now() - pcscdBack;
    console.log(`agent back ${recovered} ms after pcscd`);
    expect(recovered).toBeLessThan(5000);
    expect(agent.pid).toBe(pid);
    expect(agent.child.exitCode).toBeNull();
    expect(desktop.state).toBe('open');
    expect((await desktop.info()).pcsc).toBe('ok');
    expect((await desktop.cps.getIdentity()).surname).toBe('MARTIN');
    expect((await desktop.vitale.read()).beneficiaries).toHaveLength(3);
  }, 120_000);

  it('no PIN or PUK in the audit file, the config dir or the agent output (debug log)', async () => {
    await sleep(200);
    const written = [readAll(join(root, 'state')), readAll(join(root, 'config')), agent.stdout(), agent.stderr()].join('\n');
    expect(agent.stderr()).toMatch(/"method":"cps.verifyPin"/); // the debug log was captured
    for (const secret of [NEW_PIN, UNBLOCKED_PIN, PUK, WRONG_PIN]) expect(written).not.toContain(secret);
    expect(written).not.toMatch(/(?<![0-9A-Za-z])1234(?![0-9A-Za-z])/);
    expect(written).not.toMatch(/"(pin|puk|newPin)"\s*:\s*"\d/);
    expect(written).toMatch(/"pinEntry":"page"/);
    expect(written).toMatch(/"method":"cps.unblockPin"[^\n]*"outcome":"ok"/);
  });
});
