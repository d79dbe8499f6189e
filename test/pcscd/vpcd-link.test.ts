// `cardbridge sim` plugged into the machine's real pcscd through vsmartcard-vpcd, checked with
// OpenSC as an outside PC/SC application: readers, ATR, APDUs in the control API's log, removal
// and insertion through the control API, and recovery from a pcscd restart.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atrOf } from '../support/test-card-source.js';
import {
  openscAvailable,
  pcscdAvailable,
  PCSCD_HINT,
  REPO_ROOT,
  requireSystem,
  startSimProcess,
  TEST_CARD_SOURCE,
  type SimProcess,
} from '../support/system.js';

const run = promisify(execFile);

const havePcscd = requireSystem('pcscd with vsmartcard-vpcd (port 35963)', pcscdAvailable(), PCSCD_HINT);
const haveOpensc = requireSystem('OpenSC (opensc-tool)', openscAvailable(), 'apt-get install opensc');

async function opensc(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run('opensc-tool', args, { timeout: 20_000 });
  return stdout + stderr;
}

/** Output of opensc-tool even when it fails (e.g. "Card not present." while a reader catches up). */
async function openscOutput(...args: string[]): Promise<string> {
  try {
    return await opensc(...args);
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return `${err.stdout ?? ''}${err.stderr ?? ''}` || err.message;
  }
}

/** Reader index -> card present, from `opensc-tool --list-readers`. */
async function readers(): Promise<Map<string, boolean>> {
  const out = await opensc('--list-readers');
  const result = new Map<string, boolean>();
  for (const line of out.split('\n')) {
    const m = /^\s*\d+\s+(Yes|No)\s+(?:\S+\s+)?(Virtual PCD \d\d \d\d)\s*$/.exec(line);
    if (m?.[2]) result.set(m[2], m[1] === 'Yes');
  }
  return result;
}

async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const start = Date.now();
  let last: T = await probe();
  while (!ok(last)) {
    if (Date.now() - start > timeoutMs) return last;
    await new Promise((r) => setTimeout(r, 200));
    last = await probe();
  }
  return last;
}

const colonHex = (b: Uint8Array) => Buffer.from(b).toString('hex').match(/../g)?.join(':') ?? '';

interface LogEntry {
  t: string;
  command: string;
  response: string;
}

describe.skipIf(!havePcscd || !haveOpensc)('vpcd link through the real pcscd', () => {
  let sim: SimProcess;

  async function api(method: string, p: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${sim.url}${p}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
  }

  beforeAll(async () => {
    sim = await startSimProcess(['--card-source', TEST_CARD_SOURCE, '--slot', '0=test:alpha']);
    await sim.waitForEvent((e) => e.event === 'slot-connected' && e.slot === 0, 20_000);
  });

  afterAll(async () => {
    if (!sim) return;
    await sim.stop();
    // SIGTERM is a clean shutdown: the cards leave their readers and the process says so
    expect(sim.events().map((e) => e.event)).toContain('stopped');
  });

  it('OpenSC sees both Virtual PCD readers, the first with a card', async () => {
    const r = await eventually(readers, (m) => m.get('Virtual PCD 00 00') === true);
    expect(r.get('Virtual PCD 00 00')).toBe(true);
    expect(r.get('Virtual PCD 00 01')).toBe(false);
  });

  it("the reader reports the virtual card's ATR", async () => {
    const out = await eventually(
      () => openscOutput('--reader', '0', '--atr'),
      (o) => o.includes(colonHex(atrOf('test:alpha'))),
    );
    expect(out.trim()).toBe(colonHex(atrOf('test:alpha')));
  });

  it('APDUs sent by OpenSC reach the card and appear in the apdu-log, without vpcd control messages', async () => {
    expect((await api('DELETE', '/slots/0/apdu-log')).status).toBe(204);
    const out = await opensc('--reader', '0', '-s', '00 A4 04 00 02 3F 00', '-s', '80 CA 00 00 00');
    expect(out).toContain('Received (SW1=0x90, SW2=0x00)');
    const { status, json } = await api('GET', '/slots/0/apdu-log');
    expect(status).toBe(200);
    const log = json as LogEntry[];
    const commands = log.map((e) => e.command);
    expect(commands).toContain('00 A4 04 00 02 3F 00');
    expect(log.find((e) => e.command === '80 CA 00 00 00')?.response).toMatch(/^00 03 [0-9A-F]{2} 90 00$/);
    // only APDUs: vpcd's power/ATR polls (1-byte messages) never show
    for (const e of log) {
      expect(e.command.split(' ').length).toBeGreaterThanOrEqual(4);
      expect(Number.isNaN(Date.parse(e.t))).toBe(false);
    }
  });

  it('DELETE takes the card out (the reader shows no card) and PUT puts it back', async () => {
    expect((await api('DELETE', '/slots/0')).status).toBe(204);
    expect((await api('GET', '/slots')).json).toEqual([
      { slot: 0, card: null },
      { slot: 1, card: null },
    ]);
    const empty = await eventually(readers, (m) => m.get('Virtual PCD 00 00') === false);
    expect(empty.get('Virtual PCD 00 00')).toBe(false);

    const put = await api('PUT', '/slots/0', { card: 'test:alpha' });
    expect(put.status).toBe(201);
    const present = await eventually(readers, (m) => m.get('Virtual PCD 00 00') === true);
    expect(present.get('Virtual PCD 00 00')).toBe(true);
  });

  it('409 on a full slot, 404 on an unknown slot or persona', async () => {
    expect((await api('PUT', '/slots/0', { card: 'test:beta' })).status).toBe(409);
    expect((await api('PUT', '/slots/2', { card: 'test:beta' })).status).toBe(404);
    expect((await api('PUT', '/slots/1', { card: 'cps:nobody' })).status).toBe(404);
    expect((await api('PUT', '/slots/1', '{"card"')).status).toBe(400);
  });

  it('the second slot is the second reader', async () => {
    expect((await api('PUT', '/slots/1', { card: 'test:beta' })).status).toBe(201);
    const out = await eventually(
      () => openscOutput('--reader', '1', '--atr'),
      (o) => o.includes(colonHex(atrOf('test:beta'))),
    );
    expect(out.trim()).toBe(colonHex(atrOf('test:beta')));
    expect((await api('DELETE', '/slots/1')).status).toBe(204);
  });

  it('after a pcscd restart the link reconnects by itself', async () => {
    const before = sim.events().length;
    await run(path.join(REPO_ROOT, 'scripts', 'start-pcscd.sh'), ['--restart'], { timeout: 60_000 });
    await sim.waitForEvent((e) => e.event === 'slot-disconnected' && e.slot === 0, 20_000, before);
    await sim.waitForEvent((e) => e.event === 'slot-connected' && e.slot === 0, 20_000, before);
    const r = await eventually(readers, (m) => m.get('Virtual PCD 00 00') === true);
    expect(r.get('Virtual PCD 00 00')).toBe(true);
    await api('DELETE', '/slots/0/apdu-log');
    const out = await opensc('--reader', '0', '-s', '80 CA 00 00 00');
    expect(out).toContain('SW1=0x90');
    const log = (await api('GET', '/slots/0/apdu-log')).json as LogEntry[];
    expect(log.map((e) => e.command)).toContain('80 CA 00 00 00');
  });
});
