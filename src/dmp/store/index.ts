// The DMP store: one interface (types.ts), SQLite and PostgreSQL implementations, migrations.
export type * from './types.js';
export type * from './portal-repository.js';
export type * from './records-repository.js';
export type * from './messaging-repository.js';
export { openDmpStore, parseDatabaseLocation, describeDatabase, type DatabaseLocation, type OpenStoreOptions } from './open-store.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export { PostgresStore, type PostgresStoreOptions } from './postgres-store.js';
export { MigrationError } from './migrations/runner.js';
export { appendTrace, verifyStoredTraces, traceEntryOf, type AppendTraceOptions, type TraceVerification } from './trace-log.js';
export { SQLITE_MIGRATIONS } from './migrations/sqlite.js';
export { POSTGRES_MIGRATIONS } from './migrations/postgres.js';
