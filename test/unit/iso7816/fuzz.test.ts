// Bad-input fuzzing (quality.md: >= 100k generated inputs per parser, no crash, no hang).
// Every parser gets random bytes and corrupted valid encodings; the only acceptable failure is
// an Iso7816ParseError whose offset lies inside the input, and every success must re-encode
// consistently (so a parser that "succeeds" on garbage by misreading it is caught too).

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { decodeCommandApdu, decodeResponseApdu, encodeCommandApdu, encodeResponseApdu } from '../../../src/iso7816/apdu.js';
import { Iso7816ParseError } from '../../../src/iso7816/errors.js';
import { fromHex, hex } from '../../../src/iso7816/hex.js';
import {
  encodeFeatureList,
  encodePinVerifyStructure,
  parseFeatureList,
  parseTlvProperties,
  parseVerifyPinDirect,
} from '../../../src/iso7816/part10.js';
import { encodeTlvNodes, parseTlv, type TlvNode } from '../../../src/iso7816/tlv.js';
import {
  commandArb,
  corpus,
  featureMapArb,
  hostileInput,
  pinVerifyStructureArb,
  sameBytes,
  tlvNodesArb,
} from './arbitraries.js';

const NUM_RUNS = 100_000;

/**
 * Runs `parse` on `input`; rethrows anything but an Iso7816ParseError with a sane offset, and
 * hands successful results to `check`, which throws when the result is inconsistent.
 */
function onlyParseErrors<T>(parse: (input: Uint8Array) => T, check: (input: Uint8Array, result: T) => void) {
  return (input: Uint8Array): void => {
    let result: T;
    try {
      result = parse(input);
    } catch (e) {
      if (!(e instanceof Iso7816ParseError)) throw e;
      const { offset } = e;
      if (offset !== undefined && !(Number.isInteger(offset) && offset >= 0 && offset <= input.length)) {
        throw new Error(`offset ${offset} outside an input of ${input.length} bytes: ${e.message}`, { cause: e });
      }
      return;
    }
    check(input, result);
  };
}

function fail(what: string, input: Uint8Array): never {
  throw new Error(`${what} for input ${hex(input)}`);
}

function sameTrees(a: readonly TlvNode[], b: readonly TlvNode[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => {
      const y = b[i];
      if (!y || x.tag !== y.tag || x.constructed !== y.constructed) return false;
      // A constructed node's raw value may hold a non-minimal length (BER allows `81 05`), which
      // re-encoding makes minimal: compare constructed nodes by their children only.
      if (x.children === undefined || y.children === undefined) return x.children === y.children && sameBytes(x.value, y.value);
      return sameTrees(x.children, y.children);
    })
  );
}

/** A successful TLV parse must be stable: re-encoding it (minimal lengths) parses to the same tree. */
function checkTlv(input: Uint8Array, nodes: TlvNode[]): void {
  for (const node of nodes) {
    if (node.constructed !== (node.children !== undefined)) fail('children present iff constructed', input);
  }
  if (!sameTrees(parseTlv(encodeTlvNodes(nodes)), nodes)) fail('re-encoded tree differs', input);
}

const tlvBytes = corpus(tlvNodesArb(40).map((nodes) => encodeTlvNodes(nodes)));
const paddedTlvBytes = fc
  .tuple(tlvBytes, fc.integer({ min: 0, max: 40 }), fc.constantFrom(0x00, 0xff))
  .map(([bytes, pad, fill]) => Uint8Array.from([...bytes, ...new Array<number>(pad).fill(fill)]));

describe(`fuzz: ${NUM_RUNS.toLocaleString('en')} hostile inputs per parser, only Iso7816ParseError`, () => {
  it('decodeCommandApdu', () => {
    const valid = corpus(fc.tuple(commandArb, fc.boolean()).map(([c, extended]) => encodeCommandApdu(c, { extended })));
    fc.assert(
      fc.property(
        hostileInput(valid),
        onlyParseErrors(decodeCommandApdu, (input, c) => {
          if (!sameBytes(encodeCommandApdu(c, { extended: c.extended }), input)) fail('re-encoding differs', input);
        }),
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('decodeResponseApdu', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        onlyParseErrors(decodeResponseApdu, (input, r) => {
          if (!sameBytes(encodeResponseApdu(r.data, r.sw), input)) fail('re-encoding differs', input);
          if (r.sw !== ((r.sw1 << 8) | r.sw2)) fail('sw inconsistent with sw1/sw2', input);
        }),
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('parseTlv', () => {
    fc.assert(fc.property(hostileInput(tlvBytes), onlyParseErrors((b) => parseTlv(b), checkTlv)), { numRuns: NUM_RUNS });
  });

  it('parseTlv with skipPadding', () => {
    fc.assert(
      fc.property(
        hostileInput(paddedTlvBytes),
        onlyParseErrors((b) => parseTlv(b, { skipPadding: true }), checkTlv),
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('parseFeatureList', () => {
    fc.assert(
      fc.property(
        hostileInput(featureMapArb.map(encodeFeatureList)),
        onlyParseErrors(parseFeatureList, (input, map) => {
          if (!sameBytes(encodeFeatureList(map), input)) fail('re-encoding differs', input);
        }),
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('parseVerifyPinDirect', () => {
    fc.assert(
      fc.property(
        hostileInput(corpus(pinVerifyStructureArb.map(encodePinVerifyStructure))),
        onlyParseErrors(parseVerifyPinDirect, (input, s) => {
          if (!sameBytes(encodePinVerifyStructure(s), input)) fail('re-encoding differs', input);
        }),
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('parseTlvProperties', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        onlyParseErrors(parseTlvProperties, (input, props) => {
          let total = 0;
          for (const value of props.values()) total += 2 + value.length;
          if (total !== input.length) fail('properties do not cover the input', input);
        }),
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('fromHex', () => {
    const hexish = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF :\t\nxg-'.split('')), maxLength: 60 });
    fc.assert(
      fc.property(fc.oneof(hexish, fc.string({ maxLength: 30 })), (text) => {
        try {
          const bytes = fromHex(text);
          if (!sameBytes(fromHex(hex(bytes)), bytes)) throw new Error(`unstable for ${JSON.stringify(text)}`);
        } catch (e) {
          if (!(e instanceof Iso7816ParseError)) throw e;
          if (e.offset === undefined || e.offset < 0 || e.offset >= text.length) throw new Error(`bad offset for ${JSON.stringify(text)}`);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
