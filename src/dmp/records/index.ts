// The practitioner side of the DMP records (dmp-service.md, "Patients and access"): small modules
// with one job each — which INS, who the caller is, the access decision, document validation
// (metadata, format, CDA patient, signature), document storage, search, changes, traces and
// emergency notifications. The routes of src/dmp/routes (patients.ts, documents.ts) only wire
// them to HTTP.
export {
  ACCESS_MODES,
  DOCTOR_PROFESSION_CODE,
  decideAccess,
  documentVisibility,
  type AccessDecision,
  type AccessInput,
  type AccessMode,
  type AccessRefusalCode,
  type AccessRequest,
  type AllowedAccess,
  type AuthorizationFacts,
  type DocumentFacts,
  type DocumentVisibility,
  type PatientFacts,
  type Reader,
  type RefusedAccess,
} from './access-decision.js';
export { accessRequestFromHeaders, ACCESS_MODE_HEADER, ACCESS_REASON_HEADER, MAX_REASON_LENGTH } from './access-request.js';
export { callerOf, readerOf, traceActorOf, authorIdOf, type Caller } from './caller.js';
export { changeDocument, deleteDocument, type DocumentChange } from './document-changes.js';
export { checkCdaDocument, detectDocumentFormat, HL7_V3_NAMESPACE, MAX_DOCUMENT_BYTES, type DetectedFormat, type DocumentFormat } from './document-format.js';
export {
  CONFIDENTIALITY_CODES,
  DOCUMENT_ID_PATTERN,
  confidentialityFlags,
  confidentialityOf,
  parseConfidentiality,
  parseDocumentMetadata,
  type ConfidentialityCode,
  type DocumentMetadataInput,
} from './document-metadata.js';
export { searchPatientDocuments, DEFAULT_PAGE, MAX_PAGE, SEARCHABLE_STATUSES, type DocumentPage, type DocumentQuery, type SearchableStatus } from './document-search.js';
export { checkDocumentSignature, type CheckedSignature } from './document-signature.js';
export { readDocumentContent, requireKeyProvider, storeDocument, type DocumentToStore } from './document-storage.js';
export { documentView, type DocumentView } from './document-view.js';
export { notifyEmergencyAccess, EMERGENCY_NOTIFICATION_EVENT, EMERGENCY_NOTIFICATION_KIND } from './emergency-notifications.js';
export { parseNewPatient, parseTraits, type IdentityTraits, type NewPatient } from './patient-identity.js';
export { DMP_INS_OIDS, insFromBody, insFromPath, insPath, isNirFamily, patientChainId } from './patient-ins.js';
export {
  authorizationView,
  closeByPractitioner,
  CLOSE_REASONS,
  createPatient,
  patientStatusView,
  recordAuthorization,
  type AuthorizationChange,
  type AuthorizationView,
  type CloseReason,
  type CreatedPatient,
} from './patient-records.js';
export { openForReading, recordRead, type ReadGate } from './read-gate.js';
export { PatientTrail, traceRefusals, type TraceWhat, type TracedPatient } from './record-trace.js';
export { decodeCursor, encodeCursor, type SearchPosition } from './search-cursor.js';
export { checkWellFormedXml, XmlError, XML_NAMESPACE, type XmlCheckOptions, type XmlStartElement } from './xml-wellformed.js';
