// Serves the control API on the loopback interface only.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SlotRegistry } from '../slots.js';
import { createControlHandler } from './handler.js';

export interface ControlServer {
  /** "http://127.0.0.1:<port>" */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0 = an ephemeral port, see `port` of the result). */
export async function startControlServer(registry: SlotRegistry, options: { port?: number } = {}): Promise<ControlServer> {
  let boundPort = 0;
  const server = http.createServer(createControlHandler(registry, () => boundPort));
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: options.port ?? 35980, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  boundPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${boundPort}`,
    port: boundPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
