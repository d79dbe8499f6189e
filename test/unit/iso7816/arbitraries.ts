// fast-check generators shared by the property and fuzz tests: valid values of each format,
// and corruptions of valid encodings (random bytes alone rarely get past the first length field).

import fc from 'fast-check';
import type { CommandApdu } from '../../../src/iso7816/apdu.js';
import type { PinVerifyStructure } from '../../../src/iso7816/pin-verify-structure.js';
import { encodeTlvNodes, type TlvNode } from '../../../src/iso7816/tlv.js';

const byte = fc.integer({ min: 0, max: 255 });

export const commandArb: fc.Arbitrary<CommandApdu> = fc
  .record({
    cla: byte,
    ins: byte,
    p1: byte,
    p2: byte,
    data: fc.option(fc.uint8Array({ minLength: 1, maxLength: 300 }), { nil: undefined, freq: 3 }),
    le: fc.option(fc.oneof(fc.integer({ min: 1, max: 256 }), fc.integer({ min: 1, max: 65536 }), fc.constantFrom(256, 65536)), {
      nil: undefined,
      freq: 3,
    }),
  })
  .map(({ data, le, ...header }) => {
    const c: CommandApdu = { ...header };
    if (data !== undefined) c.data = data;
    if (le !== undefined) c.le = le;
    return c;
  });

const ALL_BYTES = Array.from({ length: 256 }, (_, b) => b);
/** Valid one-byte tags: not 00 / FF (padding) and not announcing more bytes (b5-b1 = 11111). */
const SINGLE_BYTE_TAGS = ALL_BYTES.filter((b) => (b & 0x1f) !== 0x1f && b !== 0x00 && b !== 0xff);
/** First bytes of multi-byte tags, minus FF, which is invalid. */
const MULTI_BYTE_FIRST = ALL_BYTES.filter((b) => (b & 0x1f) === 0x1f && b !== 0xff);

/** The bytes of a valid tag of 1 to 4 bytes, as an integer, constructed or not as asked. */
function tagWith(constructed: boolean | undefined): fc.Arbitrary<number> {
  const keep = (b: number) => constructed === undefined || ((b & 0x20) !== 0) === constructed;
  return fc.oneof(
    fc.constantFrom(...SINGLE_BYTE_TAGS.filter(keep)),
    fc
      .tuple(
        fc.constantFrom(...MULTI_BYTE_FIRST.filter(keep)),
        // Continuation bytes have b8 set; 80 is left out (invalid as the first of them).
        fc.array(fc.integer({ min: 0x81, max: 0xff }), { maxLength: 2 }),
        fc.integer({ min: 0x00, max: 0x7f }),
      )
      .map(([first, middle, last]) => [first, ...middle, last].reduce((acc, b) => acc * 256 + b, 0)),
  );
}

export const tagArb: fc.Arbitrary<number> = tagWith(undefined);
const primitiveTag = tagWith(false);
const constructedTag = tagWith(true);

/**
 * Trees of valid nodes, each carrying the value its encoding will have (what parseTlv returns).
 * `maxValueLength` bounds primitive values: long enough for 81/82 length forms in round trips,
 * short in the fuzzer, where generation time would dominate.
 */
export function tlvNodesArb(maxValueLength = 300): fc.Arbitrary<TlvNode[]> {
  return fc.letrec<{ node: TlvNode; nodes: TlvNode[] }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc
        .record({ tag: primitiveTag, value: fc.uint8Array({ maxLength: maxValueLength }) })
        .map(({ tag, value }) => ({ tag, constructed: false, value })),
      fc.record({ tag: constructedTag, children: tie('nodes') }).map(({ tag, children }) => ({
        tag,
        constructed: true,
        value: encodeTlvNodes(children),
        children,
      })),
    ),
    nodes: fc.array(tie('node'), { maxLength: 4, depthIdentifier: 'tlv' }),
  })).nodes;
}

export const pinVerifyStructureArb: fc.Arbitrary<PinVerifyStructure> = fc.record({
  bTimerOut: byte,
  bTimerOut2: byte,
  bmFormatString: byte,
  bmPINBlockString: byte,
  bmPINLengthFormat: byte,
  wPINMaxExtraDigit: fc.integer({ min: 0, max: 0xffff }),
  bEntryValidationCondition: byte,
  bNumberMessage: byte,
  wLangId: fc.integer({ min: 0, max: 0xffff }),
  bMsgIndex: byte,
  bTeoPrologue: fc.uint8Array({ minLength: 3, maxLength: 3 }),
  abData: fc.uint8Array({ maxLength: 60 }),
});

export const featureMapArb: fc.Arbitrary<Map<number, number>> = fc
  .uniqueArray(fc.tuple(byte, fc.integer({ min: 0, max: 0xffffffff })), { selector: ([tag]) => tag, maxLength: 20 })
  .map((entries) => new Map(entries));

type Mutation = { kind: 'set'; at: number; value: number } | { kind: 'cut'; at: number } | { kind: 'insert'; at: number; value: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: byte }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: byte }),
);

function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = Array.from(bytes);
  for (const m of mutations) {
    const at = m.at % (out.length + 1);
    if (m.kind === 'set' && out.length > 0) out[at % out.length] = m.value;
    else if (m.kind === 'cut') out = out.slice(0, at);
    else if (m.kind === 'insert') out.splice(at, 0, m.value);
  }
  return Uint8Array.from(out);
}

/**
 * A fixed pool of valid encodings (fixed seed, so a failure replays). Mutating a pool is how
 * coverage-guided fuzzers work, and it keeps 100k runs cheap when generating a valid value
 * (a TLV tree) costs more than parsing it.
 */
export function corpus(valid: fc.Arbitrary<Uint8Array>, size = 3000): fc.Arbitrary<Uint8Array> {
  return fc.constantFrom(...fc.sample(valid, { numRuns: size, seed: 7816 }));
}

/** Valid encodings with 0 to 3 byte-level corruptions. */
export function corrupted(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, fc.array(mutationArb, { maxLength: 3 })).map(([bytes, mutations]) => mutate(bytes, mutations));
}

/** Half plain random bytes, half corrupted valid encodings. */
export function hostileInput(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(fc.uint8Array({ maxLength: 300 }), corrupted(valid));
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
