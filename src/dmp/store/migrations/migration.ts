// A versioned schema change. Each dialect has its own list (sqlite.ts, postgres.ts) with the
// same versions and names; a version, once released, is never edited (its checksum is stored
// in schema_migrations and checked at every start): change the schema with a new version.
import { createHash } from 'node:crypto';

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** One or more statements, run in the migration's transaction. */
  readonly sql: string;
}

export function migrationChecksum(migration: Migration): string {
  return createHash('sha256').update(migration.sql).digest('hex');
}

/** Throws when the list is not 1, 2, 3… in order. */
export function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration list out of order: position ${i + 1} holds version ${m.version}`);
  });
}
