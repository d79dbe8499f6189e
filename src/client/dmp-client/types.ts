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

/** Identity traits of the patient recorded with the INS (names as the INS teleservice gives them). */
export interface PatientTraits {
  birthName?: string;
  firstName?: string;
  givenNames?: string;
  usedName?: string;
  /** YYYY-MM-DD. */
  birthDate?: string;
  sex?: 'M' | 'F' | 'I' | (string & {});
  /** INSEE code of the birth place. */
  birthPlace?: string;
  [trait: string]: unknown;
}

export interface CreatePatientRequest {
  ins: Ins;
  traits: PatientTraits;
  /** The patient's recorded consent: must be true. */
  consent: true;
}

export interface PatientCreated {
  ins?: Ins;
  /** One-time activation code of the patient's web access (printed and handed over). */
  activationCode: string;
  [field: string]: unknown;
}

export interface PatientRecord {
  ins?: Ins;
  status?: string;
  /** The caller's authorisation by the patient. */
  authorization?: AuthorizationStatus;
  /** True when the caller is the patient's médecin traitant DMP. */
  medecinTraitant?: boolean;
  [field: string]: unknown;
}

export interface AuthorizationUpdate {
  /** Recorded by the practitioner with the patient's agreement. */
  status: AuthorizationStatus;
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

/** Metadata sent with a document. */
export interface DocumentMetadataInput {
  /** Class of document (XDS classCode). */
  classCode: string;
  /** LOINC type of document (XDS typeCode). */
  typeCode: string;
  title: string;
  /** Format code, e.g. `urn:ihe:iti:xds-sd:pdf:2008` for a PDF inside a CDA N1 document. */
  format?: string;
  confidentiality?: ConfidentialityCode[];
  /** ISO 8601; default: when the service receives it. */
  creationTime?: string;
  /** Id of the document this one replaces (RPLC). */
  replaces?: string;
  [field: string]: unknown;
}

export interface DocumentMetadata {
  id: string;
  classCode?: string;
  typeCode?: string;
  title?: string;
  format?: string;
  confidentiality?: ConfidentialityCode[];
  status?: DocumentStatus;
  creationTime?: string;
  author?: unknown;
  hash?: string;
  size?: number;
  ins?: Ins;
  [field: string]: unknown;
}

export interface DocumentPage {
  documents: DocumentMetadata[];
  /** Null or absent on the last page. */
  nextCursor?: string | null;
  [field: string]: unknown;
}

export interface DocumentUpdate {
  status?: DocumentStatus;
  confidentiality?: ConfidentialityCode[];
  [field: string]: unknown;
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
