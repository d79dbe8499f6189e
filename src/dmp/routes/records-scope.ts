// What every records route starts from: the DMP named by the path (400 INS_INVALID, 404
// PATIENT_NOT_FOUND — nothing is traced for a DMP that does not exist), or the document named by
// the path and its DMP (404 DOCUMENT_NOT_FOUND), the caller, and the trail of the patient's chain
// its traces go to.
import type { FastifyRequest } from 'fastify';
import { DmpError } from '../errors.js';
import { DOCUMENT_ID_PATTERN, PatientTrail, callerOf, insFromPath, traceActorOf, type Caller } from '../records/index.js';
import type { RecordsDocument, RecordsPatient } from '../store/index.js';

export interface PatientScope {
  readonly patient: RecordsPatient;
  readonly caller: Caller;
  readonly trail: PatientTrail;
}

export interface DocumentScope extends PatientScope {
  readonly document: RecordsDocument;
}

export type PractitionerCaller = Extract<Caller, { kind: 'practitioner' }>;

async function scopeOf(request: FastifyRequest, patient: RecordsPatient): Promise<PatientScope> {
  const caller = await callerOf(request);
  return { patient, caller, trail: new PatientTrail(patient, traceActorOf(caller), request.server.dmp.clock) };
}

export async function patientScope(request: FastifyRequest, insSegment: string): Promise<PatientScope> {
  const ins = insFromPath(insSegment);
  const patient = await request.server.dmp.store.records.getPatientByIns(ins.oid, ins.value);
  if (!patient) throw new DmpError('PATIENT_NOT_FOUND', 'aucun DMP pour cet INS');
  return scopeOf(request, patient);
}

export async function documentScope(request: FastifyRequest, id: string): Promise<DocumentScope> {
  const { store } = request.server.dmp;
  const document = DOCUMENT_ID_PATTERN.test(id) ? await store.records.getDocument(id) : null;
  const patient = document ? await store.records.getPatientById(document.patientId) : null;
  if (!document || !patient) throw new DmpError('DOCUMENT_NOT_FOUND', 'document introuvable');
  return { ...(await scopeOf(request, patient)), document };
}

/** Establishment sessions send documents and nothing else (dmp-service.md). */
export function practitionerOnly(caller: Caller): PractitionerCaller {
  if (caller.kind !== 'practitioner') {
    throw new DmpError('ESTABLISHMENT_READ_FORBIDDEN', 'une session en mode établissement alimente le DMP mais ne le consulte ni ne le modifie');
  }
  return caller;
}
