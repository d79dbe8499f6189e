// The DMP itself on the practitioner's side: creation (with the patient's consent, returning the
// one-time activation code of his web access), what a practitioner is told of it, the
// authorisation he records with the patient's agreement during a consultation, and closing.
//
// Choices (docs/dmp.md, "Records"):
// - the creating practitioner is recorded as authorised (granted) in the same transaction: he
//   creates the DMP with the patient, in consultation, as in the real DMP;
// - only the hash of the activation code (src/dmp/portal/activation.ts, the portal checks it) and
//   its expiry are stored; the code is in the creation answer only;
// - a practitioner records granted / expired / denied for himself; the patient's block is never
//   lifted that way (one statement that changes nothing for a blocked practitioner);
// - a practitioner may close a DMP at the patient's request or on his death, with a granted
//   authorisation (blocked: never); the patient closes his own on the portal.
import { randomUUID } from 'node:crypto';
import { ACTIVATION_CODE_LIFETIME_MS, hashActivationCode, newActivationCode } from '../portal/activation.js';
import { DmpError } from '../errors.js';
import type { AuthorizationMatrix } from '../policy/index.js';
import type { DmpStore, RecordsAuthorization, RecordsPatient } from '../store/index.js';
import { decideAccess } from './access-decision.js';
import type { Caller } from './caller.js';
import type { NewPatient } from './patient-identity.js';
import { PatientTrail } from './record-trace.js';

type PractitionerCaller = Extract<Caller, { kind: 'practitioner' }>;

export interface CreatedPatient {
  readonly patient: RecordsPatient;
  readonly authorization: RecordsAuthorization;
  /** Shown once (printed and handed to the patient); only its hash is stored. */
  readonly activationCode: string;
}

export async function createPatient(store: DmpStore, creator: PractitionerCaller, input: NewPatient, trail: (patient: RecordsPatient) => PatientTrail, now: Date): Promise<CreatedPatient> {
  const at = now.getTime();
  const activationCode = newActivationCode();
  const patient: RecordsPatient = {
    id: randomUUID(),
    insOid: input.ins.oid,
    insValue: input.ins.value,
    traits: JSON.stringify(input.traits ?? {}),
    status: 'active',
    consentAt: at,
    createdBy: creator.nationalId,
    createdAt: at,
    updatedAt: at,
    closedAt: null,
    medecinTraitantId: null,
    opposesBrisDeGlace: false,
    opposesCentre15: false,
    activationCodeHash: await hashActivationCode(activationCode),
    activationExpiresAt: at + ACTIVATION_CODE_LIFETIME_MS,
    activatedAt: null,
  };
  const authorization: RecordsAuthorization = {
    patientId: patient.id,
    practitionerId: creator.nationalId,
    status: 'granted',
    blocked: false,
    sameRightsAsMedecinTraitant: false,
    recordedBy: 'practitioner',
    grantedAt: at,
    expiresAt: null,
    updatedAt: at,
  };
  await store.transaction(async (tx) => {
    if (!(await tx.records.insertPatient(patient))) throw new DmpError('PATIENT_EXISTS', 'un DMP existe déjà pour cet INS');
    await tx.records.recordAuthorizationByPractitioner(authorization);
    await trail(patient).ok(tx, {
      action: 'patient.create',
      target: `patient:${patient.id}`,
      detail: { consent: true, traits: input.traits !== null, authorization: 'granted', activationExpiresAt: new Date(patient.activationExpiresAt as number).toISOString() },
    });
  });
  return { patient, authorization, activationCode };
}

/** The caller's authorisation, as members of the patient's status (`authorization` is its status). */
export type AuthorizationView = {
  readonly authorization: 'none' | 'granted' | 'expired' | 'denied';
  readonly blocked: boolean;
  readonly sameRightsAsMedecinTraitant: boolean;
  readonly authorizationRecordedBy: 'patient' | 'practitioner' | null;
  readonly authorizationUpdatedAt: string | null;
};

export function authorizationView(authorization: RecordsAuthorization | null, now: Date): AuthorizationView {
  if (authorization === null) {
    return { authorization: 'none', blocked: false, sameRightsAsMedecinTraitant: false, authorizationRecordedBy: null, authorizationUpdatedAt: null };
  }
  const expired = authorization.status === 'granted' && authorization.expiresAt !== null && authorization.expiresAt <= now.getTime();
  return {
    authorization: expired ? 'expired' : authorization.status,
    blocked: authorization.blocked,
    sameRightsAsMedecinTraitant: authorization.sameRightsAsMedecinTraitant,
    authorizationRecordedBy: authorization.recordedBy,
    authorizationUpdatedAt: new Date(authorization.updatedAt).toISOString(),
  };
}

/** What `GET /v1/patients/{ins}` answers: status, the caller's authorisation, the médecin traitant flag. */
export function patientStatusView(patient: RecordsPatient, authorization: RecordsAuthorization | null, callerId: string, now: Date) {
  return {
    ins: { oid: patient.insOid, value: patient.insValue },
    status: patient.status,
    createdAt: new Date(patient.createdAt).toISOString(),
    closedAt: patient.closedAt === null ? null : new Date(patient.closedAt).toISOString(),
    ...authorizationView(authorization, now),
    medecinTraitant: patient.medecinTraitantId !== null && patient.medecinTraitantId === callerId,
    hasMedecinTraitant: patient.medecinTraitantId !== null,
  };
}

export interface AuthorizationChange {
  readonly status: 'granted' | 'expired' | 'denied';
  readonly sameRightsAsMedecinTraitant: boolean;
}

/** The practitioner records the patient's decision about himself (never lifting a block). */
export async function recordAuthorization(
  store: DmpStore,
  patient: RecordsPatient,
  caller: PractitionerCaller,
  change: AuthorizationChange,
  trail: PatientTrail,
  now: Date,
): Promise<RecordsAuthorization> {
  const at = now.getTime();
  const sameRights = change.status === 'granted' && change.sameRightsAsMedecinTraitant;
  return store.transaction(async (tx) => {
    const current = await tx.records.getPatientById(patient.id);
    if (current?.status !== 'active') throw new DmpError('DMP_CLOSED', 'ce DMP est fermé');
    const recorded = await tx.records.recordAuthorizationByPractitioner({
      patientId: patient.id,
      practitionerId: caller.nationalId,
      status: change.status,
      sameRightsAsMedecinTraitant: sameRights,
      grantedAt: change.status === 'granted' ? at : null,
      expiresAt: null,
      updatedAt: at,
    });
    if (!recorded) throw new DmpError('BLOCKED_BY_PATIENT', 'le patient vous a bloqué : seul le patient peut lever ce blocage, sur son portail');
    await trail.ok(tx, { action: 'authorization.update', target: `practitioner:${caller.nationalId}`, detail: { status: change.status, sameRightsAsMedecinTraitant: sameRights, recordedBy: 'practitioner' } });
    const stored = await tx.records.getAuthorization(patient.id, caller.nationalId);
    if (!stored) throw new Error('authorisation just recorded is missing');
    return stored;
  });
}

export const CLOSE_REASONS = ['patient_request', 'deces'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** Closing by a practitioner: a reason, and the patient's authorisation (granted, not blocked). */
export async function closeByPractitioner(
  store: DmpStore,
  matrix: AuthorizationMatrix,
  patient: RecordsPatient,
  caller: PractitionerCaller,
  reason: CloseReason,
  trail: PatientTrail,
  now: Date,
): Promise<RecordsPatient> {
  const authorization = await store.records.getAuthorization(patient.id, caller.nationalId);
  const decision = decideAccess({
    reader: { kind: 'practitioner', nationalId: caller.nationalId, professionCode: caller.professionCode },
    request: { mode: 'normal', reason: null },
    patient,
    authorization,
    matrix,
    now: now.getTime(),
  });
  if (!decision.allowed) throw new DmpError(decision.code, decision.detail);
  const at = now.getTime();
  return store.transaction(async (tx) => {
    if (!(await tx.records.closePatient(patient.id, at))) throw new DmpError('DMP_CLOSED', 'ce DMP est déjà fermé');
    await trail.ok(tx, { action: 'patient.close', target: `patient:${patient.id}`, detail: { reason } });
    await tx.records.enqueueNotification({
      id: `dmp-closed-${patient.id}`,
      kind: 'notification',
      recipient: `patient:${patient.id}`,
      payload: JSON.stringify({ event: 'dmp.closed', at: now.toISOString(), reason, practitioner: { id: caller.nationalId, name: caller.displayName } }),
      createdAt: at,
      availableAt: at,
    });
    const closed = await tx.records.getPatientById(patient.id);
    if (!closed) throw new Error('closed patient is missing');
    return closed;
  });
}
