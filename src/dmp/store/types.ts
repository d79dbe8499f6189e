// The DMP store contract: typed records and the one interface both implementations (SQLite,
// PostgreSQL) provide. Every time is epoch milliseconds (UTC). Nothing here keeps state in
// process memory: several service nodes share one PostgreSQL database.
//
// Adding a table's operations (patients, authorizations, documents, outbox…): declare the
// methods in `DmpRepository` below, implement them once in `sql-repository.ts` (the SQL is
// shared by both dialects), and add a migration to BOTH `migrations/sqlite.ts` and
// `migrations/postgres.ts` if the schema changes.
import type { PortalRepository } from './portal-repository.js';
import type { RecordsRepository } from './records-repository.js';
import type { MessagingRepository } from './messaging-repository.js';

export type Dialect = 'sqlite' | 'postgres';

/** A DMP challenge (`POST /v1/auth/challenge`), bound to the DPoP key that asked for it. */
export interface ChallengeRecord {
  /** Base64 with padding, 44 characters. */
  readonly challenge: string;
  /** RFC 7638 thumbprint (base64url SHA-256) of the DPoP public key. */
  readonly keyThumbprint: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly usedAt: number | null;
}

/** A practitioner as last seen at login (from the authentication certificate). */
export interface PractitionerRecord {
  /** National identifier as read from the certificate (e.g. `8` + RPPS): the primary key. */
  readonly nationalId: string;
  readonly idType: string;
  readonly surname: string;
  readonly givenName: string;
  /** TRE_G15 code. */
  readonly professionCode: string;
  readonly professionLabel: string;
  readonly specialtyCode: string | null;
  readonly structureId: string | null;
  readonly structureName: string | null;
  /** DER of the authentication certificate used at the last login. */
  readonly authCertificate: Uint8Array;
  /** SHA-256 hex of that certificate. */
  readonly authCertificateFingerprint: string;
  readonly firstSeenAt: number;
  readonly lastLoginAt: number;
}

export type SessionKind = 'practitioner' | 'establishment' | 'patient';

/** What the practitioner declared at login (one of the card's CPS_ACTIVITY entries). */
export interface SessionActivity {
  readonly structureId?: string;
  readonly structureName?: string;
  /** Sector of activity (TRE_R02 style code, e.g. `SA07`). */
  readonly sector?: string;
  readonly role?: string;
}

export interface SessionRecord {
  /** base64url SHA-256 of the opaque session token; the token itself is never stored. */
  readonly tokenHash: string;
  readonly kind: SessionKind;
  /** DPoP key thumbprint the session is bound to (null only for sessions without DPoP). */
  readonly keyThumbprint: string | null;
  readonly practitionerId: string | null;
  readonly patientId: string | null;
  /** Establishment mode: the establishment (from its server certificate) and its local user. */
  readonly establishment: { readonly id: string; readonly name: string; readonly certificateFingerprint: string } | null;
  readonly user: { readonly id: string; readonly name: string } | null;
  readonly activity: SessionActivity | null;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  /** Absolute end of the session, whatever the activity. */
  readonly expiresAt: number;
}

/**
 * One stored trace entry. `entry` is the TraceEntry of src/dmp/traces serialised as JSON and
 * kept verbatim (what verifyChain re-hashes); the other columns are copies for queries (a
 * patient's traces, a chain in order) and are checked against it by verify-traces.
 */
export interface TraceRow {
  readonly chainId: string;
  readonly seq: number;
  readonly at: number;
  readonly patientId: string | null;
  readonly actorId: string | null;
  readonly action: string;
  readonly result: string;
  readonly prevHash: string;
  readonly hash: string;
  readonly entry: string;
}

export interface MigrationReport {
  /** Versions applied by this call, in order (empty when the schema was already current). */
  readonly applied: number[];
  /** Schema version after the call. */
  readonly current: number;
}

/** The data operations, identical inside and outside a transaction. */
export interface DmpRepository {
  // --- challenges -----------------------------------------------------------------------------
  /** Stores a new challenge; earlier unused challenges of the same key are burnt (one live per key). */
  insertChallenge(challenge: ChallengeRecord): Promise<void>;
  /**
   * Burns and returns the live challenge (unused, unexpired) bound to this key, atomically: two
   * concurrent logins never redeem the same challenge. Null when there is none.
   */
  consumeChallenge(keyThumbprint: string, now: number): Promise<ChallengeRecord | null>;

  // --- DPoP replay cache --------------------------------------------------------------------
  /** Records a proof's jti; false when it was already recorded (a replay). Shared by all nodes. */
  rememberJti(jti: string, expiresAt: number): Promise<boolean>;

  // --- practitioners --------------------------------------------------------------------------
  /** Inserts or refreshes a practitioner (names, profession, structure, certificate, last login). */
  upsertPractitioner(practitioner: PractitionerRecord): Promise<void>;
  getPractitioner(nationalId: string): Promise<PractitionerRecord | null>;

  // --- sessions -------------------------------------------------------------------------------
  insertSession(session: SessionRecord): Promise<void>;
  getSession(tokenHash: string): Promise<SessionRecord | null>;
  /** Moves lastSeenAt forward (never backwards). */
  touchSession(tokenHash: string, now: number): Promise<void>;
  /** True when a session was deleted. */
  deleteSession(tokenHash: string): Promise<boolean>;

  // --- traces (append-only, hash-chained per chain id) ----------------------------------------
  /**
   * The last entry of a chain, or null for a new chain. Inside a transaction it also locks the
   * chain until commit, so two nodes appending to one chain take turns (call it before appendTrace).
   */
  lastTrace(chainId: string): Promise<TraceRow | null>;
  /** Inserts the entry and moves the chain's recorded head (trace_heads) to it. */
  appendTrace(row: TraceRow): Promise<void>;
  /** The recorded head of a chain (its last seq and hash), kept beside the entries to detect a cut-off tail. */
  traceHead(chainId: string): Promise<{ seq: number; hash: string } | null>;
  /** Entries of a chain in order, from seq > afterSeq. */
  listTraces(chainId: string, options?: { afterSeq?: number; limit?: number }): Promise<TraceRow[]>;
  /** Chain ids in order (those with entries or a recorded head), after `after` (paging). */
  listTraceChains(options?: { after?: string; limit?: number }): Promise<string[]>;

  // --- housekeeping ---------------------------------------------------------------------------
  /**
   * Deletes expired challenges, jtis and sessions (absolute expiry, or idle since `idleCutoff`).
   * Idempotent; every node may run it.
   */
  purgeExpired(now: number, idleCutoff: number): Promise<{ challenges: number; jtis: number; sessions: number }>;

  // --- patient portal (portal-repository.ts) --------------------------------------------------
  /** The patient portal's operations, on the same connection (inside a transaction: the transaction's). */
  readonly portal: PortalRepository;

  // --- practitioner-side records (records-repository.ts) ---------------------------------------
  /** Patients, authorisations, documents and notifications of src/dmp/records (inside a transaction: the transaction's). */
  readonly records: RecordsRepository;

  // --- secure messaging (messaging-repository.ts) ----------------------------------------------
  /** Directory, certificate index and mailboxes of src/dmp/messaging (inside a transaction: the transaction's). */
  readonly messaging: MessagingRepository;
}

export interface DmpStore extends DmpRepository {
  readonly dialect: Dialect;
  /**
   * Runs `fn` in one database transaction and commits when it resolves, rolls back when it
   * throws. Use the repository it is given (not the store) for the work of the transaction.
   * Writes that belong together (document + metadata + trace) go through here.
   */
  transaction<T>(fn: (tx: DmpRepository) => Promise<T>): Promise<T>;
  /** Applies pending migrations (also done when the store is opened). */
  migrate(): Promise<MigrationReport>;
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}
