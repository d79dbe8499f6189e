// JSON schemas and small helpers shared by the portal's routes.
import type { FastifyRequest } from 'fastify';
import type { KeyProvider } from '../crypto/index.js';
import { DmpError } from '../errors.js';
import type { Ins } from '../../ins/index.js';
import { insFromBody, insPath } from '../records/index.js';
import { documentTypeByCode } from '../policy/index.js';
import type { RecordsDocument } from '../store/index.js';
import type { PatientSession } from './session.js';

export const TAGS = ['portail patient'];

export const INS_SCHEMA = {
  type: 'object',
  description: 'INS du patient : OID (INS-NIR 1.2.250.1.213.1.4.8, INS-NIA …4.9, INS-NIR de test …4.10, de démonstration …4.11, INS-C …4.2) et valeur.',
  required: ['oid', 'value'],
  additionalProperties: false,
  properties: { oid: { type: 'string', maxLength: 64 }, value: { type: 'string', maxLength: 64 } },
} as const;

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const DOCUMENT_ID_PARAMS = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

export const PORTAL_DOCUMENT_SCHEMA = {
  type: 'object',
  description: 'Un document du DMP tel que le patient le voit.',
  required: ['id', 'title', 'classCode', 'typeCode', 'typeLabel', 'format', 'mimeType', 'size', 'creationTime', 'submittedAt', 'status', 'author', 'masquePs', 'deletionRequestedAt', 'ownDocument'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    classCode: { type: 'string' },
    typeCode: { type: 'string', description: 'LOINC' },
    typeLabel: { type: 'string' },
    format: { type: 'string' },
    mimeType: { type: 'string' },
    size: { type: 'integer' },
    creationTime: { type: 'string', format: 'date-time' },
    submittedAt: { type: 'string', format: 'date-time' },
    status: { type: 'string', enum: ['approved', 'deprecated', 'archived', 'deleted'] },
    author: {
      type: 'object',
      required: ['kind', 'id', 'name'],
      additionalProperties: false,
      properties: { kind: { type: 'string', enum: ['practitioner', 'establishment', 'patient'] }, id: { type: 'string' }, name: { type: 'string' }, professionCode: { type: ['string', 'null'] } },
    },
    masquePs: { type: 'boolean', description: 'MASQUE_PS : masqué aux professionnels (son auteur et le médecin traitant le voient encore)' },
    deletionRequestedAt: { type: ['string', 'null'], format: 'date-time' },
    ownDocument: { type: 'boolean', description: 'ajouté par le patient lui-même' },
  },
} as const;

const iso = (ms: number): string => new Date(ms).toISOString();

export function portalDocumentView(d: RecordsDocument, session: PatientSession): Record<string, unknown> {
  return {
    id: d.id,
    title: d.title,
    classCode: d.classCode,
    typeCode: d.typeCode,
    typeLabel: documentTypeByCode(d.typeCode)?.display ?? d.typeCode,
    format: d.format,
    mimeType: d.mimeType,
    size: d.contentSize,
    creationTime: iso(d.creationTime),
    submittedAt: iso(d.submittedAt),
    status: d.status,
    author: { kind: d.authorKind, id: d.authorId, name: d.authorName, professionCode: d.authorProfessionCode },
    masquePs: d.maskedPs,
    deletionRequestedAt: d.deletionRequestedAt === null ? null : iso(d.deletionRequestedAt),
    ownDocument: isOwnDocument(d, session),
  };
}

export function isOwnDocument(d: RecordsDocument, session: PatientSession): boolean {
  return d.authorKind === 'patient' && d.authorId === session.ins;
}

/** A checked INS of a request body, as the records module accepts them for a DMP (400 INS_INVALID otherwise). */
export function insOf(value: { oid: string; value: string }): { ins: Ins; path: string } {
  const ins = insFromBody(value);
  return { ins, path: insPath(ins) };
}

/** For the portal's own secrets (OTP messages, TOTP seeds): sealed with the documents' KeyProvider. */
export function keyProviderOf(request: FastifyRequest): KeyProvider {
  const provider = request.server.dmp.keyProvider;
  if (!provider) throw new DmpError('SERVICE_UNAVAILABLE', 'le chiffrement des données du portail n’est pas configuré sur ce service');
  return provider;
}

export function sessionOf(request: FastifyRequest): PatientSession {
  const session = request.patientSession;
  if (!session) throw new DmpError('PATIENT_SESSION_REQUIRED', 'session patient requise');
  return session;
}

/** A document of the session's patient that he may see (not deleted, not INVISIBLE_PATIENT), else 404 DOCUMENT_NOT_FOUND. */
export async function visibleDocument(request: FastifyRequest, documentId: string): Promise<RecordsDocument> {
  const session = sessionOf(request);
  const document = await request.server.dmp.store.records.getDocument(documentId);
  // an INVISIBLE_PATIENT document answers exactly like one that does not exist (or another patient's)
  if (!document || document.patientId !== session.patient.id || document.invisiblePatient || document.status === 'deleted') {
    throw new DmpError('DOCUMENT_NOT_FOUND', 'document introuvable');
  }
  return document;
}

/** Opaque paging cursors: base64url JSON. Undefined when absent; 400 CURSOR_INVALID when not one of ours. */
export function decodeCursor<T>(cursor: string | undefined, check: (value: unknown) => value is T): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (check(value)) return value;
  } catch {
    // fall through
  }
  throw new DmpError('CURSOR_INVALID', 'curseur de pagination invalide');
}

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}
