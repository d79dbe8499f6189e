// Who is calling, as the records rules and traces need it: a practitioner (CPS session) or an
// establishment (indirect mode, send-only) with its local user and the fingerprint of the
// establishment certificate that logged in (a document it sends must be signed by that
// certificate).
import type { FastifyRequest } from 'fastify';
import { sessionTokenHashOf } from '../auth/index.js';
import { DmpError } from '../errors.js';
import type { TraceActor } from '../traces/index.js';
import type { Reader } from './access-decision.js';

export type Caller =
  | {
      readonly kind: 'practitioner';
      readonly nationalId: string;
      readonly professionCode: string;
      /** "Given name SURNAME", for document authors. */
      readonly displayName: string;
    }
  | {
      readonly kind: 'establishment';
      readonly establishmentId: string;
      readonly establishmentName: string;
      readonly user: { readonly id: string; readonly name: string } | null;
      /** SHA-256 (hex) of the establishment certificate of the session's login. */
      readonly certificateFingerprint: string;
    };

/** The caller of a request that passed requireSession or requirePractitioner. */
export async function callerOf(request: FastifyRequest): Promise<Caller> {
  const session = request.dmpSession;
  const practitioner = request.practitioner;
  if (session && !session.establishment && practitioner) {
    return {
      kind: 'practitioner',
      nationalId: practitioner.nationalId,
      professionCode: practitioner.professionCode,
      displayName: `${practitioner.givenName} ${practitioner.surname}`.trim(),
    };
  }
  if (session?.establishment && session.organisation) {
    const tokenHash = sessionTokenHashOf(request);
    const record = tokenHash === undefined ? null : await request.server.dmp.store.getSession(tokenHash);
    const fingerprint = record?.establishment?.certificateFingerprint;
    if (!fingerprint) throw new DmpError('SESSION_INVALID', 'session d’établissement introuvable');
    return {
      kind: 'establishment',
      establishmentId: session.organisation.id,
      establishmentName: session.organisation.name,
      user: session.user,
      certificateFingerprint: fingerprint,
    };
  }
  throw new DmpError('SESSION_REQUIRED', 'session requise');
}

/** The reader the access decision sees. */
export function readerOf(caller: Caller): Reader {
  return caller.kind === 'practitioner'
    ? { kind: 'practitioner', nationalId: caller.nationalId, professionCode: caller.professionCode }
    : { kind: 'establishment' };
}

/** The trace actor: who and in which role (profession code for practitioners). */
export function traceActorOf(caller: Caller): TraceActor {
  return caller.kind === 'practitioner'
    ? { kind: 'practitioner', id: caller.nationalId, role: caller.professionCode }
    : { kind: 'establishment', id: caller.establishmentId.slice(0, 200), ...(caller.user ? { role: `utilisateur:${caller.user.id}`.slice(0, 200) } : {}) };
}

/** The author id a document of this caller carries (practitioner national id, or establishment id). */
export function authorIdOf(caller: Caller): string {
  return caller.kind === 'practitioner' ? caller.nationalId : caller.establishmentId;
}
