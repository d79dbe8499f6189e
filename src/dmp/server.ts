// Runs the DMP service: builds the app and listens (HTTPS with --tls-cert/--tls-key, plain HTTP
// on loopback only). Returns the URL clients use and a stop function for SIGINT/SIGTERM.
import type { FastifyInstance } from 'fastify';
import { buildDmpApp } from './app.js';
import { checkListenAddress, DEFAULT_HOST, DEFAULT_PORT, type DmpConfig } from './config.js';

export interface RunningDmpService {
  readonly app: FastifyInstance;
  /** The public URL (DPoP htu base): --public-url, else where it listens. */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startDmpServer(config: DmpConfig): Promise<RunningDmpService> {
  const host = config.host ?? DEFAULT_HOST;
  checkListenAddress(host, config.tls !== undefined);
  const app = await buildDmpApp(config);
  try {
    await app.listen({ host, port: config.port ?? DEFAULT_PORT });
  } catch (error) {
    await app.close();
    throw error;
  }
  const address = app.server.address();
  const port = address !== null && typeof address === 'object' ? address.port : (config.port ?? DEFAULT_PORT);
  let stopping: Promise<void> | undefined;
  return {
    app,
    url: app.dmp.publicUrl(),
    port,
    stop: () => (stopping ??= app.close()),
  };
}
