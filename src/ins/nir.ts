// The NIR (numéro d'inscription au répertoire, "numéro de sécurité sociale"): 13 characters
// (sex, birth year, birth month, birthplace: department + commune or country, order number) and a
// 2-digit key = 97 − (NIR13 mod 97). Corsican departments are written 2A / 2B; for the key only
// they count as 19 / 18. Error messages never repeat the number: it is personal data.
import { InsError, requireString } from './ins-error.js';

/** 13 characters: digits, with 2A or 2B allowed as the department (positions 6-7). */
const NIR13_SHAPE = /^[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{6}$/;

export interface Nir {
  /** The 15 characters (13 + key). */
  readonly value: string;
  /** The first 13 characters. */
  readonly body: string;
  readonly key: string;
  readonly sex: 'M' | 'F';
  /** 1/2 for a permanent registration; 3/4 and 7/8 mark provisional or temporary numbers. */
  readonly sexDigit: string;
  readonly provisional: boolean;
  /** Last two digits of the birth year (the century is not in the NIR). */
  readonly birthYear: number;
  /** The month field as written: 01-12, or a conventional value (20-42, 50-99) when unknown. */
  readonly birthMonth: number;
  readonly birthMonthKnown: boolean;
  /** `01`..`95`, `2A`, `2B`, 3 digits overseas (`971`..`989`), or `99` for births abroad. */
  readonly department: string;
  /** INSEE commune code within the department (3 digits, 2 overseas), or the country code abroad. */
  readonly commune: string;
  readonly order: string;
  readonly bornAbroad: boolean;
}

/** Removes spaces and dots and upper-cases, so `2 85 06 2a 004 078 …` can be checked. */
export function compactNir(input: string): string {
  return requireString(input, 'NIR').replace(/[\s.]/g, '').toUpperCase();
}

function checkBody(nir13: string): void {
  if (nir13.length !== 13) throw new InsError('NIR_LENGTH', `a NIR without its key has 13 characters, got ${nir13.length}`);
  if (!NIR13_SHAPE.test(nir13)) {
    throw new InsError('NIR_FORMAT', 'a NIR has digits only, except 2A or 2B as the department (characters 6-7)');
  }
}

/** The 2-digit key of a 13-character NIR (2A -> 19, 2B -> 18 for the computation). */
export function nirKey(nir13: string): string {
  checkBody(requireString(nir13, 'NIR'));
  const department = nir13.slice(5, 7);
  const numeric = department === '2A' ? `${nir13.slice(0, 5)}19${nir13.slice(7)}` : department === '2B' ? `${nir13.slice(0, 5)}18${nir13.slice(7)}` : nir13;
  // 13 digits stay below 2^53: plain numbers are exact here.
  const key = 97 - (Number(numeric) % 97);
  return key.toString().padStart(2, '0');
}

/** Checks a 15-character NIR (format, fields, key) and splits it into its fields. */
export function parseNir(nir15: string): Nir {
  const value = requireString(nir15, 'NIR');
  if (value.length !== 15) throw new InsError('NIR_LENGTH', `a NIR has 15 characters (13 + key), got ${value.length}`);
  const body = value.slice(0, 13);
  const key = value.slice(13);
  checkBody(body);
  if (!/^[0-9]{2}$/.test(key)) throw new InsError('NIR_FORMAT', 'the NIR key is two digits');

  const sexDigit = body.slice(0, 1);
  if (!['1', '2', '3', '4', '7', '8'].includes(sexDigit)) {
    throw new InsError('NIR_SEX', 'the first NIR digit must be 1, 2, 3, 4, 7 or 8');
  }
  const birthMonth = Number(body.slice(3, 5));
  const birthMonthKnown = birthMonth >= 1 && birthMonth <= 12;
  if (!birthMonthKnown && !(birthMonth >= 20 && birthMonth <= 42) && !(birthMonth >= 50 && birthMonth <= 99)) {
    throw new InsError('NIR_MONTH', 'the NIR birth month must be 01-12, or 20-42 / 50-99 when unknown');
  }

  const place = body.slice(5, 7);
  if (place === '00') throw new InsError('NIR_DEPARTMENT', 'the NIR department cannot be 00');
  const overseas = place === '97' || place === '98';
  const department = overseas ? body.slice(5, 8) : place;
  const commune = overseas ? body.slice(8, 10) : body.slice(7, 10);

  if (nirKey(body) !== key) throw new InsError('NIR_KEY', 'the NIR key does not match its 13 characters');

  return {
    value,
    body,
    key,
    sex: Number(sexDigit) % 2 === 1 ? 'M' : 'F',
    sexDigit,
    provisional: sexDigit !== '1' && sexDigit !== '2',
    birthYear: Number(body.slice(1, 3)),
    birthMonth,
    birthMonthKnown,
    department,
    commune,
    order: body.slice(10, 13),
    bornAbroad: place === '99',
  };
}

/** True when `nir15` is a well-formed 15-character NIR whose key matches. Never throws. */
export function isValidNir(nir15: string): boolean {
  try {
    parseNir(nir15);
    return true;
  } catch (error) {
    if (error instanceof InsError) return false;
    throw error;
  }
}
