import { describe, expect, it } from 'vitest';
import { computeInsC, InsError, insCKey, isValidInsC, normalizeInsCFirstName } from '../../../src/ins/index.js';

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'no error';
  } catch (error) {
    expect(error).toBeInstanceOf(InsError);
    return (error as InsError).code;
  }
}

describe('INS-C first name', () => {
  it('removes accents, keeps A-Z only, upper-cases and pads or cuts to 10', () => {
    expect(normalizeInsCFirstName('Hélène')).toBe('HELENE    ');
    expect(normalizeInsCFirstName('Jean-Pierre')).toBe('JEANPIERRE');
    expect(normalizeInsCFirstName("Marie-Thérèse d'Ô")).toBe('MARIETHERE');
    expect(normalizeInsCFirstName('EVA')).toBe('EVA       ');
    expect(normalizeInsCFirstName('François  Xavier 2')).toBe('FRANCOISXA');
    expect(normalizeInsCFirstName('Ngọc Ánh')).toBe('NGOCANH   ');
  });

  it('gives 10 spaces for a first name without any letter A-Z (the ASIP sample has blank names)', () => {
    expect(normalizeInsCFirstName('')).toBe(' '.repeat(10));
    expect(normalizeInsCFirstName(' - 12 ')).toBe(' '.repeat(10));
    expect(normalizeInsCFirstName('李小龙')).toBe(' '.repeat(10));
    // ASIP row: " ;440227;1440211103873;65;07620205641013609113;45"
    expect(computeInsC('', '440227', '1440211103873')).toBe('0762020564101360911345');
    expect(computeInsC('-', '440227', '1440211103873')).toBe('0762020564101360911345');
  });
});

describe('computeInsC', () => {
  // Rows of the ASIP sample, here typed the way a user or another system might write the name.
  it('gives the ASIP result whatever the accents, case and separators of the first name', () => {
    expect(computeInsC('Jean-Pierre', '231119', '1231111062689')).toBe('0811308851593128988470');
    expect(computeInsC('jéan pierre', '231119', '1231111062689')).toBe('0811308851593128988470');
    expect(computeInsC('Séverine', '510300', '2510327034874')).toBe('0315464863567918710330');
  });

  it('keeps lunar dates and Corsican NIRs as written', () => {
    expect(computeInsC('FRANCK', '380300', '1380390104027')).toBe('1215965973479473546018');
    expect(computeInsC('MARIE ODILE', '651112', '265112A571315')).toBe('0941155967950413759315');
    // 2A must not be replaced by 19 in the seed.
    expect(computeInsC('MARIE ODILE', '651112', '2651119571315')).not.toBe('0941155967950413759315');
  });

  it('returns 22 digits whose key is that of the first 20', () => {
    const insc = computeInsC('EVA', '780800', '1780807858250');
    expect(insc).toBe('0574991909444312813202');
    expect(insCKey(insc.slice(0, 20))).toBe(insc.slice(20));
    expect(isValidInsC(insc)).toBe(true);
    expect(isValidInsC(`${insc.slice(0, 20)}03`)).toBe(false);
    expect(isValidInsC(insc.slice(0, 21))).toBe(false);
  });

  it('rejects bad input with a stable code', () => {
    expect(codeOf(() => computeInsC('EVA', '7808', '1780807858250'))).toBe('INSC_BIRTH_DATE');
    expect(codeOf(() => computeInsC('EVA', '19780800', '1780807858250'))).toBe('INSC_BIRTH_DATE');
    expect(codeOf(() => computeInsC('EVA', '78O800', '1780807858250'))).toBe('INSC_BIRTH_DATE');
    // The 15-character NIR (with key) is a classic mistake: refused, not silently cut.
    expect(codeOf(() => computeInsC('EVA', '780800', '178080785825050'))).toBe('NIR_LENGTH');
    expect(codeOf(() => computeInsC('EVA', '780800', '17808078582X0'))).toBe('NIR_FORMAT');
    expect(codeOf(() => computeInsC(undefined as unknown as string, '780800', '1780807858250'))).toBe('NOT_A_STRING');
    expect(codeOf(() => insCKey('123'))).toBe('INSC_FORMAT');
  });
});
