// connect / transmit / disconnect with pcsc-lite's sharing, reset and protocol rules; error texts
// are those the real package produced against pcscd 1.9.9 + vpcd.
import { describe, expect, it } from 'vitest';
import { createMockPcsc, SCARD } from '../../../native-mocks/pcsclite/index.js';
import { TestCard } from '../../support/test-card.js';
import { connect, disconnect, transmit, waitReader } from './helpers.js';

const { SCARD_SHARE_SHARED: SHARED, SCARD_SHARE_EXCLUSIVE: EXCLUSIVE, SCARD_SHARE_DIRECT: DIRECT } = SCARD;
const { SCARD_PROTOCOL_T0: T0, SCARD_PROTOCOL_T1: T1 } = SCARD;

async function setup(opts: { protocols?: number } = {}) {
  const mock = createMockPcsc({ readers: ['R'] });
  const card = new TestCard();
  mock.insertCard('R', card, opts);
  const a = await waitReader(mock.pcsclite(), 'R');
  const b = await waitReader(mock.pcsclite(), 'R');
  return { mock, card, a, b };
}

describe('mock pcsclite: connections', () => {
  it('connects, transmits and logs the APDU, disconnects', async () => {
    const { mock, a } = await setup();
    expect(await connect(a, { share_mode: SHARED })).toBe(T1);
    expect(a.connected).toBe(true);
    const response = await transmit(a, '00 A4 04 00 02 3F 00', T1);
    expect(response).toEqual(Buffer.from([0x90, 0x00]));
    const log = mock.apduLog('R');
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ command: '00 A4 04 00 02 3F 00', response: '90 00' });
    expect(new Date(log[0]?.t ?? '').toISOString()).toBe(log[0]?.t);
    await disconnect(a, SCARD.SCARD_LEAVE_CARD);
    expect(a.connected).toBe(false);
    mock.clearApduLog('R');
    expect(mock.apduLog('R')).toEqual([]);
  });

  it('fails like pcsclite without a card, without a connection, with a small buffer or a wrong protocol', async () => {
    const mock = createMockPcsc({ readers: ['R'] });
    const r = await waitReader(mock.pcsc, 'R');
    await expect(connect(r, { share_mode: SHARED })).rejects.toThrow('SCardConnect error: No smart card inserted.(0x8010000c)');
    expect(r.connected).toBe(false);
    await expect(transmit(r, '00A4040000', T1)).rejects.toThrow(/^Card Reader not connected$/);

    mock.insertCard('R', new TestCard());
    await connect(r, { share_mode: SHARED });
    await expect(transmit(r, '00 B0 00 00 10', T1, 10)).rejects.toThrow('SCardTransmit error: Insufficient buffer.(0x80100008)');
    await expect(transmit(r, '00 B0 00 00 10', T0)).rejects.toThrow('SCardTransmit error: Card protocol mismatch.(0x8010000f)');
    await expect(transmit(r, '00 B0 00 00 10', 0)).rejects.toThrow('SCardTransmit error: Card protocol mismatch.(0x8010000f)');
    expect(await transmit(r, '00 B0 00 00 10', T1, 18)).toHaveLength(18);
    // The card answered the too-small-buffer command (pcscd finds out afterwards), not the mismatched ones
    expect(mock.apduLog('R').map((e) => e.command)).toEqual(['00 B0 00 00 10', '00 B0 00 00 10']);
  });

  it('throws on wrong argument types, as the native binding does', async () => {
    const { a } = await setup();
    await connect(a, { share_mode: SHARED });
    expect(() => a.transmit('00A4' as unknown as Buffer, 258, T1, () => undefined)).toThrow('First argument must be a Buffer');
    expect(() => a.transmit(Buffer.from('00A40400', 'hex'), -1, T1, () => undefined)).toThrow('Second argument must be an integer');
  });

  it('connect() defaults to EXCLUSIVE and connect on a connected reader is a no-op', async () => {
    const { a, b } = await setup();
    await connect(a);
    await expect(connect(b, { share_mode: SHARED })).rejects.toThrow('SCardConnect error: Sharing violation.(0x8010000b)');
    // already connected: callback with no arguments
    const args = await new Promise<unknown[]>((resolve) => a.connect({ share_mode: SHARED }, (...x: unknown[]) => resolve(x)));
    expect(args).toEqual([undefined]);
  });

  it('EXCLUSIVE excludes everyone, SHARED admits SHARED', async () => {
    const { a, b } = await setup();
    await connect(a, { share_mode: EXCLUSIVE });
    await expect(connect(b, { share_mode: EXCLUSIVE })).rejects.toThrow('Sharing violation.(0x8010000b)');
    await expect(connect(b, { share_mode: SHARED })).rejects.toThrow('Sharing violation.(0x8010000b)');
    await disconnect(a, SCARD.SCARD_LEAVE_CARD);
    await connect(b, { share_mode: SHARED });
    await connect(a, { share_mode: SHARED });
    await expect(transmit(a, '00A4040000', T1)).resolves.toEqual(Buffer.from([0x90, 0x00]));
    await expect(transmit(b, '00A4040000', T1)).resolves.toEqual(Buffer.from([0x90, 0x00]));
    // exclusive needs nobody else connected
    await disconnect(a, SCARD.SCARD_LEAVE_CARD);
    await expect(connect(a, { share_mode: EXCLUSIVE })).rejects.toThrow('Sharing violation.');
  });

  it('a RESET by one connection makes the others fail with "Card was reset." until they reconnect', async () => {
    const { card, a, b } = await setup();
    await connect(a, { share_mode: SHARED });
    await connect(b, { share_mode: SHARED });
    expect(await transmit(b, '00 20 00 01 04 31 32 33 34', T1)).toEqual(Buffer.from([0x90, 0x00]));
    expect(card.verified).toBe(true);
    const resetsBefore = card.resets;
    await disconnect(a, SCARD.SCARD_RESET_CARD);
    expect(card.resets).toBe(resetsBefore + 1);
    expect(card.verified).toBe(false);
    await expect(transmit(b, '80CA000000', T1)).rejects.toThrow('SCardTransmit error: Card was reset.(0x80100068)');
    await expect(transmit(b, '80CA000000', T1)).rejects.toThrow('Card was reset.');
    await disconnect(b, SCARD.SCARD_LEAVE_CARD);
    await connect(b, { share_mode: SHARED });
    expect((await transmit(b, '80CA000000', T1))[0]).toBe(0); // not verified any more
  });

  it('LEAVE_CARD keeps the card state; UNPOWER (the default) resets it', async () => {
    const { card, a } = await setup();
    await connect(a, { share_mode: SHARED });
    await transmit(a, '00 20 00 01 04 31 32 33 34', T1);
    await disconnect(a, SCARD.SCARD_LEAVE_CARD);
    await connect(a, { share_mode: SHARED });
    expect((await transmit(a, '80CA000000', T1))[0]).toBe(1);
    const resets = card.resets;
    await disconnect(a); // pcsclite's default disposition is UNPOWER
    expect(card.resets).toBe(resets + 1);
    await connect(a, { share_mode: SHARED });
    expect((await transmit(a, '80CA000000', T1))[0]).toBe(0);
    await disconnect(a, SCARD.SCARD_UNPOWER_CARD);
    expect(card.resets).toBe(resets + 2);
  });

  it('PIN tries survive resets (persistent state) while the verified state does not', async () => {
    const { card, a } = await setup();
    await connect(a, { share_mode: SHARED });
    expect(await transmit(a, '00 20 00 01 04 39 39 39 39', T1)).toEqual(Buffer.from([0x63, 0xc2]));
    await disconnect(a, SCARD.SCARD_RESET_CARD);
    await connect(a, { share_mode: SHARED });
    expect(await transmit(a, '00 20 00 01', T1)).toEqual(Buffer.from([0x63, 0xc2]));
    expect(card.triesLeft).toBe(2);
  });

  it('negotiates the protocol once per power-up, like pcscd', async () => {
    const { a, b } = await setup();
    expect(await connect(a, { share_mode: SHARED, protocol: T0 })).toBe(T0);
    // T=0 is active now: a T=1-only connection is refused, T0|T1 gets T=0
    await expect(connect(b, { share_mode: SHARED, protocol: T1 })).rejects.toThrow('SCardConnect error: Card protocol mismatch.(0x8010000f)');
    expect(await connect(b, { share_mode: SHARED })).toBe(T0);
    await disconnect(b, SCARD.SCARD_LEAVE_CARD);
    await disconnect(a, SCARD.SCARD_RESET_CARD);
    expect(await connect(b, { share_mode: SHARED, protocol: T1 })).toBe(T1);
  });

  it('honours the protocols a card offers', async () => {
    const { a } = await setup({ protocols: T0 });
    await expect(connect(a, { share_mode: SHARED, protocol: T1 })).rejects.toThrow('Card protocol mismatch.');
    expect(await connect(a, { share_mode: SHARED })).toBe(T0);
  });

  it('DIRECT connects without a card', async () => {
    const mock = createMockPcsc({ readers: ['R'] });
    const r = await waitReader(mock.pcsc, 'R');
    expect(await connect(r, { share_mode: DIRECT, protocol: 0 })).toBe(0);
    await disconnect(r, SCARD.SCARD_LEAVE_CARD);
  });

  it('a removed card: "Card was removed." on the old connection, disconnect works, reconnect sees no card', async () => {
    const { mock, a } = await setup();
    await connect(a, { share_mode: SHARED });
    mock.removeCard('R');
    await expect(transmit(a, '00A4040000', T1)).rejects.toThrow('SCardTransmit error: Card was removed.(0x80100069)');
    mock.insertCard('R', new TestCard());
    // a new insertion does not revive the old connection
    await expect(transmit(a, '00A4040000', T1)).rejects.toThrow('Card was removed.');
    await disconnect(a, SCARD.SCARD_LEAVE_CARD);
    expect(a.connected).toBe(false);
    expect(await connect(a, { share_mode: SHARED })).toBe(T1);
    mock.removeCard('R');
    await disconnect(a, SCARD.SCARD_LEAVE_CARD);
    await expect(connect(a, { share_mode: SHARED })).rejects.toThrow('SCardConnect error: No smart card inserted.(0x8010000c)');
  });

  it('a reader unplugged under a connection: "Reader is unavailable."', async () => {
    const { mock, a } = await setup();
    await connect(a, { share_mode: SHARED });
    mock.removeReader('R');
    await expect(transmit(a, '00A4040000', T1)).rejects.toThrow('SCardTransmit error: Reader is unavailable.(0x80100017)');
  });

  it('connect to a reader that is gone: "Unknown reader specified."', async () => {
    const mock = createMockPcsc({ readers: ['R'] });
    const r = await waitReader(mock.pcsc, 'R');
    mock.removeReader('R');
    await expect(connect(r, { share_mode: SHARED })).rejects.toThrow('SCardConnect error: Unknown reader specified.(0x80100009)');
  });

  it('delivers callbacks asynchronously, in call order', async () => {
    const { a } = await setup();
    await connect(a, { share_mode: SHARED });
    const order: string[] = [];
    const p1 = new Promise<void>((resolve) => a.transmit(Buffer.from('00A4040000', 'hex'), 258, T1, () => (order.push('1'), resolve())));
    const p2 = new Promise<void>((resolve) => a.transmit(Buffer.from('80CA000000', 'hex'), 258, T1, () => (order.push('2'), resolve())));
    order.push('sync');
    await Promise.all([p1, p2]);
    expect(order).toEqual(['sync', '1', '2']);
  });
});
