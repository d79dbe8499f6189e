// Typed readers of result rows for the repositories (the drivers give unknown values): each
// checks the shape it relies on and throws a TypeError naming the column otherwise.
import type { SqlRow } from './sql-executor.js';

export function rowText(row: SqlRow, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new TypeError(`store: column ${column} is not text`);
  return value;
}

export function rowTextOrNull(row: SqlRow, column: string): string | null {
  const value = row[column];
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw new TypeError(`store: column ${column} is not text`);
  return value;
}

/** INTEGER (SQLite) or BIGINT (PostgreSQL, parsed as number by the store). */
export function rowInt(row: SqlRow, column: string): number {
  const value = row[column];
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || typeof value === 'string') return Number(value);
  throw new TypeError(`store: column ${column} is not a number`);
}

export function rowIntOrNull(row: SqlRow, column: string): number | null {
  const value = row[column];
  return value === null || value === undefined ? null : rowInt(row, column);
}

/** A flag: INTEGER 0/1 on SQLite, BOOLEAN on PostgreSQL. */
export function rowFlag(row: SqlRow, column: string): boolean {
  const value = row[column];
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  throw new TypeError(`store: column ${column} is not a flag`);
}

export function rowBytesOrNull(row: SqlRow, column: string): Uint8Array | null {
  const value = row[column];
  if (value === null || value === undefined) return null;
  if (!(value instanceof Uint8Array)) throw new TypeError(`store: column ${column} is not binary`);
  return new Uint8Array(value);
}

export function rowBytes(row: SqlRow, column: string): Uint8Array {
  const value = rowBytesOrNull(row, column);
  if (value === null) throw new TypeError(`store: column ${column} is null`);
  return value;
}
