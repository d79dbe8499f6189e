// ReaderMonitor and PcscCardChannel against the machine's real pcscd and the real `pcsclite`
// module, with a virtual CPS3 plugged in through vsmartcard-vpcd by an in-process VpcdLink.
// Shares the one system pcscd with the other pcscd test files (run one file at a time); the
// restart test puts pcscd back in a finally block.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCommandApdu, fromHex, type CommandApdu } from '../../src/iso7816/apdu.js';
import { TestPki } from '../../src/pki/test-pki.js';
import { createPersonaCard } from '../../src/simulator/card-factory.js';
import type { VirtualCard } from '../../src/simulator/virtual-card.js';
import { VpcdLink } from '../../src/simulator/vpcd/vpcd-link.js';
import { TransportError } from '../../src/transport/errors.js';
import { ReaderMonitor, type ReaderMonitorEvents } from '../../src/transport/reader-monitor.js';
import { pcscdAvailable, PCSCD_HINT, REPO_ROOT, requireSystem, VPCD_PORT } from '../support/system.js';

const run = promisify(execFile);
const ok = requireSystem('pcscd with vsmartcard-vpcd', pcscdAvailable(), PCSCD_HINT);

const READER = 'Virtual PCD 00 00';
const CPS3_ATR = '3BAC00402A001225006480000310009000';
const START_PCSCD = path.join(REPO_ROOT, 'scripts', 'start-pcscd.sh');

const apdu = (text: string): CommandApdu => decodeCommandApdu(fromHex(text));
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const sw = (r: { sw: number }): string => r.sw.toString(16).toUpperCase().padStart(4, '0');

type Name = keyof ReaderMonitorEvents;
interface Seen {
  readonly event: Name;
  readonly payload: ReaderMonitorEvents[Name][0];
  readonly at: number;
}

/** Every event of a monitor in order, and a wait for the next matching one. */
function record(monitor: ReaderMonitor) {
  const seen: Seen[] = [];
  const wake = new Set<() => void>();
  for (const event of ['readers.changed', 'card.inserted', 'card.removed', 'pcsc.status'] as const) {
    monitor.on(event, (payload: ReaderMonitorEvents[typeof event][0]) => {
      seen.push({ event, payload, at: Date.now() });
      for (const w of wake) w();
    });
  }
  const waitFor = <E extends Name>(event: E, match: (p: ReaderMonitorEvents[E][0]) => boolean, from: number, timeoutMs = 15_000): Promise<Seen> =>
    new Promise((resolve, reject) => {
      const find = () => seen.find((s, i) => i >= from && s.event === event && match(s.payload as ReaderMonitorEvents[E][0]));
      const check = (): void => {
        const hit = find();
        if (!hit) return;
        clearTimeout(timer);
        wake.delete(check);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        wake.delete(check);
        reject(new Error(`no ${event} within ${timeoutMs} ms; seen: ${seen.map((s) => s.event).join(', ')}`));
      }, timeoutMs);
      wake.add(check);
      check();
    });
  return { seen, waitFor };
}

describe.skipIf(!ok)('transport over the real pcscd + vpcd', () => {
  let pkiDir: string;
  let card: VirtualCard;
  let link: VpcdLink;
  let monitor: ReaderMonitor;
  let events: ReturnType<typeof record>;
  const others: ReaderMonitor[] = [];

  async function otherMonitor(options: { allowVirtualReaders?: boolean } = {}): Promise<ReaderMonitor> {
    const m = new ReaderMonitor({ env: {}, ...options });
    others.push(m);
    await m.start();
    return m;
  }

  beforeAll(async () => {
    pkiDir = mkdtempSync(path.join(tmpdir(), 'cb-transport-pcscd-'));
    card = await createPersonaCard('cps:medecin', { pki: await TestPki.open(pkiDir) });
    link = new VpcdLink({ port: VPCD_PORT });
    monitor = new ReaderMonitor({ allowVirtualReaders: true, env: {} }); // the real pcsclite module
    events = record(monitor);
    await monitor.start();
  });

  afterAll(async () => {
    await Promise.all(others.map((m) => m.close()));
    await monitor?.close();
    await link?.close();
    if (pkiDir) rmSync(pkiDir, { recursive: true, force: true });
  });

  it('sees the vpcd reader with allowVirtualReaders, and pcscd ok', () => {
    expect(monitor.status).toBe('ok');
    expect(events.seen[0]?.event).toBe('pcsc.status');
    const names = monitor.readers().map((r) => r.name);
    expect(names).toContain(READER);
    expect(monitor.readers().find((r) => r.name === READER)?.card).toBeNull();
  });

  it('reports card.inserted with the CPS3 ATR when the card goes into the vpcd slot', async () => {
    const from = events.seen.length;
    link.insert(card);
    const hit = await events.waitFor('card.inserted', (p) => p.reader === READER, from);
    const payload = hit.payload as ReaderMonitorEvents['card.inserted'][0];
    expect(hexOf(payload.atr)).toBe(CPS3_ATR);
    expect(payload.insertion).toBe(monitor.insertionCount(READER));
    expect(hexOf(monitor.readers().find((r) => r.name === READER)?.card?.atr ?? new Uint8Array(0))).toBe(CPS3_ATR);
  });

  it('SELECTs the CPS application through PcscCardChannel (T=0, GET RESPONSE)', async () => {
    const channel = await monitor.connect(READER);
    expect(channel.protocol).toBe(1); // SCARD_PROTOCOL_T0: the CPS3 offers T=0 only
    const fci = await channel.transmit(apdu('00 A4 04 04 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10'));
    expect(sw(fci)).toBe('9000');
    expect(fci.data[0]).toBe(0x62);
    expect(link.apduLog.entries().some((e) => e.command.startsWith('00 C0 00 00'))).toBe(true);
  });

  it('shares the card (a second application connects too) and leaves it powered on disconnect', async () => {
    const channel = await monitor.connect(READER);
    expect(sw(await channel.transmit(apdu('00 20 00 01 08 31 32 33 34 FF FF FF FF')))).toBe('9000');
    const second = await otherMonitor({ allowVirtualReaders: true });
    const theirs = await second.connect(READER);
    expect(sw(await theirs.transmit(apdu('00 20 00 01')))).toBe('9000'); // same card, still verified
    await theirs.disconnect(); // LEAVE_CARD: pcsclite's default would have unpowered the card
    expect(sw(await channel.transmit(apdu('00 20 00 01')))).toBe('9000');
    await channel.disconnect();
    const again = await monitor.connect(READER);
    expect(sw(await again.transmit(apdu('00 20 00 01')))).toBe('9000');
    await again.disconnect('reset');
    const afterReset = await monitor.connect(READER);
    expect(sw(await afterReset.transmit(apdu('00 20 00 01')))).toMatch(/^63C/);
  });

  it('ignores the vpcd readers without the option', async () => {
    const plain = await otherMonitor();
    expect(plain.allowVirtualReaders).toBe(false);
    expect(plain.readers().map((r) => r.name)).not.toContain(READER);
    const err = await plain.connect(READER).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('READER_NOT_FOUND');
  });

  it('reports card.removed on link.remove(), and the open channel fails with CARD_REMOVED', async () => {
    const channel = await monitor.connect(READER);
    const from = events.seen.length;
    link.remove();
    await events.waitFor('card.removed', (p) => p.reader === READER, from);
    expect(monitor.readers().find((r) => r.name === READER)?.card).toBeNull();
    const err = await channel.transmit(apdu('00 20 00 01')).catch((e: unknown) => e);
    expect((err as TransportError).code).toBe('CARD_REMOVED');
    await expect(monitor.connect(READER)).rejects.toMatchObject({ code: 'CARD_ABSENT' });
  });

  // Needs a pcscd this script manages (its pid file): one started by systemd is left alone.
  const restartable =
    ok &&
    (() => {
      try {
        execFileSync(START_PCSCD, ['--status'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();

  it.skipIf(!restartable)('recovers from a pcscd restart within 5 s, readers and card re-emitted', async () => {
    link.insert(card);
    await events.waitFor('card.inserted', (p) => p.reader === READER, 0);
    const before = monitor.insertionCount(READER);
    const from = events.seen.length;
    let back = 0;
    try {
      await run(START_PCSCD, ['--stop'], { timeout: 60_000 });
      await events.waitFor('pcsc.status', (p) => p.status === 'unavailable', from);
      expect(monitor.readers()).toEqual([]);
      await expect(monitor.connect(READER)).rejects.toMatchObject({ code: 'PCSC_UNAVAILABLE' });
    } finally {
      await run(START_PCSCD, [], { timeout: 60_000 });
      back = Date.now();
    }
    await events.waitFor('pcsc.status', (p) => p.status === 'ok', from);
    const inserted = await events.waitFor('card.inserted', (p) => p.reader === READER, from);
    expect(inserted.at - back).toBeLessThan(5000);
    expect(monitor.insertionCount(READER)).toBe(before + 1);
    const channel = await monitor.connect(READER);
    expect(sw(await channel.transmit(apdu('00 A4 04 04 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10')))).toBe('9000');
  });
});
