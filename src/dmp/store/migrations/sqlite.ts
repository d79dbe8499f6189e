// SQLite schema, version by version (same versions as postgres.ts). STRICT tables; times are
// epoch milliseconds (INTEGER); flags are 0/1 INTEGERs; JSON is TEXT.
import type { Migration } from './migration.js';
import { SQLITE_MESSAGING_MIGRATION } from './messaging.js';

const SQLITE_SCHEMA: readonly Migration[] = [
  {
    version: 1,
    name: 'authentication: challenges, DPoP replay cache, practitioners, sessions, traces and their heads',
    sql: `
CREATE TABLE challenges (
  challenge       TEXT    NOT NULL PRIMARY KEY,
  key_thumbprint  TEXT    NOT NULL,
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,
  used_at         INTEGER
) STRICT;
CREATE INDEX challenges_by_key ON challenges (key_thumbprint, used_at);
CREATE INDEX challenges_by_expiry ON challenges (expires_at);

CREATE TABLE dpop_jtis (
  jti         TEXT    NOT NULL PRIMARY KEY,
  expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX dpop_jtis_by_expiry ON dpop_jtis (expires_at);

CREATE TABLE practitioners (
  national_id                  TEXT    NOT NULL PRIMARY KEY,
  id_type                      TEXT    NOT NULL,
  surname                      TEXT    NOT NULL,
  given_name                   TEXT    NOT NULL,
  profession_code              TEXT    NOT NULL,
  profession_label             TEXT    NOT NULL,
  specialty_code               TEXT,
  structure_id                 TEXT,
  structure_name               TEXT,
  auth_certificate             BLOB    NOT NULL,
  auth_certificate_fingerprint TEXT    NOT NULL,
  first_seen_at                INTEGER NOT NULL,
  last_login_at                INTEGER NOT NULL
) STRICT;
CREATE INDEX practitioners_by_name ON practitioners (surname, given_name);
CREATE INDEX practitioners_by_profession ON practitioners (profession_code, specialty_code);

CREATE TABLE sessions (
  token_hash                             TEXT    NOT NULL PRIMARY KEY,
  kind                                   TEXT    NOT NULL CHECK (kind IN ('practitioner', 'establishment', 'patient')),
  key_thumbprint                         TEXT,
  practitioner_id                        TEXT    REFERENCES practitioners (national_id),
  patient_id                             TEXT,
  establishment_id                       TEXT,
  establishment_name                     TEXT,
  establishment_certificate_fingerprint  TEXT,
  user_id                                TEXT,
  user_name                              TEXT,
  activity                               TEXT,
  created_at                             INTEGER NOT NULL,
  last_seen_at                           INTEGER NOT NULL,
  expires_at                             INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_last_seen ON sessions (last_seen_at);
CREATE INDEX sessions_by_practitioner ON sessions (practitioner_id);

CREATE TABLE traces (
  chain_id    TEXT    NOT NULL,
  seq         INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  patient_id  TEXT,
  actor_id    TEXT,
  action      TEXT    NOT NULL,
  result      TEXT    NOT NULL,
  prev_hash   TEXT    NOT NULL,
  hash        TEXT    NOT NULL,
  entry       TEXT    NOT NULL,
  PRIMARY KEY (chain_id, seq)
) STRICT;
CREATE INDEX traces_by_patient ON traces (patient_id, at);
CREATE INDEX traces_by_actor ON traces (actor_id, at);

-- The last entry of each chain, written in the same transaction as the entry: a chain whose
-- tail was cut off no longer ends at its recorded head (cardbridge dmp verify-traces).
CREATE TABLE trace_heads (
  chain_id  TEXT    NOT NULL PRIMARY KEY,
  seq       INTEGER NOT NULL,
  hash      TEXT    NOT NULL
) STRICT;
CREATE TRIGGER traces_no_update BEFORE UPDATE ON traces BEGIN SELECT RAISE(ABORT, 'traces are append-only'); END;
CREATE TRIGGER traces_no_delete BEFORE DELETE ON traces BEGIN SELECT RAISE(ABORT, 'traces are append-only'); END;
`,
  },
  {
    version: 2,
    name: 'records: patients, authorizations, documents, outbox, portal one-time passwords, rate limits',
    sql: `
CREATE TABLE patients (
  id                     TEXT    NOT NULL PRIMARY KEY,
  ins_oid                TEXT    NOT NULL,
  ins_value              TEXT    NOT NULL,
  traits                 TEXT    NOT NULL,
  status                 TEXT    NOT NULL CHECK (status IN ('active', 'closed')),
  consent_at             INTEGER NOT NULL,
  created_by             TEXT    NOT NULL,
  created_at             INTEGER NOT NULL,
  updated_at             INTEGER NOT NULL,
  closed_at              INTEGER,
  medecin_traitant_id    TEXT,
  opposes_bris_de_glace  INTEGER NOT NULL DEFAULT 0 CHECK (opposes_bris_de_glace IN (0, 1)),
  opposes_centre_15      INTEGER NOT NULL DEFAULT 0 CHECK (opposes_centre_15 IN (0, 1)),
  activation_code_hash   TEXT,
  activation_expires_at  INTEGER,
  activated_at           INTEGER,
  portal_secret_hash     TEXT,
  portal_contact_kind    TEXT    CHECK (portal_contact_kind IN ('sms', 'email')),
  portal_contact         TEXT,
  portal_totp_secret     BLOB,
  UNIQUE (ins_oid, ins_value)
) STRICT;

CREATE TABLE authorizations (
  patient_id                      TEXT    NOT NULL REFERENCES patients (id),
  practitioner_id                 TEXT    NOT NULL,
  status                          TEXT    NOT NULL CHECK (status IN ('granted', 'expired', 'denied')),
  blocked                         INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
  same_rights_as_medecin_traitant INTEGER NOT NULL DEFAULT 0 CHECK (same_rights_as_medecin_traitant IN (0, 1)),
  recorded_by                     TEXT    NOT NULL CHECK (recorded_by IN ('patient', 'practitioner')),
  granted_at                      INTEGER,
  expires_at                      INTEGER,
  updated_at                      INTEGER NOT NULL,
  PRIMARY KEY (patient_id, practitioner_id)
) STRICT;
CREATE INDEX authorizations_by_practitioner ON authorizations (practitioner_id);

CREATE TABLE documents (
  id                        TEXT    NOT NULL PRIMARY KEY,
  patient_id                TEXT    NOT NULL REFERENCES patients (id),
  class_code                TEXT    NOT NULL,
  type_code                 TEXT    NOT NULL,
  confidentiality           TEXT    NOT NULL,
  format                    TEXT    NOT NULL,
  mime_type                 TEXT    NOT NULL,
  title                     TEXT    NOT NULL,
  creation_time             INTEGER NOT NULL,
  submitted_at              INTEGER NOT NULL,
  updated_at                INTEGER NOT NULL,
  author_kind               TEXT    NOT NULL CHECK (author_kind IN ('practitioner', 'establishment', 'patient')),
  author_id                 TEXT    NOT NULL,
  author_name               TEXT    NOT NULL,
  author_profession_code    TEXT,
  establishment_id          TEXT,
  status                    TEXT    NOT NULL CHECK (status IN ('approved', 'deprecated', 'archived', 'deleted')),
  replaces_id               TEXT    REFERENCES documents (id),
  replaced_by_id            TEXT,
  masked_ps                 INTEGER NOT NULL DEFAULT 0 CHECK (masked_ps IN (0, 1)),
  invisible_patient         INTEGER NOT NULL DEFAULT 0 CHECK (invisible_patient IN (0, 1)),
  invisible_representants   INTEGER NOT NULL DEFAULT 0 CHECK (invisible_representants IN (0, 1)),
  deletion_requested_at     INTEGER,
  deleted_at                INTEGER,
  content_sha256            TEXT    NOT NULL,
  content_size              INTEGER NOT NULL,
  signature_cms             BLOB,
  content_key_id            TEXT    NOT NULL,
  content_wrapped_key       BLOB    NOT NULL,
  content_nonce             BLOB    NOT NULL,
  content_tag               BLOB    NOT NULL,
  content_ciphertext        BLOB    NOT NULL
) STRICT;
CREATE INDEX documents_by_patient ON documents (patient_id, status, creation_time, id);
CREATE INDEX documents_by_patient_class ON documents (patient_id, class_code, type_code, creation_time);
CREATE INDEX documents_by_author ON documents (author_id);

CREATE TABLE outbox (
  id            TEXT    NOT NULL PRIMARY KEY,
  kind          TEXT    NOT NULL,
  recipient     TEXT    NOT NULL,
  payload       TEXT    NOT NULL,
  created_at    INTEGER NOT NULL,
  available_at  INTEGER NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  sent_at       INTEGER,
  last_error    TEXT
) STRICT;
CREATE INDEX outbox_pending ON outbox (sent_at, available_at);

CREATE TABLE portal_otps (
  id          TEXT    NOT NULL PRIMARY KEY,
  patient_id  TEXT    NOT NULL REFERENCES patients (id),
  channel     TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
  code_hash   TEXT    NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER
) STRICT;
CREATE INDEX portal_otps_by_patient ON portal_otps (patient_id, expires_at);

CREATE TABLE rate_limits (
  bucket        TEXT    NOT NULL,
  window_start  INTEGER NOT NULL,
  count         INTEGER NOT NULL,
  PRIMARY KEY (bucket, window_start)
) STRICT;
`,
  },
];

/** The versions above, then messaging's migration 3 (messaging.ts). */
export const SQLITE_MIGRATIONS: readonly Migration[] = [...SQLITE_SCHEMA, SQLITE_MESSAGING_MIGRATION];
