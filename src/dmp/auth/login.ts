// Practitioner login (dmp-service.md, step 3) and establishment login (indirect mode, step 6).
// The checks run in the contract's order and the first failure answers:
//   400 TOKEN_MALFORMED      token format and sizes
//   401 CHALLENGE_INVALID    a live challenge bound to this DPoP key (burnt here, whatever follows)
//   401 ORIGIN_NOT_ALLOWED   token origin in --allowed-origins
//   401 CERTIFICATE_INVALID / CERTIFICATE_REVOKED / REVOCATION_UNKNOWN   CertificateValidator
//   401 SIGNATURE_INVALID    RS256 over SHA-256(origin) || SHA-256(challenge) with the certificate key
//   403 PROFESSION_UNKNOWN / PROFESSION_NOT_ALLOWED   (practitioners only)
// A successful login writes the practitioner, the session and a login trace in one transaction.
import { createHash } from 'node:crypto';
import type * as pkijs from 'pkijs';
import { ATTRIBUTE_TYPE_OID } from '../../pki/oids.js';
import { practitionerFromCertificate, type PractitionerIdentityFromCertificate, type ValidationPurpose } from '../../pki/validation/index.js';
import { nameValues, parseCertificate } from '../../pki/validation/x509.js';
import { DmpError } from '../errors.js';
import type { AuthenticatedPractitioner, DmpContext } from '../http/context.js';
import { dmpProfessionDecision } from '../policy/index.js';
import { appendTrace, type DmpRepository, type SessionActivity, type SessionRecord } from '../store/index.js';
import { authSignedData, parseAuthToken, verifyAuthSignature, type AuthToken } from './auth-token.js';
import { newSessionToken, sessionTokenHash } from './session-token.js';

export interface LoginOutcome<P> {
  readonly sessionToken: string;
  /** When the session ends if left idle. */
  readonly expiresAt: Date;
  readonly principal: P;
}

interface VerifiedToken<I> {
  readonly token: AuthToken;
  readonly identity: I;
  readonly fingerprint: string;
  readonly now: Date;
}

/** The checks common to both modes, up to the signature. `readIdentity` throws when the certificate names no one usable. */
async function verifyLoginToken<I>(
  ctx: DmpContext,
  keyThumbprint: string,
  value: unknown,
  purpose: ValidationPurpose,
  readIdentity: (certificateDer: Uint8Array) => I,
): Promise<VerifiedToken<I>> {
  const token = parseAuthToken(value);

  const now = ctx.clock();
  const challenge = await ctx.store.consumeChallenge(keyThumbprint, now.getTime());
  if (!challenge) {
    throw new DmpError('CHALLENGE_INVALID', 'aucun défi valide lié à cette clé DPoP (inconnu, expiré, déjà utilisé ou demandé avec une autre clé)');
  }

  if (!ctx.allowedOrigins.has(token.origin)) {
    throw new DmpError('ORIGIN_NOT_ALLOWED', `origine ${token.origin} non autorisée par ce service`);
  }

  const validation = await ctx.validator.validate(token.certificate, purpose);
  if (!validation.ok) throw new DmpError(validation.code, `certificat refusé : ${validation.reason}`);

  let identity: I;
  try {
    identity = readIdentity(token.certificate);
  } catch (error) {
    throw new DmpError('CERTIFICATE_INVALID', `certificat refusé : ${(error as Error).message}`);
  }

  if (!verifyAuthSignature(token.certificate, authSignedData(token.origin, challenge.challenge), token.signature)) {
    throw new DmpError('SIGNATURE_INVALID', 'la signature ne correspond ni au défi, ni à l’origine, ni à la clé du certificat');
  }
  return { token, identity, fingerprint: validation.fingerprint, now };
}

function sessionTimes(ctx: DmpContext, now: Date): { createdAt: number; expiresAt: number; idleExpiresAt: Date } {
  const createdAt = now.getTime();
  const expiresAt = createdAt + ctx.sessionMaxMs;
  return { createdAt, expiresAt, idleExpiresAt: new Date(Math.min(createdAt + ctx.sessionIdleMs, expiresAt)) };
}

/** The login chain of a practitioner (dmp-service.md: logins chain per practitioner). */
export const practitionerChainId = (nationalId: string): string => `practitioner:${nationalId}`;

/**
 * The login chain of an establishment. src/dmp/traces names chains `patient:` or `practitioner:`
 * only, without whitespace, so establishments get a `practitioner:establishment:` chain keyed by
 * a digest of their id (which may hold spaces); the id itself is the entries' actor id.
 */
export const establishmentChainId = (id: string): string =>
  `practitioner:establishment:${createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 32)}`;

// --- practitioners (direct mode) ------------------------------------------------------------

const EXCLUSION_LABELS: Record<string, string> = {
  OCCUPATIONAL_MEDICINE: 'médecine du travail',
  INSURER: 'organisme d’assurance',
  MUTUAL_FUND: 'mutuelle',
};

export async function loginPractitioner(
  ctx: DmpContext,
  keyThumbprint: string,
  tokenValue: unknown,
  activity: SessionActivity | undefined,
): Promise<LoginOutcome<AuthenticatedPractitioner>> {
  const verified = await verifyLoginToken(ctx, keyThumbprint, tokenValue, 'authentication', practitionerFromCertificate);
  const { identity, now, token } = verified;

  const decision = dmpProfessionDecision({
    professionCode: identity.professionCode,
    specialtyCode: identity.specialtyCode,
    sector: activity?.sector,
  });
  const professionCode = identity.professionCode;
  if (professionCode === undefined || (!decision.allowed && decision.reason === 'PROFESSION_UNKNOWN')) {
    throw new DmpError(
      'PROFESSION_UNKNOWN',
      `profession « ${identity.professionLabel || professionCode || '?'} » absente de la nomenclature TRE_G15 (ni extension profession, ni titre reconnu)`,
    );
  }
  const practitioner = practitionerOf(identity, professionCode);
  if (!decision.allowed) {
    await ctx.store.transaction((tx) =>
      appendTrace(tx, {
        chain: practitionerChainId(practitioner.nationalId),
        at: now,
        actor: { kind: 'practitioner', id: practitioner.nationalId, role: professionCode },
        action: 'login',
        mode: 'normal',
        result: 'refused',
        detail: { code: 'PROFESSION_NOT_ALLOWED', reason: decision.reason, origin: token.origin, specialtyCode: identity.specialtyCode ?? null, sector: activity?.sector ?? null },
      }),
    );
    throw new DmpError('PROFESSION_NOT_ALLOWED', `accès au DMP exclu (${EXCLUSION_LABELS[decision.reason] ?? decision.reason})`);
  }

  const sessionToken = newSessionToken();
  const times = sessionTimes(ctx, now);
  const session: SessionRecord = {
    tokenHash: sessionTokenHash(sessionToken),
    kind: 'practitioner',
    keyThumbprint,
    practitionerId: practitioner.nationalId,
    patientId: null,
    establishment: null,
    user: null,
    activity: activity ?? null,
    createdAt: times.createdAt,
    lastSeenAt: times.createdAt,
    expiresAt: times.expiresAt,
  };
  await ctx.store.transaction(async (tx: DmpRepository) => {
    await tx.upsertPractitioner({
      ...practitioner,
      authCertificate: token.certificate,
      authCertificateFingerprint: verified.fingerprint,
      firstSeenAt: times.createdAt,
      lastLoginAt: times.createdAt,
    });
    await tx.insertSession(session);
    await appendTrace(tx, {
      chain: practitionerChainId(practitioner.nationalId),
      at: now,
      actor: { kind: 'practitioner', id: practitioner.nationalId, role: professionCode },
      action: 'login',
      mode: 'normal',
      result: 'ok',
      detail: { origin: token.origin, session: session.tokenHash.slice(0, 16), sector: activity?.sector ?? null },
    });
  });
  return { sessionToken, expiresAt: times.idleExpiresAt, principal: practitioner };
}

function practitionerOf(identity: PractitionerIdentityFromCertificate, professionCode: string): AuthenticatedPractitioner {
  return {
    nationalId: identity.nationalId,
    idType: identity.idType,
    surname: identity.surname,
    givenName: identity.givenName,
    professionCode,
    professionLabel: identity.professionLabel,
    specialtyCode: identity.specialtyCode ?? null,
    structureId: identity.structureId ?? null,
    structureName: identity.structureName ?? null,
  };
}

// --- establishments (indirect mode) ---------------------------------------------------------

export interface EstablishmentIdentity {
  /** Subject OU (e.g. FINESS) when present, else the CN (host name). */
  readonly id: string;
  /** Subject O, else the CN. */
  readonly name: string;
}

export interface EstablishmentPrincipal {
  readonly establishment: EstablishmentIdentity;
  readonly user: { readonly id: string; readonly name: string };
}

function single(name: pkijs.RelativeDistinguishedNames, oid: string): string | undefined {
  const values = nameValues(name, oid).map((v) => v.trim()).filter((v) => v !== '');
  if (values.length > 1) throw new Error('attribut de nom répété dans le sujet');
  return values[0];
}

export function establishmentFromCertificate(der: Uint8Array): EstablishmentIdentity {
  const subject = parseCertificate(der).certificate.subject;
  const cn = single(subject, ATTRIBUTE_TYPE_OID.CN);
  const o = single(subject, ATTRIBUTE_TYPE_OID.O);
  const ou = single(subject, ATTRIBUTE_TYPE_OID.OU);
  const id = ou ?? cn;
  const name = o ?? cn;
  if (id === undefined || name === undefined) throw new Error('le sujet ne nomme pas d’établissement (ni OU, ni O, ni CN)');
  return { id, name };
}

export async function loginEstablishment(
  ctx: DmpContext,
  keyThumbprint: string,
  tokenValue: unknown,
  user: { id: string; name: string },
): Promise<LoginOutcome<EstablishmentPrincipal>> {
  const verified = await verifyLoginToken(ctx, keyThumbprint, tokenValue, 'establishment', establishmentFromCertificate);
  const { identity: establishment, now, token } = verified;
  const sessionToken = newSessionToken();
  const times = sessionTimes(ctx, now);
  const session: SessionRecord = {
    tokenHash: sessionTokenHash(sessionToken),
    kind: 'establishment',
    keyThumbprint,
    practitionerId: null,
    patientId: null,
    establishment: { id: establishment.id, name: establishment.name, certificateFingerprint: verified.fingerprint },
    user,
    activity: null,
    createdAt: times.createdAt,
    lastSeenAt: times.createdAt,
    expiresAt: times.expiresAt,
  };
  await ctx.store.transaction(async (tx) => {
    await tx.insertSession(session);
    await appendTrace(tx, {
      chain: establishmentChainId(establishment.id),
      at: now,
      actor: { kind: 'establishment', id: establishment.id.slice(0, 200) },
      action: 'login',
      mode: 'normal',
      result: 'ok',
      detail: { establishment: establishment.name, user, origin: token.origin, session: session.tokenHash.slice(0, 16) },
    });
  });
  return { sessionToken, expiresAt: times.idleExpiresAt, principal: { establishment, user } };
}
