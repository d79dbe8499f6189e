// Migration 3 (both dialects): secure messaging. Messages are opaque CMS envelopes with only
// routing metadata in clear; msg_mailbox holds one entry per participant; msg_certificates indexes
// the practitioners' authentication certificates by issuer + serial (envelope recipients).
import type { Migration } from './migration.js';

const NAME = 'messaging: opaque messages, mailboxes, certificate index by issuer and serial';

export const SQLITE_MESSAGING_MIGRATION: Migration = {
  version: 3,
  name: NAME,
  sql: `
CREATE TABLE msg_messages (
  id             TEXT    NOT NULL PRIMARY KEY,
  sender_id      TEXT    NOT NULL,
  recipient_ids  TEXT    NOT NULL,
  size           INTEGER NOT NULL,
  created_at     INTEGER NOT NULL,
  envelope       BLOB    NOT NULL
) STRICT;

CREATE TABLE msg_mailbox (
  owner_id    TEXT    NOT NULL,
  message_id  TEXT    NOT NULL REFERENCES msg_messages (id) ON DELETE CASCADE,
  folder      TEXT    NOT NULL CHECK (folder IN ('inbox', 'sent')),
  created_at  INTEGER NOT NULL,
  read_at     INTEGER,
  PRIMARY KEY (owner_id, message_id)
) STRICT;
CREATE INDEX msg_mailbox_by_owner ON msg_mailbox (owner_id, created_at, message_id);
CREATE INDEX msg_mailbox_by_message ON msg_mailbox (message_id);

CREATE TABLE msg_certificates (
  fingerprint    TEXT NOT NULL PRIMARY KEY,
  issuer         TEXT NOT NULL,
  serial_number  TEXT NOT NULL,
  national_id    TEXT NOT NULL
) STRICT;
CREATE INDEX msg_certificates_by_issuer_serial ON msg_certificates (issuer, serial_number);
`,
};

export const POSTGRES_MESSAGING_MIGRATION: Migration = {
  version: 3,
  name: NAME,
  sql: `
CREATE TABLE msg_messages (
  id             TEXT   NOT NULL PRIMARY KEY,
  sender_id      TEXT   NOT NULL,
  recipient_ids  TEXT   NOT NULL,
  size           BIGINT NOT NULL,
  created_at     BIGINT NOT NULL,
  envelope       BYTEA  NOT NULL
);

CREATE TABLE msg_mailbox (
  owner_id    TEXT   NOT NULL,
  message_id  TEXT   NOT NULL REFERENCES msg_messages (id) ON DELETE CASCADE,
  folder      TEXT   NOT NULL CHECK (folder IN ('inbox', 'sent')),
  created_at  BIGINT NOT NULL,
  read_at     BIGINT,
  PRIMARY KEY (owner_id, message_id)
);
CREATE INDEX msg_mailbox_by_owner ON msg_mailbox (owner_id, created_at, message_id);
CREATE INDEX msg_mailbox_by_message ON msg_mailbox (message_id);

CREATE TABLE msg_certificates (
  fingerprint    TEXT NOT NULL PRIMARY KEY,
  issuer         TEXT NOT NULL,
  serial_number  TEXT NOT NULL,
  national_id    TEXT NOT NULL
);
CREATE INDEX msg_certificates_by_issuer_serial ON msg_certificates (issuer, serial_number);
`,
};

