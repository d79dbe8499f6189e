// DmpStore on SQLite (better-sqlite3): one connection, WAL journal, synchronous=FULL so that an
// acknowledged write survives a crash or power loss. better-sqlite3 is synchronous; an async
// transaction holds a gate that every other statement of the process waits for, so nothing
// from another request slips into an open transaction.
import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { runMigrations, currentSchemaVersion, type MigrationExecutor } from './migrations/runner.js';
import { SQLITE_MIGRATIONS } from './migrations/sqlite.js';
import type { SqlExecutor, SqlRow, SqlValue } from './sql-executor.js';
import { SqlRepository } from './sql-repository.js';
import type { DmpRepository, DmpStore, MigrationReport } from './types.js';

export interface SqliteStoreOptions {
  /** Apply pending migrations when opening (default true). */
  readonly migrate?: boolean;
  readonly clock?: () => Date;
}

type Bound = string | number | bigint | null | Buffer;

function bind(params: readonly SqlValue[]): Bound[] {
  return params.map((value) => {
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return value;
  });
}

/** One holder at a time, handed over in arrival order. */
class Gate {
  private held = false;
  private readonly waiters: (() => void)[] = [];

  get isHeld(): boolean {
    return this.held;
  }

  async acquire(): Promise<() => void> {
    if (this.held) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.held = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next(); // stays held, for the next one
      else this.held = false;
    };
  }
}

class SqliteExecutor implements MigrationExecutor {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  querySync<R extends SqlRow>(sql: string, params: readonly SqlValue[]): R[] {
    return this.statement(sql).all(...bind(params)) as R[];
  }

  executeSync(sql: string, params: readonly SqlValue[]): number {
    const statement = this.statement(sql);
    if (statement.reader) return statement.all(...bind(params)).length;
    return statement.run(...bind(params)).changes;
  }

  async query<R extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    return this.querySync<R>(sql, params);
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.executeSync(sql, params);
  }

  async lockKey(): Promise<void> {
    // a write transaction (BEGIN IMMEDIATE) already excludes every other writer
  }

  async exec(script: string): Promise<void> {
    this.db.exec(script);
  }
}

/** Statements outside a transaction: run at once unless a transaction holds the gate. */
class GatedExecutor implements SqlExecutor {
  readonly dialect = 'sqlite' as const;

  constructor(
    private readonly inner: SqliteExecutor,
    private readonly gate: Gate,
    private readonly insideTransaction: AsyncLocalStorage<true>,
  ) {}

  private async run<T>(fn: () => T): Promise<T> {
    if (!this.gate.isHeld) return fn();
    if (this.insideTransaction.getStore()) {
      throw new Error('store used directly inside its own transaction: use the repository given to transaction()');
    }
    const release = await this.gate.acquire();
    try {
      return fn();
    } finally {
      release();
    }
  }

  query<R extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    return this.run(() => this.inner.querySync<R>(sql, params));
  }

  execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.run(() => this.inner.executeSync(sql, params));
  }

  async lockKey(): Promise<void> {}
}

export class SqliteStore extends SqlRepository implements DmpStore {
  readonly dialect = 'sqlite' as const;
  private readonly gate: Gate;
  private readonly insideTransaction: AsyncLocalStorage<true>;
  private readonly direct: SqliteExecutor;
  private readonly txRepository: SqlRepository;
  private closed = false;

  private constructor(
    private readonly database: Database.Database,
    readonly file: string,
    private readonly clock: () => Date,
  ) {
    const direct = new SqliteExecutor(database);
    const gate = new Gate();
    const als = new AsyncLocalStorage<true>();
    super(new GatedExecutor(direct, gate, als));
    this.gate = gate;
    this.insideTransaction = als;
    this.direct = direct;
    this.txRepository = new SqlRepository(direct);
  }

  /** Opens (creating if needed) the database file and applies pending migrations. */
  static async open(file: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    const created = file !== ':memory:' && !existsSync(file);
    const database = new Database(file);
    try {
      // patient data: a new database file (and the -wal/-shm files SQLite derives from it) is owner-only
      if (created) chmodSync(file, 0o600);
      database.pragma('journal_mode = WAL');
      database.pragma('synchronous = FULL');
      database.pragma('foreign_keys = ON');
      database.pragma('busy_timeout = 5000');
      const store = new SqliteStore(database, file, options.clock ?? (() => new Date()));
      if (options.migrate !== false) await store.migrate();
      return store;
    } catch (error) {
      database.close();
      throw error;
    }
  }

  async transaction<T>(fn: (tx: DmpRepository) => Promise<T>): Promise<T> {
    return this.withTransaction(() => fn(this.txRepository));
  }

  private async withTransaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.insideTransaction.getStore()) throw new Error('nested transactions are not supported');
    const release = await this.gate.acquire();
    try {
      this.database.exec('BEGIN IMMEDIATE');
      try {
        const result = await this.insideTransaction.run(true, fn);
        this.database.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.database.inTransaction) this.database.exec('ROLLBACK');
        throw error;
      }
    } finally {
      release();
    }
  }

  migrate(): Promise<MigrationReport> {
    return runMigrations(
      { inTransaction: (fn) => this.withTransaction(() => fn(this.direct)) },
      SQLITE_MIGRATIONS,
      () => this.clock().getTime(),
    );
  }

  async schemaVersion(): Promise<number> {
    return currentSchemaVersion(this.db);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const release = await this.gate.acquire();
    try {
      this.database.close();
    } finally {
      release();
    }
  }
}
