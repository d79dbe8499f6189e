// Shapes of the DMP service's API (dmp-service.md "API shape") as the client sends and reads
// them. The paths and the fields the spec names are the contract; the service may add fields,
// so every response type stays open (`[field: string]: unknown`).

/** An INS: the OID naming the kind of identifier (INS-NIR, INS-C, …) and its value. */
export interface Ins {
  oid: string;
  value: string;
}

/** An INS object, or its path form `<oid>:<value>`. */
export type InsRef = Ins | string;

export type AuthorizationStatus = 'none' | 'granted' | 'expired' | 'denied';

export type AccessMode = 'normal' | 'bris_de_glace' | 'centre_15';

/** `X-Access-Mode` (and `X-Access-Reason`, mandatory for break-glass) of a read. */
export interface AccessContext {
  mode: AccessMode;
  /** Free text; required with `bris_de_glace`. */
  reason?: string;
}

export type DocumentStatus = 'approved' | 'deprecated' | 'archived' | 'deleted';

/** The DMP's visibility codes, beside ordinary confidentiality codes. */
export type ConfidentialityCode = 'MASQUE_PS' | 'INVISIBLE_PATIENT' | 'INVISIBLE_REPRESENTANTS_LEGAUX' | (string & {});

/** The practitioner the service authenticated (from the authentication certificate). */
export interface Practitioner {
  nationalId: string;
  idType: 'RPPS' | 'ADELI' | (string & {});
  surname: string;
  givenName: string;
  professionCode: string;
  professionLabel: string;
  specialtyCode?: string | null;
  structureId?: string | null;
  structureName?: string | null;
  [field: string]: unknown;
}

export interface LoginResult {
  /** ISO 8601. */
  expiresAt: string;
  practitioner: Practitioner;
}

/** Identity traits of the patient recorded with the INS (mandatory for an INS-NIR), as the INS teleservice gives them. */
export interface PatientTraits {
  birthSurname?: string;
  /** The birth first names, space-separated. */
  firstNames?: string;
  /** YYYY-MM-DD. */
  birthDate?: string;
  sex?: 'M' | 'F';
  /** INSEE code of the birth place. */
  birthplaceCode?: string;
  usedSurname?: string;
  usedFirstName?: string;
}

export interface CreatePatientRequest {
  ins: Ins;
  traits: PatientTraits;
  /** The patient's recorded consent: must be true. */
  consent: true;
}

/** `GET /v1/patients/{ins}`: the DMP's state and the caller's authorisation. */
export interface PatientStatus {
  ins: Ins;
  status: 'active' | 'closed' | (string & {});
  createdAt?: string;
  closedAt?: string | null;
  /** The caller's authorisation by the patient. */
  authorization: AuthorizationStatus;
  /** The patient blocked the caller. */
  blocked?: boolean;
  sameRightsAsMedecinTraitant?: boolean;
  authorizationRecordedBy?: 'patient' | 'practitioner' | null;
  authorizationUpdatedAt?: string | null;
  /** True when the caller is the patient's médecin traitant DMP. */
  medecinTraitant: boolean;
  hasMedecinTraitant?: boolean;
  [field: string]: unknown;
}

export interface PatientCreated extends PatientStatus {
  traits?: PatientTraits;
  /** One-time activation code of the patient's web access (printed and handed over). */
  activationCode: string;
  activationExpiresAt?: string;
}

export interface AuthorizationUpdate {
  /** Recorded by the practitioner with the patient's agreement. */
  status: Exclude<AuthorizationStatus, 'none'>;
  /** The patient gives the caller the médecin traitant's rights (masked documents). */
  sameRightsAsMedecinTraitant?: boolean;
}

export interface CloseRequest {
  reason: 'patient_request' | 'deces';
  comment?: string;
}

export interface CloseResult {
  status: 'closed';
  closedAt: string;
  [field: string]: unknown;
}

export interface DocumentSearch {
  classCode?: string | string[];
  typeCode?: string | string[];
  status?: DocumentStatus | DocumentStatus[];
  /** ISO 8601 bounds of the creation time. */
  from?: string;
  to?: string;
  limit?: number;
  /** Opaque, from the previous page's `nextCursor`. */
  cursor?: string;
  [parameter: string]: string | number | boolean | readonly string[] | undefined;
}

/** Metadata sent with a document (the service refuses any other member). */
export interface DocumentMetadataInput {
  /** LOINC type of document (XDS typeCode). */
  typeCode: string;
  /** Class of document (XDS classCode); the service derives it from the typeCode when absent. */
  classCode?: string;
  title: string;
  /** Format code, e.g. `urn:ihe:iti:xds-sd:pdf:2008` for a PDF inside a CDA N1 document. */
  format?: string;
  confidentiality?: ConfidentialityCode[];
  /** ISO 8601 with a time zone; default: when the service receives it. */
  creationTime?: string;
  /** Id of the document this one replaces (RPLC). */
  replaces?: string | null;
}

export interface DocumentAuthor {
  kind: 'practitioner' | 'establishment' | 'patient' | (string & {});
  id: string;
  name: string;
  professionCode?: string | null;
  establishmentId?: string | null;
}

export interface DocumentMetadata {
  id: string;
  ins?: Ins;
  classCode?: string;
  typeCode?: string;
  title?: string;
  confidentiality?: ConfidentialityCode[];
  /** What the service found the content to be. */
  format?: 'cda-r2' | 'pdf' | (string & {});
  mimeType?: string;
  status?: DocumentStatus;
  creationTime?: string;
  submittedAt?: string;
  updatedAt?: string;
  author?: DocumentAuthor;
  replaces?: string | null;
  replacedBy?: string | null;
  /** SHA-256 of the content, hex. */
  hash?: string;
  size?: number;
  [field: string]: unknown;
}

export interface DocumentPage {
  documents: DocumentMetadata[];
  /** Null or absent on the last page. */
  nextCursor?: string | null;
  [field: string]: unknown;
}

export interface DocumentUpdate {
  status?: 'approved' | 'archived';
  confidentiality?: ConfidentialityCode[];
}

export interface DocumentContent {
  bytes: Uint8Array;
  /** The response's Content-Type. */
  mediaType: string;
  /** From Content-Disposition, when given. */
  filename?: string;
}

export interface TraceQuery {
  limit?: number;
  cursor?: string;
  [parameter: string]: string | number | boolean | readonly string[] | undefined;
}

export interface TracePage {
  traces: Record<string, unknown>[];
  nextCursor?: string | null;
  [field: string]: unknown;
}
