// Who may read a DMP, and in which mode (dmp-service.md, "Patients and access"). One pure function
// decides for every read — the patient's status, index search, metadata, content — so that the
// rules live in one place and are tested on their own:
//
//   1. an establishment session never reads                       403 ESTABLISHMENT_READ_FORBIDDEN
//   2. a practitioner the patient blocked reads nothing, whatever else holds (mode, médecin
//      traitant, same rights)                                     403 BLOCKED_BY_PATIENT
//   3. a closed DMP is not read                                   403 DMP_CLOSED
//   4. by mode:
//      normal         the patient's authorisation `granted` and not past its expiry
//                                                                 403 AUTHORIZATION_REQUIRED
//      bris_de_glace  a non-empty reason                          400 REASON_REQUIRED
//                     the patient has not opposed it              403 BRIS_DE_GLACE_OPPOSED
//      centre_15      doctors only (TRE_G15 10)                   403 CENTRE_15_NOT_ALLOWED
//                     no authorisation check; the patient has not opposed it
//                                                                 403 CENTRE_15_OPPOSED
//   Emergency modes (bris_de_glace, centre_15) are flagged: traced with their mode, and the
//   patient and the médecin traitant are notified.
//
// Then, per document (documentVisibility): deleted documents and MASQUE_PS documents the reader
// may not see are hidden (404, as if absent: the refusal does not reveal them); MASQUE_PS is seen by
// its author, the médecin traitant and the practitioners the patient gave the same rights (with a
// granted authorisation), in every mode; the authorisation matrix (profession × typeCode, deny
// by default) applies to everyone, the author included (403 MATRIX_DENIED).
import type { ProblemCode } from '../errors.js';
import { visibleTypeCodes, type AuthorizationMatrix } from '../policy/index.js';

export type AccessMode = 'normal' | 'bris_de_glace' | 'centre_15';

export const ACCESS_MODES: readonly AccessMode[] = ['normal', 'bris_de_glace', 'centre_15'];

/** The TRE_G15 code of doctors (the only profession allowed in centre_15 mode). */
export const DOCTOR_PROFESSION_CODE = '10';

export interface AccessRequest {
  readonly mode: AccessMode;
  /** The free-text reason (break-glass), trimmed; null when absent or blank. */
  readonly reason: string | null;
}

export type Reader =
  | { readonly kind: 'practitioner'; readonly nationalId: string; readonly professionCode: string }
  | { readonly kind: 'establishment' };

export interface PatientFacts {
  readonly status: 'active' | 'closed';
  readonly medecinTraitantId: string | null;
  readonly opposesBrisDeGlace: boolean;
  readonly opposesCentre15: boolean;
}

export interface AuthorizationFacts {
  readonly status: 'granted' | 'expired' | 'denied';
  readonly blocked: boolean;
  readonly sameRightsAsMedecinTraitant: boolean;
  /** Epoch ms; null: no expiry. */
  readonly expiresAt: number | null;
}

export interface AccessInput {
  readonly reader: Reader;
  readonly request: AccessRequest;
  readonly patient: PatientFacts;
  /** The patient's authorisation of this practitioner, null when there is none. */
  readonly authorization: AuthorizationFacts | null;
  readonly matrix: AuthorizationMatrix;
  /** Epoch ms. */
  readonly now: number;
}

export interface AllowedAccess {
  readonly allowed: true;
  readonly mode: AccessMode;
  readonly reason: string | null;
  /** Break-glass or regulation centre: flagged in the traces, the patient and médecin traitant notified. */
  readonly emergency: boolean;
  readonly readerId: string;
  readonly professionCode: string;
  readonly isMedecinTraitant: boolean;
  /** Sees MASQUE_PS documents (médecin traitant, or same rights with a granted authorisation). */
  readonly seesMasked: boolean;
  /** The typeCodes the matrix lets this profession see. */
  readonly visibleTypeCodes: readonly string[];
}

export type AccessRefusalCode = Extract<
  ProblemCode,
  | 'ESTABLISHMENT_READ_FORBIDDEN'
  | 'BLOCKED_BY_PATIENT'
  | 'DMP_CLOSED'
  | 'AUTHORIZATION_REQUIRED'
  | 'REASON_REQUIRED'
  | 'BRIS_DE_GLACE_OPPOSED'
  | 'CENTRE_15_NOT_ALLOWED'
  | 'CENTRE_15_OPPOSED'
>;

export interface RefusedAccess {
  readonly allowed: false;
  readonly code: AccessRefusalCode;
  /** French, for the problem's detail. */
  readonly detail: string;
}

export type AccessDecision = AllowedAccess | RefusedAccess;

function refuse(code: AccessRefusalCode, detail: string): RefusedAccess {
  return { allowed: false, code, detail };
}

function grantedNow(authorization: AuthorizationFacts | null, now: number): boolean {
  return authorization !== null && authorization.status === 'granted' && (authorization.expiresAt === null || authorization.expiresAt > now);
}

export function decideAccess(input: AccessInput): AccessDecision {
  const { reader, request, patient, authorization, now } = input;
  if (reader.kind !== 'practitioner') {
    return refuse('ESTABLISHMENT_READ_FORBIDDEN', 'une session en mode établissement alimente le DMP mais ne le consulte jamais');
  }
  if (authorization?.blocked === true) {
    return refuse('BLOCKED_BY_PATIENT', 'le patient a bloqué votre accès à son DMP');
  }
  if (patient.status !== 'active') return refuse('DMP_CLOSED', 'ce DMP est fermé');

  const granted = grantedNow(authorization, now);
  switch (request.mode) {
    case 'normal':
      if (!granted) return refuse('AUTHORIZATION_REQUIRED', "le patient ne vous a pas autorisé à consulter son DMP (ou l'autorisation a expiré)");
      break;
    case 'bris_de_glace':
      if (request.reason === null) return refuse('REASON_REQUIRED', 'un accès en bris de glace exige un motif (en-tête X-Access-Reason)');
      if (patient.opposesBrisDeGlace) return refuse('BRIS_DE_GLACE_OPPOSED', "le patient s'est opposé à l'accès en bris de glace");
      break;
    case 'centre_15':
      if (reader.professionCode !== DOCTOR_PROFESSION_CODE) {
        return refuse('CENTRE_15_NOT_ALLOWED', 'le mode centre 15 (régulation du SAMU) est réservé aux médecins');
      }
      if (patient.opposesCentre15) return refuse('CENTRE_15_OPPOSED', "le patient s'est opposé à l'accès par le centre de régulation");
      break;
  }

  const isMedecinTraitant = patient.medecinTraitantId !== null && patient.medecinTraitantId === reader.nationalId;
  const sameRights = granted && authorization?.sameRightsAsMedecinTraitant === true;
  return {
    allowed: true,
    mode: request.mode,
    reason: request.mode === 'bris_de_glace' ? request.reason : null,
    emergency: request.mode !== 'normal',
    readerId: reader.nationalId,
    professionCode: reader.professionCode,
    isMedecinTraitant,
    seesMasked: isMedecinTraitant || sameRights,
    visibleTypeCodes: visibleTypeCodes(input.matrix, reader.professionCode),
  };
}

export interface DocumentFacts {
  readonly typeCode: string;
  readonly status: 'approved' | 'deprecated' | 'archived' | 'deleted';
  readonly maskedPs: boolean;
  readonly authorKind: string;
  readonly authorId: string;
}

export type DocumentVisibility =
  | { readonly visible: true }
  | { readonly visible: false; readonly code: 'DOCUMENT_NOT_FOUND' | 'MATRIX_DENIED'; readonly reason: 'deleted' | 'masked' | 'matrix' };

/** Whether an allowed reader may see this document (index entry, metadata, content). */
export function documentVisibility(access: AllowedAccess, document: DocumentFacts): DocumentVisibility {
  if (document.status === 'deleted') return { visible: false, code: 'DOCUMENT_NOT_FOUND', reason: 'deleted' };
  const isAuthor = document.authorKind === 'practitioner' && document.authorId === access.readerId;
  if (document.maskedPs && !access.seesMasked && !isAuthor) return { visible: false, code: 'DOCUMENT_NOT_FOUND', reason: 'masked' };
  if (!access.visibleTypeCodes.includes(document.typeCode)) return { visible: false, code: 'MATRIX_DENIED', reason: 'matrix' };
  return { visible: true };
}
