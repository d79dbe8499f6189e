import { describe, expect, it } from 'vitest';
import {
  decodeCommandApdu,
  decodeResponseApdu,
  encodeCommandApdu,
  encodeResponseApdu,
  type CommandApdu,
} from '../../../src/iso7816/apdu.js';
import { Iso7816ParseError } from '../../../src/iso7816/errors.js';
import { fromHex, hex } from '../../../src/iso7816/hex.js';

const bytes = (n: number, fill = 0xab) => new Uint8Array(n).fill(fill);
const header = { cla: 0x00, ins: 0xb0, p1: 0x01, p2: 0x02 };

function parseErrorOf(fn: () => unknown): Iso7816ParseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof Iso7816ParseError) return e;
    throw e;
  }
  throw new Error('expected an Iso7816ParseError, nothing was thrown');
}

describe('encodeCommandApdu / decodeCommandApdu: the seven ISO cases', () => {
  const cases: { name: string; c: CommandApdu; opts?: { extended?: boolean }; wire: string; case: 1 | 2 | 3 | 4; extended: boolean }[] = [
    { name: '1', c: header, wire: '00 B0 01 02', case: 1, extended: false },
    { name: '2S', c: { ...header, le: 0x10 }, wire: '00 B0 01 02 10', case: 2, extended: false },
    { name: '2S Le=256', c: { ...header, le: 256 }, wire: '00 B0 01 02 00', case: 2, extended: false },
    { name: '3S', c: { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x0c, data: fromHex('E8 28 BD 08') }, wire: '00 A4 04 0C 04 E8 28 BD 08', case: 3, extended: false },
    { name: '4S', c: { cla: 0x00, ins: 0x88, p1: 0, p2: 0, data: fromHex('01 02'), le: 0x80 }, wire: '00 88 00 00 02 01 02 80', case: 4, extended: false },
    { name: '4S Le=256', c: { cla: 0x00, ins: 0x88, p1: 0, p2: 0, data: fromHex('01 02'), le: 256 }, wire: '00 88 00 00 02 01 02 00', case: 4, extended: false },
    { name: '2E', c: { ...header, le: 0x1234 }, wire: '00 B0 01 02 00 12 34', case: 2, extended: true },
    { name: '2E Le=65536', c: { ...header, le: 65536 }, wire: '00 B0 01 02 00 00 00', case: 2, extended: true },
    { name: '2E forced, Le=256', c: { ...header, le: 256 }, opts: { extended: true }, wire: '00 B0 01 02 00 01 00', case: 2, extended: true },
    { name: '3E forced', c: { ...header, data: fromHex('AA BB') }, opts: { extended: true }, wire: '00 B0 01 02 00 00 02 AA BB', case: 3, extended: true },
    { name: '4E forced', c: { ...header, data: fromHex('AA'), le: 2 }, opts: { extended: true }, wire: '00 B0 01 02 00 00 01 AA 00 02', case: 4, extended: true },
    { name: '4E Le=65536', c: { ...header, data: fromHex('AA'), le: 65536 }, wire: '00 B0 01 02 00 00 01 AA 00 00', case: 4, extended: true },
  ];

  it.each(cases)('case $name', ({ c, opts, wire, case: apduCase, extended }) => {
    const encoded = encodeCommandApdu(c, opts);
    expect(hex(encoded)).toBe(wire);
    expect(decodeCommandApdu(encoded)).toEqual({ ...c, case: apduCase, extended });
  });

  it('switches to extended form when data exceeds 255 bytes (3E, 4E)', () => {
    const data = bytes(256);
    const e3 = encodeCommandApdu({ ...header, data });
    expect(e3.length).toBe(7 + 256);
    expect(hex(e3.subarray(0, 7))).toBe('00 B0 01 02 00 01 00');
    expect(decodeCommandApdu(e3)).toEqual({ ...header, data, case: 3, extended: true });

    const e4 = encodeCommandApdu({ ...header, data, le: 256 });
    expect(e4.length).toBe(9 + 256);
    expect(hex(e4.subarray(-2))).toBe('01 00');
    expect(decodeCommandApdu(e4)).toEqual({ ...header, data, le: 256, case: 4, extended: true });
  });

  it('switches to extended form when Le exceeds 256', () => {
    expect(hex(encodeCommandApdu({ ...header, le: 257 }))).toBe('00 B0 01 02 00 01 01');
    const e4 = encodeCommandApdu({ ...header, data: bytes(3), le: 300 });
    expect(hex(e4)).toBe('00 B0 01 02 00 00 03 AB AB AB 01 2C');
  });

  it('keeps 255-byte data in the short form and encodes the maximum extended data', () => {
    expect(encodeCommandApdu({ ...header, data: bytes(255) })[4]).toBe(0xff);
    const max = encodeCommandApdu({ ...header, data: bytes(65535), le: 65536 });
    expect(max.length).toBe(4 + 3 + 65535 + 2);
    const back = decodeCommandApdu(max);
    expect(back.data?.length).toBe(65535);
    expect(back.le).toBe(65536);
  });

  it('treats empty data as no data (no Lc field)', () => {
    expect(hex(encodeCommandApdu({ ...header, data: new Uint8Array(0), le: 4 }))).toBe('00 B0 01 02 04');
  });

  it('returns copies, not views of the input', () => {
    const wire = fromHex('00 A4 04 0C 02 3F 00');
    const c = decodeCommandApdu(wire);
    wire[5] = 0x00;
    expect(c.data).toEqual(fromHex('3F 00'));
    expect(Object.getPrototypeOf(decodeCommandApdu(Buffer.from(wire)).data)).toBe(Uint8Array.prototype);
  });

  it.each([
    ['CLA', { ...header, cla: 256 }],
    ['INS', { ...header, ins: -1 }],
    ['P1', { ...header, p1: 1.5 }],
    ['P2', { ...header, p2: Number.NaN }],
    ['Le 0', { ...header, le: 0 }],
    ['Le 65537', { ...header, le: 65537 }],
    ['Le fraction', { ...header, le: 2.5 }],
    ['data > 65535', { ...header, data: bytes(65536) }],
  ])('refuses invalid caller input (%s) with RangeError', (_name, c) => {
    expect(() => encodeCommandApdu(c)).toThrow(RangeError);
  });

  it.each([
    ['empty', '', 0],
    ['3-byte header', '00 A4 04', 3],
    ['short Lc larger than data', '00 A4 04 0C 05 01 02', 4],
    ['short: 2 bytes after Le', '00 A4 04 0C 01 01 00 00', 7],
    ['extended marker alone', '00 B0 00 00 00 01', 5],
    ['extended Lc 0 with data', '00 B0 00 00 00 00 00 01', 5],
    ['extended Lc larger than data', '00 B0 00 00 00 00 05 01 02', 5],
    ['extended Le of one byte', '00 B0 00 00 00 00 01 AA 00', 8],
    ['extended: bytes after Le', '00 B0 00 00 00 00 01 AA 00 00 00', 10],
  ])('rejects malformed command (%s) with offset', (_name, wire, offset) => {
    const err = parseErrorOf(() => decodeCommandApdu(fromHex(wire)));
    expect(err.offset).toBe(offset);
  });
});

describe('response APDUs', () => {
  it('splits data and status word', () => {
    const r = decodeResponseApdu(fromHex('01 02 03 90 00'));
    expect(r).toEqual({ data: fromHex('01 02 03'), sw: 0x9000, sw1: 0x90, sw2: 0x00 });
    expect(decodeResponseApdu(fromHex('6A 82'))).toEqual({ data: new Uint8Array(0), sw: 0x6a82, sw1: 0x6a, sw2: 0x82 });
  });

  it('copies the data out of the input buffer', () => {
    const wire = fromHex('AA 90 00');
    const r = decodeResponseApdu(wire);
    wire[0] = 0;
    expect(r.data).toEqual(fromHex('AA'));
  });

  it.each([[''], ['90']])('rejects %j (no room for SW1 SW2)', (wire) => {
    expect(parseErrorOf(() => decodeResponseApdu(fromHex(wire))).offset).toBe(wire.length / 2);
  });

  it('encodes data || SW and round-trips', () => {
    const wire = encodeResponseApdu(fromHex('5A 0A'), 0x6282);
    expect(hex(wire)).toBe('5A 0A 62 82');
    const r = decodeResponseApdu(wire);
    expect(encodeResponseApdu(r.data, r.sw)).toEqual(wire);
  });

  it.each([[-1], [0x10000], [0.5]])('refuses SW %d with RangeError', (sw) => {
    expect(() => encodeResponseApdu(new Uint8Array(0), sw)).toThrow(RangeError);
  });

  it('refuses response data above 65536 bytes', () => {
    expect(() => encodeResponseApdu(bytes(65537), 0x9000)).toThrow(RangeError);
    expect(encodeResponseApdu(bytes(65536), 0x9000).length).toBe(65538);
  });
});
