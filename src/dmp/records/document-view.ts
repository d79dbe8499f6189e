// What the API shows of a document's metadata (GET /v1/documents/{id}, search results, send).
import type { RecordsDocument } from '../store/index.js';
import { confidentialityOf, type ConfidentialityCode } from './document-metadata.js';

export interface DocumentView {
  readonly id: string;
  /** The patient's INS. */
  readonly ins: { readonly oid: string; readonly value: string };
  readonly classCode: string;
  readonly typeCode: string;
  readonly title: string;
  readonly confidentiality: ConfidentialityCode[];
  readonly format: string;
  readonly mimeType: string;
  readonly creationTime: string;
  readonly submittedAt: string;
  readonly updatedAt: string;
  readonly author: {
    readonly kind: string;
    readonly id: string;
    readonly name: string;
    readonly professionCode: string | null;
    readonly establishmentId: string | null;
  };
  readonly status: string;
  readonly replaces: string | null;
  readonly replacedBy: string | null;
  /** SHA-256 of the content, lower-case hex. */
  readonly hash: string;
  readonly size: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function documentView(document: RecordsDocument, ins: { readonly insOid: string; readonly insValue: string }): DocumentView {
  return {
    id: document.id,
    ins: { oid: ins.insOid, value: ins.insValue },
    classCode: document.classCode,
    typeCode: document.typeCode,
    title: document.title,
    confidentiality: confidentialityOf(document),
    format: document.format,
    mimeType: document.mimeType,
    creationTime: iso(document.creationTime),
    submittedAt: iso(document.submittedAt),
    updatedAt: iso(document.updatedAt),
    author: {
      kind: document.authorKind,
      id: document.authorId,
      name: document.authorName,
      professionCode: document.authorProfessionCode,
      establishmentId: document.establishmentId,
    },
    status: document.status,
    replaces: document.replacesId,
    replacedBy: document.replacedById,
    hash: document.contentSha256,
    size: document.contentSize,
  };
}
