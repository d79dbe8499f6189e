// One-time passwords of the portal login: 6 digits from the CSPRNG, 5 minutes, single use, at
// most 3 wrong tries, one live per patient. The store keeps a hash (SHA-256 over a domain label,
// the OTP's id and the code: the id salts it, so equal codes of two requests hash apart); the code
// travels to the patient through the outbox (the stand-in for the SMS / e-mail gateway), its text
// sealed under the KeyProvider so that the database alone does not hold a usable code.
import { createHash, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type { KeyProvider } from '../crypto/index.js';
import type { PortalContactKind, PortalOtp, RecordsOutboxMessage } from '../store/index.js';
import { seal, unseal, type SealedValue } from './sealed.js';

export const OTP_DIGITS = 6;
export const OTP_LIFETIME_MS = 5 * 60_000;
export const OTP_MAX_ATTEMPTS = 3;

export function newOtpCode(): string {
  return String(randomInt(0, 10 ** OTP_DIGITS)).padStart(OTP_DIGITS, '0');
}

export function otpHash(otpId: string, code: string): string {
  return createHash('sha256').update(`cardbridge-portal-otp\u0000${otpId}\u0000${code}`, 'utf8').digest('base64url');
}

export function otpMatches(otp: PortalOtp, code: string): boolean {
  const expected = Buffer.from(otp.codeHash, 'utf8');
  const actual = Buffer.from(otpHash(otp.id, code), 'utf8');
  return expected.byteLength === actual.byteLength && timingSafeEqual(expected, actual);
}

/** The outbox payload of a one-time-password message (JSON). `text` is sealed for this message id. */
export interface OtpOutboxPayload {
  readonly template: 'portal_otp';
  readonly channel: PortalContactKind;
  readonly otpRequestId: string;
  readonly expiresAt: string;
  /** The message to send, sealed (label `outbox:<message id>`): open it with openOutboxText. */
  readonly text: SealedValue;
}

export function otpMessageText(code: string): string {
  return `DMP : votre code de connexion est ${code}. Il est valable 5 minutes. Ne le communiquez à personne, pas même à un professionnel de santé.`;
}

/** A new OTP for a patient and the outbox message that carries it. */
export async function newOtp(input: {
  patientId: string;
  channel: PortalContactKind;
  recipient: string;
  now: number;
  provider: KeyProvider;
}): Promise<{ otp: PortalOtp; message: RecordsOutboxMessage; code: string }> {
  const id = randomUUID();
  const code = newOtpCode();
  const otp: PortalOtp = {
    id,
    patientId: input.patientId,
    channel: input.channel,
    codeHash: otpHash(id, code),
    attempts: 0,
    createdAt: input.now,
    expiresAt: input.now + OTP_LIFETIME_MS,
    usedAt: null,
  };
  const messageId = randomUUID();
  const payload: OtpOutboxPayload = {
    template: 'portal_otp',
    channel: input.channel,
    otpRequestId: id,
    expiresAt: new Date(otp.expiresAt).toISOString(),
    text: await seal(new TextEncoder().encode(otpMessageText(code)), input.provider, `outbox:${messageId}`),
  };
  const message: RecordsOutboxMessage = {
    id: messageId,
    kind: input.channel,
    recipient: input.recipient,
    payload: JSON.stringify(payload),
    createdAt: input.now,
    availableAt: input.now,
  };
  return { otp, message, code };
}

/** The text of a sealed outbox message, for the gateway that sends it. */
export async function openOutboxText(message: { readonly id: string; readonly payload: string }, provider: KeyProvider): Promise<string> {
  const payload = JSON.parse(message.payload) as { text?: SealedValue };
  if (!payload.text) throw new TypeError('outbox message without sealed text');
  return new TextDecoder().decode(await unseal(payload.text, provider, `outbox:${message.id}`));
}
