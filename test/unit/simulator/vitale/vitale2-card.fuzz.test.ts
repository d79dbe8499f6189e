// quality.md: the virtual cards take ≥ 100k generated inputs without a crash. 100,000 APDUs in
// all (random bytes, and well-formed APDUs with random header and data): every answer is a
// response APDU with a status word the card is meant to use, never a card fault (6F 00), and the
// card's content is the same afterwards.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommandApdu } from '../../../../src/iso7816/apdu.js';
import { fromHex, hex } from '../../../../src/iso7816/hex.js';
import { VITALE_PERSONAS } from '../../../../src/simulator/vitale/personas.js';
import { Vitale2Card } from '../../../../src/simulator/vitale/vitale2-card.js';

const RUNS_PER_PROPERTY = 50_000;

/** First status bytes this card answers: success, T=0 procedure, and the errors of cards.md. */
const EXPECTED_SW1 = new Set([0x90, 0x61, 0x6c, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6d, 0x6e]);

const cards = Object.values(VITALE_PERSONAS).map((p) => new Vitale2Card(p));

/** Everything public on a card, read with plain APDUs: to compare before and after the fuzzing. */
function snapshot(card: Vitale2Card): string {
  card.reset();
  const out: string[] = [];
  const send = (command: string): void => {
    out.push(hex(card.transmit(fromHex(command))));
  };
  send('00 A4 04 0C 0E D2 50 00 00 02 4D 46 5F 56 49 54 41 4C 45');
  send('00 B0 9E 00 80');
  send('00 B0 82 00 20');
  send('00 A4 04 0C 0B D2 50 00 00 02 56 49 54 41 4C 45');
  for (let sfi = 1; sfi <= 8; sfi++) send(`00 B0 ${(0x80 | sfi).toString(16)} 00 00`);
  card.reset();
  return out.join('\n');
}

/** How often each SW1 came back, to show the generators reach the card's working paths too. */
const seen = new Map<number, number>();

function check(card: Vitale2Card, apdu: Uint8Array): void {
  let response: Uint8Array;
  try {
    response = card.transmit(apdu);
  } catch (error) {
    throw new Error(`transmit threw for ${hex(apdu)}: ${String(error)}`);
  }
  expect(response.length, hex(apdu)).toBeGreaterThanOrEqual(2);
  expect(response.length, hex(apdu)).toBeLessThanOrEqual(258);
  const sw1 = response[response.length - 2] ?? 0;
  const sw2 = response[response.length - 1] ?? 0;
  if (!EXPECTED_SW1.has(sw1) || (sw1 === 0x6f && sw2 === 0x00)) {
    throw new Error(`unexpected SW ${hex(response.subarray(-2))} for ${hex(apdu)}`);
  }
  seen.set(sw1, (seen.get(sw1) ?? 0) + 1);
  // Data comes with 90 00, or with 61 xx when a GET RESPONSE leaves more to fetch.
  if (sw1 !== 0x90 && sw1 !== 0x61 && response.length !== 2) throw new Error(`data with SW ${hex(response.subarray(-2))} for ${hex(apdu)}`);
}

/** Which card gets the APDU (an index, so a counterexample stays readable). */
const cardIndex = fc.integer({ min: 0, max: cards.length - 1 });
const cardAt = (i: number): Vitale2Card => cards[i] as Vitale2Card;

/** Data that sometimes means something to the card: AIDs, file ids, paths, or random bytes. */
const data = fc.oneof(
  fc.constantFrom(
    fromHex('D2 50 00 00 02 56 49 54 41 4C 45'),
    fromHex('D2 50 00 00 02 4D 46 5F 56 49 54 41 4C 45'),
    fromHex('20 01'),
    fromHex('20 04'),
    fromHex('2F 00'),
    fromHex('3F 00'),
    fromHex('20 00 20 03'),
    fromHex('3F 00 20 00 20 05'),
  ),
  fc.uint8Array({ minLength: 0, maxLength: 24 }),
  fc.uint8Array({ minLength: 250, maxLength: 300 }),
);

/** Mostly the values this card acts on (so the working paths get fuzzed too), else anything. */
const biased = (usual: number[], max: number) =>
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...usual) }, { weight: 1, arbitrary: fc.integer({ min: 0, max }) });

const anyHeader = fc.record({
  cla: fc.oneof({ weight: 8, arbitrary: fc.constant(0x00) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  ins: biased([0xa4, 0xb0, 0xc0], 255),
  p1: biased([0x00, 0x01, 0x02, 0x04, 0x08, 0x09, 0x81, 0x82, 0x84, 0x9e], 255),
  p2: biased([0x00, 0x04, 0x0c, 0x10, 0x80], 255),
  data: fc.option(data, { nil: undefined }),
  le: fc.option(biased([1, 0x40, 0x80, 0x9f, 256], 65536).map((n) => Math.max(1, n)), { nil: undefined }),
});

const le = fc.option(biased([0x10, 0x40, 0x80, 256], 256).map((n) => Math.max(1, n)), { nil: undefined });

/** Commands a host really sends, with random offsets and lengths: selections, reads, GET RESPONSE. */
const plausible = fc.oneof(
  fc.record({ cla: fc.constant(0), ins: fc.constant(0xa4), p1: fc.constantFrom(0x00, 0x02, 0x04, 0x08), p2: fc.constantFrom(0x00, 0x04, 0x0c), data, le }),
  fc.record({ cla: fc.constant(0), ins: fc.constant(0xb0), p1: fc.constantFrom(0x00, 0x01, 0x81, 0x82, 0x83, 0x84, 0x86, 0x9e), p2: fc.integer({ min: 0, max: 255 }), le }),
  fc.record({ cla: fc.constant(0), ins: fc.constant(0xc0), p1: fc.constant(0), p2: fc.constant(0), le }),
);

const wellFormed = fc.oneof(anyHeader, plausible);

describe('Vitale2Card under random APDUs', () => {
  const before = cards.map(snapshot);

  it(`answers ${RUNS_PER_PROPERTY.toLocaleString('en')} random byte strings with a status word`, () => {
    fc.assert(
      fc.property(cardIndex, fc.uint8Array({ minLength: 0, maxLength: 300 }), (i, bytes) => check(cardAt(i), bytes)),
      { numRuns: RUNS_PER_PROPERTY },
    );
  });

  it(`answers ${RUNS_PER_PROPERTY.toLocaleString('en')} well-formed APDUs with random INS/P1/P2/data`, () => {
    fc.assert(
      fc.property(cardIndex, wellFormed, (i, command) => {
        // Data longer than 255 bytes or Le above 256 gives an extended APDU: also sent.
        check(cardAt(i), encodeCommandApdu(command));
      }),
      { numRuns: RUNS_PER_PROPERTY },
    );
    // Not only errors: selections, reads, T=0 procedure bytes and GET RESPONSE happened.
    console.info('SW1 counts:', Object.fromEntries([...seen].map(([k, v]) => [k.toString(16).toUpperCase(), v])));
    for (const sw1 of [0x90, 0x61, 0x6c, 0x6a, 0x6d]) expect(seen.get(sw1) ?? 0, sw1.toString(16)).toBeGreaterThan(100);
  });

  it('still holds and serves the same data afterwards', () => {
    expect(cards.map(snapshot)).toEqual(before);
    expect(before[0]).toContain('E0');
  });
});
