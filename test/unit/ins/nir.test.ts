import { describe, expect, it } from 'vitest';
import { compactNir, InsError, isValidNir, nirKey, parseNir, type InsErrorCode } from '../../../src/ins/index.js';

function codeOf(run: () => unknown): InsErrorCode | 'no error' {
  try {
    run();
    return 'no error';
  } catch (error) {
    expect(error).toBeInstanceOf(InsError);
    return (error as InsError).code;
  }
}

describe('nirKey', () => {
  it('is 97 − (NIR13 mod 97) on two digits', () => {
    // Rows of the ASIP sample and python-stdnum's documented example.
    expect(nirKey('1610275754289')).toBe('92');
    expect(nirKey('2790351215188')).toBe('90');
    expect(nirKey('2951099126111')).toBe('93');
    expect(nirKey('1231111062689')).toBe('33');
  });

  it('keeps the leading zero and gives 97 (never 00) when NIR13 is a multiple of 97', () => {
    expect(nirKey('2080941536017')).toBe('05'); // ASIP sample row ZULIRA
    const multiple = (97n * 12_345_678_901n).toString(); // 13 digits, mod 97 = 0
    expect(multiple).toHaveLength(13);
    expect(nirKey(multiple)).toBe('97');
  });

  it('counts 2A as 19 and 2B as 18 (Corsica), for the key only', () => {
    expect(nirKey('253072A073004')).toBe('43');
    expect(nirKey('253072A073004')).toBe(nirKey('2530719073004'));
    expect(nirKey('253072B073004')).toBe('70');
    expect(nirKey('253072B073004')).toBe(nirKey('2530718073004'));
    // Rows of the ASIP sample born in Corsica.
    expect(nirKey('265112A571315')).toBe('79');
    expect(nirKey('285072B502024')).toBe('65');
  });

  it('rejects what is not a 13-character NIR body', () => {
    expect(codeOf(() => nirKey('123456789012'))).toBe('NIR_LENGTH');
    expect(codeOf(() => nirKey('12345678901234'))).toBe('NIR_LENGTH');
    expect(codeOf(() => nirKey('253072C073004'))).toBe('NIR_FORMAT');
    expect(codeOf(() => nirKey('2530A2A073004'))).toBe('NIR_FORMAT');
    expect(codeOf(() => nirKey('253072a073004'))).toBe('NIR_FORMAT');
    expect(codeOf(() => nirKey('25307 2073004'))).toBe('NIR_FORMAT');
    expect(codeOf(() => nirKey('１２３４５６７８９０１２３'))).toBe('NIR_FORMAT'); // full-width digits
    expect(codeOf(() => nirKey(1610275754289 as unknown as string))).toBe('NOT_A_STRING');
  });
});

describe('parseNir', () => {
  it('splits a mainland NIR into its fields', () => {
    expect(parseNir('123111106268933')).toEqual({
      value: '123111106268933',
      body: '1231111062689',
      key: '33',
      sex: 'M',
      sexDigit: '1',
      provisional: false,
      birthYear: 23,
      birthMonth: 11,
      birthMonthKnown: true,
      department: '11',
      commune: '062',
      order: '689',
      bornAbroad: false,
    });
  });

  it('reads Corsican departments 2A and 2B as written', () => {
    const a = parseNir('285062A00407867');
    expect([a.sex, a.birthYear, a.birthMonth, a.department, a.commune, a.order]).toEqual(['F', 85, 6, '2A', '004', '078']);
    const b = parseNir('115092B03301106');
    expect([b.sex, b.department, b.commune]).toEqual(['M', '2B', '033']);
    // A 2A NIR whose key was computed without the substitution is refused.
    expect(codeOf(() => parseNir(`285062A004078${nirKey('2850620004078')}`))).toBe('NIR_KEY');
  });

  it('reads overseas departments on three digits and births abroad', () => {
    const overseas = parseNir('285059711234564');
    expect([overseas.department, overseas.commune, overseas.bornAbroad]).toEqual(['971', '12', false]);
    const abroad = parseNir('162209935012338');
    expect([abroad.department, abroad.commune, abroad.bornAbroad, abroad.birthMonth, abroad.birthMonthKnown]).toEqual([
      '99',
      '350',
      true,
      20,
      false,
    ]);
  });

  it('marks provisional numbers', () => {
    const body = '7850599350123';
    const nir = parseNir(body + nirKey(body));
    expect([nir.sex, nir.provisional]).toEqual(['M', true]);
  });

  it('rejects bad input with a stable code', () => {
    expect(codeOf(() => parseNir('1231111062689'))).toBe('NIR_LENGTH');
    expect(codeOf(() => parseNir(''))).toBe('NIR_LENGTH');
    expect(codeOf(() => parseNir('12311110626893X'))).toBe('NIR_FORMAT');
    expect(codeOf(() => parseNir('123111106268934'))).toBe('NIR_KEY');
    expect(codeOf(() => parseNir(`5231111062689${nirKey('5231111062689')}`))).toBe('NIR_SEX');
    expect(codeOf(() => parseNir(`1230011062689${nirKey('1230011062689')}`))).toBe('NIR_MONTH');
    expect(codeOf(() => parseNir(`1231311062689${nirKey('1231311062689')}`))).toBe('NIR_MONTH');
    expect(codeOf(() => parseNir(`1231100062689${nirKey('1231100062689')}`))).toBe('NIR_DEPARTMENT');
    expect(codeOf(() => parseNir(null as unknown as string))).toBe('NOT_A_STRING');
  });
});

describe('isValidNir / compactNir', () => {
  it('accepts valid NIRs and refuses the rest without throwing', () => {
    expect(isValidNir('123111106268933')).toBe(true);
    expect(isValidNir('253072A07300443')).toBe(true);
    expect(isValidNir('253072B07300470')).toBe(true);
    expect(isValidNir('253072B07300443')).toBe(false);
    expect(isValidNir('295109912611199')).toBe(false);
    expect(isValidNir('1231111062689')).toBe(false);
    expect(isValidNir(undefined as unknown as string)).toBe(false);
  });

  it('compacts a NIR typed with spaces and lower case', () => {
    expect(compactNir(' 2 53 07 2a 073 004 43 ')).toBe('253072A07300443');
    expect(isValidNir(compactNir('2 53 07 2a 073 004 43'))).toBe(true);
  });
});
