// The DMP service as a fastify instance: store, certificate validator, security headers, CORS,
// problem details, OpenAPI, logs, and the routes of ./routes. buildDmpApp() does not listen
// (server.ts does; tests may add routes before listening).
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  CertificateValidator,
  CompositeCrlSource,
  FileCrlSource,
  HttpCrlSource,
  type CrlSource,
} from '../pki/validation/index.js';
import {
  DEFAULT_CRL_FETCH_TIMEOUT_MS,
  DEFAULT_SESSION_IDLE_MINUTES,
  DEFAULT_SESSION_MAX_HOURS,
  DmpConfigError,
  listenUrl,
  normalizeOrigin,
  normalizePublicUrl,
  type DmpConfig,
} from './config.js';
import { LocalFileKeyProvider } from './crypto/index.js';
import type { DmpContext } from './http/context.js';
import { registerCors } from './http/cors.js';
import { dmpLoggerOptions } from './http/logging.js';
import { registerOpenApi } from './http/openapi.js';
import { registerProblemHandlers } from './http/problem.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import { pageRoutes } from './pages/index.js';
import { registerDmpRoutes } from './routes/index.js';
import { addSharedSchemas } from './routes/schemas.js';
import { openDmpStore } from './store/index.js';

export type { DmpConfig } from './config.js';
export type { DmpContext, AuthenticatedPractitioner, AuthenticatedSession, VerifiedDpop } from './http/context.js';

export const DMP_SERVICE_VERSION = '0.1.0';
const DEFAULT_PURGE_INTERVAL_MS = 60_000;

/** --crl files and/or the distribution points, as the config says. */
export function crlSourceOf(config: DmpConfig, clock: () => Date): CrlSource {
  if (config.crlSource) return config.crlSource;
  const sources: CrlSource[] = [];
  if (config.crlFiles && config.crlFiles.length > 0) sources.push(new FileCrlSource([...config.crlFiles], { clock }));
  if (config.crlDistributionPoints !== false) sources.push(new HttpCrlSource({ fetchTimeoutMs: DEFAULT_CRL_FETCH_TIMEOUT_MS, clock }));
  if (sources.length === 0) {
    // no CRL at all: every certificate is REVOCATION_UNKNOWN (refused), never accepted unchecked
    return { currentCrl: async () => undefined };
  }
  return sources.length === 1 ? (sources[0] as CrlSource) : new CompositeCrlSource(sources, { clock });
}

export async function buildDmpApp(config: DmpConfig): Promise<FastifyInstance> {
  const clock = config.clock ?? (() => new Date());
  const allowedOrigins = new Set(config.allowedOrigins.map(normalizeOrigin));
  const configuredPublicUrl = config.publicUrl === undefined ? undefined : normalizePublicUrl(config.publicUrl);
  const idleMinutes = config.sessionIdleMinutes ?? DEFAULT_SESSION_IDLE_MINUTES;
  const maxHours = config.sessionMaxHours ?? DEFAULT_SESSION_MAX_HOURS;
  if (!(idleMinutes > 0) || !(maxHours > 0)) throw new DmpConfigError('durées de session positives attendues');
  const tls = config.tls !== undefined;

  const validator = new CertificateValidator({
    trustAnchors: [...config.trustAnchors],
    intermediates: [...(config.intermediates ?? [])],
    crls: crlSourceOf(config, clock),
    clock,
  });
  const keyProvider = config.keyProvider ?? (config.masterKeyFile === undefined ? undefined : await LocalFileKeyProvider.open(config.masterKeyFile));
  const ownsStore = config.store === undefined;
  const store = config.store ?? (await openDmpStore(config.db, { clock }));

  let app: FastifyInstance;
  try {
    app = Fastify({
      logger: config.logger === false ? false : dmpLoggerOptions(config.logger ?? {}),
      genReqId: () => randomUUID(),
      requestIdHeader: false,
      trustProxy: false,
      bodyLimit: 1024 * 1024,
      return503OnClosing: true,
      ...(config.tls ? { https: { cert: Buffer.from(config.tls.cert), key: Buffer.from(config.tls.key) } } : {}),
    }) as unknown as FastifyInstance;
  } catch (error) {
    if (ownsStore) await store.close();
    throw error;
  }

  const publicUrl = (): string => {
    if (configuredPublicUrl !== undefined) return configuredPublicUrl;
    const address = app.server.address();
    if (address === null || typeof address === 'string') return 'http://localhost';
    return listenUrl(config.host ?? address.address, address.port, tls);
  };
  const context: DmpContext = {
    store,
    validator,
    clock,
    publicUrl,
    allowedOrigins,
    sessionIdleMs: idleMinutes * 60_000,
    sessionMaxMs: maxHours * 3_600_000,
    keyProvider,
  };
  app.decorate('dmp', context);
  app.decorateRequest('dpop', null);
  app.decorateRequest('dmpSession', null);
  app.decorateRequest('practitioner', null);

  // JSON only (multipart is added by the routes that take documents): a text/plain body, the kind a
  // cross-origin "simple request" may send without a preflight, is 415.
  app.removeContentTypeParser('text/plain');
  registerSecurityHeaders(app, { tls });
  registerCors(app, allowedOrigins);
  registerProblemHandlers(app);
  addSharedSchemas(app);
  await registerOpenApi(app, { publicUrl: configuredPublicUrl, version: DMP_SERVICE_VERSION });
  await app.register(registerDmpRoutes);
  await app.register(pageRoutes); // the two web pages and their files (HTML, not /v1: own CSP)

  // Housekeeping: expired challenges, jtis and sessions (every node may do it; idempotent).
  let purgeTimer: NodeJS.Timeout | undefined;
  const purgeEvery = config.purgeIntervalMs ?? DEFAULT_PURGE_INTERVAL_MS;
  app.addHook('onReady', async () => {
    if (purgeEvery <= 0) return;
    purgeTimer = setInterval(() => {
      const now = clock().getTime();
      store.purgeExpired(now, now - context.sessionIdleMs).catch((error: unknown) => app.log.warn({ err: error }, 'purge des données expirées impossible'));
    }, purgeEvery);
    purgeTimer.unref();
  });
  app.addHook('onClose', async () => {
    if (purgeTimer) clearInterval(purgeTimer);
    if (ownsStore) await store.close();
  });
  return app;
}
