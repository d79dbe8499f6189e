// Hashing of the patient's secrets (secret code, activation code): scrypt (node:crypto) with a
// random per-record salt, the cost parameters written into the record so they can be raised later
// without invalidating older records, and a constant-time comparison. The record format:
//
//   scrypt$<N>$<r>$<p>$<salt, base64url>$<derived key, base64url>
//
// Unknown INS or an account without a secret still costs one scrypt (verifyAgainstNothing), so the
// answer time does not say whether a patient exists.
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParameters {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * 32 MiB and about a tenth of a second per hash. OWASP's scrypt guidance (N=2^17, r=8, p=1) asks
 * for four times this work; the secret code is one of two factors (a one-time password or TOTP
 * must follow) and online guesses are limited per INS and per address, so the service keeps logins
 * cheaper. Raise it here: records carry their parameters, older hashes keep verifying.
 */
export const DEFAULT_SCRYPT: ScryptParameters = { N: 2 ** 15, r: 8, p: 1 };

let current: ScryptParameters = DEFAULT_SCRYPT;
/** The hash an unknown account is checked against (same cost as a real one). */
let dummy: Promise<ParsedHash> | undefined;

/**
 * The parameters new hashes get (verification always uses the record's own, so changing this never
 * invalidates stored hashes). Only test suites lower it, to run hundreds of logins quickly.
 */
export function useScryptParameters(parameters: ScryptParameters): void {
  current = parameters;
  dummy = undefined;
}

const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Parameters read from a record are bounded: a tampered record must not make one check cost gigabytes. */
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 4;

function scrypt(secret: string, salt: Buffer, parameters: ScryptParameters): Promise<Buffer> {
  const options: ScryptOptions = { N: parameters.N, r: parameters.r, p: parameters.p, maxmem: 256 * parameters.N * parameters.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scryptCallback(secret.normalize('NFC'), salt, KEY_BYTES, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export async function hashSecret(secret: string, parameters: ScryptParameters = current): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(secret, salt, parameters);
  return ['scrypt', parameters.N, parameters.r, parameters.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface ParsedHash {
  readonly parameters: ScryptParameters;
  readonly salt: Buffer;
  readonly key: Buffer;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function parseHash(record: string): ParsedHash | undefined {
  const parts = record.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  if (!Number.isSafeInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0) return undefined;
  if (!Number.isSafeInteger(R) || R < 1 || R > MAX_R || !Number.isSafeInteger(P) || P < 1 || P > MAX_P) return undefined;
  if (!B64URL.test(salt) || !B64URL.test(key)) return undefined;
  const keyBytes = Buffer.from(key, 'base64url');
  if (keyBytes.byteLength !== KEY_BYTES) return undefined;
  return { parameters: { N, r: R, p: P }, salt: Buffer.from(salt, 'base64url'), key: keyBytes };
}

/** Whether a record has the format hashSecret writes. */
export function isSecretHash(record: string): boolean {
  return parseHash(record) !== undefined;
}

/** True when `secret` matches `record`; false for a wrong secret or a record that is not a hash. */
export async function verifySecret(secret: string, record: string | null | undefined): Promise<boolean> {
  const parsed = record ? parseHash(record) : undefined;
  if (!parsed) {
    await verifyAgainstNothing(secret);
    return false;
  }
  const key = await scrypt(secret, parsed.salt, parsed.parameters);
  return timingSafeEqual(key, parsed.key);
}


/** The cost of one verification, for an INS without a DMP or without a secret: always false. */
export async function verifyAgainstNothing(secret: string): Promise<false> {
  dummy ??= hashSecret('cardbridge-portal-dummy').then((record) => parseHash(record) as ParsedHash);
  const { salt, parameters, key } = await dummy;
  timingSafeEqual(await scrypt(secret, salt, parameters), key);
  return false;
}
