// Serves what a relying party fetches from the test PKI, over HTTP on the loopback interface:
// `GET /crl/<slug>.crl` (the CA's current CRL, re-issued first when near expiry) and
// `GET /ca/<slug>.cer` (the CA certificate). Everything else is 404.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIPv4, type AddressInfo } from 'node:net';
import { caIdFromSlug, type CaId } from './hierarchy.js';

/** What the server publishes; TestPki satisfies it. */
export interface PublicationSource {
  crl(ca: CaId): Promise<Uint8Array>;
  caCertificate(ca: CaId): Uint8Array;
}

export interface PublicationServerOptions {
  /** Loopback address only (default 127.0.0.1). */
  host?: string;
  /** Default 35990; 0 picks a free port. */
  port?: number;
}

export interface PublicationServer {
  /** `http://host:port` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export const DEFAULT_PUBLICATION_PORT = 35990;
export const DEFAULT_PUBLICATION_HOST = '127.0.0.1';

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'));
}

type Route = { kind: 'crl' | 'ca'; ca: CaId };

function route(pathname: string): Route | undefined {
  const match = /^\/(crl|ca)\/([a-z0-9-]+)\.(crl|cer)$/.exec(pathname);
  if (!match) return undefined;
  const [, kind, slug, extension] = match;
  if ((kind === 'crl') !== (extension === 'crl')) return undefined;
  const ca = caIdFromSlug(slug ?? '');
  return ca ? { kind: kind as Route['kind'], ca } : undefined;
}

async function handle(source: PublicationSource, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const pathname = new URL(request.url ?? '/', 'http://loopback').pathname;
  const target = route(pathname);
  if (!target) {
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  const body = target.kind === 'crl' ? await source.crl(target.ca) : source.caCertificate(target.ca);
  response.writeHead(200, {
    'content-type': target.kind === 'crl' ? 'application/pkix-crl' : 'application/pkix-cert',
    'content-length': String(body.byteLength),
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  response.end(request.method === 'HEAD' ? undefined : Buffer.from(body));
}

export async function startPublicationServer(
  source: PublicationSource,
  options: PublicationServerOptions = {},
): Promise<PublicationServer> {
  const host = options.host ?? DEFAULT_PUBLICATION_HOST;
  const port = options.port ?? DEFAULT_PUBLICATION_PORT;
  if (!isLoopbackHost(host)) throw new RangeError(`the PKI publication server listens on loopback only, not ${host}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`invalid port ${port}`);

  const server = createServer((request, response) => {
    handle(source, request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`internal error: ${(error as Error).message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}`,
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
