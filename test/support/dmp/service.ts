// Starts the DMP service for a test: a fresh SQLite file or a fresh PostgreSQL database, the test
// PKI's intermediates as trust anchors and its CRL files, loopback on an ephemeral port. Also
// logs a persona in, the way a client library does (challenge, token, login).
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildDmpApp } from '../../../src/dmp/app.js';
import type { DmpConfig } from '../../../src/dmp/config.js';
import { openDmpStore, type DmpStore } from '../../../src/dmp/store/index.js';
import type { CpsPersonaId } from '../../../src/simulator/personas.js';
import { signAuthToken } from './auth-token.js';
import { DpopClient } from './dpop-client.js';
import type { DmpTestPki } from './pki.js';
import { freshTempDir } from './pki.js';
import { requireSystem } from '../system.js';
import { createTestDatabase, POSTGRES_HINT, postgresReachable, type TestDatabase } from './postgres.js';

export type StoreKind = 'sqlite' | 'postgres';

export const TEST_ORIGIN = 'https://app.cardbridge.test';

/**
 * The stores a DMP test file runs on: SQLite always, PostgreSQL when reachable. Call at the top
 * level of the file (`const STORES = await dmpStoreKinds();`): on CI a missing PostgreSQL is a
 * failed test, locally a loud skip.
 */
export async function dmpStoreKinds(): Promise<StoreKind[]> {
  const postgres = requireSystem('PostgreSQL', await postgresReachable(), POSTGRES_HINT);
  return postgres ? ['sqlite', 'postgres'] : ['sqlite'];
}

/** A fresh, migrated store: SQLite file in a temp dir, or a new PostgreSQL database. */
export async function openTestStore(
  kind: StoreKind,
  clock?: () => Date,
  existing?: string,
): Promise<{ store: DmpStore; db: string; dispose(): Promise<void> }> {
  let database: TestDatabase | undefined;
  const db =
    existing ??
    (kind === 'sqlite' ? `sqlite:${join(freshTempDir('cardbridge-dmp-db-'), 'dmp.sqlite')}` : (database = await createTestDatabase()).url);
  const store = await openDmpStore(db, clock ? { clock } : {});
  return {
    store,
    db,
    dispose: async () => {
      await store.close();
      await database?.drop();
    },
  };
}

export interface StartTestServiceOptions {
  readonly store: StoreKind;
  readonly clock?: () => Date;
  /** Overrides of the configuration built from the PKI (allowed origins, CRLs, trust anchors…). */
  readonly config?: Partial<DmpConfig>;
  /** Runs before listening (add test routes here). */
  readonly beforeListen?: (app: FastifyInstance) => void | Promise<void>;
  /** Use this existing database (another node of the same deployment) instead of a fresh one. */
  readonly database?: string;
}

export interface TestDmpService {
  readonly app: FastifyInstance;
  readonly store: DmpStore;
  /** Base URL (= the public URL proofs name). */
  readonly url: string;
  /** `sqlite:<file>` or the PostgreSQL URL. */
  readonly db: string;
  /** A client with a fresh DPoP key, same clock as the service. */
  client(): Promise<DpopClient>;
  close(): Promise<void>;
}

export async function startTestDmpService(pki: DmpTestPki, options: StartTestServiceOptions): Promise<TestDmpService> {
  const opened = await openTestStore(options.store, options.clock, options.database);
  const config: DmpConfig = {
    db: opened.db,
    store: opened.store,
    host: '127.0.0.1',
    port: 0,
    allowedOrigins: [TEST_ORIGIN],
    trustAnchors: pki.trustAnchors,
    crlFiles: pki.crlFiles,
    crlDistributionPoints: false,
    logger: false,
    purgeIntervalMs: 0,
    ...(options.clock ? { clock: options.clock } : {}),
    ...options.config,
  };
  let app: FastifyInstance;
  try {
    app = await buildDmpApp(config);
    await options.beforeListen?.(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
  } catch (error) {
    await opened.dispose();
    throw error;
  }
  const url = app.dmp.publicUrl();
  const clock = options.clock ?? (() => new Date());
  return {
    app,
    store: opened.store,
    url,
    db: opened.db,
    client: () => DpopClient.create(url, clock),
    close: async () => {
      await app.close();
      await opened.dispose();
    },
  };
}

export interface LoggedIn {
  readonly client: DpopClient;
  readonly sessionToken: string;
  readonly body: Record<string, unknown>;
}

/** Challenge + token signed by the persona's authentication key + login, as a client library does. */
export async function loginAs(
  service: TestDmpService,
  pki: DmpTestPki,
  persona: CpsPersonaId,
  options: { origin?: string; client?: DpopClient; activity?: Record<string, unknown> } = {},
): Promise<LoggedIn> {
  const client = options.client ?? (await service.client());
  const credentials = await pki.persona(persona);
  const challenge = await client.call<{ challenge: string }>('POST', '/v1/auth/challenge');
  if (challenge.status !== 200) throw new Error(`challenge: HTTP ${challenge.status} ${JSON.stringify(challenge.body)}`);
  const token = signAuthToken({
    certificateDer: credentials.authentication.certificateDer,
    privateKeyPkcs8Der: credentials.authentication.privateKeyPkcs8Der,
    origin: options.origin ?? TEST_ORIGIN,
    challenge: challenge.body.challenge,
  });
  const login = await client.call<Record<string, unknown>>('POST', '/v1/auth/login', {
    body: { token, ...(options.activity ? { activity: options.activity } : {}) },
  });
  if (login.status !== 200) throw new Error(`login ${persona}: HTTP ${login.status} ${JSON.stringify(login.body)}`);
  return { client, sessionToken: String(login.body.sessionToken), body: login.body };
}
