// The one-time activation code of a DMP's web access (dmp-service.md, "Patients and access":
// returned by the creation of the DMP, printed and handed to the patient). What the records module
// stores in `patients.activation_code_hash` / `activation_expires_at`, and how the portal checks it.
//
// A code is 12 characters from a 32-letter alphabet without look-alikes (0/O, 1/I/L, U), shown in
// groups of four (`K7QM-3XHD-9PRW`, 60 bits); the patient may type it in any case, with or without
// dashes and spaces. Only its scrypt hash is stored, and activation burns it.
import { randomInt } from 'node:crypto';
import { hashSecret, verifySecret } from './credentials.js';

export const ACTIVATION_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
export const ACTIVATION_CODE_LENGTH = 12;
/** How long a code handed over at creation stays usable (the records module may choose another expiry). */
export const ACTIVATION_CODE_LIFETIME_MS = 90 * 24 * 3_600_000;

/** A fresh code, grouped for printing. */
export function newActivationCode(): string {
  let code = '';
  for (let i = 0; i < ACTIVATION_CODE_LENGTH; i++) code += ACTIVATION_CODE_ALPHABET[randomInt(ACTIVATION_CODE_ALPHABET.length)];
  return code.match(/.{4}/g)!.join('-');
}

/** What is hashed and compared: upper case, without spaces or dashes; undefined when it cannot be a code. */
export function normalizeActivationCode(input: string): string | undefined {
  const compact = input.replace(/[\s-]+/g, '').toUpperCase();
  if (compact.length !== ACTIVATION_CODE_LENGTH) return undefined;
  for (const c of compact) if (!ACTIVATION_CODE_ALPHABET.includes(c)) return undefined;
  return compact;
}

/** The value for `patients.activation_code_hash`. */
export async function hashActivationCode(code: string): Promise<string> {
  const normalized = normalizeActivationCode(code);
  if (normalized === undefined) throw new RangeError('not an activation code');
  return hashSecret(`activation:${normalized}`);
}

/** True when `input` is the code whose hash is `record` (same cost when the input is malformed or the record missing). */
export async function verifyActivationCode(input: string, record: string | null): Promise<boolean> {
  const normalized = normalizeActivationCode(input) ?? '';
  const ok = await verifySecret(`activation:${normalized}`, record);
  return ok && normalized !== '';
}
