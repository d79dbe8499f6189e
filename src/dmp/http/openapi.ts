// The OpenAPI 3.1 document of the service, built by @fastify/swagger from the routes' JSON
// schemas and served at /openapi.json. Register it before the routes (it collects them as they
// are added). Shared schemas keep their $id as component names (`#/components/schemas/Problem`).
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { PROBLEMS } from '../errors.js';

export async function registerOpenApi(app: FastifyInstance, options: { publicUrl: string | undefined; version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'cardbridge — service DMP',
        version: options.version,
        description:
          'Dossier Médical Partagé de test : authentification des professionnels par carte CPS (jeton cardbridge-auth:1 + DPoP), ' +
          `erreurs RFC 9457 (application/problem+json) avec un code stable parmi : ${Object.keys(PROBLEMS).join(', ')}.`,
      },
      ...(options.publicUrl ? { servers: [{ url: options.publicUrl }] } : {}),
      components: {
        securitySchemes: {
          dpopSession: {
            type: 'http',
            scheme: 'DPoP',
            description: 'Authorization: DPoP <sessionToken>, avec un en-tête DPoP (preuve RFC 9449 ES256 portant ath).',
          },
          dpopProof: {
            type: 'apiKey',
            in: 'header',
            name: 'DPoP',
            description: 'Preuve DPoP (RFC 9449) : JWS ES256, typ dpop+jwt, htm, htu = URL publique + chemin, iat ±60 s, jti unique.',
          },
        },
      },
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('Cache-Control', 'no-cache');
    return app.swagger();
  });
}
