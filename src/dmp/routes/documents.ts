// Routes of the documents of a DMP (dmp-service.md, "Patients and access", "API shape"):
//   POST   /v1/patients/{ins}/documents   send (multipart: metadata, content, signature); no
//                                        authorisation needed; establishment sessions too
//   GET    /v1/patients/{ins}/documents   search (classCode, typeCode, from/to, status, limit, cursor)
//   GET    /v1/documents/{id}             metadata
//   GET    /v1/documents/{id}/content     the bytes, as a download only
//   PATCH  /v1/documents/{id}             status / confidentiality, by the author
//   DELETE /v1/documents/{id}             logical deletion, by the author
// Reads go through the records' read gate (access decision, matrix, masking; X-Access-Mode and
// X-Access-Reason); every operation and refusal is traced in the patient's chain.
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { requireSession } from '../auth/index.js';
import { DmpError } from '../errors.js';
import {
  SEARCHABLE_STATUSES,
  DEFAULT_PAGE,
  changeDocument,
  checkDocumentSignature,
  deleteDocument,
  detectDocumentFormat,
  documentView,
  documentVisibility,
  openForReading,
  parseDocumentMetadata,
  readDocumentContent,
  recordRead,
  requireKeyProvider,
  searchPatientDocuments,
  storeDocument,
  traceRefusals,
  insFromPath,
  type ConfidentialityCode,
  type SearchableStatus,
} from '../records/index.js';
import { loadMatrix } from '../policy/index.js';
import { UPLOAD_LIMITS, readUpload } from './document-upload.js';
import { ACCESS_HEADERS, DOCUMENT_ID_PARAMS, DOCUMENT_PATCH_BODY, DOCUMENT_SEARCH_QUERY, DOCUMENT_VIEW, INS_PARAMS } from './records-schemas.js';
import { documentScope, patientScope, practitionerOnly, type DocumentScope } from './records-scope.js';
import { problemResponses } from './schemas.js';

const TAGS = ['documents'];
const SECURITY = [{ dpopSession: [], dpopProof: [] }];

interface SearchQuery {
  classCode?: string[];
  typeCode?: string[];
  from?: string;
  to?: string;
  status?: string[];
  limit?: number;
  cursor?: string;
}

function statusesOf(values: readonly string[] | undefined): SearchableStatus[] {
  const statuses = [...new Set((values ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== ''))];
  if (statuses.length === 0) return ['approved'];
  for (const status of statuses) {
    if (!(SEARCHABLE_STATUSES as readonly string[]).includes(status)) {
      throw new DmpError('REQUEST_INVALID', `status : valeurs acceptées ${SEARCHABLE_STATUSES.join(', ')}`);
    }
  }
  return statuses as SearchableStatus[];
}

function timeOf(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new DmpError('REQUEST_INVALID', `${what} : date ISO 8601 attendue`);
  return time;
}

export async function documentRoutes(app: FastifyInstance): Promise<void> {
  const matrix = loadMatrix();
  const { store, clock, validator } = app.dmp;
  // multipart for this plugin only; busboy enforces the sizes while streaming
  await app.register(multipart, { limits: UPLOAD_LIMITS, throwFileSizeLimit: true });

  /** The read gate of a document route: access decision, then this document's visibility. */
  async function openDocument(scope: DocumentScope, headers: Record<string, string | string[] | undefined>) {
    const gate = { store, matrix, headers, patient: scope.patient, caller: scope.caller, trail: scope.trail, now: clock() };
    const access = await openForReading(gate);
    const visibility = documentVisibility(access, scope.document);
    if (!visibility.visible) {
      throw new DmpError(visibility.code, visibility.code === 'MATRIX_DENIED' ? 'votre profession ne donne pas accès à ce type de document' : 'document introuvable');
    }
    return { gate, access };
  }

  app.post<{ Params: { ins: string } }>(
    '/v1/patients/:ins/documents',
    {
      preHandler: requireSession,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Alimenter le DMP : envoyer un document signé',
        description:
          'multipart/form-data : partie `metadata` (JSON { classCode?, typeCode, title, confidentiality?, creationTime?, replaces? }), partie `content` (CDA R2 XML en UTF-8 ou PDF, 10 Mio au plus), partie `signature` (CMS SignedData détachée, DER, par la clé de signature de la CPS ; en mode établissement, par le certificat de l’établissement connecté). Aucune autorisation du patient n’est nécessaire pour alimenter.',
        consumes: ['multipart/form-data'],
        params: INS_PARAMS,
        response: { 201: DOCUMENT_VIEW, ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 500, 503) },
      },
    },
    async (request, reply) => {
      const ins = insFromPath(request.params.ins);
      const { patient, caller, trail } = await patientScope(request, request.params.ins);
      return traceRefusals(store, trail, { action: 'document.send' }, async () => {
        if (patient.status !== 'active') throw new DmpError('DMP_CLOSED', 'ce DMP est fermé');
        const keyProvider = requireKeyProvider(app.dmp.keyProvider);
        const upload = await readUpload(request);
        const now = clock();
        const metadata = parseDocumentMetadata(upload.metadata, now);
        const format = detectDocumentFormat(upload.content, ins);
        const signature = await checkDocumentSignature(validator, upload.signature, upload.content, caller);
        const stored = await storeDocument(store, keyProvider, {
          patient,
          caller,
          metadata,
          format,
          content: upload.content,
          signatureCms: upload.signature,
          signerFingerprint: signature.signerFingerprint,
          trail,
          now,
        });
        reply.code(201).header('Location', `/v1/documents/${stored.id}`);
        return documentView(stored, patient);
      });
    },
  );

  app.get<{ Params: { ins: string }; Querystring: SearchQuery }>(
    '/v1/patients/:ins/documents',
    {
      preHandler: requireSession,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Rechercher dans l’index des documents du DMP',
        description:
          'Autorisation du patient requise, sauf X-Access-Mode: bris_de_glace (avec X-Access-Reason) ou centre_15 ; la matrice d’habilitations et le masquage s’appliquent. Pagination : limit + nextCursor opaque.',
        params: INS_PARAMS,
        querystring: DOCUMENT_SEARCH_QUERY,
        headers: ACCESS_HEADERS,
        response: {
          200: {
            type: 'object',
            required: ['documents', 'nextCursor'],
            properties: { documents: { type: 'array', items: DOCUMENT_VIEW }, nextCursor: { type: ['string', 'null'] } },
          },
          ...problemResponses(400, 401, 403, 404, 500),
        },
      },
    },
    async (request) => {
      const { patient, caller, trail } = await patientScope(request, request.params.ins);
      const q = request.query;
      return traceRefusals(store, trail, { action: 'document.search' }, async () => {
        const gate = { store, matrix, headers: request.headers, patient, caller, trail, now: clock() };
        const access = await openForReading(gate);
        const query = {
          statuses: statusesOf(q.status),
          limit: q.limit ?? DEFAULT_PAGE,
          ...(q.classCode === undefined ? {} : { classCodes: q.classCode }),
          ...(q.typeCode === undefined ? {} : { typeCodes: q.typeCode }),
          ...(q.from === undefined ? {} : { from: timeOf(q.from, 'from') as number }),
          ...(q.to === undefined ? {} : { to: timeOf(q.to, 'to') as number }),
          ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
        };
        const page = await searchPatientDocuments(store, access, patient, query);
        await recordRead(gate, access, {
          action: 'document.search',
          detail: {
            filters: { classCode: q.classCode ?? null, typeCode: q.typeCode ?? null, from: q.from ?? null, to: q.to ?? null, status: query.statuses, page: q.cursor !== undefined },
            count: page.documents.length,
            documents: page.documents.map((d) => d.id),
          },
        });
        return { documents: page.documents.map((d) => documentView(d, patient)), nextCursor: page.nextCursor };
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/documents/:id',
    {
      preHandler: requireSession,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Métadonnées d’un document',
        params: DOCUMENT_ID_PARAMS,
        headers: ACCESS_HEADERS,
        response: { 200: DOCUMENT_VIEW, ...problemResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request) => {
      const scope = await documentScope(request, request.params.id);
      const target = `document:${scope.document.id}`;
      return traceRefusals(store, scope.trail, { action: 'document.read-metadata', target }, async () => {
        const { gate, access } = await openDocument(scope, request.headers);
        await recordRead(gate, access, { action: 'document.read-metadata', target, detail: { typeCode: scope.document.typeCode } });
        return documentView(scope.document, scope.patient);
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/documents/:id/content',
    {
      preHandler: requireSession,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Contenu d’un document, en téléchargement uniquement',
        description:
          'Servi en pièce jointe (Content-Disposition: attachment, X-Content-Type-Options: nosniff, Content-Security-Policy: sandbox, pas de cache), avec le type d’origine : jamais rendu dans l’origine du service (un CDA peut porter du script).',
        params: DOCUMENT_ID_PARAMS,
        headers: ACCESS_HEADERS,
        response: { 200: { description: 'les octets du document (text/xml ou application/pdf)' }, ...problemResponses(400, 401, 403, 404, 500, 503) },
      },
    },
    async (request, reply) => {
      const scope = await documentScope(request, request.params.id);
      const target = `document:${scope.document.id}`;
      return traceRefusals(store, scope.trail, { action: 'document.read', target }, async () => {
        const keyProvider = requireKeyProvider(app.dmp.keyProvider);
        const { gate, access } = await openDocument(scope, request.headers);
        const content = await readDocumentContent(store, keyProvider, scope.document);
        await recordRead(gate, access, { action: 'document.read', target, detail: { typeCode: scope.document.typeCode, sha256: scope.document.contentSha256 } });
        const extension = scope.document.format === 'pdf' ? 'pdf' : 'xml';
        return reply
          .code(200)
          .header('Content-Type', scope.document.mimeType === 'text/xml' ? 'text/xml; charset=utf-8' : scope.document.mimeType)
          .header('Content-Disposition', `attachment; filename="document-${scope.document.id}.${extension}"`)
          .header('X-Content-Type-Options', 'nosniff')
          .header('Content-Security-Policy', 'sandbox')
          .header('Cache-Control', 'no-store, max-age=0')
          .header('Pragma', 'no-cache')
          .send(Buffer.from(content.buffer, content.byteOffset, content.byteLength));
      });
    },
  );

  app.patch<{ Params: { id: string }; Body: { status?: 'approved' | 'archived'; confidentiality?: ConfidentialityCode[] } }>(
    '/v1/documents/:id',
    {
      preHandler: requireSession,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Changer le statut (approved / archived) ou la confidentialité d’un document, par son auteur',
        description: 'Le masquage aux professionnels (MASQUE_PS) peut être ajouté par l’auteur, mais seul le patient le lève.',
        params: DOCUMENT_ID_PARAMS,
        body: DOCUMENT_PATCH_BODY,
        response: { 200: DOCUMENT_VIEW, ...problemResponses(400, 401, 403, 404, 409, 500) },
      },
    },
    async (request) => {
      const scope = await documentScope(request, request.params.id);
      const body = request.body;
      return traceRefusals(store, scope.trail, { action: 'document.update', target: `document:${scope.document.id}` }, async () => {
        const practitioner = practitionerOnly(scope.caller);
        const confidentiality = body.confidentiality === undefined ? undefined : [...new Set(body.confidentiality)].sort();
        const updated = await changeDocument(
          store,
          scope.patient,
          scope.document,
          practitioner,
          { ...(body.status === undefined ? {} : { status: body.status }), ...(confidentiality === undefined ? {} : { confidentiality }) },
          scope.trail,
          clock(),
        );
        return documentView(updated, scope.patient);
      });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/documents/:id',
    {
      preHandler: requireSession,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Supprimer (logiquement) un document, par son auteur',
        params: DOCUMENT_ID_PARAMS,
        response: { 204: { type: 'null', description: 'supprimé' }, ...problemResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request, reply) => {
      const scope = await documentScope(request, request.params.id);
      return traceRefusals(store, scope.trail, { action: 'document.delete', target: `document:${scope.document.id}` }, async () => {
        const practitioner = practitionerOnly(scope.caller);
        await deleteDocument(store, scope.patient, scope.document, practitioner, scope.trail, clock());
        return reply.code(204).send();
      });
    },
  );
}
