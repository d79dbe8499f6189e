// TOTP (RFC 6238, via otpauth) as the patient's alternative to the one-time password sent by SMS
// or e-mail. Enrolment draws a 160-bit seed and hands it out once, as an otpauth:// URI for an
// authenticator app; the patient then confirms with a first code, and only a confirmed seed opens
// sessions. The seed is stored sealed (sealed.ts) in `patients.portal_totp_secret`, in a small JSON
// record that also keeps the last accepted time step: a code is accepted once, never replayed
// within its window (the record is replaced by compare-and-set, so two nodes cannot both accept it).
import * as OTPAuth from 'otpauth';
import type { KeyProvider } from '../crypto/index.js';
import { seal, unseal, type SealedValue } from './sealed.js';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Codes of the previous and the next step are accepted too (clock drift of the phone). */
export const TOTP_WINDOW = 1;
export const TOTP_ISSUER = 'DMP cardbridge';

export interface TotpRecord {
  readonly v: 1;
  readonly seed: SealedValue;
  /** When the patient proved his app produces the codes; null while pending. */
  readonly confirmedAt: number | null;
  /** The last time step accepted (confirmation or login); a code of this step or before is refused. */
  readonly lastStep: number | null;
}

const label = (patientId: string): string => `portal-totp:${patientId}`;

export function encodeTotpRecord(record: TotpRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(record));
}

/** The record stored in the patient's row, or undefined when there is none or it is not one. */
export function decodeTotpRecord(bytes: Uint8Array | null): TotpRecord | undefined {
  if (bytes === null) return undefined;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as Partial<TotpRecord>;
    if (parsed.v !== 1 || typeof parsed.seed !== 'object' || parsed.seed === null) return undefined;
    return {
      v: 1,
      seed: parsed.seed,
      confirmedAt: typeof parsed.confirmedAt === 'number' ? parsed.confirmedAt : null,
      lastStep: typeof parsed.lastStep === 'number' ? parsed.lastStep : null,
    };
  } catch {
    return undefined;
  }
}

function totpOf(seed: Uint8Array, accountLabel: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    issuer: TOTP_ISSUER,
    label: accountLabel,
    algorithm: 'SHA1', // what authenticator apps implement everywhere
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: new OTPAuth.Secret({ buffer: seed.slice().buffer as ArrayBuffer }),
  });
}

/** A new pending enrolment: the record to store and the URI to show once (QR code). */
export async function newTotpEnrollment(input: {
  patientId: string;
  accountLabel: string;
  provider: KeyProvider;
}): Promise<{ record: TotpRecord; uri: string; secret: string }> {
  const secret = new OTPAuth.Secret({ size: 20 });
  const seed = new Uint8Array(secret.bytes);
  const record: TotpRecord = { v: 1, seed: await seal(seed, input.provider, label(input.patientId)), confirmedAt: null, lastStep: null };
  const totp = totpOf(seed, input.accountLabel);
  return { record, uri: totp.toString(), secret: secret.base32 };
}

/**
 * The time step of `token` when it is a valid code at `now` for this record and newer than the
 * last accepted one; undefined otherwise.
 */
export async function acceptedTotpStep(record: TotpRecord, token: string, now: number, patientId: string, provider: KeyProvider): Promise<number | undefined> {
  if (!/^\d{6}$/.test(token)) return undefined;
  const seed = await unseal(record.seed, provider, label(patientId));
  const delta = totpOf(seed, 'check').validate({ token, timestamp: now, window: TOTP_WINDOW });
  seed.fill(0);
  if (delta === null) return undefined;
  const step = Math.floor(now / 1000 / TOTP_PERIOD_SECONDS) + delta;
  if (record.lastStep !== null && step <= record.lastStep) return undefined;
  return step;
}

/** The code an authenticator app shows for an otpauth URI at `now` (tests: the patient's phone). */
export function totpCodeFromUri(uri: string, now: number): string {
  const parsed = OTPAuth.URI.parse(uri);
  if (!(parsed instanceof OTPAuth.TOTP)) throw new TypeError('not a TOTP URI');
  return parsed.generate({ timestamp: now });
}
