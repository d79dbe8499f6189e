// The practitioner-side records' data operations (src/dmp/records): DMPs, the authorisations a
// practitioner records, documents (metadata in clear for search, content encrypted), and the
// outbox notifications of emergency accesses. Same SQL for SQLite and PostgreSQL (`?`
// placeholders, parameters only), reached as `store.records`, or `tx.records` inside a
// transaction. Tables of migration 2; flags are bound as booleans (SQLite stores 0/1).
import type { SqlExecutor, SqlRow, SqlValue } from './sql-executor.js';
import { rowBytes, rowBytesOrNull, rowFlag, rowInt, rowIntOrNull, rowText, rowTextOrNull } from './sql-rows.js';

export type RecordsPatientStatus = 'active' | 'closed';

/** A DMP (one per INS), without the portal's credentials. */
export interface RecordsPatient {
  readonly id: string;
  readonly insOid: string;
  readonly insValue: string;
  /** Identity traits, JSON text. */
  readonly traits: string;
  readonly status: RecordsPatientStatus;
  readonly consentAt: number;
  /** National id of the practitioner who created it. */
  readonly createdBy: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly closedAt: number | null;
  /** The médecin traitant DMP (declared by the patient on the portal). */
  readonly medecinTraitantId: string | null;
  readonly opposesBrisDeGlace: boolean;
  readonly opposesCentre15: boolean;
  /** Hash of the one-time activation code (src/dmp/portal/activation.ts), null once used. */
  readonly activationCodeHash: string | null;
  readonly activationExpiresAt: number | null;
  readonly activatedAt: number | null;
}

export type RecordsAuthorizationStatus = 'granted' | 'expired' | 'denied';

/** The patient's authorisation of one practitioner. */
export interface RecordsAuthorization {
  readonly patientId: string;
  readonly practitionerId: string;
  readonly status: RecordsAuthorizationStatus;
  /** Blocked by the patient: reads nothing, whatever else holds. */
  readonly blocked: boolean;
  readonly sameRightsAsMedecinTraitant: boolean;
  readonly recordedBy: 'patient' | 'practitioner';
  readonly grantedAt: number | null;
  readonly expiresAt: number | null;
  readonly updatedAt: number;
}

export type RecordsDocumentStatus = 'approved' | 'deprecated' | 'archived' | 'deleted';

/** A document's metadata (in clear, queryable). */
export interface RecordsDocument {
  readonly id: string;
  readonly patientId: string;
  readonly classCode: string;
  readonly typeCode: string;
  /** The confidentiality codes as JSON text; the three flags below say the same and are what reads use. */
  readonly confidentiality: string;
  readonly format: string;
  readonly mimeType: string;
  readonly title: string;
  readonly creationTime: number;
  readonly submittedAt: number;
  readonly updatedAt: number;
  readonly authorKind: 'practitioner' | 'establishment' | 'patient';
  readonly authorId: string;
  readonly authorName: string;
  readonly authorProfessionCode: string | null;
  readonly establishmentId: string | null;
  readonly status: RecordsDocumentStatus;
  readonly replacesId: string | null;
  readonly replacedById: string | null;
  readonly maskedPs: boolean;
  readonly invisiblePatient: boolean;
  readonly invisibleRepresentants: boolean;
  readonly deletionRequestedAt: number | null;
  readonly deletedAt: number | null;
  /** Lower-case hex SHA-256 of the plaintext content. */
  readonly contentSha256: string;
  readonly contentSize: number;
}

/** The encrypted content (EncryptedDocument of src/dmp/crypto) and the detached CMS signature. */
export interface RecordsDocumentContent {
  readonly keyId: string;
  readonly wrappedKey: Uint8Array;
  readonly iv: Uint8Array;
  readonly tag: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly signatureCms: Uint8Array | null;
}

export interface RecordsConfidentialityFlags {
  /** The codes as JSON text (array). */
  readonly json: string;
  readonly maskedPs: boolean;
  readonly invisiblePatient: boolean;
  readonly invisibleRepresentants: boolean;
}

export interface RecordsDocumentSearch {
  readonly patientId: string;
  readonly statuses: readonly Exclude<RecordsDocumentStatus, 'deleted'>[];
  /** Any of these classCodes (absent: any). */
  readonly classCodes?: readonly string[];
  /** Any of these typeCodes (absent: any). */
  readonly typeCodes?: readonly string[];
  /** creation_time >= from (epoch ms). */
  readonly from?: number;
  /** creation_time < to (epoch ms). */
  readonly to?: number;
  /** Only these typeCodes (the authorisation matrix); empty: nothing. */
  readonly visibleTypeCodes: readonly string[];
  /** False: MASQUE_PS documents only when written by `viewerAuthorId`. */
  readonly seesMasked: boolean;
  readonly viewerAuthorId: string;
  /** Keyset paging: the documents after this one in (creation_time DESC, id DESC) order. */
  readonly after?: { readonly creationTime: number; readonly id: string };
  readonly limit: number;
}

export interface RecordsOutboxMessage {
  /** Deterministic ids de-duplicate: a second message with the same id is not queued. */
  readonly id: string;
  readonly kind: string;
  readonly recipient: string;
  /** JSON text. */
  readonly payload: string;
  readonly createdAt: number;
  readonly availableAt: number;
}

export interface RecordsRepository {
  // --- patients -------------------------------------------------------------------------------
  /** Inserts a DMP; false (nothing written) when one exists for this INS. */
  insertPatient(patient: RecordsPatient): Promise<boolean>;
  getPatientByIns(insOid: string, insValue: string): Promise<RecordsPatient | null>;
  getPatientById(id: string): Promise<RecordsPatient | null>;
  /** active -> closed, the activation code dropped; false when it was not active. */
  closePatient(id: string, at: number): Promise<boolean>;

  // --- authorisations -------------------------------------------------------------------------
  getAuthorization(patientId: string, practitionerId: string): Promise<RecordsAuthorization | null>;
  /**
   * Records the patient's agreement on the practitioner's side (recorded_by = practitioner) in one
   * statement that never touches `blocked` and changes nothing for a blocked practitioner (false).
   */
  recordAuthorizationByPractitioner(authorization: Omit<RecordsAuthorization, 'blocked' | 'recordedBy'>): Promise<boolean>;

  // --- documents ------------------------------------------------------------------------------
  insertDocument(metadata: RecordsDocument, content: RecordsDocumentContent): Promise<void>;
  getDocument(id: string): Promise<RecordsDocument | null>;
  getDocumentContent(id: string): Promise<RecordsDocumentContent | null>;
  searchDocuments(search: RecordsDocumentSearch): Promise<RecordsDocument[]>;
  /** RPLC: approved/archived and not yet replaced -> deprecated, replaced by `newId`; false otherwise. */
  deprecateReplacedDocument(oldId: string, newId: string, at: number): Promise<boolean>;
  /** approved <-> archived; false when the document is deprecated or deleted. */
  setDocumentStatus(id: string, status: 'approved' | 'archived', at: number): Promise<boolean>;
  /** New confidentiality codes and flags of a document that is not deleted; false otherwise. */
  setDocumentConfidentiality(id: string, confidentiality: RecordsConfidentialityFlags, at: number): Promise<boolean>;
  /** Logical deletion; false when already deleted. */
  deleteDocumentLogically(id: string, at: number): Promise<boolean>;

  // --- outbox ---------------------------------------------------------------------------------
  /** Queues a notification; false when one with this id is already queued. */
  enqueueNotification(message: RecordsOutboxMessage): Promise<boolean>;
}

// --- rows -----------------------------------------------------------------------------------------

const PATIENT_COLUMNS =
  'id, ins_oid, ins_value, traits, status, consent_at, created_by, created_at, updated_at, closed_at, medecin_traitant_id, opposes_bris_de_glace, opposes_centre_15, activation_code_hash, activation_expires_at, activated_at';

function patientFromRow(row: SqlRow): RecordsPatient {
  return {
    id: rowText(row, 'id'),
    insOid: rowText(row, 'ins_oid'),
    insValue: rowText(row, 'ins_value'),
    traits: rowText(row, 'traits'),
    status: rowText(row, 'status') as RecordsPatientStatus,
    consentAt: rowInt(row, 'consent_at'),
    createdBy: rowText(row, 'created_by'),
    createdAt: rowInt(row, 'created_at'),
    updatedAt: rowInt(row, 'updated_at'),
    closedAt: rowIntOrNull(row, 'closed_at'),
    medecinTraitantId: rowTextOrNull(row, 'medecin_traitant_id'),
    opposesBrisDeGlace: rowFlag(row, 'opposes_bris_de_glace'),
    opposesCentre15: rowFlag(row, 'opposes_centre_15'),
    activationCodeHash: rowTextOrNull(row, 'activation_code_hash'),
    activationExpiresAt: rowIntOrNull(row, 'activation_expires_at'),
    activatedAt: rowIntOrNull(row, 'activated_at'),
  };
}

const AUTHORIZATION_COLUMNS =
  'patient_id, practitioner_id, status, blocked, same_rights_as_medecin_traitant, recorded_by, granted_at, expires_at, updated_at';

export function authorizationFromRow(row: SqlRow): RecordsAuthorization {
  return {
    patientId: rowText(row, 'patient_id'),
    practitionerId: rowText(row, 'practitioner_id'),
    status: rowText(row, 'status') as RecordsAuthorizationStatus,
    blocked: rowFlag(row, 'blocked'),
    sameRightsAsMedecinTraitant: rowFlag(row, 'same_rights_as_medecin_traitant'),
    recordedBy: rowText(row, 'recorded_by') as RecordsAuthorization['recordedBy'],
    grantedAt: rowIntOrNull(row, 'granted_at'),
    expiresAt: rowIntOrNull(row, 'expires_at'),
    updatedAt: rowInt(row, 'updated_at'),
  };
}

const DOCUMENT_COLUMNS =
  'id, patient_id, class_code, type_code, confidentiality, format, mime_type, title, creation_time, submitted_at, updated_at, author_kind, author_id, author_name, author_profession_code, establishment_id, status, replaces_id, replaced_by_id, masked_ps, invisible_patient, invisible_representants, deletion_requested_at, deleted_at, content_sha256, content_size';

const CONTENT_COLUMNS = 'content_key_id, content_wrapped_key, content_nonce, content_tag, content_ciphertext, signature_cms';

function documentFromRow(row: SqlRow): RecordsDocument {
  return {
    id: rowText(row, 'id'),
    patientId: rowText(row, 'patient_id'),
    classCode: rowText(row, 'class_code'),
    typeCode: rowText(row, 'type_code'),
    confidentiality: rowText(row, 'confidentiality'),
    format: rowText(row, 'format'),
    mimeType: rowText(row, 'mime_type'),
    title: rowText(row, 'title'),
    creationTime: rowInt(row, 'creation_time'),
    submittedAt: rowInt(row, 'submitted_at'),
    updatedAt: rowInt(row, 'updated_at'),
    authorKind: rowText(row, 'author_kind') as RecordsDocument['authorKind'],
    authorId: rowText(row, 'author_id'),
    authorName: rowText(row, 'author_name'),
    authorProfessionCode: rowTextOrNull(row, 'author_profession_code'),
    establishmentId: rowTextOrNull(row, 'establishment_id'),
    status: rowText(row, 'status') as RecordsDocumentStatus,
    replacesId: rowTextOrNull(row, 'replaces_id'),
    replacedById: rowTextOrNull(row, 'replaced_by_id'),
    maskedPs: rowFlag(row, 'masked_ps'),
    invisiblePatient: rowFlag(row, 'invisible_patient'),
    invisibleRepresentants: rowFlag(row, 'invisible_representants'),
    deletionRequestedAt: rowIntOrNull(row, 'deletion_requested_at'),
    deletedAt: rowIntOrNull(row, 'deleted_at'),
    contentSha256: rowText(row, 'content_sha256'),
    contentSize: rowInt(row, 'content_size'),
  };
}

function contentFromRow(row: SqlRow): RecordsDocumentContent {
  return {
    keyId: rowText(row, 'content_key_id'),
    wrappedKey: rowBytes(row, 'content_wrapped_key'),
    iv: rowBytes(row, 'content_nonce'),
    tag: rowBytes(row, 'content_tag'),
    ciphertext: rowBytes(row, 'content_ciphertext'),
    signatureCms: rowBytesOrNull(row, 'signature_cms'),
  };
}

const marks = (count: number): string => Array.from({ length: count }, () => '?').join(', ');

const MAX_SEARCH_PAGE = 1000;

export class SqlRecordsRepository implements RecordsRepository {
  constructor(private readonly db: SqlExecutor) {}

  // --- patients -------------------------------------------------------------------------------

  async insertPatient(p: RecordsPatient): Promise<boolean> {
    const changed = await this.db.execute(
      `INSERT INTO patients (${PATIENT_COLUMNS}) VALUES (${marks(16)}) ON CONFLICT (ins_oid, ins_value) DO NOTHING`,
      [
        p.id,
        p.insOid,
        p.insValue,
        p.traits,
        p.status,
        p.consentAt,
        p.createdBy,
        p.createdAt,
        p.updatedAt,
        p.closedAt,
        p.medecinTraitantId,
        p.opposesBrisDeGlace,
        p.opposesCentre15,
        p.activationCodeHash,
        p.activationExpiresAt,
        p.activatedAt,
      ],
    );
    return changed === 1;
  }

  async getPatientByIns(insOid: string, insValue: string): Promise<RecordsPatient | null> {
    const [row] = await this.db.query(`SELECT ${PATIENT_COLUMNS} FROM patients WHERE ins_oid = ? AND ins_value = ?`, [insOid, insValue]);
    return row ? patientFromRow(row) : null;
  }

  async getPatientById(id: string): Promise<RecordsPatient | null> {
    const [row] = await this.db.query(`SELECT ${PATIENT_COLUMNS} FROM patients WHERE id = ?`, [id]);
    return row ? patientFromRow(row) : null;
  }

  async closePatient(id: string, at: number): Promise<boolean> {
    const changed = await this.db.execute(
      `UPDATE patients SET status = 'closed', closed_at = ?, updated_at = ?, activation_code_hash = NULL, activation_expires_at = NULL
       WHERE id = ? AND status = 'active'`,
      [at, at, id],
    );
    return changed === 1;
  }

  // --- authorisations -------------------------------------------------------------------------

  async getAuthorization(patientId: string, practitionerId: string): Promise<RecordsAuthorization | null> {
    const [row] = await this.db.query(`SELECT ${AUTHORIZATION_COLUMNS} FROM authorizations WHERE patient_id = ? AND practitioner_id = ?`, [
      patientId,
      practitionerId,
    ]);
    return row ? authorizationFromRow(row) : null;
  }

  async recordAuthorizationByPractitioner(a: Omit<RecordsAuthorization, 'blocked' | 'recordedBy'>): Promise<boolean> {
    const changed = await this.db.execute(
      `INSERT INTO authorizations (${AUTHORIZATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, 'practitioner', ?, ?, ?)
       ON CONFLICT (patient_id, practitioner_id) DO UPDATE SET
         status = excluded.status, same_rights_as_medecin_traitant = excluded.same_rights_as_medecin_traitant,
         recorded_by = excluded.recorded_by, granted_at = excluded.granted_at, expires_at = excluded.expires_at,
         updated_at = excluded.updated_at
       WHERE authorizations.blocked = ?`,
      [a.patientId, a.practitionerId, a.status, false, a.sameRightsAsMedecinTraitant, a.grantedAt, a.expiresAt, a.updatedAt, false],
    );
    return changed === 1;
  }

  // --- documents ------------------------------------------------------------------------------

  async insertDocument(d: RecordsDocument, c: RecordsDocumentContent): Promise<void> {
    await this.db.execute(`INSERT INTO documents (${DOCUMENT_COLUMNS}, ${CONTENT_COLUMNS}) VALUES (${marks(32)})`, [
      d.id,
      d.patientId,
      d.classCode,
      d.typeCode,
      d.confidentiality,
      d.format,
      d.mimeType,
      d.title,
      d.creationTime,
      d.submittedAt,
      d.updatedAt,
      d.authorKind,
      d.authorId,
      d.authorName,
      d.authorProfessionCode,
      d.establishmentId,
      d.status,
      d.replacesId,
      d.replacedById,
      d.maskedPs,
      d.invisiblePatient,
      d.invisibleRepresentants,
      d.deletionRequestedAt,
      d.deletedAt,
      d.contentSha256,
      d.contentSize,
      c.keyId,
      c.wrappedKey,
      c.iv,
      c.tag,
      c.ciphertext,
      c.signatureCms,
    ]);
  }

  async getDocument(id: string): Promise<RecordsDocument | null> {
    const [row] = await this.db.query(`SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE id = ?`, [id]);
    return row ? documentFromRow(row) : null;
  }

  async getDocumentContent(id: string): Promise<RecordsDocumentContent | null> {
    const [row] = await this.db.query(`SELECT ${CONTENT_COLUMNS} FROM documents WHERE id = ?`, [id]);
    return row ? contentFromRow(row) : null;
  }

  async searchDocuments(q: RecordsDocumentSearch): Promise<RecordsDocument[]> {
    if (q.visibleTypeCodes.length === 0 || q.statuses.length === 0) return [];
    if (!Number.isInteger(q.limit) || q.limit < 1) throw new RangeError('limit must be a positive integer');
    const where = ['patient_id = ?', `status IN (${marks(q.statuses.length)})`, `type_code IN (${marks(q.visibleTypeCodes.length)})`];
    const params: SqlValue[] = [q.patientId, ...q.statuses, ...q.visibleTypeCodes];
    if (!q.seesMasked) {
      where.push('(masked_ps = ? OR author_id = ?)');
      params.push(false, q.viewerAuthorId);
    }
    if (q.classCodes !== undefined) {
      if (q.classCodes.length === 0) return [];
      where.push(`class_code IN (${marks(q.classCodes.length)})`);
      params.push(...q.classCodes);
    }
    if (q.typeCodes !== undefined) {
      if (q.typeCodes.length === 0) return [];
      where.push(`type_code IN (${marks(q.typeCodes.length)})`);
      params.push(...q.typeCodes);
    }
    if (q.from !== undefined) {
      where.push('creation_time >= ?');
      params.push(q.from);
    }
    if (q.to !== undefined) {
      where.push('creation_time < ?');
      params.push(q.to);
    }
    if (q.after !== undefined) {
      where.push('(creation_time < ? OR (creation_time = ? AND id < ?))');
      params.push(q.after.creationTime, q.after.creationTime, q.after.id);
    }
    params.push(Math.min(q.limit, MAX_SEARCH_PAGE));
    const rows = await this.db.query(
      `SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE ${where.join(' AND ')} ORDER BY creation_time DESC, id DESC LIMIT ?`,
      params,
    );
    return rows.map(documentFromRow);
  }

  async deprecateReplacedDocument(oldId: string, newId: string, at: number): Promise<boolean> {
    const changed = await this.db.execute(
      `UPDATE documents SET status = 'deprecated', replaced_by_id = ?, updated_at = ?
       WHERE id = ? AND status IN ('approved', 'archived') AND replaced_by_id IS NULL`,
      [newId, at, oldId],
    );
    return changed === 1;
  }

  async setDocumentStatus(id: string, status: 'approved' | 'archived', at: number): Promise<boolean> {
    const changed = await this.db.execute("UPDATE documents SET status = ?, updated_at = ? WHERE id = ? AND status IN ('approved', 'archived')", [
      status,
      at,
      id,
    ]);
    return changed === 1;
  }

  async setDocumentConfidentiality(id: string, c: RecordsConfidentialityFlags, at: number): Promise<boolean> {
    const changed = await this.db.execute(
      `UPDATE documents SET confidentiality = ?, masked_ps = ?, invisible_patient = ?, invisible_representants = ?, updated_at = ?
       WHERE id = ? AND status <> 'deleted'`,
      [c.json, c.maskedPs, c.invisiblePatient, c.invisibleRepresentants, at, id],
    );
    return changed === 1;
  }

  async deleteDocumentLogically(id: string, at: number): Promise<boolean> {
    const changed = await this.db.execute("UPDATE documents SET status = 'deleted', deleted_at = ?, updated_at = ? WHERE id = ? AND status <> 'deleted'", [
      at,
      at,
      id,
    ]);
    return changed === 1;
  }

  // --- outbox ---------------------------------------------------------------------------------

  async enqueueNotification(m: RecordsOutboxMessage): Promise<boolean> {
    const changed = await this.db.execute(
      'INSERT INTO outbox (id, kind, recipient, payload, created_at, available_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
      [m.id, m.kind, m.recipient, m.payload, m.createdAt, m.availableAt],
    );
    return changed === 1;
  }
}
