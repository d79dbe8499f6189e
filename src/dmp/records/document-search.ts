// The index of a DMP as an allowed reader sees it: the filters of the request (classCode, typeCode,
// creation dates, status) within what the access allows — the matrix's typeCodes for his
// profession, MASQUE_PS documents only for the médecin traitant, same-rights practitioners and
// their author, never deleted ones — newest first, paged by an opaque cursor.
import type { DmpStore, RecordsDocument, RecordsPatient } from '../store/index.js';
import type { AllowedAccess } from './access-decision.js';
import { decodeCursor, encodeCursor } from './search-cursor.js';

export type SearchableStatus = 'approved' | 'deprecated' | 'archived';
export const SEARCHABLE_STATUSES: readonly SearchableStatus[] = ['approved', 'deprecated', 'archived'];
export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

export interface DocumentQuery {
  /** Any of these (absent: any). */
  readonly classCodes?: readonly string[];
  readonly typeCodes?: readonly string[];
  /** Epoch ms, inclusive. */
  readonly from?: number;
  /** Epoch ms, exclusive. */
  readonly to?: number;
  readonly statuses: readonly SearchableStatus[];
  readonly limit: number;
  readonly cursor?: string;
}

export interface DocumentPage {
  readonly documents: RecordsDocument[];
  readonly nextCursor: string | null;
}

export async function searchPatientDocuments(store: DmpStore, access: AllowedAccess, patient: RecordsPatient, query: DocumentQuery): Promise<DocumentPage> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const limit = Math.min(Math.max(query.limit, 1), MAX_PAGE);
  // one more than the page: tells whether a next page exists without a second query
  const rows = await store.records.searchDocuments({
    patientId: patient.id,
    statuses: query.statuses,
    ...(query.classCodes === undefined ? {} : { classCodes: query.classCodes }),
    ...(query.typeCodes === undefined ? {} : { typeCodes: query.typeCodes }),
    ...(query.from === undefined ? {} : { from: query.from }),
    ...(query.to === undefined ? {} : { to: query.to }),
    visibleTypeCodes: access.visibleTypeCodes,
    seesMasked: access.seesMasked,
    viewerAuthorId: access.readerId,
    ...(after === undefined ? {} : { after }),
    limit: limit + 1,
  });
  const documents = rows.slice(0, limit);
  const last = documents.at(-1);
  return { documents, nextCursor: rows.length > limit && last ? encodeCursor({ creationTime: last.creationTime, id: last.id }) : null };
}
