// pcscd going away and coming back, and the faults tests inject (a card pulled mid-operation).
// Sequences and texts observed with the real `pcsclite` when pcscd 1.9.9 was stopped.
import { describe, expect, it } from 'vitest';
import { createMockPcsc, SCARD, SCARD_E } from '../../../native-mocks/pcsclite/index.js';
import { TestCard } from '../../support/test-card.js';
import { connect, disconnect, statusRecorder, transmit, until, waitReader } from './helpers.js';

const T1 = SCARD.SCARD_PROTOCOL_T1;
const SHARED = SCARD.SCARD_SHARE_SHARED;

describe('mock pcsclite: pcscd stopped and restarted', () => {
  it('emits error on the client, then error and end on each reader', async () => {
    const mock = createMockPcsc({ readers: ['R1', 'R2'] });
    const pcsc = mock.pcsc;
    const r1 = await waitReader(pcsc, 'R1');
    const r2 = await waitReader(pcsc, 'R2');
    const events: string[] = [];
    pcsc.on('error', (e: Error) => events.push(`pcsc error: ${e.message}`));
    for (const r of [r1, r2]) {
      r.on('error', (e: Error) => events.push(`${r.name} error: ${e.message}`));
      r.on('end', () => events.push(`${r.name} end`));
    }
    mock.stopDaemon();
    expect(mock.daemonRunning).toBe(false);
    await until(() => events.length === 5);
    const msg = 'SCardGetStatusChange error: RPC transport error.(0x80100013)';
    expect(events).toEqual([`pcsc error: ${msg}`, `R1 error: ${msg}`, 'R1 end', `R2 error: ${msg}`, 'R2 end']);
    expect(pcsc.readers).toEqual({});
  });

  it('fails calls with "Service not available.", keeps connected = true, and refuses new clients', async () => {
    const mock = createMockPcsc({ readers: ['R'] });
    mock.insertCard('R', new TestCard());
    const pcsc = mock.pcsc;
    pcsc.on('error', () => undefined);
    const r = await waitReader(pcsc, 'R');
    r.on('error', () => undefined);
    await connect(r, { share_mode: SHARED });
    mock.stopDaemon();
    await expect(transmit(r, '00A4040000', T1)).rejects.toThrow('SCardTransmit error: Service not available.(0x8010001d)');
    await expect(disconnect(r, SCARD.SCARD_LEAVE_CARD)).rejects.toThrow('SCardDisconnect error: Service not available.(0x8010001d)');
    expect(r.connected).toBe(true);
    expect(() => mock.pcsclite()).toThrow('SCardEstablishContext error: Service not available.(0x8010001d)');

    mock.startDaemon();
    // the old client's connection died with the old pcscd
    await expect(transmit(r, '00A4040000', T1)).rejects.toThrow('Service not available.');
    // a new client sees the reader and the card again
    const fresh = mock.pcsclite();
    const r2 = await waitReader(fresh, 'R');
    const statuses = statusRecorder(r2);
    await until(() => statuses.length === 1);
    expect(statuses[0]?.state).toBe(0x10022);
    expect(await connect(r2, { share_mode: SHARED })).toBe(T1);
    expect(await transmit(r2, '00A4040000', T1)).toEqual(Buffer.from([0x90, 0x00]));
    fresh.close();
  });

  it('a stop powers the cards down (verified state lost, PIN tries kept)', async () => {
    const mock = createMockPcsc({ readers: ['R'] });
    const card = new TestCard();
    mock.insertCard('R', card);
    const client = mock.pcsclite();
    client.on('error', () => undefined); // an EventEmitter 'error' without listener throws, as with pcsclite
    const r = await waitReader(client, 'R');
    r.on('error', () => undefined);
    await connect(r, { share_mode: SHARED });
    await transmit(r, '00 20 00 01 04 39 39 39 39', T1);
    await transmit(r, '00 20 00 01 04 31 32 33 34', T1);
    expect(card.verified).toBe(true);
    mock.stopDaemon();
    expect(card.verified).toBe(false);
    expect(card.triesLeft).toBe(3);
  });

  it('a client created while pcscd is down throws; one created before the stop gets error', async () => {
    const mock = createMockPcsc({ daemonRunning: false, readers: ['R'] });
    expect(() => mock.pcsc).toThrow('SCardEstablishContext error: Service not available.');
    mock.startDaemon();
    const client = mock.pcsclite();
    const error = new Promise<Error>((resolve) => client.on('error', resolve));
    mock.stopDaemon();
    expect((await error).message).toBe('SCardGetStatusChange error: RPC transport error.(0x80100013)');
  });
});

describe('mock pcsclite: fault injection', () => {
  it('failNextTransmit fails one transmit without reaching the card', async () => {
    const mock = createMockPcsc({ readers: ['R'] });
    const card = new TestCard();
    mock.insertCard('R', card);
    const r = await waitReader(mock.pcsc, 'R');
    await connect(r, { share_mode: SHARED });
    mock.failNextTransmit('R');
    await expect(transmit(r, '00A4040000', T1)).rejects.toThrow('SCardTransmit error: Transaction failed.(0x80100016)');
    expect(card.commands).toHaveLength(0);
    expect(await transmit(r, '00A4040000', T1)).toEqual(Buffer.from([0x90, 0x00]));
    mock.failNextTransmit('R', SCARD_E.UNRESPONSIVE_CARD);
    await expect(transmit(r, '00A4040000', T1)).rejects.toThrow('SCardTransmit error: Card is unresponsive.(0x80100066)');
    mock.pcsc.close();
  });

  it('removeCardAfterApdus pulls the card after n answered APDUs', async () => {
    const mock = createMockPcsc({ readers: ['R'] });
    mock.insertCard('R', new TestCard());
    const r = await waitReader(mock.pcsc, 'R');
    const statuses = statusRecorder(r);
    await until(() => statuses.length === 1);
    await connect(r, { share_mode: SHARED });
    mock.removeCardAfterApdus('R', 2);
    expect(await transmit(r, '00A4040000', T1)).toEqual(Buffer.from([0x90, 0x00]));
    expect(await transmit(r, '00A4040000', T1)).toEqual(Buffer.from([0x90, 0x00]));
    await expect(transmit(r, '00A4040000', T1)).rejects.toThrow('SCardTransmit error: Card was removed.(0x80100069)');
    await until(() => statuses.length === 2);
    expect(statuses[1]?.state && statuses[1].state & SCARD.SCARD_STATE_EMPTY).toBe(SCARD.SCARD_STATE_EMPTY);
    expect(mock.apduLog('R')).toHaveLength(2);
    await disconnect(r, SCARD.SCARD_LEAVE_CARD);
    await expect(connect(r, { share_mode: SHARED })).rejects.toThrow('No smart card inserted.');
    mock.pcsc.close();
  });

  it('removeCardAfterApdus(0) pulls the card now', async () => {
    const mock = createMockPcsc({ readers: ['R'] });
    mock.insertCard('R', new TestCard());
    const r = await waitReader(mock.pcsc, 'R');
    await connect(r, { share_mode: SHARED });
    mock.removeCardAfterApdus('R', 0);
    await expect(transmit(r, '00A4040000', T1)).rejects.toThrow('Card was removed.');
    mock.pcsc.close();
  });
});
