// RFC 9457 problem details for every error the service answers: DmpError as thrown by routes,
// fastify's own errors (validation, body size, content type) mapped to stable codes, 404s, and
// anything unexpected as INTERNAL (logged, never shown to the client).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DmpError, type ProblemCode } from '../errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function sendProblem(reply: FastifyReply, error: DmpError): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply.code(error.status).type(PROBLEM_CONTENT_TYPE).send(error.toProblem());
}

function codeForStatus(status: number): ProblemCode {
  switch (status) {
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'RATE_LIMITED';
    case 503:
      return 'SERVICE_UNAVAILABLE';
    default:
      return 'REQUEST_INVALID';
  }
}

/** A DmpError for any error reaching the handler. */
export function toDmpError(error: unknown): DmpError {
  if (error instanceof DmpError) return error;
  const e = error as Partial<FastifyError>;
  if (e.validation) {
    const where = e.validationContext ? `${e.validationContext} ` : '';
    return new DmpError('REQUEST_INVALID', `requête non conforme au schéma : ${where}${e.message ?? ''}`.trim());
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code = codeForStatus(status);
    const detail =
      code === 'PAYLOAD_TOO_LARGE'
        ? 'corps de requête trop volumineux'
        : code === 'UNSUPPORTED_MEDIA_TYPE'
          ? `type de contenu non pris en charge`
          : `requête invalide (${e.code ?? status})`;
    return new DmpError(code, detail, { cause: error });
  }
  return new DmpError('INTERNAL', 'erreur interne ; réessayez plus tard', { cause: error });
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const problem = toDmpError(error);
    if (problem.status >= 500) request.log.error({ err: error }, 'erreur interne');
    else request.log.info({ code: problem.code, status: problem.status }, 'requête refusée');
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
    sendProblem(reply, new DmpError('NOT_FOUND', `aucune ressource ${request.method} à cette adresse`)),
  );
}
