// INS-C, the computed health identifier (cards.md): SHA-256 over
//   first name (no accents, A–Z only, upper case, cut / right-padded with spaces to 10)
//   + birth date YYMMDD exactly as on the card (lunar dates kept)
//   + the beneficiary's own 13-character NIR as written (2A / 2B kept),
// the first 16 hex digits read as an integer and written on 20 decimal digits, then a 2-digit key
// 97 − (N mod 97) over those 20 digits (checked against every row of the ASIP sample).
import { createHash } from 'node:crypto';
import { InsError, requireString } from './ins-error.js';
import { nirKey } from './nir.js';

const FIRST_NAME_WIDTH = 10;

/**
 * The 10-character first-name part of the seed. A name without any letter A–Z gives 10 spaces:
 * the ASIP sample has such rows (blank first names), so it is not an error.
 */
export function normalizeInsCFirstName(firstName: string): string {
  const letters = requireString(firstName, 'first name')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/[^A-Z]/g, '');
  return letters.slice(0, FIRST_NAME_WIDTH).padEnd(FIRST_NAME_WIDTH, ' ');
}

/** The key of a 20-digit INS-C number: 97 − (N mod 97), on two digits. */
export function insCKey(digits20: string): string {
  if (!/^[0-9]{20}$/.test(requireString(digits20, 'INS-C'))) throw new InsError('INSC_FORMAT', 'an INS-C number has 20 digits before its key');
  return (97n - (BigInt(digits20) % 97n)).toString().padStart(2, '0');
}

/**
 * The 22-digit INS-C (20 digits + key) of a beneficiary. `ownNir13` must be the beneficiary's own
 * certified NIR (13 characters): the insured's NIR of an ayant droit gives a wrong identifier.
 */
export function computeInsC(firstName: string, birthDateYYMMDD: string, ownNir13: string): string {
  const name = normalizeInsCFirstName(firstName);
  if (!/^[0-9]{6}$/.test(requireString(birthDateYYMMDD, 'birth date'))) {
    throw new InsError('INSC_BIRTH_DATE', 'the birth date is 6 digits YYMMDD as on the card');
  }
  nirKey(ownNir13); // shape check of the 13 characters (throws NIR_LENGTH / NIR_FORMAT)
  const seed = name + birthDateYYMMDD + ownNir13;
  const hex = createHash('sha256').update(seed, 'ascii').digest('hex').slice(0, 16);
  const digits = BigInt(`0x${hex}`).toString().padStart(20, '0');
  return digits + insCKey(digits);
}

/** True when `insc` is 22 digits whose last two are the key of the first 20. Never throws. */
export function isValidInsC(insc: string): boolean {
  return typeof insc === 'string' && /^[0-9]{22}$/.test(insc) && insCKey(insc.slice(0, 20)) === insc.slice(20);
}
