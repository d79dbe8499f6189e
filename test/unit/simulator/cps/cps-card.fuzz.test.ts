// quality.md: the virtual cards take ≥ 100k generated inputs without a crash or a hang. For the
// CPS3 and the CPS4: random byte strings, and well-formed APDUs aimed at the card's own
// instructions (after the PIN, so the key paths are reached too). Every answer is a response
// APDU with a status word, never a card fault (6F 00) and never an exception.
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeCommandApdu } from '../../../../src/iso7816/apdu.js';
import { fromHex, hex } from '../../../../src/iso7816/hex.js';
import { TestPki } from '../../../../src/pki/test-pki.js';
import { createPersonaCard } from '../../../../src/simulator/card-factory.js';
import type { VirtualCard } from '../../../../src/simulator/virtual-card.js';

const RUNS = 50_000;
let cps3: VirtualCard;
let cps4: VirtualCard;

beforeAll(async () => {
  const pki = await TestPki.open(mkdtempSync(join(tmpdir(), 'cb-cps-fuzz-')));
  cps3 = await createPersonaCard('cps:medecin', { pki });
  cps4 = await createPersonaCard('cps:medecin-cps4', { pki });
});

const seen = new Map<number, number>();

function check(card: VirtualCard, apdu: Uint8Array): void {
  let response: Uint8Array;
  try {
    response = card.transmit(apdu);
  } catch (error) {
    throw new Error(`transmit threw for ${hex(apdu)}: ${String(error)}`);
  }
  if (response.length < 2) throw new Error(`no status word for ${hex(apdu)}`);
  const sw = (response[response.length - 2]! << 8) | response[response.length - 1]!;
  if (sw === 0x6f00) throw new Error(`card fault 6F00 for ${hex(apdu)}`);
  seen.set(sw >> 8, (seen.get(sw >> 8) ?? 0) + 1);
}

/** Puts the card in a state where keys can be used, so generated APDUs reach the crypto paths. */
function unlock(card: VirtualCard): void {
  card.reset();
  if (card.family === 'CPS4') card.transmit(fromHex('01 A4 04 0C 08 80 25 00 00 01 FF 01 00'));
  const cla = card.family === 'CPS4' ? '01' : '00';
  card.transmit(fromHex(`${cla} 20 00 01 08 31 32 33 34 FF FF FF FF`));
}

const cpsInstructions = [0xa4, 0xb0, 0xc0, 0x20, 0x24, 0x2c, 0x22, 0x2a, 0x88, 0xcb, 0x84, 0x70];

const wellFormed = fc.record({
  cla: fc.constantFrom(0x00, 0x01, 0x10, 0x11, 0x80, 0x02),
  ins: fc.oneof(fc.constantFrom(...cpsInstructions), fc.integer({ min: 0, max: 255 })),
  p1: fc.oneof(fc.constantFrom(0x00, 0x01, 0x02, 0x04, 0x09, 0x41, 0x81, 0x90, 0x9e, 0x80, 0x3f, 0xf3, 0xff), fc.integer({ min: 0, max: 255 })),
  p2: fc.oneof(fc.constantFrom(0x00, 0x01, 0x02, 0x04, 0x0c, 0xa0, 0x9a, 0x86, 0xb6, 0xa4, 0xb8, 0xaa, 0xff), fc.integer({ min: 0, max: 255 })),
  data: fc.uint8Array({ maxLength: 300 }),
  le: fc.option(fc.integer({ min: 1, max: 256 }), { nil: undefined }),
});

describe.each([
  ['CPS3', () => cps3],
  ['CPS4', () => cps4],
])('virtual %s under generated APDUs', (_name, card) => {
  it(`answers ${RUNS} random byte strings with a status word`, () => {
    unlock(card());
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => check(card(), bytes)), { numRuns: RUNS });
  });

  it(`answers ${RUNS} well-formed APDUs (after the PIN) with a status word`, () => {
    unlock(card());
    seen.clear();
    let n = 0;
    fc.assert(
      fc.property(wellFormed, (a) => {
        // Re-unlock now and then: generated VERIFYs and resets would otherwise lock the paths.
        if (++n % 500 === 0) unlock(card());
        check(card(), encodeCommandApdu({ cla: a.cla, ins: a.ins, p1: a.p1, p2: a.p2, ...(a.data.length ? { data: a.data } : {}), ...(a.le ? { le: a.le } : {}) }));
      }),
      { numRuns: RUNS },
    );
    // The generators reached the working paths, not only the error answers.
    expect(seen.get(0x90) ?? 0).toBeGreaterThan(100);
  });
});
