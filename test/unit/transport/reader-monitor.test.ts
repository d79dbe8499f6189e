// ReaderMonitor over the native pcsclite mock: readers appearing and going, cards inserted and
// removed with their ATR, the insertion counter, virtual readers, and a clean close().
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createMockPcsc, SCARD, type MockPcsc, type MockPcscLite } from '../../../native-mocks/pcsclite/index.js';
import { TransportError } from '../../../src/transport/errors.js';
import { ReaderMonitor, type ReaderMonitorOptions } from '../../../src/transport/reader-monitor.js';
import { TestCard, testAtr } from '../../support/test-card.js';
import { CPS3_ATR_HEX, cps3Card, EventLog, hexOf, removePkiDir } from './helpers.js';

const monitors: ReaderMonitor[] = [];

async function started(mock: MockPcsc, options: Omit<ReaderMonitorOptions, 'pcsc'> = {}): Promise<{ monitor: ReaderMonitor; log: EventLog }> {
  const monitor = new ReaderMonitor({ pcsc: mock.pcsclite, env: {}, ...options });
  monitors.push(monitor);
  const log = new EventLog(monitor);
  await monitor.start();
  return { monitor, log };
}

afterEach(async () => {
  await Promise.all(monitors.splice(0).map((m) => m.close()));
});
afterAll(removePkiDir);

describe('ReaderMonitor: readers', () => {
  it('lists the readers present at start with their cards, then reports pcsc ok', async () => {
    const mock = createMockPcsc({ readers: ['Lecteur A', 'Lecteur B'] });
    mock.insertCard('Lecteur B', await cps3Card());
    const { monitor, log } = await started(mock);
    expect(monitor.status).toBe('ok');
    expect(log.summary()[0]).toBe('pcsc.status ok');
    const readers = monitor.readers();
    expect(readers.map((r) => r.name)).toEqual(['Lecteur A', 'Lecteur B']);
    expect(readers[0]?.card).toBeNull();
    expect(hexOf(readers[1]?.card?.atr ?? new Uint8Array(0))).toBe(CPS3_ATR_HEX);
    const inserted = log.events.find((e) => e.event === 'card.inserted');
    expect(inserted?.payload).toMatchObject({ reader: 'Lecteur B', insertion: 1 });
  });

  it('emits readers.changed when a reader is plugged in and when it is unplugged', async () => {
    const mock = createMockPcsc({ readers: ['Lecteur A'] });
    const { monitor, log } = await started(mock);
    const from = log.events.length;
    mock.addReader('Lecteur USB');
    await log.waitFor('readers.changed', (p) => p.readers.some((r) => r.name === 'Lecteur USB'), { from });
    expect(monitor.readers().map((r) => r.name)).toEqual(['Lecteur A', 'Lecteur USB']);

    const at = log.events.length;
    mock.removeReader('Lecteur USB');
    await log.waitFor('readers.changed', (p) => !p.readers.some((r) => r.name === 'Lecteur USB'), { from: at });
    expect(monitor.readers().map((r) => r.name)).toEqual(['Lecteur A']);
  });

  it('unplugging a reader that holds a card reports the card removed first', async () => {
    const mock = createMockPcsc({ readers: ['Lecteur A'] });
    mock.insertCard('Lecteur A', new TestCard());
    const { log } = await started(mock);
    const from = log.events.length;
    mock.removeReader('Lecteur A');
    await log.waitFor('readers.changed', (p) => p.readers.length === 0, { from });
    expect(log.summary(from)).toEqual(['card.removed Lecteur A', 'readers.changed []']);
  });
});

describe('ReaderMonitor: cards', () => {
  it('reports insertion with the ATR and removal, and counts insertions per reader', async () => {
    const mock = createMockPcsc({ readers: ['Lecteur A', 'Lecteur B'] });
    const { monitor, log } = await started(mock);
    expect(monitor.insertionCount('Lecteur A')).toBe(0);
    const card = await cps3Card();

    let from = log.events.length;
    mock.insertCard('Lecteur A', card);
    let i = await log.waitFor('card.inserted', () => true, { from });
    expect(log.events[i]?.payload).toMatchObject({ reader: 'Lecteur A', insertion: 1 });
    expect(hexOf((log.events[i]?.payload as { atr: Uint8Array }).atr)).toBe(CPS3_ATR_HEX);
    expect(monitor.readers().find((r) => r.name === 'Lecteur A')?.card?.insertion).toBe(1);

    from = log.events.length;
    mock.removeCard('Lecteur A');
    i = await log.waitFor('card.removed', () => true, { from });
    expect(log.events[i]?.payload).toEqual({ reader: 'Lecteur A' });
    expect(monitor.readers().find((r) => r.name === 'Lecteur A')?.card).toBeNull();

    from = log.events.length;
    mock.insertCard('Lecteur A', card);
    i = await log.waitFor('card.inserted', () => true, { from });
    expect(log.events[i]?.payload).toMatchObject({ reader: 'Lecteur A', insertion: 2 });
    expect(monitor.insertionCount('Lecteur A')).toBe(2);
    expect(monitor.insertionCount('Lecteur B')).toBe(0);
    // only the set of readers changes readers.changed
    expect(log.summary().filter((s) => s.startsWith('readers.changed'))).toHaveLength(2);
  });

  it('a card pulled and put back between two notifications counts as a new insertion', async () => {
    const mock = createMockPcsc({ readers: ['Lecteur A'] });
    mock.insertCard('Lecteur A', new TestCard());
    let client: MockPcscLite | null = null;
    const monitor = new ReaderMonitor({ pcsc: () => (client = mock.pcsclite()), env: {} });
    monitors.push(monitor);
    const log = new EventLog(monitor);
    await monitor.start();
    const reader = (client as MockPcscLite | null)?.readers['Lecteur A'];
    if (!reader?.state) throw new Error('the monitor has no reader object with a state');
    const from = log.events.length;
    // pcscd saw a removal and an insertion (counter + 2) but the status thread reports once: PRESENT again
    const counter = reader.state >>> 16;
    const atr = Buffer.from(testAtr());
    reader.emit('status', { state: (((counter + 2) << 16) | SCARD.SCARD_STATE_CHANGED | SCARD.SCARD_STATE_PRESENT) >>> 0, atr });
    expect(log.summary(from)).toEqual(['card.removed Lecteur A', 'card.inserted Lecteur A']);
    expect(monitor.insertionCount('Lecteur A')).toBe(2);
    // a change that is not an insertion (another application connects: INUSE) is not reported
    reader.emit('status', { state: (((counter + 2) << 16) | SCARD.SCARD_STATE_CHANGED | SCARD.SCARD_STATE_PRESENT | SCARD.SCARD_STATE_INUSE) >>> 0, atr });
    expect(log.summary(from)).toHaveLength(2);
  });
});

describe('ReaderMonitor: virtual readers (vsmartcard-vpcd)', () => {
  const readers = ['Lecteur A', 'Virtual PCD 00 00', 'Virtual PCD 00 01'];

  it('ignores them by default: not listed, no card events, connect says READER_NOT_FOUND', async () => {
    const mock = createMockPcsc({ readers });
    mock.insertCard('Virtual PCD 00 00', new TestCard());
    const { monitor, log } = await started(mock);
    expect(monitor.allowVirtualReaders).toBe(false);
    expect(monitor.readers().map((r) => r.name)).toEqual(['Lecteur A']);
    mock.insertCard('Virtual PCD 00 01', new TestCard());
    await new Promise((r) => setTimeout(r, 50));
    expect(log.events.some((e) => e.event === 'card.inserted')).toBe(false);
    const err = await monitor.connect('Virtual PCD 00 00').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('READER_NOT_FOUND');
    expect((err as TransportError).message).toMatch(/virtual readers/);
  });

  it('shows them with allowVirtualReaders: true', async () => {
    const mock = createMockPcsc({ readers });
    mock.insertCard('Virtual PCD 00 00', new TestCard());
    const { monitor } = await started(mock, { allowVirtualReaders: true });
    expect(monitor.readers().map((r) => r.name)).toEqual(readers);
    expect(monitor.readers()[1]?.card).not.toBeNull();
    const channel = await monitor.connect('Virtual PCD 00 00');
    expect(channel.isOpen).toBe(true);
  });

  it('shows them with CARDBRIDGE_ALLOW_VIRTUAL_READERS=1 in the environment', async () => {
    const mock = createMockPcsc({ readers });
    const { monitor } = await started(mock, { env: { CARDBRIDGE_ALLOW_VIRTUAL_READERS: '1' } });
    expect(monitor.readers().map((r) => r.name)).toEqual(readers);
  });
});

describe('ReaderMonitor: close', () => {
  it('leaves no timer behind, even while retrying to reach pcscd', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const mock = createMockPcsc({ daemonRunning: false, readers: ['Lecteur A'] });
      const monitor = new ReaderMonitor({ pcsc: mock.pcsclite, env: {}, minRetryMs: 5_000, maxRetryMs: 5_000 });
      const starting = monitor.start();
      await vi.advanceTimersByTimeAsync(200); // start()'s settle wait
      await starting;
      expect(monitor.status).toBe('unavailable');
      expect(vi.getTimerCount()).toBe(1); // the retry is pending
      await monitor.close();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('disconnects open channels and stops reporting', async () => {
    const mock = createMockPcsc({ readers: ['Lecteur A'] });
    mock.insertCard('Lecteur A', new TestCard());
    const { monitor, log } = await started(mock);
    const channel = await monitor.connect('Lecteur A');
    expect(mock.system.reader('Lecteur A').handles.size).toBe(1);
    await monitor.close();
    expect(channel.isOpen).toBe(false);
    expect(mock.system.reader('Lecteur A').handles.size).toBe(0);
    const count = log.events.length;
    mock.removeCard('Lecteur A');
    mock.addReader('Lecteur B');
    await new Promise((r) => setTimeout(r, 30));
    expect(log.events.length).toBe(count);
    await expect(monitor.connect('Lecteur A')).rejects.toThrow(/closed/);
  });
});
