// CORS for the origins of --allowed-origins only. Preflights from any other origin, or asking
// for other methods or headers than the API uses, are refused (403 CORS_NOT_ALLOWED); actual
// requests from other origins get no Access-Control-Allow-Origin, so browsers hide the answer.
// No credentials mode: the API authenticates with Authorization + DPoP, never cookies.
import type { FastifyInstance } from 'fastify';
import { DmpError } from '../errors.js';
import { sendProblem } from './problem.js';

// X-Access-Mode / X-Access-Reason: a break-glass or regulation-centre search is a cross-origin call
// from the practitioner's page (they make it a preflighted request, as Authorization already does).
export const CORS_ALLOWED_HEADERS = ['Authorization', 'DPoP', 'Content-Type', 'X-Access-Mode', 'X-Access-Reason'] as const;
export const CORS_ALLOWED_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const CORS_EXPOSED_HEADERS = ['WWW-Authenticate', 'Location', 'Content-Disposition'] as const;
export const CORS_MAX_AGE_SECONDS = 600;

const allowedHeaderSet = new Set(CORS_ALLOWED_HEADERS.map((h) => h.toLowerCase()));
const allowedMethodSet = new Set<string>(CORS_ALLOWED_METHODS);

function requestedHeaders(value: string | string[] | undefined): string[] {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return text
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}

export function registerCors(app: FastifyInstance, allowedOrigins: ReadonlySet<string>): void {
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined) return;
    reply.header('Vary', 'Origin');
    if (allowedOrigins.has(origin)) {
      reply.header('Access-Control-Allow-Origin', origin);
      reply.header('Access-Control-Expose-Headers', CORS_EXPOSED_HEADERS.join(', '));
    }
  });

  app.route({
    method: 'OPTIONS',
    url: '*',
    schema: { hide: true },
    handler: async (request, reply) => {
      const origin = request.headers.origin;
      const method = request.headers['access-control-request-method'];
      if (origin === undefined || method === undefined) {
        return sendProblem(reply, new DmpError('METHOD_NOT_ALLOWED', 'OPTIONS sert uniquement aux requêtes CORS préalables'));
      }
      if (!allowedOrigins.has(origin)) {
        return sendProblem(reply, new DmpError('CORS_NOT_ALLOWED', `origine ${origin.slice(0, 100)} non autorisée`));
      }
      if (typeof method !== 'string' || !allowedMethodSet.has(method)) {
        return sendProblem(reply, new DmpError('CORS_NOT_ALLOWED', 'méthode non autorisée'));
      }
      const refused = requestedHeaders(request.headers['access-control-request-headers']).filter((h) => !allowedHeaderSet.has(h));
      if (refused.length > 0) {
        return sendProblem(reply, new DmpError('CORS_NOT_ALLOWED', `en-têtes non autorisés : ${refused.join(', ').slice(0, 200)}`));
      }
      return reply
        .code(204)
        .header('Access-Control-Allow-Methods', CORS_ALLOWED_METHODS.join(', '))
        .header('Access-Control-Allow-Headers', CORS_ALLOWED_HEADERS.join(', '))
        .header('Access-Control-Max-Age', String(CORS_MAX_AGE_SECONDS))
        .send();
    },
  });
}
