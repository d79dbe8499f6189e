// PcscCardChannel over the native pcsclite mock, reached through ReaderMonitor.connect(): shared
// mode, LEAVE_CARD / RESET_CARD, a card pulled mid-operation, a reset by another application, T=0
// GET RESPONSE, command chaining, and SCardControl for PC/SC part 10.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createMockPcsc, SCARD, SCARD_E, type MockCardReader, type MockPcsc } from '../../../native-mocks/pcsclite/index.js';
import { FEATURE_VERIFY_PIN_DIRECT, buildVerifyPinDirect } from '../../../src/iso7816/part10.js';
import { TransportError } from '../../../src/transport/errors.js';
import { PcscCardChannel } from '../../../src/transport/pcsc-card-channel.js';
import { ReaderMonitor } from '../../../src/transport/reader-monitor.js';
import type { VirtualCard } from '../../../src/simulator/virtual-card.js';
import { TestCard, testAtr } from '../../support/test-card.js';
import { apdu, CPS3_ATR_HEX, cps3Card, EventLog, hexOf, removePkiDir, SELECT_CPS_AID, VERIFY_PIN_1234, VERIFY_STATUS } from './helpers.js';

const READER = 'Lecteur CPS';
const T0 = SCARD.SCARD_PROTOCOL_T0;
const monitors: ReaderMonitor[] = [];
const clients: { close(): unknown }[] = [];

async function monitorOf(mock: MockPcsc): Promise<{ monitor: ReaderMonitor; log: EventLog }> {
  const monitor = new ReaderMonitor({ pcsc: mock.pcsclite, env: {} });
  monitors.push(monitor);
  const log = new EventLog(monitor);
  await monitor.start();
  return { monitor, log };
}

/** A CPS3 (T=0 only, as the real card) in a reader, and a started monitor. */
async function withCps3(options: { pinpad?: boolean } = {}) {
  const mock = createMockPcsc({ readers: [{ name: READER, pinpad: options.pinpad ?? false }] });
  mock.insertCard(READER, await cps3Card(), { protocols: T0 });
  return { mock, ...(await monitorOf(mock)) };
}

/** Another PC/SC application on the same machine: its own pcsclite context and reader object. */
async function otherApplication(mock: MockPcsc): Promise<MockCardReader> {
  const client = mock.pcsclite();
  clients.push(client);
  client.on('error', () => undefined);
  return new Promise((resolve) => {
    client.on('reader', (r: MockCardReader) => {
      r.on('error', () => undefined);
      if (r.name === READER) resolve(r);
    });
  });
}

const pcscCall = <T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T | undefined> =>
  new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

const sw = (r: { sw: number }): string => r.sw.toString(16).toUpperCase().padStart(4, '0');

async function rejection(p: Promise<unknown>): Promise<TransportError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TransportError);
  return err as TransportError;
}

afterEach(async () => {
  await Promise.all(monitors.splice(0).map((m) => m.close()));
  for (const c of clients.splice(0)) c.close();
});
afterAll(removePkiDir);

describe('PcscCardChannel: connection', () => {
  it('connects SHARED with the card protocol and knows the ATR and insertion', async () => {
    const { mock, monitor } = await withCps3();
    const channel = await monitor.connect(READER);
    expect(channel.readerName).toBe(READER);
    expect(hexOf(channel.atr)).toBe(CPS3_ATR_HEX);
    expect(channel.protocol).toBe(T0);
    expect(channel.insertion).toBe(1);
    const handles = [...mock.system.reader(READER).handles];
    expect(handles.map((h) => h.shareMode)).toEqual([SCARD.SCARD_SHARE_SHARED]);
    // the same card asked again: the same connection
    expect(await monitor.connect(READER)).toBe(channel);
  });

  it('lets another application connect SHARED at the same time (a second monitor)', async () => {
    const { mock, monitor } = await withCps3();
    const ours = await monitor.connect(READER);
    const { monitor: second } = await monitorOf(mock);
    const theirs = await second.connect(READER);
    expect(sw(await ours.transmit(apdu(VERIFY_STATUS)))).toBe('63C3');
    expect(sw(await theirs.transmit(apdu(VERIFY_STATUS)))).toBe('63C3');
    expect(mock.system.reader(READER).handles.size).toBe(2);
  });

  it('is blocked with SHARING_VIOLATION while another application holds the card EXCLUSIVE', async () => {
    const { mock, monitor } = await withCps3();
    const other = await otherApplication(mock);
    await pcscCall<number>((cb) => other.connect({ share_mode: SCARD.SCARD_SHARE_EXCLUSIVE }, cb));
    const err = await rejection(monitor.connect(READER));
    expect(err.code).toBe('SHARING_VIOLATION');
    expect(err.pcscCode).toBe(SCARD_E.SHARING_VIOLATION);
    await pcscCall((cb) => other.disconnect(SCARD.SCARD_LEAVE_CARD, cb));
    const channel = await monitor.connect(READER);
    expect(sw(await channel.transmit(apdu(VERIFY_STATUS)))).toBe('63C3');
  });

  it('says CARD_ABSENT for an empty reader and READER_NOT_FOUND for an unknown one', async () => {
    const mock = createMockPcsc({ readers: ['Vide'] });
    const { monitor } = await monitorOf(mock);
    expect((await rejection(monitor.connect('Vide'))).code).toBe('CARD_ABSENT');
    expect((await rejection(monitor.connect('Nulle part'))).code).toBe('READER_NOT_FOUND');
  });
});

describe('PcscCardChannel: disconnect dispositions', () => {
  it('LEAVE_CARD (default) keeps a verified PIN verified for the next connection', async () => {
    const { monitor } = await withCps3();
    const first = await monitor.connect(READER);
    expect(sw(await first.transmit(apdu(VERIFY_PIN_1234)))).toBe('9000');
    expect(sw(await first.transmit(apdu(VERIFY_STATUS)))).toBe('9000');
    await first.disconnect();
    expect(first.isOpen).toBe(false);
    await expect(first.transmit(apdu(VERIFY_STATUS))).rejects.toThrow(/closed/);

    const second = await monitor.connect(READER);
    expect(second).not.toBe(first);
    expect(sw(await second.transmit(apdu(VERIFY_STATUS)))).toBe('9000');
  });

  it('RESET_CARD ends the verified state', async () => {
    const { monitor } = await withCps3();
    const first = await monitor.connect(READER);
    expect(sw(await first.transmit(apdu(VERIFY_PIN_1234)))).toBe('9000');
    await first.disconnect('reset');
    const second = await monitor.connect(READER);
    expect(sw(await second.transmit(apdu(VERIFY_STATUS)))).toBe('63C3');
  });
});

describe('PcscCardChannel: T=0 and chaining', () => {
  it('fetches the FCP of a SELECT with GET RESPONSE on the T=0 CPS3', async () => {
    const { mock, monitor } = await withCps3();
    const channel = await monitor.connect(READER);
    mock.clearApduLog(READER);
    const response = await channel.transmit(apdu(SELECT_CPS_AID));
    expect(sw(response)).toBe('9000');
    expect(response.data[0]).toBe(0x62);
    expect(response.data.length).toBe(0x26);
    const log = mock.apduLog(READER);
    expect(log.map((e) => e.command.slice(0, 11))).toEqual(['00 A4 04 04', '00 C0 00 00']);
    expect(log[0]?.response).toBe('61 26');
  });

  it('sends a command longer than 255 bytes as a chain', async () => {
    const mock = createMockPcsc({ readers: [READER] });
    // a card that accepts every part of a chain
    const card: VirtualCard = { family: 'CPS3', atr: testAtr(), transmit: () => Uint8Array.from([0x90, 0x00]), reset: () => undefined };
    mock.insertCard(READER, card);
    const { monitor } = await monitorOf(mock);
    const channel = await monitor.connect(READER);
    mock.clearApduLog(READER);
    const response = await channel.transmit({ cla: 0x00, ins: 0x2a, p1: 0x80, p2: 0x86, data: new Uint8Array(300).fill(0xab) });
    expect(sw(response)).toBe('9000');
    const sent = mock.apduLog(READER).map((e) => e.command.replace(/ /g, ''));
    expect(sent.map((c) => c.slice(0, 10))).toEqual(['102A8086FF', '002A80862D']);
  });
});

describe('PcscCardChannel: card removed', () => {
  it('a card pulled between two APDUs fails the second with CARD_REMOVED; the next card works', async () => {
    const { mock, monitor, log } = await withCps3();
    const channel = await monitor.connect(READER);
    mock.removeCardAfterApdus(READER, 1);
    expect(sw(await channel.transmit(apdu(VERIFY_STATUS)))).toBe('63C3');
    const err = await rejection(channel.transmit(apdu(VERIFY_STATUS)));
    expect(err.code).toBe('CARD_REMOVED');
    expect(channel.isOpen).toBe(false);
    expect(channel.closedReason).toBe('CARD_REMOVED');
    await log.waitFor('card.removed');
    // the reader object is free again
    expect(mock.system.reader(READER).handles.size).toBe(0);

    const from = log.events.length;
    mock.insertCard(READER, await cps3Card(), { protocols: T0 });
    await log.waitFor('card.inserted', () => true, { from });
    const next = await monitor.connect(READER);
    expect(next.insertion).toBe(2);
    expect(sw(await next.transmit(apdu(SELECT_CPS_AID)))).toBe('9000');
  });

  it('a card pulled between a command and its GET RESPONSE fails the operation with CARD_REMOVED', async () => {
    const { mock, monitor } = await withCps3();
    const channel = await monitor.connect(READER);
    mock.removeCardAfterApdus(READER, 1); // the SELECT reaches the card, its GET RESPONSE does not
    const err = await rejection(channel.transmit(apdu(SELECT_CPS_AID)));
    expect(err.code).toBe('CARD_REMOVED');
    expect(mock.apduLog(READER).map((e) => e.command.slice(0, 5))).toEqual(['00 A4']);
  });

  it('a channel kept from a removed card fails with CARD_REMOVED without reaching the new card', async () => {
    const { mock, monitor, log } = await withCps3();
    const old = await monitor.connect(READER);
    mock.removeCard(READER);
    await log.waitFor('card.removed');
    const card = new TestCard();
    mock.insertCard(READER, card);
    await log.waitFor('card.inserted', (p) => p.insertion === 2);
    expect((await rejection(old.transmit(apdu(VERIFY_STATUS)))).code).toBe('CARD_REMOVED');
    expect(card.commands).toHaveLength(0);
  });
});

describe('PcscCardChannel: on its own (no monitor)', () => {
  it('connects a pcsclite reader object SHARED and frees it when the card is pulled', async () => {
    const mock = createMockPcsc({ readers: [READER] });
    mock.insertCard(READER, await cps3Card(), { protocols: T0 });
    const reader = await otherApplication(mock);
    const closed: PcscCardChannel[] = [];
    const channel = await PcscCardChannel.connect(reader, { atr: Uint8Array.from([0x3b, 0x00]), insertion: 7, onClose: (c) => closed.push(c) });
    expect(reader.connected).toBe(true);
    expect(channel.insertion).toBe(7);
    expect(channel.protocol).toBe(T0);
    mock.removeCardAfterApdus(READER, 1);
    expect(sw(await channel.transmit(apdu(VERIFY_STATUS)))).toBe('63C3');
    expect((await rejection(channel.transmit(apdu(VERIFY_STATUS)))).code).toBe('CARD_REMOVED');
    expect(reader.connected).toBe(false);
    expect(closed).toEqual([channel]);
  });
});

describe('PcscCardChannel: card reset by another application', () => {
  it('SCARD_W_RESET_CARD: reconnects, reports CARD_RESET, and the next command works (state lost)', async () => {
    const { mock, monitor } = await withCps3();
    const channel = await monitor.connect(READER);
    expect(sw(await channel.transmit(apdu(VERIFY_PIN_1234)))).toBe('9000');

    const other = await otherApplication(mock);
    await pcscCall<number>((cb) => other.connect({ share_mode: SCARD.SCARD_SHARE_SHARED }, cb));
    await pcscCall((cb) => other.disconnect(SCARD.SCARD_RESET_CARD, cb));

    const err = await rejection(channel.transmit(apdu(VERIFY_STATUS)));
    expect(err.code).toBe('CARD_RESET');
    expect(err.pcscCode).toBe(SCARD_E.RESET_CARD);
    expect(channel.isOpen).toBe(true);
    // reconnected: the command goes through; the reset ended the verified state
    expect(sw(await channel.transmit(apdu(VERIFY_STATUS)))).toBe('63C3');
    expect(mock.system.reader(READER).handles.size).toBe(1);
  });

  it('reconnects only once: a card gone at the reconnection gives CARD_REMOVED', async () => {
    const { mock, monitor } = await withCps3();
    const channel = await monitor.connect(READER);
    mock.failNextTransmit(READER, SCARD_E.RESET_CARD);
    // the card leaves right after the (injected) reset, before our reconnection
    const system = mock.system;
    const originalConnect = system.connect.bind(system);
    let connects = 0;
    system.connect = (...args: Parameters<typeof system.connect>) => {
      connects++;
      system.removeCard(READER);
      return originalConnect(...args);
    };
    const err = await rejection(channel.transmit(apdu(VERIFY_STATUS)));
    expect(err.code).toBe('CARD_REMOVED');
    expect(connects).toBe(1);
    expect(channel.isOpen).toBe(false);
  });
});

describe('PcscCardChannel: SCardControl (PC/SC part 10)', () => {
  it('features() lists FEATURE_VERIFY_PIN_DIRECT on a pinpad reader; control() runs it', async () => {
    const { mock, monitor } = await withCps3({ pinpad: true });
    const channel = await monitor.connect(READER);
    const features = await channel.features();
    const verifyCode = features.get(FEATURE_VERIFY_PIN_DIRECT);
    expect(verifyCode).toBe(0x42000000 + 3400 + FEATURE_VERIFY_PIN_DIRECT);

    mock.setPinpadEntry(READER, '1234');
    const structure = buildVerifyPinDirect({ apdu: { cla: 0, ins: 0x20, p1: 0, p2: 1 }, pinFormat: 'ascii', pinMinLength: 4, pinMaxLength: 8 });
    expect(hexOf(await channel.control(verifyCode ?? 0, structure))).toBe('9000');
    expect(sw(await channel.transmit(apdu(VERIFY_STATUS)))).toBe('9000');
  });

  it('features() is empty on a reader without part 10; an unknown control code is a TransportError', async () => {
    const { monitor } = await withCps3();
    const channel = await monitor.connect(READER);
    expect((await channel.features()).size).toBe(0);
    const err = await rejection(channel.control(0x42000000 + 3500, new Uint8Array([1])));
    expect(err.code).toBe('TRANSPORT_ERROR');
    expect(err.pcscCode).toBe(0x8010001f);
    expect(channel.isOpen).toBe(true);
  });
});
