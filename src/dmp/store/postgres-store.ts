// DmpStore on PostgreSQL (pg Pool), for several service nodes sharing one database. BIGINT
// columns (epoch milliseconds) are read back as numbers; a transaction holds one pooled client.
import pg from 'pg';
import { runMigrations, currentSchemaVersion, type MigrationExecutor } from './migrations/runner.js';
import { POSTGRES_MIGRATIONS } from './migrations/postgres.js';
import { numberPlaceholders, type SqlRow, type SqlValue } from './sql-executor.js';
import { SqlRepository } from './sql-repository.js';
import type { DmpRepository, DmpStore, MigrationReport } from './types.js';

export interface PostgresStoreOptions {
  /** Apply pending migrations when opening (default true). */
  readonly migrate?: boolean;
  readonly clock?: () => Date;
  /** Pool size (default 10). */
  readonly maxConnections?: number;
  /** Called with errors of idle pooled connections (default: ignored, the pool replaces them). */
  readonly onIdleError?: (error: Error) => void;
}

const INT8_OID = 20;

/** int8 -> number (epoch milliseconds and counts stay far below 2^53). */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

const placeholderCache = new Map<string, string>();

function postgresSql(sql: string): string {
  let converted = placeholderCache.get(sql);
  if (converted === undefined) {
    converted = numberPlaceholders(sql);
    if (placeholderCache.size < 1000) placeholderCache.set(sql, converted);
  }
  return converted;
}

function bind(params: readonly SqlValue[]): unknown[] {
  return params.map((value) => (value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value));
}

class PgExecutor implements MigrationExecutor {
  readonly dialect = 'postgres' as const;

  constructor(
    private readonly client: pg.Pool | pg.PoolClient,
    private readonly inTransaction: boolean,
  ) {}

  async query<R extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    const result = await this.client.query(postgresSql(sql), bind(params));
    return result.rows as R[];
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const result = await this.client.query(postgresSql(sql), bind(params));
    return result.rowCount ?? 0;
  }

  async lockKey(key: string): Promise<void> {
    // outside a transaction the lock would end with the statement: nothing to hold
    if (!this.inTransaction) return;
    await this.client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
  }

  async exec(script: string): Promise<void> {
    await this.client.query(script);
  }
}

export class PostgresStore extends SqlRepository implements DmpStore {
  readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly clock: () => Date;
  private closed = false;

  private constructor(pool: pg.Pool, clock: () => Date) {
    super(new PgExecutor(pool, false));
    this.pool = pool;
    this.clock = clock;
  }

  /** Connects (a pool for `connectionString`) and applies pending migrations. */
  static async open(connectionString: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString, max: options.maxConnections ?? 10, types });
    pool.on('error', (error) => options.onIdleError?.(error));
    const store = new PostgresStore(pool, options.clock ?? (() => new Date()));
    try {
      if (options.migrate !== false) await store.migrate();
      else await pool.query('SELECT 1');
      return store;
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  async transaction<T>(fn: (tx: DmpRepository) => Promise<T>): Promise<T> {
    return this.withClient((db) => fn(new SqlRepository(db)));
  }

  private async withClient<T>(fn: (db: PgExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      try {
        const result = await fn(new PgExecutor(client, true));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // the connection is unusable: do not give it back to the pool
        }
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  migrate(): Promise<MigrationReport> {
    return runMigrations({ inTransaction: (fn) => this.withClient(fn) }, POSTGRES_MIGRATIONS, () => this.clock().getTime());
  }

  async schemaVersion(): Promise<number> {
    return currentSchemaVersion(this.db);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
