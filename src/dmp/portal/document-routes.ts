// The patient's documents: the list (every document of his DMP except those a practitioner made
// INVISIBLE_PATIENT, masked ones included), downloads, masking from professionals (MASQUE_PS),
// his own PDF documents, and deletion requests. An INVISIBLE_PATIENT document answers 404 exactly
// like a missing one, and nothing about it reaches the patient's traces.
import { createHash, randomUUID } from 'node:crypto';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { decryptDocument, encryptDocument } from '../crypto/index.js';
import { DmpError } from '../errors.js';
import { classCodeOf, documentTypes } from '../policy/index.js';
import { problemResponses } from '../routes/schemas.js';
import type { RecordsConfidentialityFlags, RecordsDocument } from '../store/index.js';
import {
  decodeCursor,
  DOCUMENT_ID_PARAMS,
  encodeCursor,
  isOwnDocument,
  keyProviderOf,
  PORTAL_DOCUMENT_SCHEMA,
  portalDocumentView,
  sessionOf,
  TAGS,
  visibleDocument,
} from './schemas.js';
import { requirePatient } from './session.js';
import { tracePortal } from './traces.js';

export const MAX_PATIENT_DOCUMENT_BYTES = 10 * 1024 * 1024;
const METADATA_MAX_BYTES = 16 * 1024;
const PAGE_DEFAULT = 50;
const PAGE_MAX = 200;
/** The patient's own documents carry no confidentiality code (the matrix decides which professions see them). */
export const PATIENT_DOCUMENT_CONFIDENTIALITY = JSON.stringify([]);

/** The stored confidentiality codes (a JSON list, sorted) and flags with MASQUE_PS set or removed; the other codes kept. */
function withMasquePs(document: RecordsDocument, masked: boolean): RecordsConfidentialityFlags {
  let codes: unknown;
  try {
    codes = JSON.parse(document.confidentiality);
  } catch {
    codes = [];
  }
  const set = new Set(Array.isArray(codes) ? codes.filter((c): c is string => typeof c === 'string') : []);
  if (masked) set.add('MASQUE_PS');
  else set.delete('MASQUE_PS');
  return {
    json: JSON.stringify([...set].sort()),
    maskedPs: masked,
    invisiblePatient: document.invisiblePatient,
    invisibleRepresentants: document.invisibleRepresentants,
  };
}

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

/** `%PDF-` first, `%%EOF` in the last kilobyte: a PDF, not something renamed .pdf. */
export function looksLikePdf(content: Uint8Array): boolean {
  if (content.byteLength < 16) return false;
  const head = Buffer.from(content.subarray(0, 5)).toString('latin1');
  const tail = Buffer.from(content.subarray(Math.max(0, content.byteLength - 1024))).toString('latin1');
  return head === '%PDF-' && tail.includes('%%EOF');
}

/** An ASCII fallback and an RFC 5987 UTF-8 name, never a quote or a path separator. */
function contentDisposition(title: string, extension: string): string {
  const base = title.normalize('NFC').replace(/[\u0000-\u001f\u007f"\\/:*?<>|]+/g, '_').slice(0, 120) || 'document';
  const ascii = base.normalize('NFD').replace(/[^\x20-\x7e]/g, '').replace(/[%;]/g, '_') || 'document';
  return `attachment; filename="${ascii}.${extension}"; filename*=UTF-8''${encodeURIComponent(`${base}.${extension}`)}`;
}

interface UploadMetadata {
  title: string;
  typeCode: string;
  creationTime?: string;
}

function parseMetadata(text: string | undefined, now: number): { title: string; typeCode: string; classCode: string; creationTime: number } {
  if (text === undefined) throw new DmpError('REQUEST_INVALID', 'partie « metadata » (JSON) absente');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DmpError('REQUEST_INVALID', 'la partie « metadata » n’est pas du JSON');
  }
  const m = value as Partial<UploadMetadata>;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new DmpError('REQUEST_INVALID', 'la partie « metadata » doit être un objet JSON');
  const unknown = Object.keys(m).filter((k) => !['title', 'typeCode', 'creationTime'].includes(k));
  if (unknown.length > 0) throw new DmpError('REQUEST_INVALID', `champs inconnus dans « metadata » : ${unknown.join(', ').slice(0, 200)}`);
  if (typeof m.title !== 'string' || m.title.trim() === '' || [...m.title].length > 256 || /[\u0000-\u001f\u007f]/.test(m.title)) {
    throw new DmpError('REQUEST_INVALID', 'titre attendu : 1 à 256 caractères, sans caractère de contrôle');
  }
  const classCode = typeof m.typeCode === 'string' ? classCodeOf(m.typeCode) : undefined;
  if (typeof m.typeCode !== 'string' || classCode === undefined) {
    throw new DmpError('REQUEST_INVALID', `type de document (typeCode LOINC) inconnu ; types possibles : ${documentTypes.map((t) => t.typeCode).join(', ')}`);
  }
  let creationTime = now;
  if (m.creationTime !== undefined) {
    const parsed = typeof m.creationTime === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(m.creationTime) ? Date.parse(m.creationTime) : Number.NaN;
    if (Number.isNaN(parsed) || parsed > now + 5 * 60_000) throw new DmpError('REQUEST_INVALID', 'creationTime : date ISO 8601 attendue, pas dans le futur');
    creationTime = parsed;
  }
  return { title: m.title, typeCode: m.typeCode, classCode, creationTime };
}

export async function portalDocumentRoutes(app: FastifyInstance): Promise<void> {
  const { store, clock } = app.dmp;
  await app.register(fastifyMultipart, {
    limits: { fileSize: MAX_PATIENT_DOCUMENT_BYTES, files: 1, fields: 2, parts: 3, fieldSize: METADATA_MAX_BYTES, headerPairs: 50 },
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
      const provider = keyProviderOf(request);
      const document = await visibleDocument(request, request.params.id);
      const stored = await store.records.getDocumentContent(document.id);
      if (!stored) throw new DmpError('NOT_FOUND', 'document introuvable');
      const content = await decryptDocument(
        { keyId: stored.keyId, wrappedKey: stored.wrappedKey, iv: stored.iv, tag: stored.tag, ciphertext: stored.ciphertext },
        provider,
        document.id,
      );
      if (createHash('sha256').update(content).digest('hex') !== document.contentSha256.toLowerCase()) {
        throw new DmpError('INTERNAL', 'contenu du document incohérent avec son empreinte');
      }
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
        const confidentiality = withMasquePs(document, masked);
        await store.transaction(async (tx) => {
          const at = clock();
          if (!(await tx.records.setDocumentConfidentiality(document.id, confidentiality, at.getTime()))) throw new DmpError('NOT_FOUND', 'document introuvable');
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
      bodyLimit: MAX_PATIENT_DOCUMENT_BYTES + 256 * 1024,
      schema: {
        tags: TAGS,
        summary: 'Ajouter un de ses propres documents (PDF, 10 Mio au plus), multipart/form-data : « metadata » { title, typeCode, creationTime? } et « content »',
        consumes: ['multipart/form-data'],
        response: { 201: PORTAL_DOCUMENT_SCHEMA, ...ERRORS },
      },
    },
    async (request, reply) => {
      const session = sessionOf(request);
      const provider = keyProviderOf(request);
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
      const now = clock().getTime();
      const metadata = parseMetadata(metadataText, now);
      if (content === undefined || content.byteLength === 0) throw new DmpError('REQUEST_INVALID', 'partie « content » (le PDF) absente ou vide');
      if (!looksLikePdf(content)) throw new DmpError('UNSUPPORTED_MEDIA_TYPE', 'seuls les documents PDF peuvent être ajoutés par le patient');

      const id = randomUUID();
      const encrypted = await encryptDocument(new Uint8Array(content.buffer, content.byteOffset, content.byteLength), provider, id);
      const document: RecordsDocument = {
        id,
        patientId: session.patient.id,
        classCode: metadata.classCode,
        typeCode: metadata.typeCode,
        confidentiality: PATIENT_DOCUMENT_CONFIDENTIALITY,
        format: 'pdf',
        mimeType: 'application/pdf',
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
