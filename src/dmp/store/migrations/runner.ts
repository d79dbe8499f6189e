// Applies the pending migrations of a dialect in one transaction, under a lock, so that several
// service nodes starting together migrate once. Refuses a database whose applied migrations
// differ from this program's (edited after release) or that is newer than this program.
import type { SqlExecutor } from '../sql-executor.js';
import type { MigrationReport } from '../types.js';
import { checkMigrationList, migrationChecksum, type Migration } from './migration.js';

export interface MigrationExecutor extends SqlExecutor {
  /** Runs a script of several statements without parameters (schema changes only). */
  exec(script: string): Promise<void>;
}

export interface MigrationTarget {
  inTransaction<T>(fn: (db: MigrationExecutor) => Promise<T>): Promise<T>;
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version     INTEGER NOT NULL PRIMARY KEY,
  name        TEXT    NOT NULL,
  checksum    TEXT    NOT NULL,
  applied_at  BIGINT  NOT NULL
)`;

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

export async function runMigrations(target: MigrationTarget, migrations: readonly Migration[], now: () => number): Promise<MigrationReport> {
  checkMigrationList(migrations);
  return target.inTransaction(async (db) => {
    await db.lockKey('schema_migrations');
    await db.exec(CREATE_TABLE);
    const rows = await db.query<{ version: number | string; checksum: string }>('SELECT version, checksum FROM schema_migrations ORDER BY version');
    const applied = new Map(rows.map((row) => [Number(row.version), row.checksum]));
    for (const [version, checksum] of applied) {
      const known = migrations[version - 1];
      if (!known) {
        throw new MigrationError(
          `database schema version ${version} is newer than this program knows (${migrations.length}); upgrade cardbridge`,
        );
      }
      if (migrationChecksum(known) !== checksum) {
        throw new MigrationError(`migration ${version} (${known.name}) differs from the one applied to this database`);
      }
    }
    const done: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await db.exec(migration.sql);
      await db.execute('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)', [
        migration.version,
        migration.name,
        migrationChecksum(migration),
        now(),
      ]);
      done.push(migration.version);
    }
    return { applied: done, current: migrations.length };
  });
}

export async function currentSchemaVersion(db: SqlExecutor): Promise<number> {
  const rows = await db.query<{ version: number | string | null }>('SELECT MAX(version) AS version FROM schema_migrations');
  const version = rows[0]?.version;
  return version === null || version === undefined ? 0 : Number(version);
}
