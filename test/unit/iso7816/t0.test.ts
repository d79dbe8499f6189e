import { describe, expect, it } from 'vitest';
import { getResponseCla, logicalChannel, withChaining } from '../../../src/iso7816/cla.js';
import { Iso7816ParseError, Iso7816ProtocolError } from '../../../src/iso7816/errors.js';
import { fromHex, hex } from '../../../src/iso7816/hex.js';
import { DEFAULT_MAX_GET_RESPONSE, getResponseCommand, transmitApdu } from '../../../src/iso7816/t0.js';
import { FakeT0Card, scriptedCard } from './fake-t0-card.js';

const fileOf = (n: number) => Uint8Array.from({ length: n }, (_, i) => i & 0xff);

describe('CLA bits', () => {
  it.each([
    [0x00, 0x00],
    [0x01, 0x01],
    [0x11, 0x01], // chaining bit cleared
    [0x0d, 0x01], // SM bits cleared, channel 1 kept
    [0x13, 0x03],
    [0x40, 0x40], // further interindustry: channel 4
    [0x75, 0x45], // SM + chaining cleared, channel 4+5 kept
    [0x80, 0x00], // proprietary: interindustry GET RESPONSE on the same channel
    [0x84, 0x00],
    [0x83, 0x03],
  ])('getResponseCla(%i) = %i', (cla, expected) => {
    expect(getResponseCla(cla)).toBe(expected);
  });

  it('reads logical channels of both interindustry layouts', () => {
    expect(logicalChannel(0x01)).toBe(1);
    expect(logicalChannel(0x13)).toBe(3);
    expect(logicalChannel(0x40)).toBe(4);
    expect(logicalChannel(0x4f)).toBe(19);
  });

  it('sets the chaining bit', () => {
    expect(withChaining(0x00)).toBe(0x10);
    expect(withChaining(0x01)).toBe(0x11);
    expect(withChaining(0x10)).toBe(0x10);
  });

  it('builds GET RESPONSE with 00 meaning 256', () => {
    expect(getResponseCommand(0x11, 0x00)).toEqual({ cla: 0x01, ins: 0xc0, p1: 0, p2: 0, le: 256 });
    expect(getResponseCommand(0x00, 0x2c).le).toBe(0x2c);
  });
});

describe('transmitApdu (T=0 rules)', () => {
  it('follows a 61xx chain across several GET RESPONSEs and concatenates the data', async () => {
    const file = fileOf(300);
    const card = new FakeT0Card(() => ({ data: file, sw: 0x9000 }));
    const r = await transmitApdu(card.transmit, { cla: 0x00, ins: 0xb0, p1: 0, p2: 0, le: 256 });
    expect(card.sent).toEqual(['00 B0 00 00 00', '00 C0 00 00 00', '00 C0 00 00 2C']);
    expect(r.sw).toBe(0x9000);
    expect(r.data).toEqual(file);
  });

  it('answers a case 3 command (no Le) that the card answers with 61xx', async () => {
    const card = new FakeT0Card(() => ({ data: fromHex('6F 02 84 00'), sw: 0x9000 }));
    const r = await transmitApdu(card.transmit, { cla: 0x00, ins: 0xa4, p1: 0x02, p2: 0x04, data: fromHex('2F 00') });
    expect(card.sent).toEqual(['00 A4 02 04 02 2F 00', '00 C0 00 00 04']);
    expect(hex(r.data)).toBe('6F 02 84 00');
  });

  it('keeps the logical channel in GET RESPONSE (CPS4 runs on channel 1)', async () => {
    const card = new FakeT0Card(() => ({ data: fileOf(3), sw: 0x9000 }));
    await transmitApdu(card.transmit, { cla: 0x01, ins: 0xca, p1: 0x01, p2: 0x02, le: 256 });
    expect(card.sent[1]).toBe('01 C0 00 00 03');
  });

  it('re-sends the same command with the Le given by 6Cxx', async () => {
    const card = scriptedCard(['6C 10', '11 22 90 00'], fromHex);
    const data = fromHex('01 02');
    const r = await transmitApdu(card.transmit, { cla: 0x00, ins: 0xcb, p1: 0x3f, p2: 0xff, data, le: 256 });
    expect(card.sent).toEqual(['00 CB 3F FF 02 01 02 00', '00 CB 3F FF 02 01 02 10']);
    expect(r).toEqual({ data: fromHex('11 22'), sw: 0x9000, sw1: 0x90, sw2: 0x00 });
  });

  it('reads 6C00 as Le = 256', async () => {
    const card = scriptedCard(['6C 00', '90 00'], fromHex);
    await transmitApdu(card.transmit, { cla: 0x00, ins: 0xb0, p1: 0, p2: 0, le: 1 });
    expect(card.sent[1]).toBe('00 B0 00 00 00');
  });

  it('corrects the Le of a GET RESPONSE that asked too much (61xx then 6Cxx)', async () => {
    const card = scriptedCard(['61 00', '6C 05', '01 02 03 04 05 90 00'], fromHex);
    const r = await transmitApdu(card.transmit, { cla: 0x00, ins: 0xb2, p1: 1, p2: 4, le: 256 });
    expect(card.sent).toEqual(['00 B2 01 04 00', '00 C0 00 00 00', '00 C0 00 00 05']);
    expect(hex(r.data)).toBe('01 02 03 04 05');
  });

  it('keeps data the card sends along with 61xx', async () => {
    const card = scriptedCard(['AA BB 61 02', 'CC DD 90 00'], fromHex);
    const r = await transmitApdu(card.transmit, { cla: 0x00, ins: 0xb0, p1: 0, p2: 0, le: 256 });
    expect(hex(r.data)).toBe('AA BB CC DD');
  });

  it('reports the status of a failing GET RESPONSE with the data gathered so far', async () => {
    const card = scriptedCard(['AA 61 02', '6A 82'], fromHex);
    const r = await transmitApdu(card.transmit, { cla: 0x00, ins: 0xb0, p1: 0, p2: 0, le: 256 });
    expect(r.sw).toBe(0x6a82);
    expect(hex(r.data)).toBe('AA');
  });

  it('passes a final status through in one exchange', async () => {
    for (const answer of ['90 00', '6A 82', '63 C2', '01 02 62 82']) {
      const card = scriptedCard([answer], fromHex);
      const r = await transmitApdu(card.transmit, { cla: 0x00, ins: 0x20, p1: 0, p2: 1 });
      expect(card.sent).toHaveLength(1);
      expect(hex(r.data) + (r.data.length ? ' ' : '') + hex(Uint8Array.of(r.sw1, r.sw2))).toBe(answer);
    }
  });

  it(`gives up on a card that answers 61xx forever after ${DEFAULT_MAX_GET_RESPONSE} GET RESPONSEs`, async () => {
    const card = scriptedCard(['00 61 01'], fromHex);
    await expect(transmitApdu(card.transmit, { cla: 0x00, ins: 0xb0, p1: 0, p2: 0, le: 256 })).rejects.toBeInstanceOf(
      Iso7816ProtocolError,
    );
    expect(card.sent).toHaveLength(1 + DEFAULT_MAX_GET_RESPONSE);
  });

  it('gives up on a card that answers 6Cxx forever, with a custom bound', async () => {
    const card = scriptedCard(['6C 08'], fromHex);
    await expect(
      transmitApdu(card.transmit, { cla: 0x00, ins: 0xb0, p1: 0, p2: 0, le: 4 }, { maxGetResponse: 3 }),
    ).rejects.toThrow(/6Cxx after 3 follow-up/);
    expect(card.sent).toHaveLength(4);
  });

  it('with maxGetResponse 0, any 61xx is an error', async () => {
    const card = scriptedCard(['61 01'], fromHex);
    await expect(
      transmitApdu(card.transmit, { cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 1 }, { maxGetResponse: 0 }),
    ).rejects.toBeInstanceOf(Iso7816ProtocolError);
    expect(card.sent).toHaveLength(1);
  });

  it('rejects an answer without status word as a parse error', async () => {
    const card = scriptedCard(['90'], fromHex);
    await expect(transmitApdu(card.transmit, { cla: 0, ins: 0xb0, p1: 0, p2: 0 })).rejects.toBeInstanceOf(Iso7816ParseError);
  });

  it('lets transport errors through unchanged', async () => {
    const removed = new Error('card removed');
    await expect(transmitApdu(() => Promise.reject(removed), { cla: 0, ins: 0xb0, p1: 0, p2: 0 })).rejects.toBe(removed);
  });

  it('refuses an invalid bound and invalid commands before sending anything', async () => {
    const card = scriptedCard(['90 00'], fromHex);
    await expect(
      transmitApdu(card.transmit, { cla: 0, ins: 0xb0, p1: 0, p2: 0 }, { maxGetResponse: -1 }),
    ).rejects.toBeInstanceOf(RangeError);
    await expect(transmitApdu(card.transmit, { cla: 0x100, ins: 0xb0, p1: 0, p2: 0 })).rejects.toBeInstanceOf(RangeError);
    expect(card.sent).toHaveLength(0);
  });
});
