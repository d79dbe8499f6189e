// The seam between the shared SQL of the repository and a database driver. SQL is written once
// with `?` placeholders (values always passed as parameters, never spliced into the text); the
// PostgreSQL executor renumbers them to `$1, $2…`.
import type { Dialect } from './types.js';

export type SqlValue = string | number | boolean | null | Uint8Array;

export type SqlRow = Record<string, unknown>;

export interface SqlExecutor {
  readonly dialect: Dialect;
  /** Rows of a SELECT (or of a statement with RETURNING). */
  query<R extends SqlRow = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  /** Runs a statement; resolves with the number of rows it changed. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /**
   * Serialises writers of one key (e.g. a trace chain) until the current transaction ends:
   * `pg_advisory_xact_lock` on PostgreSQL; nothing on SQLite, where a write transaction
   * already excludes every other writer.
   */
  lockKey(key: string): Promise<void>;
}

/** `?` -> `$n`, for PostgreSQL. The repository's SQL has no `?` inside literals. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
