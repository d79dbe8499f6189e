// The Vitale personas are test data other suites rely on: they must be internally consistent
// (valid NIR keys, NIR fields matching the birth date) and cover what simulator.md promises.
import { describe, expect, it } from 'vitest';
import { computeInsC, isValidNir, parseNir } from '../../../../src/ins/index.js';
import { VITALE_PERSONAS } from '../../../../src/simulator/vitale/personas.js';

const personas = Object.values(VITALE_PERSONAS);
const everyBeneficiary = personas.flatMap((p) => p.beneficiaries.map((b) => ({ persona: p, b })));

const isLunar = (raw: string): boolean => {
  const month = Number(raw.slice(4, 6));
  return raw.slice(6) === '00' || month === 0 || month > 12;
};

describe('Vitale personas', () => {
  it('are the four of simulator.md, keyed by their own id', () => {
    expect(Object.keys(VITALE_PERSONAS).sort()).toEqual(['vitale:ayant-droit', 'vitale:corse', 'vitale:famille', 'vitale:lunaire']);
    for (const [id, p] of Object.entries(VITALE_PERSONAS)) expect(p.id).toBe(id);
    expect(new Set(personas.map((p) => p.cardSerial)).size).toBe(personas.length);
  });

  it('carry valid NIRs: one insured NIR per card, own NIRs consistent with sex and birth date', () => {
    for (const { persona, b } of everyBeneficiary) {
      const where = `${persona.id} ${b.givenName}`;
      expect(isValidNir(b.nir), where).toBe(true);
      expect(b.nir, where).toBe(persona.beneficiaries[0]?.nir);
      if (b.quality === 0) expect(b.ownNir, where).toBe(b.nir);
      if (b.ownNir === null) continue;
      const own = parseNir(b.ownNir);
      expect(own.birthYear, where).toBe(Number(b.birthDateRaw.slice(2, 4)));
      if (own.birthMonthKnown) expect(own.birthMonth, where).toBe(Number(b.birthDateRaw.slice(4, 6)));
      else expect(isLunar(b.birthDateRaw), where).toBe(true);
    }
  });

  it('store plain upper-case card text and well-formed codes', () => {
    for (const { persona, b } of everyBeneficiary) {
      const where = `${persona.id} ${b.givenName}`;
      for (const name of [b.surname, b.givenName, b.birthSurname ?? 'X', b.medecinTraitant?.name ?? 'X']) expect(name, where).toMatch(/^[A-Z][A-Z '-]*$/);
      expect(b.birthDateRaw, where).toMatch(/^[0-9]{8}$/);
      expect(b.nationality, where).toMatch(/^[A-Z]{3}$/);
      expect(b.birthRank, where).toBeGreaterThanOrEqual(1);
      expect([b.amo.regime, b.amo.caisse, b.amo.centre, b.amo.start, b.amo.end].join('|'), where).toMatch(/^\d{2}\|\d{3}\|\d{4}\|\d{8}\|\d{8}$/);
      if (b.medecinTraitant) expect(b.medecinTraitant.rpps, where).toMatch(/^99\d{9}$/);
    }
    for (const p of personas) {
      expect(p.cardSerial).toMatch(/^\d{10}$/);
      expect(p.validityStart).toMatch(/^\d{8}$/);
    }
  });

  it('vitale:famille holds an insured adult, a spouse and a child, each with their own NIR', () => {
    const bs = VITALE_PERSONAS['vitale:famille'].beneficiaries;
    expect(bs.map((b) => b.quality)).toEqual([0, 2, 6]);
    expect(bs.map((b) => b.ownNir)).toEqual(['178047511212393', '280096912304532', '112033306321008']);
    expect(new Set(bs.map((b) => b.nir))).toEqual(new Set(['178047511212393']));
  });

  it('vitale:corse holds a beneficiary born in Corse-du-Sud (2A) and one in Haute-Corse (2B)', () => {
    const bs = VITALE_PERSONAS['vitale:corse'].beneficiaries;
    expect(bs[0]?.ownNir).toBe('285062A00407867');
    expect(parseNir(bs[0]?.ownNir ?? '').department).toBe('2A');
    expect(parseNir(bs[1]?.ownNir ?? '').department).toBe('2B');
  });

  it('vitale:lunaire holds lunar birth dates (00 day and month; month above 12)', () => {
    const raws = VITALE_PERSONAS['vitale:lunaire'].beneficiaries.map((b) => b.birthDateRaw);
    expect(raws).toEqual(['19620000', '19673205']);
    expect(raws.every(isLunar)).toBe(true);
  });

  it('vitale:ayant-droit holds a child without own NIR', () => {
    const bs = VITALE_PERSONAS['vitale:ayant-droit'].beneficiaries;
    expect(bs).toHaveLength(1);
    expect(bs[0]?.quality).toBe(6);
    expect(bs[0]?.ownNir).toBeNull();
  });

  it('give an INS-C for every beneficiary with an own NIR', () => {
    const withOwn = everyBeneficiary.filter(({ b }) => b.ownNir !== null);
    expect(withOwn).toHaveLength(everyBeneficiary.length - 1);
    for (const { b } of withOwn) expect(computeInsC(b.givenName, b.birthDateRaw.slice(2), (b.ownNir ?? '').slice(0, 13))).toMatch(/^\d{22}$/);
  });
});
