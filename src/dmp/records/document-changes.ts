// Changes to a stored document, by its author only (403 NOT_AUTHOR otherwise):
//   PATCH  status approved <-> archived (a deprecated or deleted document keeps its state: 409);
//          confidentiality codes (INVISIBLE_PATIENT until the announcement consultation,
//          INVISIBLE_REPRESENTANTS_LEGAUX, MASQUE_PS); masking is the patient's decision, so an
//          author may add MASQUE_PS but never lift it (403 UNMASK_PATIENT_ONLY)
//   DELETE logical deletion (status deleted; the content stays encrypted, hidden from everyone)
// A practitioner the patient blocked changes nothing (403 BLOCKED_BY_PATIENT); a closed DMP is
// not changed (403 DMP_CLOSED). Establishment sessions send only (requirePractitioner).
import { DmpError } from '../errors.js';
import type { DmpStore, RecordsDocument, RecordsPatient } from '../store/index.js';
import type { Caller } from './caller.js';
import { confidentialityFlags, confidentialityOf, type ConfidentialityCode } from './document-metadata.js';
import type { PatientTrail } from './record-trace.js';

type PractitionerCaller = Extract<Caller, { kind: 'practitioner' }>;

export interface DocumentChange {
  readonly status?: 'approved' | 'archived';
  readonly confidentiality?: readonly ConfidentialityCode[];
}

async function checkAuthorOfActiveDmp(store: DmpStore, patient: RecordsPatient, document: RecordsDocument, caller: PractitionerCaller): Promise<void> {
  const authorization = await store.records.getAuthorization(patient.id, caller.nationalId);
  if (authorization?.blocked === true) throw new DmpError('BLOCKED_BY_PATIENT', 'le patient a bloqué votre accès à son DMP');
  if (patient.status !== 'active') throw new DmpError('DMP_CLOSED', 'ce DMP est fermé');
  if (document.status === 'deleted') throw new DmpError('DOCUMENT_NOT_FOUND', 'document supprimé');
  if (document.authorKind !== 'practitioner' || document.authorId !== caller.nationalId) {
    throw new DmpError('NOT_AUTHOR', 'seul l’auteur du document peut le modifier ou le supprimer');
  }
}

export async function changeDocument(
  store: DmpStore,
  patient: RecordsPatient,
  document: RecordsDocument,
  caller: PractitionerCaller,
  change: DocumentChange,
  trail: PatientTrail,
  now: Date,
): Promise<RecordsDocument> {
  await checkAuthorOfActiveDmp(store, patient, document, caller);
  if (change.confidentiality !== undefined && document.maskedPs && !change.confidentiality.includes('MASQUE_PS')) {
    throw new DmpError('UNMASK_PATIENT_ONLY', 'le masquage aux professionnels est levé par le patient, sur son portail');
  }
  const at = now.getTime();
  return store.transaction(async (tx) => {
    if (change.status !== undefined && !(await tx.records.setDocumentStatus(document.id, change.status, at))) {
      throw new DmpError('DOCUMENT_STATE_CONFLICT', `un document ${document.status === 'deprecated' ? 'remplacé' : 'supprimé'} ne change plus de statut`);
    }
    if (change.confidentiality !== undefined && !(await tx.records.setDocumentConfidentiality(document.id, confidentialityFlags(change.confidentiality), at))) {
      throw new DmpError('DOCUMENT_STATE_CONFLICT', 'document supprimé');
    }
    await trail.ok(tx, {
      action: 'document.update',
      target: `document:${document.id}`,
      detail: {
        ...(change.status === undefined ? {} : { status: { from: document.status, to: change.status } }),
        ...(change.confidentiality === undefined ? {} : { confidentiality: { from: confidentialityOf(document), to: [...change.confidentiality] } }),
      },
    });
    const updated = await tx.records.getDocument(document.id);
    if (!updated) throw new Error('updated document is missing');
    return updated;
  });
}

export async function deleteDocument(
  store: DmpStore,
  patient: RecordsPatient,
  document: RecordsDocument,
  caller: PractitionerCaller,
  trail: PatientTrail,
  now: Date,
): Promise<void> {
  await checkAuthorOfActiveDmp(store, patient, document, caller);
  await store.transaction(async (tx) => {
    if (!(await tx.records.deleteDocumentLogically(document.id, now.getTime()))) throw new DmpError('DOCUMENT_NOT_FOUND', 'document déjà supprimé');
    await trail.ok(tx, { action: 'document.delete', target: `document:${document.id}`, detail: { previousStatus: document.status } });
  });
}
