// DmpRepository in SQL understood by both SQLite (≥ 3.35: RETURNING, ON CONFLICT) and
// PostgreSQL. Parameterised statements only. Column names are snake_case; records camelCase.
import { SqlPortalRepository, type PortalRepository } from './portal-repository.js';
import { SqlRecordsRepository, type RecordsRepository } from './records-repository.js';
import { SqlMessagingRepository, type MessagingRepository } from './messaging-repository.js';
import type { SqlExecutor, SqlRow } from './sql-executor.js';
import type {
  ChallengeRecord,
  DmpRepository,
  PractitionerRecord,
  SessionActivity,
  SessionKind,
  SessionRecord,
  TraceRow,
} from './types.js';

// --- row readers (the driver gives unknown; these check the shape they rely on) ---------------

function text(row: SqlRow, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new TypeError(`store: column ${column} is not text`);
  return value;
}

function textOrNull(row: SqlRow, column: string): string | null {
  const value = row[column];
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw new TypeError(`store: column ${column} is not text`);
  return value;
}

function int(row: SqlRow, column: string): number {
  const value = row[column];
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || typeof value === 'string') return Number(value);
  throw new TypeError(`store: column ${column} is not a number`);
}

function intOrNull(row: SqlRow, column: string): number | null {
  const value = row[column];
  return value === null || value === undefined ? null : int(row, column);
}

function bytes(row: SqlRow, column: string): Uint8Array {
  const value = row[column];
  if (!(value instanceof Uint8Array)) throw new TypeError(`store: column ${column} is not binary`);
  return new Uint8Array(value);
}

function jsonOrNull<T>(row: SqlRow, column: string): T | null {
  const value = textOrNull(row, column);
  return value === null ? null : (JSON.parse(value) as T);
}

const CHALLENGE_COLUMNS = 'challenge, key_thumbprint, created_at, expires_at, used_at';

function challengeFromRow(row: SqlRow): ChallengeRecord {
  return {
    challenge: text(row, 'challenge'),
    keyThumbprint: text(row, 'key_thumbprint'),
    createdAt: int(row, 'created_at'),
    expiresAt: int(row, 'expires_at'),
    usedAt: intOrNull(row, 'used_at'),
  };
}

const PRACTITIONER_COLUMNS =
  'national_id, id_type, surname, given_name, profession_code, profession_label, specialty_code, structure_id, structure_name, auth_certificate, auth_certificate_fingerprint, first_seen_at, last_login_at';

function practitionerFromRow(row: SqlRow): PractitionerRecord {
  return {
    nationalId: text(row, 'national_id'),
    idType: text(row, 'id_type'),
    surname: text(row, 'surname'),
    givenName: text(row, 'given_name'),
    professionCode: text(row, 'profession_code'),
    professionLabel: text(row, 'profession_label'),
    specialtyCode: textOrNull(row, 'specialty_code'),
    structureId: textOrNull(row, 'structure_id'),
    structureName: textOrNull(row, 'structure_name'),
    authCertificate: bytes(row, 'auth_certificate'),
    authCertificateFingerprint: text(row, 'auth_certificate_fingerprint'),
    firstSeenAt: int(row, 'first_seen_at'),
    lastLoginAt: int(row, 'last_login_at'),
  };
}

const SESSION_COLUMNS =
  'token_hash, kind, key_thumbprint, practitioner_id, patient_id, establishment_id, establishment_name, establishment_certificate_fingerprint, user_id, user_name, activity, created_at, last_seen_at, expires_at';

function sessionFromRow(row: SqlRow): SessionRecord {
  const establishmentId = textOrNull(row, 'establishment_id');
  const userId = textOrNull(row, 'user_id');
  return {
    tokenHash: text(row, 'token_hash'),
    kind: text(row, 'kind') as SessionKind,
    keyThumbprint: textOrNull(row, 'key_thumbprint'),
    practitionerId: textOrNull(row, 'practitioner_id'),
    patientId: textOrNull(row, 'patient_id'),
    establishment:
      establishmentId === null
        ? null
        : {
            id: establishmentId,
            name: textOrNull(row, 'establishment_name') ?? '',
            certificateFingerprint: textOrNull(row, 'establishment_certificate_fingerprint') ?? '',
          },
    user: userId === null ? null : { id: userId, name: textOrNull(row, 'user_name') ?? '' },
    activity: jsonOrNull<SessionActivity>(row, 'activity'),
    createdAt: int(row, 'created_at'),
    lastSeenAt: int(row, 'last_seen_at'),
    expiresAt: int(row, 'expires_at'),
  };
}

const TRACE_COLUMNS = 'chain_id, seq, at, patient_id, actor_id, action, result, prev_hash, hash, entry';

function traceFromRow(row: SqlRow): TraceRow {
  return {
    chainId: text(row, 'chain_id'),
    seq: int(row, 'seq'),
    at: int(row, 'at'),
    patientId: textOrNull(row, 'patient_id'),
    actorId: textOrNull(row, 'actor_id'),
    action: text(row, 'action'),
    result: text(row, 'result'),
    prevHash: text(row, 'prev_hash'),
    hash: text(row, 'hash'),
    entry: text(row, 'entry'),
  };
}

const MAX_PAGE = 1000;

function pageSize(limit: number | undefined, fallback: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  return Math.min(limit, MAX_PAGE);
}

export class SqlRepository implements DmpRepository {
  constructor(protected readonly db: SqlExecutor) {}

  // --- challenges -----------------------------------------------------------------------------

  async insertChallenge(c: ChallengeRecord): Promise<void> {
    await this.db.execute('UPDATE challenges SET used_at = ? WHERE key_thumbprint = ? AND used_at IS NULL', [
      c.createdAt,
      c.keyThumbprint,
    ]);
    await this.db.execute(`INSERT INTO challenges (${CHALLENGE_COLUMNS}) VALUES (?, ?, ?, ?, ?)`, [
      c.challenge,
      c.keyThumbprint,
      c.createdAt,
      c.expiresAt,
      c.usedAt,
    ]);
  }

  async consumeChallenge(keyThumbprint: string, now: number): Promise<ChallengeRecord | null> {
    const rows = await this.db.query(
      `UPDATE challenges SET used_at = ? WHERE key_thumbprint = ? AND used_at IS NULL AND expires_at > ? RETURNING ${CHALLENGE_COLUMNS}`,
      [now, keyThumbprint, now],
    );
    const burnt = rows.map(challengeFromRow).sort((a, b) => b.createdAt - a.createdAt);
    return burnt[0] ?? null;
  }

  // --- DPoP replay cache --------------------------------------------------------------------

  async rememberJti(jti: string, expiresAt: number): Promise<boolean> {
    const changed = await this.db.execute('INSERT INTO dpop_jtis (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING', [
      jti,
      expiresAt,
    ]);
    return changed === 1;
  }

  // --- practitioners --------------------------------------------------------------------------

  async upsertPractitioner(p: PractitionerRecord): Promise<void> {
    await this.db.execute(
      `INSERT INTO practitioners (${PRACTITIONER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (national_id) DO UPDATE SET
         id_type = excluded.id_type, surname = excluded.surname, given_name = excluded.given_name,
         profession_code = excluded.profession_code, profession_label = excluded.profession_label,
         specialty_code = excluded.specialty_code, structure_id = excluded.structure_id,
         structure_name = excluded.structure_name, auth_certificate = excluded.auth_certificate,
         auth_certificate_fingerprint = excluded.auth_certificate_fingerprint,
         last_login_at = excluded.last_login_at`,
      [
        p.nationalId,
        p.idType,
        p.surname,
        p.givenName,
        p.professionCode,
        p.professionLabel,
        p.specialtyCode,
        p.structureId,
        p.structureName,
        p.authCertificate,
        p.authCertificateFingerprint,
        p.firstSeenAt,
        p.lastLoginAt,
      ],
    );
  }

  async getPractitioner(nationalId: string): Promise<PractitionerRecord | null> {
    const [row] = await this.db.query(`SELECT ${PRACTITIONER_COLUMNS} FROM practitioners WHERE national_id = ?`, [nationalId]);
    return row ? practitionerFromRow(row) : null;
  }

  // --- sessions -------------------------------------------------------------------------------

  async insertSession(s: SessionRecord): Promise<void> {
    await this.db.execute(`INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      s.tokenHash,
      s.kind,
      s.keyThumbprint,
      s.practitionerId,
      s.patientId,
      s.establishment?.id ?? null,
      s.establishment?.name ?? null,
      s.establishment?.certificateFingerprint ?? null,
      s.user?.id ?? null,
      s.user?.name ?? null,
      s.activity === null ? null : JSON.stringify(s.activity),
      s.createdAt,
      s.lastSeenAt,
      s.expiresAt,
    ]);
  }

  async getSession(tokenHash: string): Promise<SessionRecord | null> {
    const [row] = await this.db.query(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE token_hash = ?`, [tokenHash]);
    return row ? sessionFromRow(row) : null;
  }

  async touchSession(tokenHash: string, now: number): Promise<void> {
    await this.db.execute('UPDATE sessions SET last_seen_at = ? WHERE token_hash = ? AND last_seen_at < ?', [now, tokenHash, now]);
  }

  async deleteSession(tokenHash: string): Promise<boolean> {
    return (await this.db.execute('DELETE FROM sessions WHERE token_hash = ?', [tokenHash])) > 0;
  }

  // --- traces ---------------------------------------------------------------------------------

  async lastTrace(chainId: string): Promise<TraceRow | null> {
    await this.db.lockKey(`trace-chain:${chainId}`);
    const [row] = await this.db.query(`SELECT ${TRACE_COLUMNS} FROM traces WHERE chain_id = ? ORDER BY seq DESC LIMIT 1`, [chainId]);
    return row ? traceFromRow(row) : null;
  }

  async appendTrace(t: TraceRow): Promise<void> {
    await this.db.execute(
      'INSERT INTO trace_heads (chain_id, seq, hash) VALUES (?, ?, ?) ON CONFLICT (chain_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash',
      [t.chainId, t.seq, t.hash],
    );
    await this.db.execute(`INSERT INTO traces (${TRACE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      t.chainId,
      t.seq,
      t.at,
      t.patientId,
      t.actorId,
      t.action,
      t.result,
      t.prevHash,
      t.hash,
      t.entry,
    ]);
  }

  async listTraces(chainId: string, options: { afterSeq?: number; limit?: number } = {}): Promise<TraceRow[]> {
    const rows = await this.db.query(
      `SELECT ${TRACE_COLUMNS} FROM traces WHERE chain_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      [chainId, options.afterSeq ?? -1, pageSize(options.limit, MAX_PAGE)],
    );
    return rows.map(traceFromRow);
  }

  async traceHead(chainId: string): Promise<{ seq: number; hash: string } | null> {
    const [row] = await this.db.query('SELECT seq, hash FROM trace_heads WHERE chain_id = ?', [chainId]);
    return row ? { seq: int(row, 'seq'), hash: text(row, 'hash') } : null;
  }

  async listTraceChains(options: { after?: string; limit?: number } = {}): Promise<string[]> {
    const after = options.after ?? '';
    const rows = await this.db.query(
      `SELECT chain_id FROM (
         SELECT chain_id FROM traces WHERE chain_id > ? UNION SELECT chain_id FROM trace_heads WHERE chain_id > ?
       ) AS chains ORDER BY chain_id LIMIT ?`,
      [after, after, pageSize(options.limit, MAX_PAGE)],
    );
    return rows.map((row) => text(row, 'chain_id'));
  }

  // --- housekeeping ---------------------------------------------------------------------------

  async purgeExpired(now: number, idleCutoff: number): Promise<{ challenges: number; jtis: number; sessions: number }> {
    const challenges = await this.db.execute('DELETE FROM challenges WHERE expires_at <= ?', [now]);
    const jtis = await this.db.execute('DELETE FROM dpop_jtis WHERE expires_at <= ?', [now]);
    const sessions = await this.db.execute('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?', [now, idleCutoff]);
    return { challenges, jtis, sessions };
  }

  // --- patient portal -------------------------------------------------------------------------

  get portal(): PortalRepository {
    return new SqlPortalRepository(this.db);
  }

  // --- practitioner-side records ----------------------------------------------------------------

  get records(): RecordsRepository {
    return new SqlRecordsRepository(this.db);
  }

  // --- secure messaging -------------------------------------------------------------------------

  get messaging(): MessagingRepository {
    return new SqlMessagingRepository(this.db);
  }
}
