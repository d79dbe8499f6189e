// The patient portal's data operations (src/dmp/portal): the patient's own row (activation,
// secret code, contact, TOTP, médecin traitant, oppositions), the documents he may list, deletion
// requests, the authorisations he decides (blocking included), one-time passwords, the outbox as
// the gateway reads it, shared rate-limit counters and his trace chain newest first. What the
// practitioner-side records already do (documents, their content and confidentiality, logical
// deletion, closing, notifications) the portal does through `records` (records-repository.ts).
// Same SQL for SQLite and PostgreSQL (`?` placeholders, parameters only), reached as
// `store.portal` or `tx.portal` inside a transaction. Flags are bound as booleans.
import { authorizationFromRow, type RecordsAuthorization, type RecordsAuthorizationStatus } from './records-repository.js';
import type { SqlExecutor, SqlRow } from './sql-executor.js';
import { rowBytesOrNull, rowFlag, rowInt, rowIntOrNull, rowText, rowTextOrNull } from './sql-rows.js';

export type PortalContactKind = 'sms' | 'email';

/** A DMP as the portal needs it (patients row, without the traits). */
export interface PortalPatient {
  readonly id: string;
  readonly insOid: string;
  readonly insValue: string;
  readonly status: 'active' | 'closed';
  readonly closedAt: number | null;
  readonly medecinTraitantId: string | null;
  readonly opposesBrisDeGlace: boolean;
  readonly opposesCentre15: boolean;
  readonly activationCodeHash: string | null;
  readonly activationExpiresAt: number | null;
  readonly activatedAt: number | null;
  readonly portalSecretHash: string | null;
  readonly portalContactKind: PortalContactKind | null;
  readonly portalContact: string | null;
  /** The sealed TOTP secret (src/dmp/portal/totp.ts), or null when none is enrolled. */
  readonly portalTotpSecret: Uint8Array | null;
}

export interface PortalAuthorization extends RecordsAuthorization {
  /** From the practitioners directory when he has logged in at least once. */
  readonly practitioner: { readonly surname: string; readonly givenName: string; readonly professionCode: string; readonly professionLabel: string } | null;
}

export interface AuthorizationWrite {
  readonly patientId: string;
  readonly practitionerId: string;
  readonly status: RecordsAuthorizationStatus;
  readonly blocked: boolean;
  readonly sameRightsAsMedecinTraitant: boolean;
  readonly grantedAt: number | null;
  readonly expiresAt: number | null;
  readonly now: number;
}

export interface PortalOtp {
  readonly id: string;
  readonly patientId: string;
  readonly channel: PortalContactKind;
  readonly codeHash: string;
  readonly attempts: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly usedAt: number | null;
}

export interface OutboxMessage {
  readonly id: string;
  /** `sms`, `email`, `notification`… */
  readonly kind: string;
  readonly recipient: string;
  /** JSON text. */
  readonly payload: string;
  readonly createdAt: number;
  readonly availableAt: number;
  readonly sentAt: number | null;
}

export interface RateLimitSlot {
  readonly windowStart: number;
  readonly count: number;
}

export interface PortalRepository {
  // --- patients -------------------------------------------------------------------------------
  findPatientByIns(oid: string, value: string): Promise<PortalPatient | null>;
  getPatient(id: string): Promise<PortalPatient | null>;
  /**
   * Burns the activation code and sets the portal credentials, only while the row still holds
   * `expectedCodeHash` (two concurrent activations with one code: one wins). False otherwise.
   */
  activatePatient(input: {
    id: string;
    expectedCodeHash: string;
    secretHash: string;
    contactKind: PortalContactKind;
    contact: string;
    now: number;
  }): Promise<boolean>;
  /** Replaces the sealed TOTP secret only while the row holds `expected` (compare-and-set); false otherwise. */
  replaceTotpSecret(patientId: string, expected: Uint8Array | null, next: Uint8Array | null, now: number): Promise<boolean>;
  setMedecinTraitant(patientId: string, practitionerId: string | null, now: number): Promise<void>;
  setOppositions(patientId: string, brisDeGlace: boolean, centre15: boolean, now: number): Promise<void>;

  // --- patient sessions -----------------------------------------------------------------------
  /** Ends every patient session of this DMP (re-activation, closing). */
  deletePatientSessions(patientId: string): Promise<number>;

  // --- documents ------------------------------------------------------------------------------
  /**
   * Ids of the documents the patient lists: not deleted, not INVISIBLE_PATIENT, newest first
   * (creation time, then id), after the (creationTime, id) of `after`. Read them with
   * `records.getDocument`.
   */
  listVisibleDocumentIds(patientId: string, options: { limit: number; after?: { creationTime: number; id: string } }): Promise<string[]>;
  /** Sets deletion_requested_at once; false when it was already set or the document is deleted. */
  requestDocumentDeletion(documentId: string, now: number): Promise<boolean>;

  // --- authorisations -------------------------------------------------------------------------
  /** The patient's authorisations with the practitioners' names, latest change first. */
  listAuthorizations(patientId: string): Promise<PortalAuthorization[]>;
  /** Inserts or replaces the patient's decision about one practitioner (recorded_by = patient), block included. */
  putAuthorization(write: AuthorizationWrite): Promise<void>;
  /** The practitioner as the directory knows him (profession for the médecin traitant check). */
  practitionerProfession(nationalId: string): Promise<{ professionCode: string } | null>;
  /** Display names of practitioners (traces, authorisations). */
  practitionerNames(nationalIds: readonly string[]): Promise<Map<string, { surname: string; givenName: string; professionLabel: string }>>;

  // --- one-time passwords ---------------------------------------------------------------------
  insertOtp(otp: PortalOtp): Promise<void>;
  /** Burns the patient's OTPs still pending (one live OTP per patient); also drops expired or used ones. */
  burnPendingOtps(patientId: string, now: number): Promise<void>;
  getOtp(id: string): Promise<PortalOtp | null>;
  /** Marks a live OTP used (unused, unexpired, attempts left), atomically; false when it was not live. */
  consumeOtp(id: string, now: number, maxAttempts: number): Promise<boolean>;
  /** Counts a wrong code; burns the OTP at `maxAttempts`. */
  recordOtpFailure(id: string, now: number, maxAttempts: number): Promise<void>;

  // --- outbox (written through records.enqueueNotification) ------------------------------------
  /** Messages for a recipient, oldest first (the gateway, tests). */
  listOutbox(recipient: string): Promise<OutboxMessage[]>;

  // --- rate limits (shared by all nodes) ------------------------------------------------------
  /** Adds `delta` to a slot (created at 0) and returns its new count. */
  addRateLimitHits(bucket: string, windowStart: number, delta: number): Promise<number>;
  /** Slots of a bucket with `windowStart > since`, oldest first. */
  rateLimitSlots(bucket: string, since: number): Promise<RateLimitSlot[]>;
  /** Drops the slots of a bucket (a successful login clears its INS bucket). */
  clearRateLimit(bucket: string): Promise<void>;

  // --- housekeeping ---------------------------------------------------------------------------
  /** Drops expired or used OTPs and rate-limit slots older than `rateLimitCutoff`. */
  purgePortal(now: number, rateLimitCutoff: number): Promise<{ otps: number; rateLimits: number }>;
}

// --- rows ---------------------------------------------------------------------------------------

const PATIENT_COLUMNS =
  'id, ins_oid, ins_value, status, closed_at, medecin_traitant_id, opposes_bris_de_glace, opposes_centre_15, activation_code_hash, activation_expires_at, activated_at, portal_secret_hash, portal_contact_kind, portal_contact, portal_totp_secret';

function patientFromRow(row: SqlRow): PortalPatient {
  return {
    id: rowText(row, 'id'),
    insOid: rowText(row, 'ins_oid'),
    insValue: rowText(row, 'ins_value'),
    status: rowText(row, 'status') as PortalPatient['status'],
    closedAt: rowIntOrNull(row, 'closed_at'),
    medecinTraitantId: rowTextOrNull(row, 'medecin_traitant_id'),
    opposesBrisDeGlace: rowFlag(row, 'opposes_bris_de_glace'),
    opposesCentre15: rowFlag(row, 'opposes_centre_15'),
    activationCodeHash: rowTextOrNull(row, 'activation_code_hash'),
    activationExpiresAt: rowIntOrNull(row, 'activation_expires_at'),
    activatedAt: rowIntOrNull(row, 'activated_at'),
    portalSecretHash: rowTextOrNull(row, 'portal_secret_hash'),
    portalContactKind: rowTextOrNull(row, 'portal_contact_kind') as PortalContactKind | null,
    portalContact: rowTextOrNull(row, 'portal_contact'),
    portalTotpSecret: rowBytesOrNull(row, 'portal_totp_secret'),
  };
}

const AUTHORIZATION_COLUMNS =
  'a.patient_id, a.practitioner_id, a.status, a.blocked, a.same_rights_as_medecin_traitant, a.recorded_by, a.granted_at, a.expires_at, a.updated_at, p.surname, p.given_name, p.profession_code, p.profession_label';

/** The records' authorisation row, plus the practitioner's names for the patient's screens. */
function portalAuthorizationFromRow(row: SqlRow): PortalAuthorization {
  const surname = rowTextOrNull(row, 'surname');
  return {
    ...authorizationFromRow(row),
    practitioner:
      surname === null
        ? null
        : {
            surname,
            givenName: rowTextOrNull(row, 'given_name') ?? '',
            professionCode: rowTextOrNull(row, 'profession_code') ?? '',
            professionLabel: rowTextOrNull(row, 'profession_label') ?? '',
          },
  };
}

const OTP_COLUMNS = 'id, patient_id, channel, code_hash, attempts, created_at, expires_at, used_at';

function otpFromRow(row: SqlRow): PortalOtp {
  return {
    id: rowText(row, 'id'),
    patientId: rowText(row, 'patient_id'),
    channel: rowText(row, 'channel') as PortalContactKind,
    codeHash: rowText(row, 'code_hash'),
    attempts: rowInt(row, 'attempts'),
    createdAt: rowInt(row, 'created_at'),
    expiresAt: rowInt(row, 'expires_at'),
    usedAt: rowIntOrNull(row, 'used_at'),
  };
}

const OUTBOX_COLUMNS = 'id, kind, recipient, payload, created_at, available_at, sent_at';

function outboxFromRow(row: SqlRow): OutboxMessage {
  return {
    id: rowText(row, 'id'),
    kind: rowText(row, 'kind'),
    recipient: rowText(row, 'recipient'),
    payload: rowText(row, 'payload'),
    createdAt: rowInt(row, 'created_at'),
    availableAt: rowInt(row, 'available_at'),
    sentAt: rowIntOrNull(row, 'sent_at'),
  };
}

const MAX_PAGE = 1000;

function page(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  return Math.min(limit, MAX_PAGE);
}

export class SqlPortalRepository implements PortalRepository {
  constructor(private readonly db: SqlExecutor) {}

  // --- patients -------------------------------------------------------------------------------

  async findPatientByIns(oid: string, value: string): Promise<PortalPatient | null> {
    const [row] = await this.db.query(`SELECT ${PATIENT_COLUMNS} FROM patients WHERE ins_oid = ? AND ins_value = ?`, [oid, value]);
    return row ? patientFromRow(row) : null;
  }

  async getPatient(id: string): Promise<PortalPatient | null> {
    const [row] = await this.db.query(`SELECT ${PATIENT_COLUMNS} FROM patients WHERE id = ?`, [id]);
    return row ? patientFromRow(row) : null;
  }

  async activatePatient(input: {
    id: string;
    expectedCodeHash: string;
    secretHash: string;
    contactKind: PortalContactKind;
    contact: string;
    now: number;
  }): Promise<boolean> {
    const changed = await this.db.execute(
      `UPDATE patients SET activation_code_hash = NULL, activation_expires_at = NULL, activated_at = ?,
         portal_secret_hash = ?, portal_contact_kind = ?, portal_contact = ?, portal_totp_secret = NULL, updated_at = ?
       WHERE id = ? AND activation_code_hash = ? AND status = 'active'`,
      [input.now, input.secretHash, input.contactKind, input.contact, input.now, input.id, input.expectedCodeHash],
    );
    return changed === 1;
  }

  async replaceTotpSecret(patientId: string, expected: Uint8Array | null, next: Uint8Array | null, now: number): Promise<boolean> {
    const changed =
      expected === null
        ? await this.db.execute('UPDATE patients SET portal_totp_secret = ?, updated_at = ? WHERE id = ? AND portal_totp_secret IS NULL', [next, now, patientId])
        : await this.db.execute('UPDATE patients SET portal_totp_secret = ?, updated_at = ? WHERE id = ? AND portal_totp_secret = ?', [
            next,
            now,
            patientId,
            expected,
          ]);
    return changed === 1;
  }

  async setMedecinTraitant(patientId: string, practitionerId: string | null, now: number): Promise<void> {
    await this.db.execute('UPDATE patients SET medecin_traitant_id = ?, updated_at = ? WHERE id = ?', [practitionerId, now, patientId]);
  }

  async setOppositions(patientId: string, brisDeGlace: boolean, centre15: boolean, now: number): Promise<void> {
    await this.db.execute('UPDATE patients SET opposes_bris_de_glace = ?, opposes_centre_15 = ?, updated_at = ? WHERE id = ?', [
      brisDeGlace,
      centre15,
      now,
      patientId,
    ]);
  }

  // --- patient sessions -----------------------------------------------------------------------

  async deletePatientSessions(patientId: string): Promise<number> {
    return this.db.execute("DELETE FROM sessions WHERE kind = 'patient' AND patient_id = ?", [patientId]);
  }

  // --- documents ------------------------------------------------------------------------------

  async listVisibleDocumentIds(patientId: string, options: { limit: number; after?: { creationTime: number; id: string } }): Promise<string[]> {
    const after = options.after;
    const rows = after
      ? await this.db.query(
          `SELECT id FROM documents
           WHERE patient_id = ? AND status <> 'deleted' AND invisible_patient = ?
             AND (creation_time < ? OR (creation_time = ? AND id < ?))
           ORDER BY creation_time DESC, id DESC LIMIT ?`,
          [patientId, false, after.creationTime, after.creationTime, after.id, page(options.limit)],
        )
      : await this.db.query(
          `SELECT id FROM documents WHERE patient_id = ? AND status <> 'deleted' AND invisible_patient = ?
           ORDER BY creation_time DESC, id DESC LIMIT ?`,
          [patientId, false, page(options.limit)],
        );
    return rows.map((row) => rowText(row, 'id'));
  }

  async requestDocumentDeletion(documentId: string, now: number): Promise<boolean> {
    const changed = await this.db.execute(
      "UPDATE documents SET deletion_requested_at = ?, updated_at = ? WHERE id = ? AND deletion_requested_at IS NULL AND status <> 'deleted'",
      [now, now, documentId],
    );
    return changed === 1;
  }

  // --- authorisations -------------------------------------------------------------------------

  async listAuthorizations(patientId: string): Promise<PortalAuthorization[]> {
    const rows = await this.db.query(
      `SELECT ${AUTHORIZATION_COLUMNS} FROM authorizations a LEFT JOIN practitioners p ON p.national_id = a.practitioner_id
       WHERE a.patient_id = ? ORDER BY a.updated_at DESC, a.practitioner_id`,
      [patientId],
    );
    return rows.map(portalAuthorizationFromRow);
  }

  async putAuthorization(w: AuthorizationWrite): Promise<void> {
    await this.db.execute(
      `INSERT INTO authorizations (patient_id, practitioner_id, status, blocked, same_rights_as_medecin_traitant, recorded_by, granted_at, expires_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'patient', ?, ?, ?)
       ON CONFLICT (patient_id, practitioner_id) DO UPDATE SET
         status = excluded.status, blocked = excluded.blocked,
         same_rights_as_medecin_traitant = excluded.same_rights_as_medecin_traitant,
         recorded_by = excluded.recorded_by, granted_at = excluded.granted_at,
         expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
      [w.patientId, w.practitionerId, w.status, w.blocked, w.sameRightsAsMedecinTraitant, w.grantedAt, w.expiresAt, w.now],
    );
  }

  async practitionerProfession(nationalId: string): Promise<{ professionCode: string } | null> {
    const [row] = await this.db.query('SELECT profession_code FROM practitioners WHERE national_id = ?', [nationalId]);
    return row ? { professionCode: rowText(row, 'profession_code') } : null;
  }

  async practitionerNames(nationalIds: readonly string[]): Promise<Map<string, { surname: string; givenName: string; professionLabel: string }>> {
    const names = new Map<string, { surname: string; givenName: string; professionLabel: string }>();
    const unique = [...new Set(nationalIds)];
    for (let i = 0; i < unique.length; i += 100) {
      const chunk = unique.slice(i, i + 100);
      const rows = await this.db.query(
        `SELECT national_id, surname, given_name, profession_label FROM practitioners WHERE national_id IN (${chunk.map(() => '?').join(', ')})`,
        chunk,
      );
      for (const row of rows) {
        names.set(rowText(row, 'national_id'), {
          surname: rowText(row, 'surname'),
          givenName: rowText(row, 'given_name'),
          professionLabel: rowText(row, 'profession_label'),
        });
      }
    }
    return names;
  }

  // --- one-time passwords ---------------------------------------------------------------------

  async insertOtp(o: PortalOtp): Promise<void> {
    await this.db.execute(`INSERT INTO portal_otps (${OTP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [
      o.id,
      o.patientId,
      o.channel,
      o.codeHash,
      o.attempts,
      o.createdAt,
      o.expiresAt,
      o.usedAt,
    ]);
  }

  async burnPendingOtps(patientId: string, now: number): Promise<void> {
    await this.db.execute('DELETE FROM portal_otps WHERE patient_id = ? AND (expires_at <= ? OR used_at IS NOT NULL)', [patientId, now]);
    await this.db.execute('UPDATE portal_otps SET used_at = ? WHERE patient_id = ? AND used_at IS NULL', [now, patientId]);
  }

  async getOtp(id: string): Promise<PortalOtp | null> {
    const [row] = await this.db.query(`SELECT ${OTP_COLUMNS} FROM portal_otps WHERE id = ?`, [id]);
    return row ? otpFromRow(row) : null;
  }

  async consumeOtp(id: string, now: number, maxAttempts: number): Promise<boolean> {
    const changed = await this.db.execute('UPDATE portal_otps SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ? AND attempts < ?', [
      now,
      id,
      now,
      maxAttempts,
    ]);
    return changed === 1;
  }

  async recordOtpFailure(id: string, now: number, maxAttempts: number): Promise<void> {
    await this.db.execute(
      'UPDATE portal_otps SET attempts = attempts + 1, used_at = CASE WHEN attempts + 1 >= ? THEN ? ELSE used_at END WHERE id = ?',
      [maxAttempts, now, id],
    );
  }

  // --- outbox ---------------------------------------------------------------------------------

  async listOutbox(recipient: string): Promise<OutboxMessage[]> {
    const rows = await this.db.query(`SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE recipient = ? ORDER BY created_at, id`, [recipient]);
    return rows.map(outboxFromRow);
  }

  // --- rate limits ----------------------------------------------------------------------------

  async addRateLimitHits(bucket: string, windowStart: number, delta: number): Promise<number> {
    const [row] = await this.db.query(
      `INSERT INTO rate_limits (bucket, window_start, count) VALUES (?, ?, ?)
       ON CONFLICT (bucket, window_start) DO UPDATE SET count = rate_limits.count + excluded.count
       RETURNING count`,
      [bucket, windowStart, delta],
    );
    return row ? rowInt(row, 'count') : 0;
  }

  async rateLimitSlots(bucket: string, since: number): Promise<RateLimitSlot[]> {
    const rows = await this.db.query('SELECT window_start, count FROM rate_limits WHERE bucket = ? AND window_start > ? ORDER BY window_start', [
      bucket,
      since,
    ]);
    return rows.map((row) => ({ windowStart: rowInt(row, 'window_start'), count: rowInt(row, 'count') }));
  }

  async clearRateLimit(bucket: string): Promise<void> {
    await this.db.execute('DELETE FROM rate_limits WHERE bucket = ?', [bucket]);
  }

  // --- housekeeping ---------------------------------------------------------------------------

  async purgePortal(now: number, rateLimitCutoff: number): Promise<{ otps: number; rateLimits: number }> {
    const otps = await this.db.execute('DELETE FROM portal_otps WHERE expires_at <= ? OR used_at IS NOT NULL', [now]);
    const rateLimits = await this.db.execute('DELETE FROM rate_limits WHERE window_start <= ?', [rateLimitCutoff]);
    return { otps, rateLimits };
  }
}
