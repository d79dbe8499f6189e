// The opaque `cursor` of document searches: the (creation time, id) of the last document of a page,
// base64url JSON. Paging is by key (creation_time DESC, id DESC), so a page never repeats or skips
// a document because others were added meanwhile. A cursor that does not decode is 400.
import { DmpError } from '../errors.js';
import { DOCUMENT_ID_PATTERN } from './document-metadata.js';

export interface SearchPosition {
  readonly creationTime: number;
  readonly id: string;
}

export function encodeCursor(position: SearchPosition): string {
  return Buffer.from(JSON.stringify({ v: 1, t: position.creationTime, id: position.id }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): SearchPosition {
  const invalid = new DmpError('CURSOR_INVALID', 'curseur inconnu : reprenez la recherche depuis la première page');
  if (cursor.length > 256 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  const { v, t, id } = (value ?? {}) as { v?: unknown; t?: unknown; id?: unknown };
  if (v !== 1 || !Number.isSafeInteger(t) || typeof id !== 'string' || !DOCUMENT_ID_PATTERN.test(id)) throw invalid;
  return { creationTime: t as number, id };
}
