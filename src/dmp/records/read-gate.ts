// The one path every read of a DMP takes (patient status, index search, metadata, content): the
// access mode of the request's headers, the patient's authorisation of the caller, then
// decideAccess. A refusal is thrown as its DmpError (the caller's traceRefusals traces it); an
// allowed read is completed by recordRead — its trace and, for an emergency access, the
// notifications of the patient and the médecin traitant, in one transaction.
import { DmpError } from '../errors.js';
import type { AuthorizationMatrix } from '../policy/index.js';
import type { DmpStore, RecordsPatient } from '../store/index.js';
import { decideAccess, type AllowedAccess } from './access-decision.js';
import { accessRequestFromHeaders } from './access-request.js';
import { readerOf, type Caller } from './caller.js';
import { notifyEmergencyAccess } from './emergency-notifications.js';
import type { PatientTrail, TraceWhat } from './record-trace.js';

export interface ReadGate {
  readonly store: DmpStore;
  readonly matrix: AuthorizationMatrix;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly patient: RecordsPatient;
  readonly caller: Caller;
  /** Its mode is set to the requested one (refusals are traced with it). */
  readonly trail: PatientTrail;
  readonly now: Date;
}

export async function openForReading(gate: ReadGate): Promise<AllowedAccess> {
  const request = accessRequestFromHeaders(gate.headers);
  gate.trail.mode = request.mode;
  const reader = readerOf(gate.caller);
  const authorization = reader.kind === 'practitioner' ? await gate.store.records.getAuthorization(gate.patient.id, reader.nationalId) : null;
  const decision = decideAccess({ reader, request, patient: gate.patient, authorization, matrix: gate.matrix, now: gate.now.getTime() });
  if (!decision.allowed) throw new DmpError(decision.code, decision.detail);
  return decision;
}

/** The trace of an allowed read (mode, reason when break-glass) and its emergency notifications. */
export async function recordRead(gate: ReadGate, access: AllowedAccess, what: TraceWhat): Promise<void> {
  const detail = { ...what.detail, ...(access.emergency ? { emergency: true, reason: access.reason } : {}) };
  await gate.store.transaction(async (tx) => {
    await gate.trail.ok(tx, { ...what, detail });
    await notifyEmergencyAccess(tx, {
      access,
      patient: gate.patient,
      readerName: gate.caller.kind === 'practitioner' ? gate.caller.displayName : gate.caller.establishmentName,
      at: gate.now,
      what: what.target ?? what.action,
    });
  });
}
