// pino options of the service. Requests are logged by route pattern, not URL (paths carry INS),
// and the secrets that travel in headers or bodies (session tokens, DPoP proofs, the
// Authorization header, authentication tokens) are redacted wherever they appear.
import type { FastifyRequest } from 'fastify';
import type { DestinationStream, LoggerOptions } from 'pino';

export const REDACTED = '[masqué]';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.dpop',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.dpop',
  'authorization',
  'dpop',
  'proof',
  'token',
  'sessionToken',
  '*.authorization',
  '*.dpop',
  '*.proof',
  '*.token',
  '*.sessionToken',
  '*.signature',
  '*.challenge',
];

/** What a request log line says about the request: no URL (INS in paths), no query, no body. */
export function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    id: request.id,
    method: request.method,
    route: request.routeOptions?.url ?? '(aucune route)',
    remoteAddress: request.ip,
    headers: {
      origin: request.headers.origin,
      'user-agent': request.headers['user-agent'],
      'content-length': request.headers['content-length'],
      authorization: request.headers.authorization,
      dpop: request.headers.dpop,
    },
  };
}

export function dmpLoggerOptions(options: { level?: string; stream?: DestinationStream }): LoggerOptions & { stream?: DestinationStream } {
  return {
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: REDACTED },
    serializers: { req: serializeRequest as (req: unknown) => Record<string, unknown> },
    ...(options.stream ? { stream: options.stream } : {}),
  };
}
