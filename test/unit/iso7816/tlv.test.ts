import { describe, expect, it } from 'vitest';
import { Iso7816ParseError } from '../../../src/iso7816/errors.js';
import { fromHex, hex } from '../../../src/iso7816/hex.js';
import {
  MAX_TLV_DEPTH,
  encodeLength,
  encodeTag,
  encodeTlv,
  encodeTlvNodes,
  findAllTlv,
  findTlv,
  isConstructedTag,
  parseTlv,
} from '../../../src/iso7816/tlv.js';

function parseErrorOf(fn: () => unknown): Iso7816ParseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof Iso7816ParseError) return e;
    throw e;
  }
  throw new Error('expected an Iso7816ParseError, nothing was thrown');
}

describe('parseTlv', () => {
  it('reads a primitive node', () => {
    expect(parseTlv(fromHex('5A 02 80 25'))).toEqual([{ tag: 0x5a, constructed: false, value: fromHex('80 25') }]);
  });

  it('reads several top-level nodes, including empty values', () => {
    const nodes = parseTlv(fromHex('80 01 AA 81 00 82 02 BB CC'));
    expect(nodes.map((n) => [n.tag, hex(n.value)])).toEqual([
      [0x80, 'AA'],
      [0x81, ''],
      [0x82, 'BB CC'],
    ]);
  });

  it('reads multi-byte tags 5F20, 7F21, BF8101 and a 4-byte tag', () => {
    const nodes = parseTlv(fromHex('5F 20 01 41 7F 21 00 BF 81 01 00 5F 81 81 01 01 42'));
    expect(nodes.map((n) => [n.tag, n.constructed])).toEqual([
      [0x5f20, false],
      [0x7f21, true],
      [0xbf8101, true],
      [0x5f818101, false],
    ]);
    expect(nodes[3]?.value).toEqual(fromHex('42'));
  });

  it('accepts proprietary two-byte tags with a small number (DF01)', () => {
    expect(parseTlv(fromHex('DF 01 01 07'))[0]?.tag).toBe(0xdf01);
  });

  it.each([
    ['81', 0x80, 0x80],
    ['81', 0xff, 0xff],
    ['82', 0x100, 0x0100],
    ['82', 0xffff, 0xffff],
    ['83', 0x10000, 0x010000],
  ])('reads long-form length %s for %i bytes', (prefix, n) => {
    const value = new Uint8Array(n).fill(0x5a);
    const lengthBytes = encodeLength(n);
    expect(hex(lengthBytes.subarray(0, 1))).toBe(prefix);
    const nodes = parseTlv(new Uint8Array([0x04, ...lengthBytes, ...value]));
    expect(nodes).toHaveLength(1);
    expect(nodes[0]?.value.length).toBe(n);
  });

  it('accepts non-minimal long forms (BER), as some cards write them', () => {
    expect(parseTlv(fromHex('80 81 01 AA'))[0]?.value).toEqual(fromHex('AA'));
    expect(parseTlv(fromHex('80 84 00 00 00 01 AA'))[0]?.value).toEqual(fromHex('AA'));
  });

  it('parses constructed nodes recursively (Vitale-like beneficiary template)', () => {
    const good = encodeTlv(0x65, [
      encodeTlv(0x80, fromHex('44 55 50')),
      encodeTlv(0x81, fromHex('4A 45 41')),
      encodeTlv(0xa0, [encodeTlv(0x5f20, new Uint8Array(0))]),
    ]);
    const [root] = parseTlv(good);
    expect(root?.constructed).toBe(true);
    expect(root?.children?.map((n) => n.tag)).toEqual([0x80, 0x81, 0xa0]);
    expect(root?.children?.[2]?.children).toEqual([{ tag: 0x5f20, constructed: false, value: new Uint8Array(0) }]);
    expect(root?.value).toEqual(good.subarray(2));
  });

  it('gives constructed nodes an empty children list when empty, primitive nodes none', () => {
    const [a, b] = parseTlv(fromHex('A1 00 81 00'));
    expect(a?.children).toEqual([]);
    expect(b).not.toHaveProperty('children');
  });

  it('copies values out of the input', () => {
    const bytes = fromHex('80 01 AA');
    const [node] = parseTlv(bytes);
    bytes[2] = 0;
    expect(node?.value).toEqual(fromHex('AA'));
  });

  it('returns [] for empty input', () => {
    expect(parseTlv(new Uint8Array(0))).toEqual([]);
  });

  describe('skipPadding', () => {
    const file = fromHex('00 E0 03 80 01 01 00 00 FF 81 01 02 00 00 00 FF FF');

    it('skips 00 / FF between and after top-level TLVs', () => {
      const nodes = parseTlv(file, { skipPadding: true });
      expect(nodes.map((n) => n.tag)).toEqual([0xe0, 0x81]);
      expect(nodes[0]?.children?.[0]?.value).toEqual(fromHex('01'));
    });

    it('without it, padding is an error', () => {
      expect(parseErrorOf(() => parseTlv(file)).offset).toBe(0);
      expect(parseErrorOf(() => parseTlv(fromHex('80 01 01 00 00'))).offset).toBe(3);
    });

    it('does not skip padding inside a constructed value', () => {
      expect(parseErrorOf(() => parseTlv(fromHex('E0 04 80 01 01 00'), { skipPadding: true })).offset).toBe(5);
    });

    it('returns [] for an all-padding file', () => {
      expect(parseTlv(new Uint8Array(256), { skipPadding: true })).toEqual([]);
    });
  });

  describe('malformed input: Iso7816ParseError with the offset of the faulty field', () => {
    it.each([
      ['truncated tag', '80 01 01 5F', 3],
      ['truncated 3-byte tag', 'BF 81', 0],
      ['tag longer than 4 bytes', '5F 81 81 81 01 00', 0],
      ['second tag byte 80', '5F 80 01 00', 1],
      ['tag byte 00', '00 00', 0],
      ['tag byte FF', 'FF 01 00', 0],
      ['missing length', '80', 1],
      ['missing length after a multi-byte tag', '7F 21', 2],
      ['indefinite length', '30 80 01 01 00 00', 1],
      ['over-long length field (85)', '80 85 00 00 00 00 01 AA', 1],
      ['length field FF', '80 FF', 1],
      ['truncated long length (82 with one byte)', '80 82 01', 1],
      ['truncated value', '80 03 01 02', 1],
      ['truncated value after a valid node', '80 00 81 82 01 00 AA', 3],
      ['huge length', '80 84 FF FF FF FF 00', 1],
      ['trailing garbage', '80 01 AA 01', 4],
      ['child overruns its parent', 'A0 03 80 05 01 02 03', 3],
      ['a child missing its length inside a constructed value', 'E0 04 80 01 01 01', 6],
      ['tag byte 00 inside a constructed value', 'E0 04 80 01 01 00', 5],
      ['constructed child whose own content does not parse', '65 05 A0 03 5F 20 01', 6],
    ])('%s', (_name, input, offset) => {
      const err = parseErrorOf(() => parseTlv(fromHex(input)));
      expect(err.offset).toBe(offset);
      expect(err.code).toBe('ISO7816_PARSE');
    });

    it(`limits nesting to ${MAX_TLV_DEPTH} levels instead of overflowing the stack`, () => {
      let nested = encodeTlv(0x80, new Uint8Array(0));
      for (let level = 1; level < MAX_TLV_DEPTH; level++) nested = encodeTlv(0xa0, [nested]);
      expect(() => parseTlv(nested)).not.toThrow();
      const tooDeep = encodeTlv(0xa0, [nested]);
      expect(parseErrorOf(() => parseTlv(tooDeep)).message).toMatch(/nested deeper/);

      // 100,000 levels of "A0 <len>" would blow the stack without the limit.
      const hostile = new Uint8Array(200_000);
      for (let i = 0; i < hostile.length; i += 2) {
        hostile[i] = 0x20;
        hostile[i + 1] = 0x7f;
      }
      expect(parseErrorOf(() => parseTlv(hostile))).toBeInstanceOf(Iso7816ParseError);
    });
  });
});

describe('encoders', () => {
  it.each([
    [0x80, '80'],
    [0x5f20, '5F 20'],
    [0x7f21, '7F 21'],
    [0xbf8101, 'BF 81 01'],
    [0x5f818101, '5F 81 81 01'],
    [0xdf01, 'DF 01'],
  ])('encodeTag(%i)', (tag, expected) => {
    expect(hex(encodeTag(tag))).toBe(expected);
  });

  it.each([
    ['0', 0],
    ['a lone multi-byte marker 5F', 0x5f],
    ['a complete tag followed by a byte (80 01)', 0x8001],
    ['a multi-byte tag missing its last byte (BF 81)', 0xbf81],
    ['FF as first byte', 0xff01],
    ['5F 80', 0x5f8001],
    ['non-integer', 1.5],
    ['negative', -1],
  ])('encodeTag refuses %s with RangeError', (_name, tag) => {
    expect(() => encodeTag(tag)).toThrow(RangeError);
  });

  it.each([
    [0, '00'],
    [0x7f, '7F'],
    [0x80, '81 80'],
    [0xff, '81 FF'],
    [0x100, '82 01 00'],
    [0xffff, '82 FF FF'],
    [0x10000, '83 01 00 00'],
    [0xffffff, '83 FF FF FF'],
    [0x1000000, '84 01 00 00 00'],
    [0xffffffff, '84 FF FF FF FF'],
  ])('encodeLength(%i) is minimal', (n, expected) => {
    expect(hex(encodeLength(n))).toBe(expected);
  });

  it.each([[-1], [0x100000000], [2.5]])('encodeLength refuses %d', (n) => {
    expect(() => encodeLength(n)).toThrow(RangeError);
  });

  it('encodeTlv concatenates children given as an array', () => {
    const fcp = encodeTlv(0x62, [encodeTlv(0x80, fromHex('00 40')), encodeTlv(0x83, fromHex('2F 00'))]);
    expect(hex(fcp)).toBe('62 08 80 02 00 40 83 02 2F 00');
    expect(hex(encodeTlv(0x30, []))).toBe('30 00');
  });

  it('encodeTlvNodes re-encodes from children, so tree edits show', () => {
    const nodes = parseTlv(fromHex('E0 06 80 01 01 81 01 02 90 81 01 AA'));
    expect(hex(encodeTlvNodes(nodes))).toBe('E0 06 80 01 01 81 01 02 90 01 AA');
    nodes[0]?.children?.pop();
    expect(hex(encodeTlvNodes(nodes))).toBe('E0 03 80 01 01 90 01 AA');
  });

  it('isConstructedTag looks at b6 of the first byte', () => {
    expect(isConstructedTag(0x62)).toBe(true);
    expect(isConstructedTag(0x7f21)).toBe(true);
    expect(isConstructedTag(0xbf8101)).toBe(true);
    expect(isConstructedTag(0x5f20)).toBe(false);
    expect(isConstructedTag(0x9f7f)).toBe(false);
  });
});

describe('findTlv / findAllTlv', () => {
  // Shape of the Vitale EF 2001 pointers: E0 { A0 { 82 ... } 80 ... 80 ... }.
  const nodes = parseTlv(
    encodeTlv(0xe0, [
      encodeTlv(0xa0, [encodeTlv(0x82, fromHex('01 D2 50')), encodeTlv(0x82, fromHex('02 D2 51'))]),
      encodeTlv(0x80, fromHex('41')),
      encodeTlv(0x80, fromHex('42')),
    ]),
  );

  it('follows a path of tags', () => {
    expect(findTlv(nodes, 0xe0, 0xa0, 0x82)?.value).toEqual(fromHex('01 D2 50'));
    expect(findTlv(nodes, 0xe0, 0x80)?.value).toEqual(fromHex('41'));
    expect(findTlv(nodes, 0xe0)?.tag).toBe(0xe0);
  });

  it('returns undefined for a missing step, a path through a primitive, or an empty path', () => {
    expect(findTlv(nodes, 0xe0, 0xa1)).toBeUndefined();
    expect(findTlv(nodes, 0xa0)).toBeUndefined();
    expect(findTlv(nodes, 0xe0, 0x80, 0x01)).toBeUndefined();
    expect(findTlv(nodes)).toBeUndefined();
  });

  it('findAllTlv returns every match at one level only', () => {
    const e0 = findTlv(nodes, 0xe0)?.children ?? [];
    expect(findAllTlv(e0, 0x80).map((n) => hex(n.value))).toEqual(['41', '42']);
    expect(findAllTlv(nodes, 0x82)).toEqual([]);
    expect(findAllTlv(findTlv(nodes, 0xe0, 0xa0)?.children ?? [], 0x82)).toHaveLength(2);
  });
});
