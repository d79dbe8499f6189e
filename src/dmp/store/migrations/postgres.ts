// SQLite schema, version by version (same versions as postgres.ts). STRICT tables; times are
// epoch milliseconds (INTEGER); flags are 0/1 BIGINTs; JSON is TEXT.
import type { Migration } from './migration.js';
import { POSTGRES_MESSAGING_MIGRATION } from './messaging.js';

const POSTGRES_SCHEMA: readonly Migration[] = [
  {
    version: 1,
    name: 'authentication: challenges, DPoP replay cache, practitioners, sessions, traces and their heads',
    sql: `
CREATE TABLE challenges (
  challenge       TEXT    NOT NULL PRIMARY KEY,
  key_thumbprint  TEXT    NOT NULL,
  created_at      BIGINT NOT NULL,
  expires_at      BIGINT NOT NULL,
  used_at         BIGINT
);
CREATE INDEX challenges_by_key ON challenges (key_thumbprint, used_at);
CREATE INDEX challenges_by_expiry ON challenges (expires_at);

CREATE TABLE dpop_jtis (
  jti         TEXT    NOT NULL PRIMARY KEY,
  expires_at  BIGINT NOT NULL
);
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
  auth_certificate             BYTEA    NOT NULL,
  auth_certificate_fingerprint TEXT    NOT NULL,
  first_seen_at                BIGINT NOT NULL,
  last_login_at                BIGINT NOT NULL
);
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
  created_at                             BIGINT NOT NULL,
  last_seen_at                           BIGINT NOT NULL,
  expires_at                             BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_last_seen ON sessions (last_seen_at);
CREATE INDEX sessions_by_practitioner ON sessions (practitioner_id);

CREATE TABLE traces (
  chain_id    TEXT    NOT NULL,
  seq         BIGINT NOT NULL,
  at          BIGINT NOT NULL,
  patient_id  TEXT,
  actor_id    TEXT,
  action      TEXT    NOT NULL,
  result      TEXT    NOT NULL,
  prev_hash   TEXT    NOT NULL,
  hash        TEXT    NOT NULL,
  entry       TEXT    NOT NULL,
  PRIMARY KEY (chain_id, seq)
);
CREATE INDEX traces_by_patient ON traces (patient_id, at);
CREATE INDEX traces_by_actor ON traces (actor_id, at);

-- The last entry of each chain, written in the same transaction as the entry: a chain whose
-- tail was cut off no longer ends at its recorded head (cardbridge dmp verify-traces).
CREATE TABLE trace_heads (
  chain_id  TEXT    NOT NULL PRIMARY KEY,
  seq       BIGINT  NOT NULL,
  hash      TEXT    NOT NULL
);
CREATE FUNCTION traces_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  RAISE EXCEPTION 'traces are append-only';
END
$body$;
CREATE TRIGGER traces_no_update_or_delete BEFORE UPDATE OR DELETE ON traces
  FOR EACH ROW EXECUTE FUNCTION traces_append_only();
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
  consent_at             BIGINT NOT NULL,
  created_by             TEXT    NOT NULL,
  created_at             BIGINT NOT NULL,
  updated_at             BIGINT NOT NULL,
  closed_at              BIGINT,
  medecin_traitant_id    TEXT,
  opposes_bris_de_glace  BOOLEAN NOT NULL DEFAULT FALSE,
  opposes_centre_15      BOOLEAN NOT NULL DEFAULT FALSE,
  activation_code_hash   TEXT,
  activation_expires_at  BIGINT,
  activated_at           BIGINT,
  portal_secret_hash     TEXT,
  portal_contact_kind    TEXT    CHECK (portal_contact_kind IN ('sms', 'email')),
  portal_contact         TEXT,
  portal_totp_secret     BYTEA,
  UNIQUE (ins_oid, ins_value)
);

CREATE TABLE authorizations (
  patient_id                      TEXT    NOT NULL REFERENCES patients (id),
  practitioner_id                 TEXT    NOT NULL,
  status                          TEXT    NOT NULL CHECK (status IN ('granted', 'expired', 'denied')),
  blocked                         BOOLEAN NOT NULL DEFAULT FALSE,
  same_rights_as_medecin_traitant BOOLEAN NOT NULL DEFAULT FALSE,
  recorded_by                     TEXT    NOT NULL CHECK (recorded_by IN ('patient', 'practitioner')),
  granted_at                      BIGINT,
  expires_at                      BIGINT,
  updated_at                      BIGINT NOT NULL,
  PRIMARY KEY (patient_id, practitioner_id)
);
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
  creation_time             BIGINT NOT NULL,
  submitted_at              BIGINT NOT NULL,
  updated_at                BIGINT NOT NULL,
  author_kind               TEXT    NOT NULL CHECK (author_kind IN ('practitioner', 'establishment', 'patient')),
  author_id                 TEXT    NOT NULL,
  author_name               TEXT    NOT NULL,
  author_profession_code    TEXT,
  establishment_id          TEXT,
  status                    TEXT    NOT NULL CHECK (status IN ('approved', 'deprecated', 'archived', 'deleted')),
  replaces_id               TEXT    REFERENCES documents (id),
  replaced_by_id            TEXT,
  masked_ps                 BOOLEAN NOT NULL DEFAULT FALSE,
  invisible_patient         BOOLEAN NOT NULL DEFAULT FALSE,
  invisible_representants   BOOLEAN NOT NULL DEFAULT FALSE,
  deletion_requested_at     BIGINT,
  deleted_at                BIGINT,
  content_sha256            TEXT    NOT NULL,
  content_size              BIGINT NOT NULL,
  signature_cms             BYTEA,
  content_key_id            TEXT    NOT NULL,
  content_wrapped_key       BYTEA    NOT NULL,
  content_nonce             BYTEA    NOT NULL,
  content_tag               BYTEA    NOT NULL,
  content_ciphertext        BYTEA    NOT NULL
);
CREATE INDEX documents_by_patient ON documents (patient_id, status, creation_time, id);
CREATE INDEX documents_by_patient_class ON documents (patient_id, class_code, type_code, creation_time);
CREATE INDEX documents_by_author ON documents (author_id);

CREATE TABLE outbox (
  id            TEXT    NOT NULL PRIMARY KEY,
  kind          TEXT    NOT NULL,
  recipient     TEXT    NOT NULL,
  payload       TEXT    NOT NULL,
  created_at    BIGINT NOT NULL,
  available_at  BIGINT NOT NULL,
  attempts      BIGINT NOT NULL DEFAULT 0,
  sent_at       BIGINT,
  last_error    TEXT
);
CREATE INDEX outbox_pending ON outbox (sent_at, available_at);

CREATE TABLE portal_otps (
  id          TEXT    NOT NULL PRIMARY KEY,
  patient_id  TEXT    NOT NULL REFERENCES patients (id),
  channel     TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
  code_hash   TEXT    NOT NULL,
  attempts    BIGINT NOT NULL DEFAULT 0,
  created_at  BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL,
  used_at     BIGINT
);
CREATE INDEX portal_otps_by_patient ON portal_otps (patient_id, expires_at);

CREATE TABLE rate_limits (
  bucket        TEXT    NOT NULL,
  window_start  BIGINT NOT NULL,
  count         BIGINT NOT NULL,
  PRIMARY KEY (bucket, window_start)
);
`,
  },
];

/** The versions above, then messaging's migration 3 (messaging.ts). */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [...POSTGRES_SCHEMA, POSTGRES_MESSAGING_MIGRATION];
