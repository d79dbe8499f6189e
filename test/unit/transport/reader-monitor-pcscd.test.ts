// ReaderMonitor when pcscd goes away and comes back (native mock): 'unavailable', open channels
// fail with PCSC_UNAVAILABLE, then a NEW context within 5 s of pcscd's return, readers and cards
// announced again, no process restart. And pcscd absent when the monitor starts.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createMockPcsc, type MockPcsc } from '../../../native-mocks/pcsclite/index.js';
import { TransportError } from '../../../src/transport/errors.js';
import type { PcscLite } from '../../../src/transport/pcsc-types.js';
import { ReaderMonitor } from '../../../src/transport/reader-monitor.js';
import { TestCard } from '../../support/test-card.js';
import { apdu, cps3Card, EventLog, removePkiDir, VERIFY_STATUS } from './helpers.js';

const monitors: ReaderMonitor[] = [];

/** The mock's factory, counting the contexts the monitor creates. */
function countingProvider(mock: MockPcsc): { provider: () => PcscLite; created: () => number } {
  let created = 0;
  return {
    provider: () => {
      const pcsc = mock.pcsclite(); // throws while pcscd is down, as the real one
      created++;
      return pcsc;
    },
    created: () => created,
  };
}

async function monitorOf(mock: MockPcsc, provider: () => PcscLite = mock.pcsclite) {
  const monitor = new ReaderMonitor({ pcsc: provider, env: {} });
  monitors.push(monitor);
  const log = new EventLog(monitor);
  await monitor.start();
  return { monitor, log };
}

afterEach(async () => {
  await Promise.all(monitors.splice(0).map((m) => m.close()));
});
afterAll(removePkiDir);

describe('ReaderMonitor: pcscd stopped and started again', () => {
  it('reports unavailable, then recovers on its own within 5 s with readers and cards re-emitted', async () => {
    const mock = createMockPcsc({ readers: ['Lecteur A', 'Lecteur B'] });
    mock.insertCard('Lecteur A', await cps3Card());
    const counting = countingProvider(mock);
    const { monitor, log } = await monitorOf(mock, counting.provider);
    expect(counting.created()).toBe(1);
    const channel = await monitor.connect('Lecteur A');

    let from = log.events.length;
    mock.stopDaemon();
    await log.waitFor('readers.changed', (p) => p.readers.length === 0, { from });
    expect(log.summary(from)).toEqual(['pcsc.status unavailable', 'card.removed Lecteur A', 'readers.changed []']);
    const status = log.events[from]?.payload as { status: string; error?: TransportError };
    expect(status.error).toBeInstanceOf(TransportError);
    expect(status.error?.code).toBe('PCSC_UNAVAILABLE');
    expect(monitor.status).toBe('unavailable');
    expect(monitor.readers()).toEqual([]);
    const err = await channel.transmit(apdu(VERIFY_STATUS)).catch((e: unknown) => e);
    expect((err as TransportError).code).toBe('PCSC_UNAVAILABLE');
    await expect(monitor.connect('Lecteur A')).rejects.toMatchObject({ code: 'PCSC_UNAVAILABLE' });

    // pcscd down for a while: the monitor keeps trying
    await new Promise((r) => setTimeout(r, 700));
    expect(monitor.status).toBe('unavailable');

    from = log.events.length;
    const restartedAt = Date.now();
    mock.startDaemon();
    await log.waitFor('readers.changed', (p) => p.readers.length === 2, { from, timeoutMs: 5000 });
    expect(Date.now() - restartedAt).toBeLessThan(5000);
    expect(log.summary(from)).toEqual([
      'pcsc.status ok',
      'readers.changed [Lecteur A*]',
      'card.inserted Lecteur A',
      'readers.changed [Lecteur A*, Lecteur B]',
    ]);
    expect(counting.created()).toBe(2); // a NEW context, the old one is dead
    expect(monitor.status).toBe('ok');
    // the card came back powered down: a new insertion, a new connection that works
    expect(monitor.insertionCount('Lecteur A')).toBe(2);
    const again = await monitor.connect('Lecteur A');
    expect(again).not.toBe(channel);
    expect((await again.transmit(apdu(VERIFY_STATUS))).sw).toBe(0x63c3);
  });

  it('survives several stops and starts in a row', async () => {
    const mock = createMockPcsc({ readers: ['Lecteur A'] });
    mock.insertCard('Lecteur A', new TestCard());
    const { monitor, log } = await monitorOf(mock);
    for (let round = 0; round < 3; round++) {
      let from = log.events.length;
      mock.stopDaemon();
      await log.waitFor('pcsc.status', (p) => p.status === 'unavailable', { from });
      from = log.events.length;
      mock.startDaemon();
      await log.waitFor('card.inserted', () => true, { from, timeoutMs: 5000 });
    }
    const channel = await monitor.connect('Lecteur A');
    expect((await channel.transmit(apdu('80 CA 00 00 00'))).sw).toBe(0x9000);
    expect(monitor.insertionCount('Lecteur A')).toBe(4);
  });
});

describe('ReaderMonitor: pcscd absent at start', () => {
  it('starts anyway with status unavailable and a clear error, then picks pcscd up when it starts', async () => {
    const mock = createMockPcsc({ daemonRunning: false, readers: ['Lecteur A'] });
    mock.insertCard('Lecteur A', new TestCard());
    const { monitor, log } = await monitorOf(mock);
    expect(monitor.status).toBe('unavailable');
    expect(log.summary()).toEqual(['pcsc.status unavailable']);
    const first = log.events[0]?.payload as { error?: TransportError };
    expect(first.error?.code).toBe('PCSC_UNAVAILABLE');
    expect(first.error?.message).toMatch(/pcscd/);
    expect(first.error?.message).toMatch(/Service not available/);
    const err = await monitor.connect('Lecteur A').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('PCSC_UNAVAILABLE');

    const from = log.events.length;
    mock.startDaemon();
    await log.waitFor('card.inserted', () => true, { from, timeoutMs: 5000 });
    expect(log.summary(from)).toEqual(['pcsc.status ok', 'readers.changed [Lecteur A*]', 'card.inserted Lecteur A']);
  });

});
