// `--db sqlite:<file>` or `--db postgres://…` -> the matching DmpStore, migrated.
import { PostgresStore, type PostgresStoreOptions } from './postgres-store.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import type { DmpStore } from './types.js';

export type DatabaseLocation = { readonly dialect: 'sqlite'; readonly file: string } | { readonly dialect: 'postgres'; readonly url: string };

export function parseDatabaseLocation(value: string): DatabaseLocation {
  if (value.startsWith('sqlite:')) {
    const file = value.slice('sqlite:'.length);
    if (file === '') throw new RangeError('sqlite: needs a file name (sqlite:<file>)');
    return { dialect: 'sqlite', file };
  }
  if (value.startsWith('postgres://') || value.startsWith('postgresql://')) {
    new URL(value); // throws on a malformed URL
    return { dialect: 'postgres', url: value };
  }
  throw new RangeError('database: expected sqlite:<file> or postgres://…');
}

export type OpenStoreOptions = SqliteStoreOptions & PostgresStoreOptions;

export function openDmpStore(value: string, options: OpenStoreOptions = {}): Promise<DmpStore> {
  const location = parseDatabaseLocation(value);
  return location.dialect === 'sqlite' ? SqliteStore.open(location.file, options) : PostgresStore.open(location.url, options);
}

/** The location with any password hidden, for messages and logs. */
export function describeDatabase(value: string): string {
  const location = parseDatabaseLocation(value);
  if (location.dialect === 'sqlite') return `sqlite:${location.file}`;
  const url = new URL(location.url);
  if (url.password) url.password = '***';
  return url.toString();
}
