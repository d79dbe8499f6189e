// PostgreSQL for tests: one fresh database per test file (CREATE DATABASE cb_<random>, dropped
// afterwards), so files run in parallel. The server is the machine's (trust auth, user postgres);
// $CARDBRIDGE_TEST_PG_URL overrides the admin connection (default postgres://postgres@127.0.0.1:5432/test).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_PG_ADMIN_URL = process.env.CARDBRIDGE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const POSTGRES_HINT = 'start PostgreSQL (scripts/install-system-deps.sh; .ci/run starts it) or set CARDBRIDGE_TEST_PG_URL';

/** True when the admin connection works within 3 s. */
export async function postgresReachable(adminUrl = TEST_PG_ADMIN_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface TestDatabase {
  /** Connection string of the new database. */
  readonly url: string;
  readonly name: string;
  /** Drops it (terminating leftover connections). */
  drop(): Promise<void>;
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(adminUrl = TEST_PG_ADMIN_URL): Promise<TestDatabase> {
  const name = `cb_${randomBytes(8).toString('hex')}`; // [a-z0-9_] only: safe as an identifier
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
