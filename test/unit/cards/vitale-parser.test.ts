// Vitale 2 parsers: public tags only (a real card), the simulator's extra tags, lunar dates, and
// random bytes (CardError only).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CardError } from '../../../src/cards/errors.js';
import { isoDateOrNull, parsePan, parsePointers, parseVitaleDataFile } from '../../../src/cards/vitale-parser.js';
import { tlvsComplete } from '../../../src/cards/vitale-session.js';
import { computeInsC } from '../../../src/ins/ins-c.js';
import { fromHex } from '../../../src/iso7816/hex.js';
import { encodeTlv } from '../../../src/iso7816/tlv.js';
import { beneficiaryTemplate, pointersContent } from '../../../src/simulator/vitale/vitale-files.js';
import { VITALE_PERSONAS } from '../../../src/simulator/vitale/personas.js';

const latin1 = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));
const padded = (bytes: Uint8Array, size: number) => {
  const out = new Uint8Array(size);
  out.set(bytes);
  return out;
};

/** A beneficiary template with the public tags only, as a real card has them. */
const publicOnly = (surname: string, given: string, birth: string, nir: string) =>
  encodeTlv(0x65, [encodeTlv(0x80, latin1(surname)), encodeTlv(0x81, latin1(given)), encodeTlv(0x82, latin1(birth)), encodeTlv(0x90, latin1('FRA')), encodeTlv(0x93, latin1(nir))]);

describe('Vitale parsers', () => {
  it('EF POINTERS: applications (AID from byte 4) and files', () => {
    const p = parsePointers(padded(pointersContent(3), 256));
    expect(p.applications.map((a) => a.index)).toEqual([1, 2]);
    expect(Buffer.from(p.applications[1]!.aid).toString('latin1').slice(5)).toBe('VITALE');
    expect(p.files.map((f) => [f.name, f.applicationIndex, f.fid.toString(16)])).toEqual([
      ['CARTE', 2, '2002'],
      ['CERTIF', 2, '2003'],
      ['BENEF01', 2, '2004'],
      ['BENEF02', 2, '2005'],
      ['BENEF03', 2, '2006'],
    ]);
  });

  it('a real-card beneficiary (public tags only): no own NIR, no INS-C, optional fields absent', () => {
    const { beneficiaries } = parseVitaleDataFile(padded(publicOnly('MARTIN', 'ÉLODIE', '19900229', '290027511212373'), 384));
    expect(beneficiaries).toEqual([
      {
        nir: '290027511212373',
        nirKeyValid: false,
        ownNir: null,
        surname: 'MARTIN',
        givenName: 'ÉLODIE',
        birthDateRaw: '19900229',
        birthDate: null, // 1990 is not a leap year
        insC: null,
      },
    ]);
  });

  it('the simulator tags: own NIR, quality, birth rank, birth surname, AMO; INS-C from the own NIR', () => {
    const marie = VITALE_PERSONAS['vitale:famille'].beneficiaries[1]!;
    const [b] = parseVitaleDataFile(padded(beneficiaryTemplate(marie), 384)).beneficiaries;
    expect(b).toMatchObject({ ownNir: marie.ownNir, quality: 2, birthRank: 1, birthSurname: 'LEFEBVRE', amo: { regime: '01', caisse: '751', centre: '0101' } });
    expect(b!.insC).toBe(computeInsC('MARIE', '800922', marie.ownNir!.slice(0, 13)));
    expect(b!.insC).not.toBe(computeInsC('MARIE', '800922', marie.nir.slice(0, 13)));
  });

  it('several templates in one file, and the card template 66', () => {
    const file = padded(Uint8Array.from([...publicOnly('A', 'B', '20000101', '100017511212301'), ...publicOnly('C', 'D', '20000000', '100017511212301'), ...encodeTlv(0x66, [encodeTlv(0x80, latin1('20230115'))])]), 300);
    const data = parseVitaleDataFile(file);
    expect(data.beneficiaries.map((b) => b.birthDate)).toEqual(['2000-01-01', null]);
    expect(data.validFrom).toBe('2023-01-15');
  });

  it('lunar and malformed dates stay raw', () => {
    expect(isoDateOrNull('19620000')).toBeNull();
    expect(isoDateOrNull('19673205')).toBeNull();
    expect(isoDateOrNull('20000229')).toBe('2000-02-29');
    expect(isoDateOrNull('19000229')).toBeNull();
    expect(isoDateOrNull('2000012')).toBeNull();
    expect(isoDateOrNull('2000-1-1')).toBeNull();
  });

  it('EF PAN: the BCD card number without F filler', () => {
    expect(parsePan(padded(fromHex('5A 05 01 23 45 67 01'), 32))).toBe('0123456701');
    expect(parsePan(fromHex('5A 03 12 34 5F'))).toBe('12345');
    expect(parsePan(fromHex('5A 02 AB CD'))).toBeUndefined();
  });

  it('a beneficiary without NIR or a POINTERS file without E0 is a CARD_ERROR', () => {
    expect(() => parseVitaleDataFile(encodeTlv(0x65, [encodeTlv(0x80, latin1('X'))]))).toThrow(CardError);
    expect(() => parsePointers(fromHex('A0 00'))).toThrow(CardError);
  });

  it('tlvsComplete: complete once padding follows the last TLV', () => {
    expect(tlvsComplete(fromHex('65 02 80 00 00 00'))).toBe(true);
    expect(tlvsComplete(fromHex('65 02 80 00'))).toBe(false); // could be followed by another TLV
    expect(tlvsComplete(fromHex('65 05 80 00'))).toBe(false);
    expect(tlvsComplete(fromHex('65 81'))).toBe(false);
    expect(tlvsComplete(fromHex('7F 21 82 01 00 5F'))).toBe(false);
    expect(tlvsComplete(fromHex('00 00'))).toBe(false);
  });

  const seeds = [padded(pointersContent(2), 256), padded(beneficiaryTemplate(VITALE_PERSONAS['vitale:corse'].beneficiaries[1]!), 384), padded(publicOnly('A', 'B', '19620000', '162209935012338'), 200)];
  const inputs = fc.oneof(
    fc.uint8Array({ maxLength: 400 }),
    fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })).map(([seed, edits]) => {
      const out = Uint8Array.from(seed);
      for (const [at, value] of edits) out[at % out.length] = value;
      return out;
    }),
  );

  for (const [name, parse] of Object.entries({ parsePointers, parseVitaleDataFile, parsePan, tlvsComplete })) {
    it(`${name}: 30,000 random or mutated files give a result or a CardError, nothing else`, () => {
      fc.assert(
        fc.property(inputs, (bytes) => {
          try {
            parse(bytes);
          } catch (error) {
            if (!(error instanceof CardError) || error.code !== 'CARD_ERROR') throw error;
          }
        }),
        { numRuns: 30_000 },
      );
    });
  }
});
