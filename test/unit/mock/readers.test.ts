// Reader list and card presence, as `pcsclite` reports them over pcscd (values observed on
// pcsc-lite 1.9.9: empty 0x12, then the event counter in the upper 16 bits).
import { describe, expect, it } from 'vitest';
import pcsclite, { createMockPcsc, defaultMockPcsc, SCARD, type MockCardReader } from '../../../native-mocks/pcsclite/index.js';
import { TestCard } from '../../support/test-card.js';
import { once, statusRecorder, until, waitReader } from './helpers.js';

describe('mock pcsclite: readers', () => {
  it('reports the readers present at start, then a status with state and an empty ATR', async () => {
    const mock = createMockPcsc({ readers: ['Lecteur A', { name: 'Lecteur B', pinpad: true }] });
    const seen: string[] = [];
    const statuses: { name: string; state: number; atr: Buffer | undefined; readerStateDuringEvent: number | undefined }[] = [];
    mock.pcsc.on('reader', (r: MockCardReader) => {
      seen.push(r.name);
      expect(r.connected).toBe(false);
      r.on('status', (s: { state: number; atr?: Buffer }) => {
        statuses.push({ name: r.name, state: s.state, atr: s.atr, readerStateDuringEvent: r.state });
      });
    });
    await until(() => statuses.length === 2);
    expect(seen).toEqual(['Lecteur A', 'Lecteur B']);
    for (const s of statuses) {
      expect(s.state).toBe(SCARD.SCARD_STATE_CHANGED | SCARD.SCARD_STATE_EMPTY);
      expect(s.atr).toEqual(Buffer.alloc(0));
      // pcsclite sets reader.state after emitting 'status'
      expect(s.readerStateDuringEvent).toBeUndefined();
    }
    expect(mock.pcsc.readers['Lecteur A']?.state).toBe(0x12);
    mock.pcsc.close();
  });

  it('emits reader for a reader plugged in later, and end when it is unplugged', async () => {
    const mock = createMockPcsc();
    const pcsc = mock.pcsc;
    await new Promise((r) => setImmediate(r));
    mock.addReader('USB 1');
    const reader = await waitReader(pcsc, 'USB 1');
    expect(Object.keys(pcsc.readers)).toEqual(['USB 1']);
    const ended = once(reader, 'end');
    mock.removeReader('USB 1');
    await ended;
    expect(pcsc.readers['USB 1']).toBeUndefined();
    // plugged in again: a new reader object
    mock.addReader('USB 1');
    const again = await waitReader(pcsc, 'USB 1');
    expect(again).not.toBe(reader);
    pcsc.close();
  });

  it('reports insertion (PRESENT + ATR) and removal (EMPTY), with the event counter', async () => {
    const mock = createMockPcsc({ readers: ['R'] });
    const reader = await waitReader(mock.pcsc, 'R');
    const statuses = statusRecorder(reader);
    await until(() => statuses.length === 1);
    const card = new TestCard();
    mock.insertCard('R', card);
    await until(() => statuses.length === 2);
    expect(statuses[1]).toEqual({ state: 0x10022, atr: Buffer.from(card.atr) });
    mock.removeCard('R');
    await until(() => statuses.length === 3);
    expect(statuses[2]).toEqual({ state: 0x20012, atr: Buffer.alloc(0) });
    mock.insertCard('R', card);
    await until(() => statuses.length === 4);
    expect(statuses[3]?.state).toBe(0x30022);
    expect(reader.state).toBe(0x30022);
    mock.pcsc.close();
  });

  it('shows a card already inserted when the client starts', async () => {
    const mock = createMockPcsc({ readers: ['R'] });
    const card = new TestCard();
    mock.insertCard('R', card);
    const reader = await waitReader(mock.pcsc, 'R');
    const [status] = await Promise.all([once<{ state: number; atr?: Buffer }>(reader, 'status')]);
    expect(status.state & SCARD.SCARD_STATE_PRESENT).toBe(SCARD.SCARD_STATE_PRESENT);
    expect(status.atr).toEqual(Buffer.from(card.atr));
    mock.pcsc.close();
  });

  it('reader.close() ends the status stream with end', async () => {
    const mock = createMockPcsc({ readers: ['R'] });
    const reader = await waitReader(mock.pcsc, 'R');
    const statuses = statusRecorder(reader);
    await until(() => statuses.length === 1);
    const ended = once(reader, 'end');
    expect(reader.close()).toBe(0);
    await ended;
    mock.insertCard('R', new TestCard());
    await new Promise((r) => setTimeout(r, 20));
    expect(statuses).toHaveLength(1);
    mock.pcsc.close();
  });

  it('pcsc.close() stops reader events', async () => {
    const mock = createMockPcsc();
    const pcsc = mock.pcsc;
    const seen: string[] = [];
    pcsc.on('reader', (r: MockCardReader) => seen.push(r.name));
    await new Promise((r) => setImmediate(r));
    expect(pcsc.close()).toBe(0);
    mock.addReader('late');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([]);
  });

  it('each client sees the same machine; the default export uses defaultMockPcsc', async () => {
    const mock = createMockPcsc({ readers: ['R'] });
    const a = mock.pcsclite();
    const b = mock.pcsclite();
    expect(a).not.toBe(b);
    expect(mock.pcsc).toBe(mock.pcsc);
    await Promise.all([waitReader(a, 'R'), waitReader(b, 'R')]);
    a.close();
    b.close();

    defaultMockPcsc.addReader('Default reader');
    try {
      const client = pcsclite();
      const r = await waitReader(client, 'Default reader');
      expect(r.name).toBe('Default reader');
      client.close();
    } finally {
      defaultMockPcsc.removeReader('Default reader');
    }
  });

  it('puts the pcsclite constants on reader objects', async () => {
    const mock = createMockPcsc({ readers: ['R'] });
    const r = await waitReader(mock.pcsc, 'R');
    expect(r.SCARD_SHARE_SHARED).toBe(2);
    expect(r.SCARD_SHARE_EXCLUSIVE).toBe(1);
    expect(r.SCARD_SHARE_DIRECT).toBe(3);
    expect(r.SCARD_PROTOCOL_T0).toBe(1);
    expect(r.SCARD_PROTOCOL_T1).toBe(2);
    expect(r.SCARD_PROTOCOL_RAW).toBe(4);
    expect(r.SCARD_STATE_PRESENT).toBe(0x20);
    expect(r.SCARD_STATE_EMPTY).toBe(0x10);
    expect(r.SCARD_LEAVE_CARD).toBe(0);
    expect(r.SCARD_RESET_CARD).toBe(1);
    expect(r.SCARD_UNPOWER_CARD).toBe(2);
    expect(r.SCARD_EJECT_CARD).toBe(3);
    expect(r.SCARD_CTL_CODE(3400)).toBe(0x42000d48);
    // on the prototype, as the native class has them
    expect(Object.prototype.hasOwnProperty.call(r, 'SCARD_SHARE_SHARED')).toBe(false);
    mock.pcsc.close();
  });

  it('rejects test mistakes loudly', () => {
    const mock = createMockPcsc({ readers: ['R'] });
    expect(() => mock.addReader('R')).toThrow(/already exists/);
    expect(() => mock.insertCard('nope', new TestCard())).toThrow(/no reader/);
    mock.insertCard('R', new TestCard());
    expect(() => mock.insertCard('R', new TestCard())).toThrow(/already holds a card/);
    expect(() => mock.setPinpadEntry('R', '1234')).toThrow(/no pinpad/);
    expect(() => mock.removeCardAfterApdus('R', -1)).toThrow();
  });
});
