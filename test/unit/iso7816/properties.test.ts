import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommandApdu, decodeResponseApdu, encodeCommandApdu, encodeResponseApdu } from '../../../src/iso7816/apdu.js';
import { fromHex, hex } from '../../../src/iso7816/hex.js';
import { encodeFeatureList, encodePinVerifyStructure, parseFeatureList, parseVerifyPinDirect } from '../../../src/iso7816/part10.js';
import { encodeTag, encodeTlvNodes, parseTlv } from '../../../src/iso7816/tlv.js';
import { commandArb, featureMapArb, pinVerifyStructureArb, tagArb, tlvNodesArb } from './arbitraries.js';

const RUNS = 2_000;

describe('round-trip properties', () => {
  it('decodeCommandApdu inverts encodeCommandApdu, with the right case and form', () => {
    fc.assert(
      fc.property(commandArb, fc.boolean(), (c, forceExtended) => {
        const bytes = encodeCommandApdu(c, { extended: forceExtended });
        const hasLengths = c.data !== undefined || c.le !== undefined;
        const extended =
          hasLengths && (forceExtended || (c.data?.length ?? 0) > 255 || (c.le ?? 0) > 256);
        const apduCase = c.data === undefined ? (c.le === undefined ? 1 : 2) : c.le === undefined ? 3 : 4;
        expect(decodeCommandApdu(bytes)).toEqual({ ...c, extended, case: apduCase });
        expect(encodeCommandApdu(decodeCommandApdu(bytes), { extended })).toEqual(bytes);
      }),
      { numRuns: RUNS },
    );
  });

  it('decodeResponseApdu inverts encodeResponseApdu', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0xffff }), (data, sw) => {
        const r = decodeResponseApdu(encodeResponseApdu(data, sw));
        expect(r).toEqual({ data, sw, sw1: sw >> 8, sw2: sw & 0xff });
      }),
      { numRuns: RUNS },
    );
  });

  it('parseTlv inverts encodeTlvNodes on arbitrary trees', () => {
    fc.assert(
      fc.property(tlvNodesArb(), (nodes) => {
        const bytes = encodeTlvNodes(nodes);
        expect(parseTlv(bytes)).toEqual(nodes);
        expect(encodeTlvNodes(parseTlv(bytes))).toEqual(bytes);
      }),
      { numRuns: RUNS },
    );
  });

  it('parseTlv with skipPadding ignores any 00/FF padding between and after top-level nodes', () => {
    const padding = fc.uint8Array({ maxLength: 5 }).map((b) => b.map((x) => (x & 1 ? 0xff : 0x00)));
    fc.assert(
      fc.property(tlvNodesArb(), fc.array(padding, { minLength: 5, maxLength: 5 }), (nodes, pads) => {
        const parts: number[] = [...(pads[0] ?? [])];
        nodes.forEach((node, i) => parts.push(...encodeTlvNodes([node]), ...(pads[(i + 1) % pads.length] ?? [])));
        expect(parseTlv(Uint8Array.from(parts), { skipPadding: true })).toEqual(nodes);
      }),
      { numRuns: RUNS },
    );
  });

  it('encodeTag writes the tag integer back as its bytes', () => {
    fc.assert(
      fc.property(tagArb, (tag) => {
        const bytes = encodeTag(tag);
        expect(bytes.reduce((acc, b) => acc * 256 + b, 0)).toBe(tag);
        expect(parseTlv(new Uint8Array([...bytes, 0x00]))[0]?.tag).toBe(tag);
      }),
      { numRuns: RUNS },
    );
  });

  it('parseFeatureList inverts encodeFeatureList', () => {
    fc.assert(
      fc.property(featureMapArb, (map) => {
        expect(parseFeatureList(encodeFeatureList(map))).toEqual(map);
      }),
      { numRuns: RUNS },
    );
  });

  it('parseVerifyPinDirect inverts encodePinVerifyStructure', () => {
    fc.assert(
      fc.property(pinVerifyStructureArb, (s) => {
        const bytes = encodePinVerifyStructure(s);
        expect(parseVerifyPinDirect(bytes)).toEqual(s);
      }),
      { numRuns: RUNS },
    );
  });

  it('fromHex inverts hex', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(fromHex(hex(bytes))).toEqual(bytes);
        expect(fromHex(hex(bytes).replaceAll(' ', ':').toLowerCase())).toEqual(bytes);
      }),
      { numRuns: RUNS },
    );
  });
});
