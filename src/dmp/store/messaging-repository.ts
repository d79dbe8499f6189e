// Secure messaging's data operations (src/dmp/messaging): the directory (practitioners who logged
// in once), an index of their authentication certificates by issuer + serial (how an envelope's
// recipients are found), and the mailboxes. A message is one opaque CMS blob with only routing
// metadata in clear (sender, recipients, size, time); each participant has one mailbox entry
// (`inbox` or `sent`) with its read flag. Tables of migration 3; same SQL for both dialects.
import type { SqlExecutor, SqlRow } from './sql-executor.js';
import { rowBytes, rowInt, rowIntOrNull, rowText, rowTextOrNull } from './sql-rows.js';

export interface DirectoryEntry {
  readonly nationalId: string;
  readonly surname: string;
  readonly givenName: string;
  readonly professionCode: string;
  readonly professionLabel: string;
  readonly specialtyCode: string | null;
  readonly structureId: string | null;
  readonly structureName: string | null;
  readonly authCertificate: Uint8Array;
}

export interface DirectoryQuery {
  /** Exact national id (`8` + RPPS or `0` + ADELI). */
  readonly nationalId?: string;
  /** Part of the surname or given name (case-insensitive). */
  readonly name?: string;
  /** Profession code (TRE_G15) or part of its label. */
  readonly profession?: string;
  /** Part of the structure's name. */
  readonly place?: string;
  /** Keyset: the last entry of the previous page. */
  readonly after?: { readonly surname: string; readonly givenName: string; readonly nationalId: string };
  readonly limit: number;
}

export interface CertificateIndexEntry {
  readonly fingerprint: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly nationalId: string;
}

export interface StoredMessage {
  readonly id: string;
  readonly senderId: string;
  readonly recipientIds: readonly string[];
  readonly size: number;
  readonly createdAt: number;
}

export interface MailboxEntry extends StoredMessage {
  readonly folder: 'inbox' | 'sent';
  readonly readAt: number | null;
}

export interface MessagingRepository {
  searchDirectory(query: DirectoryQuery): Promise<DirectoryEntry[]>;
  /** Practitioners whose authentication certificate is not indexed yet (fingerprint + DER). */
  unindexedCertificates(limit: number): Promise<{ nationalId: string; fingerprint: string; certificate: Uint8Array }[]>;
  indexCertificate(entry: CertificateIndexEntry): Promise<void>;
  /** National id of the practitioner holding this certificate, or null. */
  findByIssuerSerial(issuer: string, serialNumber: string): Promise<string | null>;
  /** Bytes held in a mailbox (sum of the sizes of its messages). */
  mailboxUsage(ownerId: string): Promise<number>;
  /** Inserts the message and one mailbox entry per participant (sender: `sent`, recipients: `inbox`). */
  insertMessage(message: StoredMessage, blob: Uint8Array): Promise<void>;
  /** The caller's entry for a message, or null when it is not (or no longer) in their mailbox. */
  mailboxEntry(ownerId: string, messageId: string): Promise<MailboxEntry | null>;
  /** The message's routing metadata, whoever asks (the route decides). */
  getMessage(messageId: string): Promise<StoredMessage | null>;
  getBlob(messageId: string): Promise<Uint8Array | null>;
  listMailbox(ownerId: string, options: { before?: { createdAt: number; id: string }; limit: number; folder?: 'inbox' | 'sent' }): Promise<MailboxEntry[]>;
  /** Serialises the writers of one mailbox until the transaction ends (quota check + insert). */
  lockMailbox(ownerId: string): Promise<void>;
  markRead(ownerId: string, messageId: string, at: number): Promise<boolean>;
  /** Removes the entry from this mailbox; the message goes when no mailbox holds it. */
  deleteFromMailbox(ownerId: string, messageId: string): Promise<boolean>;
}

const like = (value: string): string => `%${value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function directoryFromRow(row: SqlRow): DirectoryEntry {
  return {
    nationalId: rowText(row, 'national_id'),
    surname: rowText(row, 'surname'),
    givenName: rowText(row, 'given_name'),
    professionCode: rowText(row, 'profession_code'),
    professionLabel: rowText(row, 'profession_label'),
    specialtyCode: rowTextOrNull(row, 'specialty_code'),
    structureId: rowTextOrNull(row, 'structure_id'),
    structureName: rowTextOrNull(row, 'structure_name'),
    authCertificate: rowBytes(row, 'auth_certificate'),
  };
}

function messageFromRow(row: SqlRow): StoredMessage {
  return {
    id: rowText(row, 'id'),
    senderId: rowText(row, 'sender_id'),
    recipientIds: JSON.parse(rowText(row, 'recipient_ids')) as string[],
    size: rowInt(row, 'size'),
    createdAt: rowInt(row, 'created_at'),
  };
}

function entryFromRow(row: SqlRow): MailboxEntry {
  const folder = rowText(row, 'folder');
  return { ...messageFromRow(row), folder: folder === 'sent' ? 'sent' : 'inbox', readAt: rowIntOrNull(row, 'read_at') };
}

const ENTRY_COLUMNS = 'm.id, m.sender_id, m.recipient_ids, m.size, m.created_at, e.folder, e.read_at';

export class SqlMessagingRepository implements MessagingRepository {
  constructor(private readonly db: SqlExecutor) {}

  async searchDirectory(query: DirectoryQuery): Promise<DirectoryEntry[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.nationalId) {
      where.push('national_id = ?');
      params.push(query.nationalId);
    }
    if (query.name) {
      where.push("(LOWER(surname) LIKE ? ESCAPE '\\' OR LOWER(given_name) LIKE ? ESCAPE '\\' OR LOWER(given_name || ' ' || surname) LIKE ? ESCAPE '\\')");
      params.push(like(query.name), like(query.name), like(query.name));
    }
    if (query.profession) {
      where.push("(profession_code = ? OR LOWER(profession_label) LIKE ? ESCAPE '\\')");
      params.push(query.profession, like(query.profession));
    }
    if (query.place) {
      where.push("LOWER(COALESCE(structure_name, '')) LIKE ? ESCAPE '\\'");
      params.push(like(query.place));
    }
    if (query.after) {
      const a = query.after;
      where.push('(surname > ? OR (surname = ? AND (given_name > ? OR (given_name = ? AND national_id > ?))))');
      params.push(a.surname, a.surname, a.givenName, a.givenName, a.nationalId);
    }
    params.push(query.limit);
    const rows = await this.db.query(
      `SELECT national_id, surname, given_name, profession_code, profession_label, specialty_code, structure_id, structure_name, auth_certificate
         FROM practitioners ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY surname, given_name, national_id LIMIT ?`,
      params,
    );
    return rows.map(directoryFromRow);
  }

  async unindexedCertificates(limit: number): Promise<{ nationalId: string; fingerprint: string; certificate: Uint8Array }[]> {
    const rows = await this.db.query(
      `SELECT p.national_id, p.auth_certificate_fingerprint, p.auth_certificate FROM practitioners p
         LEFT JOIN msg_certificates c ON c.fingerprint = p.auth_certificate_fingerprint
        WHERE c.fingerprint IS NULL ORDER BY p.national_id LIMIT ?`,
      [limit],
    );
    return rows.map((row) => ({
      nationalId: rowText(row, 'national_id'),
      fingerprint: rowText(row, 'auth_certificate_fingerprint'),
      certificate: rowBytes(row, 'auth_certificate'),
    }));
  }

  async indexCertificate(entry: CertificateIndexEntry): Promise<void> {
    await this.db.execute(
      `INSERT INTO msg_certificates (fingerprint, issuer, serial_number, national_id) VALUES (?, ?, ?, ?)
       ON CONFLICT (fingerprint) DO NOTHING`,
      [entry.fingerprint, entry.issuer, entry.serialNumber, entry.nationalId],
    );
  }

  async findByIssuerSerial(issuer: string, serialNumber: string): Promise<string | null> {
    const [row] = await this.db.query('SELECT national_id FROM msg_certificates WHERE issuer = ? AND serial_number = ? LIMIT 1', [issuer, serialNumber]);
    return row ? rowText(row, 'national_id') : null;
  }

  async mailboxUsage(ownerId: string): Promise<number> {
    const [row] = await this.db.query(
      'SELECT COALESCE(SUM(m.size), 0) AS used FROM msg_mailbox e JOIN msg_messages m ON m.id = e.message_id WHERE e.owner_id = ?',
      [ownerId],
    );
    return row ? rowInt(row, 'used') : 0;
  }

  async insertMessage(message: StoredMessage, blob: Uint8Array): Promise<void> {
    await this.db.execute('INSERT INTO msg_messages (id, sender_id, recipient_ids, size, created_at, envelope) VALUES (?, ?, ?, ?, ?, ?)', [
      message.id,
      message.senderId,
      JSON.stringify(message.recipientIds),
      message.size,
      message.createdAt,
      blob,
    ]);
    const owners = new Map<string, 'inbox' | 'sent'>();
    for (const id of message.recipientIds) owners.set(id, 'inbox');
    if (!owners.has(message.senderId)) owners.set(message.senderId, 'sent');
    for (const [owner, folder] of owners) {
      await this.db.execute('INSERT INTO msg_mailbox (owner_id, message_id, folder, created_at, read_at) VALUES (?, ?, ?, ?, ?)', [
        owner,
        message.id,
        folder,
        message.createdAt,
        folder === 'sent' ? message.createdAt : null,
      ]);
    }
  }

  async mailboxEntry(ownerId: string, messageId: string): Promise<MailboxEntry | null> {
    const [row] = await this.db.query(
      `SELECT ${ENTRY_COLUMNS} FROM msg_mailbox e JOIN msg_messages m ON m.id = e.message_id WHERE e.owner_id = ? AND e.message_id = ?`,
      [ownerId, messageId],
    );
    return row ? entryFromRow(row) : null;
  }

  async getMessage(messageId: string): Promise<StoredMessage | null> {
    const [row] = await this.db.query('SELECT id, sender_id, recipient_ids, size, created_at FROM msg_messages WHERE id = ?', [messageId]);
    return row ? messageFromRow(row) : null;
  }

  async getBlob(messageId: string): Promise<Uint8Array | null> {
    const [row] = await this.db.query('SELECT envelope FROM msg_messages WHERE id = ?', [messageId]);
    return row ? rowBytes(row, 'envelope') : null;
  }

  async lockMailbox(ownerId: string): Promise<void> {
    await this.db.lockKey(`mailbox:${ownerId}`);
  }

  async listMailbox(ownerId: string, options: { before?: { createdAt: number; id: string }; limit: number; folder?: 'inbox' | 'sent' }): Promise<MailboxEntry[]> {
    const params: (string | number)[] = [ownerId];
    let keyset = '';
    if (options.folder) {
      keyset += 'AND e.folder = ? ';
      params.push(options.folder);
    }
    if (options.before) {
      keyset += 'AND (e.created_at < ? OR (e.created_at = ? AND e.message_id < ?))';
      params.push(options.before.createdAt, options.before.createdAt, options.before.id);
    }
    params.push(options.limit);
    const rows = await this.db.query(
      `SELECT ${ENTRY_COLUMNS} FROM msg_mailbox e JOIN msg_messages m ON m.id = e.message_id
        WHERE e.owner_id = ? ${keyset} ORDER BY e.created_at DESC, e.message_id DESC LIMIT ?`,
      params,
    );
    return rows.map(entryFromRow);
  }

  async markRead(ownerId: string, messageId: string, at: number): Promise<boolean> {
    const changed = await this.db.execute('UPDATE msg_mailbox SET read_at = COALESCE(read_at, ?) WHERE owner_id = ? AND message_id = ?', [at, ownerId, messageId]);
    return changed > 0;
  }

  async deleteFromMailbox(ownerId: string, messageId: string): Promise<boolean> {
    const changed = await this.db.execute('DELETE FROM msg_mailbox WHERE owner_id = ? AND message_id = ?', [ownerId, messageId]);
    if (changed > 0) {
      await this.db.execute('DELETE FROM msg_messages WHERE id = ? AND NOT EXISTS (SELECT 1 FROM msg_mailbox WHERE message_id = ?)', [messageId, messageId]);
    }
    return changed > 0;
  }
}
