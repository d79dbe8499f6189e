// The patient's documents: the list (every document of his DMP except those a practitioner made
// INVISIBLE_PATIENT, masked ones included), downloads, masking from professionals (MASQUE_PS),
// his own PDF documents, and deletion requests. An INVISIBLE_PATIENT document answers 404 exactly
// like a missing one, and nothing about it reaches the patient's traces.
import { createHash, randomUUID } from 'node:crypto';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { encryptDocument } from '../crypto/index.js';
import type { Ins, InsOid } from '../../ins/index.js';
import { DmpError } from '../errors.js';
import {
  confidentialityFlags,
  confidentialityOf,
  detectDocumentFormat,
  MAX_DOCUMENT_BYTES,
  parseDocumentMetadata,
  readDocumentContent,
  requireKeyProvider,
} from '../records/index.js';
import { problemResponses } from '../routes/schemas.js';
import type { RecordsDocument } from '../store/index.js';
import {
  decodeCursor,
  DOCUMENT_ID_PARAMS,
  encodeCursor,
  isOwnDocument,
  PORTAL_DOCUMENT_SCHEMA,
  portalDocumentView,
  sessionOf,
  TAGS,
  visibleDocument,
} from './schemas.js';
import { requirePatient } from './session.js';
import { tracePortal } from './traces.js';

const METADATA_MAX_BYTES = 16 * 1024;
const PAGE_DEFAULT = 50;
const PAGE_MAX = 200;
/** What a patient's metadata may not set: confidentiality codes are the practitioners' (he masks with /mask), RPLC too. */
const PRACTITIONER_ONLY_METADATA = ['confidentiality', 'replaces'];

const ERRORS = problemResponses(400, 401, 403, 404, 409, 413, 415, 500, 503);

interface ListQuery {
  limit?: number;
  cursor?: string;
}

interface ListCursor {
  t: number;
  id: string;
}

const isListCursor = (v: unknown): v is ListCursor =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as ListCursor).t) && typeof (v as ListCursor).id === 'string';

/** An ASCII fallback and an RFC 5987 UTF-8 name, never a quote or a path separator. */
function contentDisposition(title: string, extension: string): string {
  const base = title.normalize('NFC').replace(/[\u0000-\u001f\u007f"\\/:*?<>|]+/g, '_').slice(0, 120) || 'document';
  const ascii = base.normalize('NFD').replace(/[^\x20-\x7e]/g, '').replace(/[%;]/g, '_') || 'document';
  return `attachment; filename="${ascii}.${extension}"; filename*=UTF-8''${encodeURIComponent(`${base}.${extension}`)}`;
}

/** The records module's format detection, PDF only: anything else (a CDA included) is 415. */
function pdfOnly(bytes: Uint8Array, ins: Ins): ReturnType<typeof detectDocumentFormat> {
  const refused = new DmpError('UNSUPPORTED_MEDIA_TYPE', 'seuls les documents PDF peuvent être ajoutés par le patient');
  let format: ReturnType<typeof detectDocumentFormat>;
  try {
    format = detectDocumentFormat(bytes, ins);
  } catch (error) {
    if (error instanceof DmpError && error.code !== 'DOCUMENT_TOO_LARGE') throw refused;
    throw error;
  }
  if (format.format !== 'pdf') throw refused;
  return format;
}

/** The records module's metadata rules (typeCode of the matrix, class derived, title, creation time), minus what only practitioners set. */
function patientMetadata(text: string | undefined, now: Date): ReturnType<typeof parseDocumentMetadata> {
  if (text === undefined) throw new DmpError('METADATA_INVALID', 'partie « metadata » (JSON) absente');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DmpError('METADATA_INVALID', 'la partie « metadata » n’est pas du JSON');
  }
  if (typeof value === 'object' && value !== null) {
    const refused = PRACTITIONER_ONLY_METADATA.filter((key) => Object.hasOwn(value, key));
    if (refused.length > 0) throw new DmpError('METADATA_INVALID', `non accepté pour un document du patient : ${refused.join(', ')}`);
  }
  return parseDocumentMetadata(value, now);
}

export async function portalDocumentRoutes(app: FastifyInstance): Promise<void> {
  const { store, clock } = app.dmp;
  await app.register(fastifyMultipart, {
    limits: { fileSize: MAX_DOCUMENT_BYTES, files: 1, fields: 2, parts: 3, fieldSize: METADATA_MAX_BYTES, headerPairs: 50 },
  });

  app.get<{ Querystring: ListQuery }>(
    '/v1/portal/documents',
    {
      preHandler: requirePatient,
      schema: {
        tags: TAGS,
        summary: 'Ses documents (sauf ceux rendus invisibles au patient en attendant une consultation d’annonce), du plus récent au plus ancien',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: PAGE_MAX }, cursor: { type: 'string', maxLength: 512 } },
        },
        response: {
          200: {
            type: 'object',
            required: ['documents', 'nextCursor'],
            additionalProperties: false,
            properties: { documents: { type: 'array', items: PORTAL_DOCUMENT_SCHEMA }, nextCursor: { type: ['string', 'null'] } },
          },
          ...ERRORS,
        },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      const limit = request.query.limit ?? PAGE_DEFAULT;
      const cursor = decodeCursor(request.query.cursor, isListCursor);
      return store.transaction(async (tx) => {
        const ids = await tx.portal.listVisibleDocumentIds(session.patient.id, {
          limit: limit + 1,
          ...(cursor ? { after: { creationTime: cursor.t, id: cursor.id } } : {}),
        });
        const page: RecordsDocument[] = [];
        for (const id of ids.slice(0, limit)) {
          const document = await tx.records.getDocument(id);
          if (document) page.push(document);
        }
        const last = page.at(-1);
        await tracePortal(tx, { insPath: session.ins, patientId: session.patient.id, at: clock(), action: 'list_documents', detail: { count: page.length } });
        return {
          documents: page.map((d) => portalDocumentView(d, session)),
          nextCursor: ids.length > limit && last ? encodeCursor({ t: last.creationTime, id: last.id }) : null,
        };
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/portal/documents/:id/content',
    {
      preHandler: requirePatient,
      schema: {
        tags: TAGS,
        summary: 'Télécharger un document (toujours en pièce jointe, jamais affiché dans l’origine du service)',
        params: DOCUMENT_ID_PARAMS,
        response: { 200: { description: 'le contenu du document, déchiffré', type: 'string', format: 'binary' }, ...ERRORS },
      },
    },
    async (request, reply) => {
      const session = sessionOf(request);
      const provider = requireKeyProvider(app.dmp.keyProvider);
      const document = await visibleDocument(request, request.params.id);
      const content = await readDocumentContent(store, provider, document);
      await store.transaction((tx) =>
        tracePortal(tx, { insPath: session.ins, patientId: session.patient.id, at: clock(), action: 'read_document', target: `document:${document.id}` }),
      );
      const extension = document.mimeType === 'application/pdf' ? 'pdf' : document.mimeType.includes('xml') ? 'xml' : 'bin';
      return reply
        .header('Content-Type', document.mimeType === 'application/pdf' || document.mimeType.includes('xml') ? document.mimeType : 'application/octet-stream')
        .header('Content-Disposition', contentDisposition(document.title, extension))
        .header('Content-Security-Policy', 'sandbox')
        .header('X-Content-Type-Options', 'nosniff')
        .header('Cache-Control', 'no-store')
        .send(Buffer.from(content.buffer, content.byteOffset, content.byteLength));
    },
  );

  for (const [suffix, masked] of [
    ['mask', true],
    ['unmask', false],
  ] as const) {
    app.post<{ Params: { id: string } }>(
      `/v1/portal/documents/:id/${suffix}`,
      {
        preHandler: requirePatient,
        schema: {
          tags: TAGS,
          summary: masked
            ? 'Masquer un document aux professionnels (MASQUE_PS) : son auteur et le médecin traitant le voient encore'
            : 'Rendre à nouveau visible aux professionnels un document masqué',
          params: DOCUMENT_ID_PARAMS,
          response: { 200: PORTAL_DOCUMENT_SCHEMA, ...ERRORS },
        },
      },
      async (request) => {
        const session = sessionOf(request);
        const document = await visibleDocument(request, request.params.id);
        const confidentiality = confidentialityFlags(confidentialityOf({ ...document, maskedPs: masked }));
        await store.transaction(async (tx) => {
          const at = clock();
          if (!(await tx.records.setDocumentConfidentiality(document.id, confidentiality, at.getTime()))) throw new DmpError('DOCUMENT_NOT_FOUND', 'document introuvable');
          await tracePortal(tx, {
            insPath: session.ins,
            patientId: session.patient.id,
            at,
            action: masked ? 'mask_document' : 'unmask_document',
            target: `document:${document.id}`,
          });
        });
        return portalDocumentView({ ...document, confidentiality: confidentiality.json, maskedPs: masked }, session);
      },
    );
  }

  app.post(
    '/v1/portal/documents',
    {
      preHandler: requirePatient,
      bodyLimit: MAX_DOCUMENT_BYTES + 256 * 1024,
      schema: {
        tags: TAGS,
        summary: 'Ajouter un de ses propres documents (PDF, 10 Mio au plus), multipart/form-data : « metadata » { title, typeCode, creationTime? } et « content »',
        consumes: ['multipart/form-data'],
        response: { 201: PORTAL_DOCUMENT_SCHEMA, ...ERRORS },
      },
    },
    async (request, reply) => {
      const session = sessionOf(request);
      const provider = requireKeyProvider(app.dmp.keyProvider);
      if (!request.isMultipart()) throw new DmpError('UNSUPPORTED_MEDIA_TYPE', 'multipart/form-data attendu (parties « metadata » et « content »)');
      let metadataText: string | undefined;
      let content: Buffer | undefined;
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          if (part.fieldname === 'content' && content === undefined) content = await part.toBuffer();
          else if (part.fieldname === 'metadata' && metadataText === undefined) {
            const bytes = await part.toBuffer();
            if (bytes.byteLength > METADATA_MAX_BYTES) throw new DmpError('PAYLOAD_TOO_LARGE', 'partie « metadata » trop volumineuse');
            metadataText = bytes.toString('utf8');
          } else {
            part.file.resume();
            throw new DmpError('REQUEST_INVALID', `partie inattendue : ${part.fieldname.slice(0, 64)}`);
          }
        } else if (part.fieldname === 'metadata' && metadataText === undefined) {
          metadataText = String(part.value);
        } else {
          throw new DmpError('REQUEST_INVALID', `partie inattendue : ${part.fieldname.slice(0, 64)}`);
        }
      }
      const at = clock();
      const now = at.getTime();
      const metadata = patientMetadata(metadataText, at);
      if (content === undefined || content.byteLength === 0) throw new DmpError('REQUEST_INVALID', 'partie « content » (le PDF) absente ou vide');
      const bytes = new Uint8Array(content.buffer, content.byteOffset, content.byteLength);
      const format = pdfOnly(bytes, { oid: session.patient.insOid as InsOid, value: session.patient.insValue });

      const id = randomUUID();
      const encrypted = await encryptDocument(bytes, provider, id);
      const document: RecordsDocument = {
        id,
        patientId: session.patient.id,
        classCode: metadata.classCode,
        typeCode: metadata.typeCode,
        confidentiality: confidentialityFlags([]).json,
        format: format.format,
        mimeType: format.mimeType,
        title: metadata.title,
        creationTime: metadata.creationTime,
        submittedAt: now,
        updatedAt: now,
        authorKind: 'patient',
        authorId: session.ins,
        authorName: 'Le patient',
        authorProfessionCode: null,
        establishmentId: null,
        status: 'approved',
        replacesId: null,
        replacedById: null,
        maskedPs: false,
        invisiblePatient: false,
        invisibleRepresentants: false,
        deletionRequestedAt: null,
        deletedAt: null,
        contentSha256: createHash('sha256').update(content).digest('hex'),
        contentSize: content.byteLength,
      };
      await store.transaction(async (tx) => {
        await tx.records.insertDocument(document, { ...encrypted, signatureCms: null });
        await tracePortal(tx, {
          insPath: session.ins,
          patientId: session.patient.id,
          at: clock(),
          action: 'send_document',
          target: `document:${id}`,
          detail: { typeCode: metadata.typeCode, size: content.byteLength },
        });
      });
      return reply.code(201).header('Location', `/v1/portal/documents/${id}/content`).send(portalDocumentView(document, session));
    },
  );

  app.post<{ Params: { id: string }; Body: { reason?: string } | undefined }>(
    '/v1/portal/documents/:id/deletion-request',
    {
      preHandler: requirePatient,
      schema: {
        tags: TAGS,
        summary: 'Demander la suppression d’un document : transmise à son auteur (seul l’auteur supprime) ; un document ajouté par le patient est supprimé aussitôt',
        params: DOCUMENT_ID_PARAMS,
        body: { type: ['object', 'null'], additionalProperties: false, properties: { reason: { type: 'string', maxLength: 1000 } } },
        response: {
          200: {
            type: 'object',
            required: ['documentId', 'status', 'requestedAt'],
            additionalProperties: false,
            properties: {
              documentId: { type: 'string' },
              status: { type: 'string', enum: ['requested', 'deleted'] },
              requestedAt: { type: 'string', format: 'date-time' },
            },
          },
          ...ERRORS,
        },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      const document = await visibleDocument(request, request.params.id);
      const reason = request.body?.reason;
      if (isOwnDocument(document, session)) {
        // the patient is this document's author: the author deletes (logically)
        const at = clock();
        await store.transaction(async (tx) => {
          await tx.records.deleteDocumentLogically(document.id, at.getTime());
          await tracePortal(tx, { insPath: session.ins, patientId: session.patient.id, at, action: 'delete_document', target: `document:${document.id}` });
        });
        return { documentId: document.id, status: 'deleted' as const, requestedAt: at.toISOString() };
      }
      const requestedAt = await store.transaction(async (tx) => {
        const at = clock();
        const first = await tx.portal.requestDocumentDeletion(document.id, at.getTime());
        if (!first) return document.deletionRequestedAt ?? at.getTime();
        await tx.records.enqueueNotification({
          id: randomUUID(),
          kind: 'notification',
          recipient: `${document.authorKind}:${document.authorId}`,
          payload: JSON.stringify({
            event: 'dmp.deletion_request',
            at: at.toISOString(),
            patientIns: { oid: session.patient.insOid, value: session.patient.insValue },
            document: { id: document.id, title: document.title, typeCode: document.typeCode },
            reason: reason ?? null,
          }),
          createdAt: at.getTime(),
          availableAt: at.getTime(),
        });
        await tracePortal(tx, {
          insPath: session.ins,
          patientId: session.patient.id,
          at,
          action: 'request_deletion',
          target: `document:${document.id}`,
          ...(reason === undefined ? {} : { detail: { reason } }),
        });
        return at.getTime();
      });
      return { documentId: document.id, status: 'requested' as const, requestedAt: new Date(requestedAt).toISOString() };
    },
  );
}
