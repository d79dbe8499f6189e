// The messaging routes (see index.ts). Practitioner sessions only (requirePractitioner).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requirePractitioner } from '../auth/index.js';
import { DmpError } from '../errors.js';
import type { DmpContext } from '../http/context.js';
import { problemResponses } from '../routes/schemas.js';
import type { DmpRepository } from '../store/index.js';
import type { DirectoryEntry, MailboxEntry } from '../store/messaging-repository.js';
import { isMessageError, MAX_ENVELOPE_BYTES, routingMetadata } from '../../messaging/index.js';
import { readCertificate, serialHex } from '../../messaging/certificates.js';
import { formatName } from '../../messaging/routing.js';

/** 2 GiB per mailbox (dmp-service.md). */
export const DEFAULT_MAILBOX_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;
const QUOTA_ENV = 'CARDBRIDGE_DMP_MAILBOX_QUOTA_BYTES';
const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;
const TAGS = ['messaging'];
const SECURITY = [{ dpopSession: [], dpopProof: [] }];
const PKCS7 = 'application/pkcs7-mime';

export interface MessagingSettings {
  /** Bytes a mailbox may hold (sum of its messages' sizes); default 2 GiB or $CARDBRIDGE_DMP_MAILBOX_QUOTA_BYTES. */
  readonly mailboxQuotaBytes: number;
}

const SETTINGS = new WeakMap<DmpContext, MessagingSettings>();

/** Changes the messaging settings of a built app (tests: a small quota). */
export function configureMessaging(app: FastifyInstance, settings: Partial<MessagingSettings>): void {
  SETTINGS.set(app.dmp, { ...settingsOf(app.dmp), ...settings });
}

function settingsOf(ctx: DmpContext): MessagingSettings {
  const set = SETTINGS.get(ctx);
  if (set) return set;
  const env = Number(process.env[QUOTA_ENV]);
  return { mailboxQuotaBytes: Number.isSafeInteger(env) && env > 0 ? env : DEFAULT_MAILBOX_QUOTA_BYTES };
}

function caller(request: FastifyRequest): string {
  const practitioner = request.practitioner;
  if (!practitioner) throw new DmpError('SESSION_REQUIRED', 'Session de professionnel requise');
  return practitioner.nationalId;
}

// --- directory cursor (keyset on surname, given name, national id) ---------------------------

interface DirectoryCursor {
  surname: string;
  givenName: string;
  nationalId: string;
}

function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodeCursor<T>(cursor: string, check: (value: Record<string, unknown>) => boolean): T {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null && check(value as Record<string, unknown>)) return value as T;
  } catch {
    /* falls through */
  }
  throw new DmpError('CURSOR_INVALID', 'Curseur de pagination invalide ou altéré');
}

function directoryView(entry: DirectoryEntry): Record<string, unknown> {
  return {
    nationalId: entry.nationalId,
    surname: entry.surname,
    givenName: entry.givenName,
    professionCode: entry.professionCode,
    professionLabel: entry.professionLabel,
    specialtyCode: entry.specialtyCode,
    structureId: entry.structureId,
    structureName: entry.structureName,
    city: null,
    postcode: null,
    authCertificate: Buffer.from(entry.authCertificate).toString('base64'),
  };
}

function mailboxView(entry: MailboxEntry): Record<string, unknown> {
  return {
    id: entry.id,
    folder: entry.folder,
    sender: entry.senderId,
    recipients: [...entry.recipientIds],
    date: new Date(entry.createdAt).toISOString(),
    size: entry.size,
    read: entry.readAt !== null,
  };
}

// --- certificate index -------------------------------------------------------------------------

/** Indexes by issuer + serial the practitioners' certificates not indexed yet (each parsed once). */
async function indexCertificates(repo: DmpRepository): Promise<void> {
  for (;;) {
    const pending = await repo.messaging.unindexedCertificates(200);
    if (pending.length === 0) return;
    for (const p of pending) {
      let issuer = '';
      let serialNumber = '';
      try {
        const certificate = readCertificate(p.certificate).certificate;
        issuer = formatName(certificate.issuer);
        serialNumber = serialHex(certificate.serialNumber);
      } catch {
        // unreadable: indexed under an impossible name so that it is not parsed again
      }
      await repo.messaging.indexCertificate({ fingerprint: p.fingerprint, issuer, serialNumber, nationalId: p.nationalId });
    }
    if (pending.length < 200) return;
  }
}

function envelopeOf(request: FastifyRequest): Uint8Array {
  const body = request.body;
  if (Buffer.isBuffer(body)) return new Uint8Array(body);
  if (typeof body === 'object' && body !== null && typeof (body as { envelope?: unknown }).envelope === 'string') {
    const text = (body as { envelope: string }).envelope.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new DmpError('REQUEST_INVALID', 'envelope : base64 attendu');
    return new Uint8Array(Buffer.from(text, 'base64'));
  }
  throw new DmpError('REQUEST_INVALID', `Corps attendu : l'enveloppe CMS en ${PKCS7}, ou { "envelope": "<base64>" } en JSON`);
}

const MESSAGE_ID_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
  additionalProperties: false,
} as const;

const MAILBOX_ITEM = {
  type: 'object',
  required: ['id', 'folder', 'sender', 'recipients', 'date', 'size', 'read'],
  properties: {
    id: { type: 'string' },
    folder: { type: 'string', enum: ['inbox', 'sent'] },
    sender: { type: 'string', description: "Identifiant national de l'expéditeur (session qui a déposé le message)" },
    recipients: { type: 'array', items: { type: 'string' } },
    date: { type: 'string', format: 'date-time' },
    size: { type: 'integer' },
    read: { type: 'boolean' },
  },
  additionalProperties: false,
} as const;

export async function messagingRoutes(app: FastifyInstance): Promise<void> {
  // Base64 JSON of the largest envelope: 4/3 of it plus room for the member name.
  const bodyLimit = Math.ceil((MAX_ENVELOPE_BYTES * 4) / 3) + 4096;
  app.addContentTypeParser(PKCS7, { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));

  app.get(
    '/v1/directory',
    {
      preHandler: [requirePractitioner],
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: "Annuaire des professionnels (connectés au moins une fois), avec leur certificat d'authentification pour chiffrer",
        querystring: {
          type: 'object',
          properties: {
            id: { type: 'string', pattern: '^[0-9]{10,12}$', description: 'identifiant national exact' },
            name: { type: 'string', maxLength: 200 },
            profession: { type: 'string', maxLength: 200 },
            place: { type: 'string', maxLength: 200 },
            limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE },
            cursor: { type: 'string', maxLength: 2048 },
          },
          additionalProperties: false,
        },
        response: { 400: { $ref: 'Problem#' }, ...problemResponses(401, 403) },
      },
    },
    async (request) => {
      const query = request.query as { id?: string; name?: string; profession?: string; place?: string; limit?: number; cursor?: string };
      const limit = query.limit ?? DEFAULT_PAGE;
      const after =
        query.cursor === undefined
          ? undefined
          : decodeCursor<DirectoryCursor>(query.cursor, (v) => typeof v.surname === 'string' && typeof v.givenName === 'string' && typeof v.nationalId === 'string');
      const rows = await request.server.dmp.store.messaging.searchDirectory({
        ...(query.id ? { nationalId: query.id } : {}),
        ...(query.name?.trim() ? { name: query.name.trim() } : {}),
        ...(query.profession?.trim() ? { profession: query.profession.trim() } : {}),
        ...(query.place?.trim() ? { place: query.place.trim() } : {}),
        ...(after ? { after } : {}),
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        practitioners: page.map(directoryView),
        nextCursor: rows.length > limit && last ? encodeCursor({ surname: last.surname, givenName: last.givenName, nationalId: last.nationalId }) : null,
      };
    },
  );

  app.post(
    '/v1/messages',
    {
      preHandler: [requirePractitioner],
      bodyLimit,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: "Dépôt d'un message sécurisé (EnvelopedData CMS opaque) dans les boîtes de ses destinataires",
        response: { ...problemResponses(400, 401, 403, 413, 415, 422, 507) },
      },
    },
    async (request, reply) => {
      const sender = caller(request);
      const envelope = envelopeOf(request);
      if (envelope.byteLength > MAX_ENVELOPE_BYTES) {
        throw new DmpError('MESSAGE_TOO_LARGE', `Enveloppe de ${envelope.byteLength} octets : ${MAX_ENVELOPE_BYTES} au plus`);
      }
      let routing;
      try {
        routing = routingMetadata(envelope);
      } catch (error) {
        if (isMessageError(error, 'MESSAGE_TOO_LARGE')) throw new DmpError('MESSAGE_TOO_LARGE', `Enveloppe de plus de ${MAX_ENVELOPE_BYTES} octets`);
        if (isMessageError(error)) throw new DmpError('MESSAGE_MALFORMED', "Le corps n'est pas une enveloppe CMS (EnvelopedData) acheminable", { cause: error });
        throw error;
      }
      const ctx = request.server.dmp;
      const store = ctx.store;
      await indexCertificates(store);
      const recipients = new Set<string>();
      const unknown: string[] = [];
      for (const r of routing.recipients) {
        const id = 'issuer' in r ? await store.messaging.findByIssuerSerial(r.issuer, r.serialNumber) : null;
        if (id === null) unknown.push('issuer' in r ? `${r.issuer} / ${r.serialNumber}` : `SKI ${r.subjectKeyIdentifier}`);
        else recipients.add(id);
      }
      if (unknown.length > 0) {
        throw new DmpError('MESSAGE_RECIPIENT_UNKNOWN', `Certificat(s) destinataire(s) inconnu(s) de l'annuaire : ${unknown.slice(0, 5).join(' ; ')}`, {
          extensions: { unknownRecipients: unknown.slice(0, 20) },
        });
      }
      recipients.delete(sender); // the sender's own copy: his `sent` entry
      if (recipients.size === 0) throw new DmpError('MESSAGE_RECIPIENT_UNKNOWN', "L'enveloppe n'est chiffrée pour aucun autre professionnel de l'annuaire");
      const quota = settingsOf(ctx).mailboxQuotaBytes;
      const message = { id: randomUUID(), senderId: sender, recipientIds: [...recipients].sort(), size: routing.size, createdAt: ctx.clock().getTime() };
      await store.transaction(async (tx) => {
        for (const owner of [...new Set([sender, ...message.recipientIds])].sort()) {
          await tx.messaging.lockMailbox(owner);
          const used = await tx.messaging.mailboxUsage(owner);
          if (used + message.size > quota) {
            const whose = owner === sender ? 'votre boîte' : `la boîte du destinataire ${owner}`;
            throw new DmpError(
              'QUOTA_EXCEEDED',
              `Quota dépassé pour ${whose} : ${used} octets utilisés + ${message.size} octets de ce message > ${quota} octets autorisés. Supprimez des messages puis réessayez.`,
              { extensions: { mailbox: owner === sender ? 'sender' : owner, used, size: message.size, quota } },
            );
          }
        }
        await tx.messaging.insertMessage(message, envelope);
      });
      reply.code(201).header('Location', `/v1/messages/${message.id}`);
      return { id: message.id, recipients: message.recipientIds, size: message.size, date: new Date(message.createdAt).toISOString() };
    },
  );

  app.get(
    '/v1/messages',
    {
      preHandler: [requirePractitioner],
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: "La boîte de l'appelant (reçus et envoyés) : métadonnées d'acheminement seulement, l'objet est chiffré",
        querystring: {
          type: 'object',
          properties: {
            folder: { type: 'string', enum: ['inbox', 'sent', 'all'], default: 'all' },
            limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE },
            cursor: { type: 'string', maxLength: 512 },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            required: ['messages', 'nextCursor', 'used', 'quota'],
            properties: {
              messages: { type: 'array', items: MAILBOX_ITEM },
              nextCursor: { type: ['string', 'null'] },
              used: { type: 'integer' },
              quota: { type: 'integer' },
            },
          },
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const owner = caller(request);
      const query = request.query as { folder?: 'inbox' | 'sent' | 'all'; limit?: number; cursor?: string };
      const limit = query.limit ?? DEFAULT_PAGE;
      const before =
        query.cursor === undefined ? undefined : decodeCursor<{ createdAt: number; id: string }>(query.cursor, (v) => Number.isSafeInteger(v.createdAt) && typeof v.id === 'string');
      const ctx = request.server.dmp;
      const folder = query.folder ?? 'all';
      const rows = await ctx.store.messaging.listMailbox(owner, { ...(before ? { before } : {}), limit: limit + 1, ...(folder === 'all' ? {} : { folder }) });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        messages: page.map(mailboxView),
        nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
        used: await ctx.store.messaging.mailboxUsage(owner),
        quota: settingsOf(ctx).mailboxQuotaBytes,
      };
    },
  );

  /** The caller's entry; 403 when they are neither sender nor recipient, 404 when unknown or deleted by them. */
  async function entryOf(request: FastifyRequest): Promise<MailboxEntry> {
    const owner = caller(request);
    const { id } = request.params as { id: string };
    const messaging = request.server.dmp.store.messaging;
    const entry = await messaging.mailboxEntry(owner, id);
    if (entry) return entry;
    const message = await messaging.getMessage(id);
    if (message && message.senderId !== owner && !message.recipientIds.includes(owner)) {
      throw new DmpError('MESSAGE_FORBIDDEN', "Ce message n'est ni de vous ni pour vous");
    }
    throw new DmpError('MESSAGE_NOT_FOUND', 'Message introuvable dans votre boîte');
  }

  app.get(
    '/v1/messages/:id',
    {
      preHandler: [requirePractitioner],
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: "L'enveloppe CMS d'un message (application/pkcs7-mime), à ses destinataires et à son expéditeur",
        params: MESSAGE_ID_PARAMS,
        response: problemResponses(400, 401, 403, 404),
      },
    },
    async (request, reply) => {
      const entry = await entryOf(request);
      const blob = await request.server.dmp.store.messaging.getBlob(entry.id);
      if (!blob) throw new DmpError('MESSAGE_NOT_FOUND', 'Message introuvable dans votre boîte');
      reply
        .header('Content-Type', `${PKCS7}; smime-type=enveloped-data; name=smime.p7m`)
        .header('Content-Disposition', 'attachment; filename="smime.p7m"')
        .header('Cache-Control', 'no-store')
        .header('X-Content-Type-Options', 'nosniff');
      return reply.send(Buffer.from(blob));
    },
  );

  app.post(
    '/v1/messages/:id/read',
    {
      preHandler: [requirePractitioner],
      schema: { tags: TAGS, security: SECURITY, summary: 'Marque le message comme lu dans la boîte de l’appelant', params: MESSAGE_ID_PARAMS, response: problemResponses(400, 401, 403, 404) },
    },
    async (request) => {
      const entry = await entryOf(request);
      await request.server.dmp.store.messaging.markRead(caller(request), entry.id, request.server.dmp.clock().getTime());
      return { id: entry.id, read: true };
    },
  );

  app.delete(
    '/v1/messages/:id',
    {
      preHandler: [requirePractitioner],
      schema: { tags: TAGS, security: SECURITY, summary: "Supprime le message de la boîte de l'appelant seulement", params: MESSAGE_ID_PARAMS, response: problemResponses(400, 401, 403, 404) },
    },
    async (request, reply) => {
      const entry = await entryOf(request);
      await request.server.dmp.store.transaction((tx) => tx.messaging.deleteFromMailbox(caller(request), entry.id));
      return reply.code(204).send();
    },
  );
}


