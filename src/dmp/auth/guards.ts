// fastify preHandlers that authenticate requests. Use them on routes:
//
//   app.get('/v1/patients/:ins', { preHandler: requirePractitioner }, handler)   // reads
//   app.post('/v1/patients/:ins/documents', { preHandler: requireSession }, h)   // sends (also establishments)
//
// requireDpop        a valid DPoP proof, no session (challenge, login); sets request.dpop
// requireSession     Authorization: DPoP <token> + proof with ath, by the session's key, session
//                    alive (30 min idle); practitioner or establishment; sets request.dmpSession
//                    (+ request.practitioner for practitioner sessions)
// requirePractitioner  the same, refusing establishment sessions (403 ESTABLISHMENT_READ_FORBIDDEN)
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DmpError } from '../errors.js';
import type { AuthenticatedPractitioner, AuthenticatedSession, DmpContext } from '../http/context.js';
import type { SessionRecord } from '../store/index.js';
import { DPOP_ALGORITHM, verifyDpopProof } from './dpop.js';
import { isSessionTokenShape, sessionTokenHash } from './session-token.js';

/** lastSeenAt is written at most this often per session (idle expiry is that precise). */
export const SESSION_TOUCH_INTERVAL_MS = 15_000;

const SESSION_WWW_AUTHENTICATE = `DPoP error="invalid_token", algs="${DPOP_ALGORITHM}"`;
const NO_SESSION_WWW_AUTHENTICATE = `DPoP algs="${DPOP_ALGORITHM}"`;

/** The URL a proof for this request must name: public URL + path, without the query. */
export function expectedHtu(request: FastifyRequest): string {
  const path = request.url.split('?', 1)[0] ?? '/';
  return `${request.server.dmp.publicUrl()}${path}`;
}

function sessionError(code: 'SESSION_REQUIRED' | 'SESSION_INVALID' | 'SESSION_EXPIRED', detail: string): DmpError {
  return new DmpError(code, detail, {
    headers: { 'WWW-Authenticate': code === 'SESSION_REQUIRED' ? NO_SESSION_WWW_AUTHENTICATE : SESSION_WWW_AUTHENTICATE },
  });
}

export async function requireDpop(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const ctx = request.server.dmp;
  request.dpop = await verifyDpopProof({
    proof: request.headers.dpop,
    method: request.method,
    expectedUrl: expectedHtu(request),
    now: ctx.clock(),
    rememberJti: (key, expiresAt) => ctx.store.rememberJti(key, expiresAt),
  });
}

function practitionerView(record: {
  nationalId: string;
  idType: string;
  surname: string;
  givenName: string;
  professionCode: string;
  professionLabel: string;
  specialtyCode: string | null;
  structureId: string | null;
  structureName: string | null;
}): AuthenticatedPractitioner {
  return {
    nationalId: record.nationalId,
    idType: record.idType,
    surname: record.surname,
    givenName: record.givenName,
    professionCode: record.professionCode,
    professionLabel: record.professionLabel,
    specialtyCode: record.specialtyCode,
    structureId: record.structureId,
    structureName: record.structureName,
  };
}

function sessionView(session: SessionRecord, thumbprint: string): AuthenticatedSession {
  const establishment = session.kind === 'establishment';
  return {
    kind: establishment ? 'establishment' : 'practitioner',
    establishment,
    organisation: session.establishment ? { id: session.establishment.id, name: session.establishment.name } : null,
    user: session.user,
    activity: session.activity,
    keyThumbprint: thumbprint,
    sessionRef: session.tokenHash.slice(0, 16),
  };
}

/** The live session of a request, its expiry checked and its lastSeenAt moved on. */
async function authenticate(request: FastifyRequest, ctx: DmpContext): Promise<{ session: SessionRecord; token: string }> {
  const header = request.headers.authorization;
  if (header === undefined || header === '') throw sessionError('SESSION_REQUIRED', 'en-tête Authorization: DPoP <jeton de session> absent');
  const match = /^DPoP (\S+)$/.exec(header);
  if (!match?.[1]) throw sessionError('SESSION_REQUIRED', 'schéma d’autorisation DPoP attendu (un jeton de session DPoP n’est pas un jeton Bearer)');
  const token = match[1];
  const now = ctx.clock();
  request.dpop = await verifyDpopProof({
    proof: request.headers.dpop,
    method: request.method,
    expectedUrl: expectedHtu(request),
    now,
    accessToken: token,
    rememberJti: (key, expiresAt) => ctx.store.rememberJti(key, expiresAt),
  });
  if (!isSessionTokenShape(token)) throw sessionError('SESSION_INVALID', 'jeton de session inconnu');
  const tokenHash = sessionTokenHash(token);
  const session = await ctx.store.getSession(tokenHash);
  if (!session || (session.kind !== 'practitioner' && session.kind !== 'establishment')) {
    throw sessionError('SESSION_INVALID', 'session inconnue ou terminée');
  }
  if (session.keyThumbprint !== request.dpop.thumbprint) {
    throw new DmpError('DPOP_KEY_MISMATCH', 'la preuve n’est pas signée par la clé liée à la session', {
      headers: { 'WWW-Authenticate': SESSION_WWW_AUTHENTICATE },
    });
  }
  const nowMs = now.getTime();
  if (nowMs >= session.expiresAt || nowMs - session.lastSeenAt > ctx.sessionIdleMs) {
    await ctx.store.deleteSession(tokenHash);
    throw sessionError('SESSION_EXPIRED', nowMs >= session.expiresAt ? 'durée maximale de session atteinte' : 'session inactive depuis trop longtemps');
  }
  if (nowMs - session.lastSeenAt >= SESSION_TOUCH_INTERVAL_MS) await ctx.store.touchSession(tokenHash, nowMs);
  return { session, token };
}

async function attachSession(request: FastifyRequest): Promise<AuthenticatedSession> {
  const ctx = request.server.dmp;
  const { session } = await authenticate(request, ctx);
  const view = sessionView(session, session.keyThumbprint ?? '');
  request.dmpSession = view;
  if (session.kind === 'practitioner') {
    const record = session.practitionerId === null ? null : await ctx.store.getPractitioner(session.practitionerId);
    if (!record) throw sessionError('SESSION_INVALID', 'professionnel de la session introuvable');
    request.practitioner = practitionerView(record);
  }
  return view;
}

/** Practitioner or establishment session (routes that send, never read). */
export async function requireSession(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  await attachSession(request);
}

/** Practitioner session only: establishment sessions may send documents but never read. */
export async function requirePractitioner(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const session = await attachSession(request);
  if (session.establishment) {
    throw new DmpError('ESTABLISHMENT_READ_FORBIDDEN', 'une session en mode établissement ne permet pas cette opération');
  }
}

/** For handlers behind requireSession: the session token hash of the request (logout). */
export function sessionTokenHashOf(request: FastifyRequest): string | undefined {
  const match = /^DPoP (\S+)$/.exec(request.headers.authorization ?? '');
  return match?.[1] ? sessionTokenHash(match[1]) : undefined;
}
