// Patient sessions of the portal API. After INS + secret code + one-time password (or TOTP) the
// patient gets an opaque token (32 random bytes, base64url) that he presents as
// `Authorization: Bearer <token>` — not a cookie: the API is called by the portal page's script,
// so no browser sends it on its own (no CSRF), and CORS only lets --allowed-origins read answers.
// The store keeps a domain-separated SHA-256 of the token in `sessions` (kind 'patient'), shared
// by all nodes. Sessions end after 15 minutes without a request, 2 hours after login in any case,
// at logout, when the DMP is closed, and when the portal access is activated again.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DmpError } from '../errors.js';
import type { DmpRepository, PortalPatient, SessionRecord } from '../store/index.js';

export const PATIENT_SESSION_IDLE_MS = 15 * 60_000;
export const PATIENT_SESSION_MAX_MS = 2 * 3_600_000;
/** lastSeenAt is written at most this often (idle expiry is that precise). */
export const PATIENT_SESSION_TOUCH_MS = 15_000;

const BEARER_CHALLENGE = 'Bearer realm="dmp-portal"';

export interface PatientSession {
  readonly patient: PortalPatient;
  /** `<oid>:<value>` */
  readonly ins: string;
  readonly tokenHash: string;
  readonly expiresAt: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by requirePatient on /v1/portal routes. */
    patientSession: PatientSession | null;
  }
}

export function patientSessionTokenHash(token: string): string {
  return createHash('sha256').update(`cardbridge-patient-session:${token}`, 'utf8').digest('base64url');
}

/** Creates a session in the given repository (the login's transaction); returns the token, once. */
export async function openPatientSession(tx: DmpRepository, patientId: string, now: number): Promise<{ token: string; expiresAt: number }> {
  const token = randomBytes(32).toString('base64url');
  const record: SessionRecord = {
    tokenHash: patientSessionTokenHash(token),
    kind: 'patient',
    keyThumbprint: null,
    practitionerId: null,
    patientId,
    establishment: null,
    user: null,
    activity: null,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + PATIENT_SESSION_MAX_MS,
  };
  await tx.insertSession(record);
  return { token, expiresAt: Math.min(record.expiresAt, now + PATIENT_SESSION_IDLE_MS) };
}

function bearerError(code: 'PATIENT_SESSION_REQUIRED' | 'SESSION_INVALID' | 'SESSION_EXPIRED', detail: string): DmpError {
  return new DmpError(code, detail, {
    headers: { 'WWW-Authenticate': code === 'PATIENT_SESSION_REQUIRED' ? BEARER_CHALLENGE : `${BEARER_CHALLENGE}, error="invalid_token"` },
  });
}

export function bearerTokenOf(request: FastifyRequest): string | undefined {
  const match = /^Bearer ([A-Za-z0-9_-]{43})$/.exec(request.headers.authorization ?? '');
  return match?.[1];
}

/** preHandler of the patient's routes: a live patient session of an open DMP; sets request.patientSession. */
export async function requirePatient(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const ctx = request.server.dmp;
  const header = request.headers.authorization;
  if (header === undefined || header === '') throw bearerError('PATIENT_SESSION_REQUIRED', 'en-tête Authorization: Bearer <jeton de session patient> absent');
  if (!/^Bearer /.test(header)) throw bearerError('PATIENT_SESSION_REQUIRED', 'le portail patient attend le schéma Bearer');
  const token = bearerTokenOf(request);
  if (token === undefined) throw bearerError('SESSION_INVALID', 'jeton de session inconnu');
  const tokenHash = patientSessionTokenHash(token);
  const session = await ctx.store.getSession(tokenHash);
  if (!session || session.kind !== 'patient' || session.patientId === null) throw bearerError('SESSION_INVALID', 'session inconnue ou terminée');
  const now = ctx.clock().getTime();
  if (now >= session.expiresAt || now - session.lastSeenAt > PATIENT_SESSION_IDLE_MS) {
    await ctx.store.deleteSession(tokenHash);
    throw bearerError('SESSION_EXPIRED', now >= session.expiresAt ? 'durée maximale de session atteinte' : 'session inactive depuis plus de 15 minutes');
  }
  const patient = await ctx.store.portal.getPatient(session.patientId);
  if (!patient || patient.status !== 'active') {
    await ctx.store.deleteSession(tokenHash);
    throw bearerError('SESSION_INVALID', 'session terminée : DMP fermé');
  }
  if (now - session.lastSeenAt >= PATIENT_SESSION_TOUCH_MS) await ctx.store.touchSession(tokenHash, now);
  request.patientSession = { patient, ins: `${patient.insOid}:${patient.insValue}`, tokenHash, expiresAt: session.expiresAt };
}
