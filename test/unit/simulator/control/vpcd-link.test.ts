// VpcdLink (the transport behind each slot) against a fake vpcd: framing, control bytes, APDU log,
// insert = connect / remove = close, and reconnection when vpcd is absent or goes away.
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, VPCD_CTRL_ATR, VPCD_CTRL_OFF, VPCD_CTRL_ON, VPCD_CTRL_RESET } from '../../../../src/simulator/vpcd/protocol.js';
import { VpcdLink } from '../../../../src/simulator/vpcd/vpcd-link.js';
import { FakeVpcd } from '../../../support/fake-vpcd.js';
import { TestCard } from '../../../support/test-card.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeVpcd(): Promise<FakeVpcd> {
  const fake = await FakeVpcd.start();
  cleanups.push(() => fake.stop());
  return fake;
}

function link(port: number): VpcdLink {
  const l = new VpcdLink({ port, minBackoffMs: 20, maxBackoffMs: 100 });
  cleanups.push(() => l.close());
  return l;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await wait(2);
  }
}

describe('vpcd framing', () => {
  it('encodes a 2-byte big-endian length then the payload', () => {
    expect([...encodeFrame(Uint8Array.from([0x90, 0x00]))]).toEqual([0x00, 0x02, 0x90, 0x00]);
    expect(encodeFrame(new Uint8Array(300)).readUInt16BE(0)).toBe(300);
    expect(() => encodeFrame(new Uint8Array(0x10000))).toThrow(RangeError);
  });

  it('reassembles frames split across chunks and batched in one chunk', () => {
    const d = new FrameDecoder();
    const stream = Buffer.concat([encodeFrame(Uint8Array.from([4])), encodeFrame(Uint8Array.from([0, 0xa4, 4, 0, 0])), encodeFrame(Uint8Array.from([1]))]);
    const frames: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 3) frames.push(...d.push(stream.subarray(i, i + 3)));
    expect(frames.map((f) => [...f])).toEqual([[4], [0, 0xa4, 4, 0, 0], [1]]);
    expect(d.buffered).toBe(0);
    expect(d.push(stream).map((f) => f.length)).toEqual([1, 5, 1]);
    expect(d.push(Buffer.from([0x00]))).toEqual([]);
    expect(d.buffered).toBe(1);
  });
});

describe('VpcdLink', () => {
  it('connects when a card is inserted and answers ATR polls and APDUs', async () => {
    const vpcd = await fakeVpcd();
    const card = new TestCard();
    const l = link(vpcd.port);
    expect(l.state).toBe('empty');
    l.insert(card);
    await vpcd.waitConnection();
    expect([...(await vpcd.request([VPCD_CTRL_ATR]))]).toEqual([...card.atr]);
    const response = await vpcd.request([0x00, 0xa4, 0x04, 0x00, 0x02, 0x3f, 0x00]);
    expect([...response]).toEqual([0x90, 0x00]);
    await until(() => l.connected);
    expect(l.card).toBe(card);
  });

  it('logs APDUs only, not power or ATR control messages', async () => {
    const vpcd = await fakeVpcd();
    const l = link(vpcd.port);
    l.insert(new TestCard());
    await vpcd.waitConnection();
    vpcd.send([VPCD_CTRL_ON]);
    await vpcd.request([VPCD_CTRL_ATR]);
    await vpcd.request([0x80, 0xca, 0x00, 0x00, 0x00]);
    vpcd.send([VPCD_CTRL_RESET]);
    await vpcd.request([VPCD_CTRL_ATR]);
    const entries = l.apduLog.entries();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ command: '80 CA 00 00 00', response: '00 03 01 90 00' });
    expect(new Date(entries[0]?.t ?? '').toISOString()).toBe(entries[0]?.t);
  });

  it('power off and reset end the verified state; PIN tries stay', async () => {
    const vpcd = await fakeVpcd();
    const card = new TestCard();
    const l = link(vpcd.port);
    l.insert(card);
    await vpcd.waitConnection();
    await vpcd.request([0x00, 0x20, 0x00, 0x01, 0x04, 0x39, 0x39, 0x39, 0x39]);
    await vpcd.request([0x00, 0x20, 0x00, 0x01, 0x04, 0x31, 0x32, 0x33, 0x34]);
    expect(card.verified).toBe(true);
    vpcd.send([VPCD_CTRL_RESET]);
    await vpcd.request([VPCD_CTRL_ATR]);
    expect(card.verified).toBe(false);
    await vpcd.request([0x00, 0x20, 0x00, 0x01, 0x04, 0x31, 0x32, 0x33, 0x34]);
    vpcd.send([VPCD_CTRL_OFF]);
    await vpcd.request([VPCD_CTRL_ATR]);
    expect(card.verified).toBe(false);
    expect(card.triesLeft).toBe(3);
  });

  it('answers messages that arrive split or batched (vpcd writes length and payload separately)', async () => {
    const vpcd = await fakeVpcd();
    const l = link(vpcd.port);
    l.insert(new TestCard());
    await vpcd.waitConnection();
    const answers = [vpcd.nextFrame(), vpcd.nextFrame()];
    const two = Buffer.concat([encodeFrame(Uint8Array.from([0x00, 0xa4, 0x04, 0x00, 0x00])), encodeFrame(Uint8Array.from([VPCD_CTRL_ATR]))]);
    vpcd.sendRaw(two.subarray(0, 1));
    await wait(5);
    vpcd.sendRaw(two.subarray(1, 4));
    await wait(5);
    vpcd.sendRaw(two.subarray(4));
    const [a, b] = await Promise.all(answers);
    expect([...(a ?? [])]).toEqual([0x90, 0x00]);
    expect(b?.length).toBeGreaterThan(2);
  });

  it('remove() closes the connection (vpcd: no card) and resets the card; insert reconnects', async () => {
    const vpcd = await fakeVpcd();
    const card = new TestCard();
    const l = link(vpcd.port);
    l.insert(card);
    await vpcd.waitConnection();
    const resets = card.resets;
    l.remove();
    await vpcd.waitClientGone();
    expect(l.state).toBe('empty');
    expect(l.card).toBeNull();
    expect(card.resets).toBeGreaterThan(resets);
    await wait(150);
    expect(vpcd.hasClient).toBe(false); // no reconnection without a card
    expect(() => l.insert(card)).not.toThrow();
    await vpcd.waitConnection();
    expect(vpcd.connections).toBe(2);
    expect(() => l.insert(card)).toThrow(/already holds a card/);
  });

  it('keeps trying while vpcd is not there, and connects when it appears', async () => {
    const probe = await FakeVpcd.start();
    const port = probe.port;
    await probe.stop(); // a port with nobody listening
    const l = link(port);
    const retries: number[] = [];
    l.on('retry', (delay: number) => retries.push(delay));
    l.insert(new TestCard());
    await wait(200);
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(retries[1]).toBeGreaterThan(retries[0] ?? 0); // back-off grows
    expect(Math.max(...retries)).toBeLessThanOrEqual(100);
    const vpcd = await FakeVpcd.start(port);
    cleanups.push(() => vpcd.stop());
    await vpcd.waitConnection();
    await until(() => l.connected); // the server accepts before the client sees 'connect'
    expect(l.state).toBe('connected');
  });

  it('reconnects by itself when vpcd drops the connection (pcscd restart)', async () => {
    const vpcd = await fakeVpcd();
    const l = link(vpcd.port);
    const events: string[] = [];
    l.on('connected', () => events.push('connected'));
    l.on('disconnected', () => events.push('disconnected'));
    l.insert(new TestCard());
    await vpcd.waitConnection();
    await vpcd.request([VPCD_CTRL_ATR]);
    const port = vpcd.port;
    await vpcd.stop();
    await wait(60);
    const again = await FakeVpcd.start(port);
    cleanups.push(() => again.stop());
    await again.waitConnection();
    expect([...(await again.request([0x00, 0xa4, 0x04, 0x00, 0x00]))]).toEqual([0x90, 0x00]);
    expect(events.slice(0, 3)).toEqual(['connected', 'disconnected', 'connected']);
  });

  it('close() stops for good', async () => {
    const vpcd = await fakeVpcd();
    const l = new VpcdLink({ port: vpcd.port, minBackoffMs: 20 });
    l.insert(new TestCard());
    await vpcd.waitConnection();
    await l.close();
    await vpcd.waitClientGone();
    expect(() => l.insert(new TestCard())).toThrow(/closed/);
  });
});
