// Migration 5 (both dialects): secure messaging. Messages are opaque CMS envelopes with only
// routing metadata in clear; msg_mailbox holds one entry per participant; msg_certificates indexes
// the practitioners' authentication certificates by issuer + serial (envelope recipients).
import type { Migration } from './migration.js';

const NAME = 'messaging: opaque messages, mailboxes, certificate index by issuer and serial';

export const SQLITE_MESSAGING_MIGRATION: Migration = {
  version: 5,
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
  version: 5,
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

/**
 * `migrations` with the messaging migration (version 5) in its place, after versions 1 to 4 and
 * before any later one; the list unchanged while versions 3 and 4 (records, portal) are not
 * written yet, so that no version is skipped (the runner refuses gaps).
 */
export function withMessaging(migrations: readonly Migration[], messaging: Migration): readonly Migration[] {
  const before = messaging.version - 1;
  if (migrations.length < before) return migrations;
  return [...migrations.slice(0, before), messaging, ...migrations.slice(before)];
}

/** True when this build's schema has the messaging tables (versions 3 and 4 exist before them). */
export function messagingMigrationIncluded(migrations: readonly Migration[]): boolean {
  return migrations.some((m) => m.version === SQLITE_MESSAGING_MIGRATION.version && m.name === SQLITE_MESSAGING_MIGRATION.name);
}
