import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CommandApdu } from '../../../src/iso7816/apdu.js';
import { chainCommand, transmitChained } from '../../../src/iso7816/chaining.js';
import { concatBytes } from '../../../src/iso7816/bytes.js';
import { fromHex, hex } from '../../../src/iso7816/hex.js';
import { FakeT0Card } from './fake-t0-card.js';

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => i & 0xff);

describe('chainCommand', () => {
  it('returns a command that fits alone and unchanged', () => {
    const c: CommandApdu = { cla: 0x00, ins: 0x2a, p1: 0x9e, p2: 0x9a, data: bytes(255), le: 256 };
    const parts = chainCommand(c);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toBe(c);
    expect(chainCommand({ cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 10 })).toHaveLength(1);
  });

  it('splits a CPS3 PSO DECIPHER of 257 bytes into 255 + 2, chaining bit and Le where they belong', () => {
    const body = concatBytes([fromHex('81'), bytes(256)]);
    const parts = chainCommand({ cla: 0x00, ins: 0x2a, p1: 0x80, p2: 0x86, data: body, le: 256 });
    expect(parts.map((p) => [p.cla, p.data?.length, p.le])).toEqual([
      [0x10, 255, undefined],
      [0x00, 2, 256],
    ]);
    expect(parts[0]).not.toHaveProperty('le');
    expect(concatBytes(parts.map((p) => p.data ?? new Uint8Array(0)))).toEqual(body);
    expect(parts.every((p) => p.ins === 0x2a && p.p1 === 0x80 && p.p2 === 0x86)).toBe(true);
  });

  it('keeps the logical channel: CPS4 chains with CLA 11', () => {
    const parts = chainCommand({ cla: 0x01, ins: 0x2a, p1: 0x80, p2: 0x86, data: bytes(300) });
    expect(parts.map((p) => p.cla)).toEqual([0x11, 0x01]);
    expect(parts[1]).not.toHaveProperty('le');
  });

  it('honours a smaller chunk size', () => {
    const parts = chainCommand({ cla: 0x00, ins: 0xdb, p1: 0x3f, p2: 0xff, data: bytes(10) }, 4);
    expect(parts.map((p) => hex(p.data ?? new Uint8Array(0)))).toEqual(['00 01 02 03', '04 05 06 07', '08 09']);
  });

  it.each([[0], [65536], [1.5]])('refuses maxChunk %d', (n) => {
    expect(() => chainCommand({ cla: 0, ins: 0, p1: 0, p2: 0 }, n)).toThrow(RangeError);
  });

  it('property: parts reassemble the data; only the last lacks the chaining bit and keeps Le', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 1200 }),
        fc.integer({ min: 1, max: 300 }),
        fc.option(fc.integer({ min: 1, max: 65536 }), { nil: undefined }),
        fc.integer({ min: 0, max: 0x0f }),
        (data, maxChunk, le, cla) => {
          const c: CommandApdu = { cla, ins: 0x2a, p1: 0x80, p2: 0x86, data };
          if (le !== undefined) c.le = le;
          const parts = chainCommand(c, maxChunk);
          const last = parts[parts.length - 1];
          expect(last?.cla).toBe(cla);
          expect(last?.le).toBe(le);
          expect(concatBytes(parts.map((p) => p.data ?? new Uint8Array(0)))).toEqual(data);
          for (const p of parts.slice(0, -1)) {
            expect(p.cla).toBe(cla | 0x10);
            expect(p.le).toBeUndefined();
            expect(p.data?.length).toBe(maxChunk);
          }
          expect(parts.length).toBe(Math.max(1, Math.ceil(data.length / maxChunk)));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('transmitChained', () => {
  it('sends every part and returns the final response, through GET RESPONSE', async () => {
    const received: Uint8Array[] = [];
    const card = new FakeT0Card((c) => {
      received.push(c.data ?? new Uint8Array(0));
      if (c.cla & 0x10) return { sw: 0x9000 };
      return { data: fromHex('CA FE'), sw: 0x9000 };
    });
    const body = bytes(600);
    const r = await transmitChained(card.transmit, { cla: 0x00, ins: 0x2a, p1: 0x80, p2: 0x86, data: body, le: 256 });
    expect(card.sent.map((s) => s.slice(0, 14))).toEqual(['10 2A 80 86 FF', '10 2A 80 86 FF', '00 2A 80 86 5A', '00 C0 00 00 02']);
    expect(card.sent[2]?.endsWith(' 00')).toBe(true); // Le = 256 on the last part only
    expect(concatBytes(received)).toEqual(body);
    expect(r.sw).toBe(0x9000);
    expect(hex(r.data)).toBe('CA FE');
  });

  it('stops at the first intermediate part the card refuses', async () => {
    const card = new FakeT0Card(() => ({ sw: 0x6884 }));
    const r = await transmitChained(card.transmit, { cla: 0x00, ins: 0x2a, p1: 0x80, p2: 0x86, data: bytes(600) });
    expect(card.sent).toHaveLength(1);
    expect(r.sw).toBe(0x6884);
  });

  it('sends an unchained command as is', async () => {
    const card = new FakeT0Card(() => ({ sw: 0x9000 }));
    await transmitChained(card.transmit, { cla: 0x00, ins: 0x20, p1: 0x00, p2: 0x01, data: fromHex('31 32 33 34') });
    expect(card.sent).toEqual(['00 20 00 01 04 31 32 33 34']);
  });

  it('honours a custom chunk size', async () => {
    const card = new FakeT0Card(() => ({ sw: 0x9000 }));
    await transmitChained(card.transmit, { cla: 0x00, ins: 0xd6, p1: 0, p2: 0, data: bytes(5) }, 2);
    expect(card.sent).toEqual(['10 D6 00 00 02 00 01', '10 D6 00 00 02 02 03', '00 D6 00 00 01 04']);
  });
});
