// Routes under /v1/auth: challenge, practitioner login, establishment login, session, logout.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { issueChallenge } from '../auth/challenge.js';
import { requireDpop, requireSession, sessionTokenHashOf } from '../auth/guards.js';
import { establishmentChainId, loginEstablishment, loginPractitioner, practitionerChainId } from '../auth/login.js';
import { DmpError } from '../errors.js';
import { appendTrace, type SessionActivity } from '../store/index.js';
import { DATE_TIME, problemResponses } from './schemas.js';

const TAGS = ['authentification'];
const AUTH_BODY_LIMIT = 64 * 1024;

const TOKEN_SCHEMA = {
  type: 'object',
  description: 'Jeton rendu par `cps.authenticate` de l’agent (agent-protocol.md), tel quel.',
  properties: {
    format: { type: 'string', const: 'cardbridge-auth:1' },
    algorithm: { type: 'string', const: 'RS256' },
    origin: { type: 'string', description: 'https://hôte[:port] ou app:<appId>' },
    unverifiedCertificate: { type: 'string', description: "certificat d'authentification, DER en base64" },
    signature: { type: 'string', description: 'RS256 sur SHA-256(origine) || SHA-256(défi), base64' },
    appVersion: { type: 'string' },
  },
} as const;

const ACTIVITY_SCHEMA = {
  type: 'object',
  description: "Activité choisie parmi celles de la carte (cps.getActivities) : le secteur entre dans les règles d'accès.",
  additionalProperties: false,
  properties: {
    index: { type: 'integer', minimum: 0, maximum: 99 },
    structureId: { type: 'string', maxLength: 64 },
    structureName: { type: 'string', maxLength: 256 },
    sector: { type: 'string', maxLength: 32 },
    role: { type: 'string', maxLength: 32 },
  },
} as const;

const SESSION_TOKEN_SCHEMA = { type: 'string', description: 'À présenter dans Authorization: DPoP <jeton>, avec une preuve DPoP par la même clé.' } as const;

const ENTITY_SCHEMA = {
  type: 'object',
  required: ['id', 'name'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 }, name: { type: 'string', minLength: 1, maxLength: 256 } },
} as const;

const AUTH_ERRORS = problemResponses(400, 401, 403, 413, 415, 500);

interface LoginBody {
  token?: unknown;
  activity?: { index?: number; structureId?: string; structureName?: string; sector?: string; role?: string };
}

interface EstablishmentLoginBody {
  token?: unknown;
  user?: { id: string; name: string };
}

/** Schema failures on a login body: the token's own are TOKEN_MALFORMED, the rest REQUEST_INVALID. */
function checkLoginValidation(request: FastifyRequest): void {
  const error = request.validationError;
  if (!error) return;
  const issues = (error as { validation?: { instancePath?: string; params?: { missingProperty?: string } }[] }).validation ?? [];
  const aboutToken = issues.some((i) => i.instancePath?.startsWith('/token') || i.params?.missingProperty === 'token');
  if (aboutToken) throw new DmpError('TOKEN_MALFORMED', 'jeton absent ou qui n’est pas un objet JSON');
  throw new DmpError('REQUEST_INVALID', `requête non conforme au schéma : ${error.message}`);
}

function activityOf(body: LoginBody): SessionActivity | undefined {
  const a = body.activity;
  if (!a) return undefined;
  const { structureId, structureName, sector, role } = a;
  return {
    ...(structureId === undefined ? {} : { structureId }),
    ...(structureName === undefined ? {} : { structureName }),
    ...(sector === undefined ? {} : { sector }),
    ...(role === undefined ? {} : { role }),
  };
}

function dpopThumbprint(request: FastifyRequest): string {
  if (!request.dpop) throw new DmpError('DPOP_REQUIRED', 'preuve DPoP non vérifiée');
  return request.dpop.thumbprint;
}

export async function authRoutes(app: FastifyInstance): Promise<void> {
  app.post(
    '/v1/auth/challenge',
    {
      preHandler: requireDpop,
      bodyLimit: 1024,
      schema: {
        tags: TAGS,
        summary: 'Défi à faire signer par la carte CPS (usage unique, 5 minutes, lié à la clé DPoP)',
        security: [{ dpopProof: [] }],
        response: {
          200: {
            type: 'object',
            required: ['challenge', 'expiresAt'],
            properties: {
              challenge: { type: 'string', description: '32 octets aléatoires en base64 avec remplissage (44 caractères)' },
              expiresAt: DATE_TIME,
            },
          },
          ...AUTH_ERRORS,
        },
      },
    },
    async (request) => {
      const { challenge, expiresAt } = await issueChallenge(app.dmp, dpopThumbprint(request));
      return { challenge, expiresAt: expiresAt.toISOString() };
    },
  );

  app.post<{ Body: LoginBody }>(
    '/v1/auth/login',
    {
      preHandler: requireDpop,
      bodyLimit: AUTH_BODY_LIMIT,
      attachValidation: true,
      schema: {
        tags: TAGS,
        summary: 'Connexion d’un professionnel par sa carte CPS (mode direct)',
        description:
          'Contrôles dans cet ordre, le premier échec répond : TOKEN_MALFORMED (400), CHALLENGE_INVALID, ORIGIN_NOT_ALLOWED, ' +
          'CERTIFICATE_INVALID / CERTIFICATE_REVOKED / REVOCATION_UNKNOWN, SIGNATURE_INVALID (401), PROFESSION_UNKNOWN, PROFESSION_NOT_ALLOWED (403).',
        security: [{ dpopProof: [] }],
        body: {
          type: 'object',
          required: ['token'],
          properties: { token: TOKEN_SCHEMA, activity: ACTIVITY_SCHEMA },
        },
        response: {
          200: {
            type: 'object',
            required: ['sessionToken', 'expiresAt', 'practitioner'],
            properties: { sessionToken: SESSION_TOKEN_SCHEMA, expiresAt: DATE_TIME, practitioner: { $ref: 'Practitioner#' } },
          },
          ...AUTH_ERRORS,
        },
      },
    },
    async (request) => {
      checkLoginValidation(request);
      const outcome = await loginPractitioner(app.dmp, dpopThumbprint(request), request.body.token, activityOf(request.body));
      return { sessionToken: outcome.sessionToken, expiresAt: outcome.expiresAt.toISOString(), practitioner: outcome.principal };
    },
  );

  app.post<{ Body: EstablishmentLoginBody }>(
    '/v1/auth/login-establishment',
    {
      preHandler: requireDpop,
      bodyLimit: AUTH_BODY_LIMIT,
      attachValidation: true,
      schema: {
        tags: TAGS,
        summary: 'Connexion en mode établissement (indirect) : certificat serveur de l’établissement + utilisateur local',
        description:
          'Le jeton est signé par un certificat serveur de l’AC organisations (clientAuth). La session peut alimenter le DMP, jamais le consulter.',
        security: [{ dpopProof: [] }],
        body: {
          type: 'object',
          required: ['token', 'user'],
          properties: { token: TOKEN_SCHEMA, user: ENTITY_SCHEMA },
        },
        response: {
          200: {
            type: 'object',
            required: ['sessionToken', 'expiresAt', 'mode', 'establishment', 'user'],
            properties: {
              sessionToken: SESSION_TOKEN_SCHEMA,
              expiresAt: DATE_TIME,
              mode: { type: 'string', const: 'establishment' },
              establishment: ENTITY_SCHEMA,
              user: ENTITY_SCHEMA,
            },
          },
          ...AUTH_ERRORS,
        },
      },
    },
    async (request) => {
      checkLoginValidation(request);
      const user = request.body.user;
      if (!user) throw new DmpError('REQUEST_INVALID', 'utilisateur local (user) requis');
      const outcome = await loginEstablishment(app.dmp, dpopThumbprint(request), request.body.token, user);
      return {
        sessionToken: outcome.sessionToken,
        expiresAt: outcome.expiresAt.toISOString(),
        mode: 'establishment',
        establishment: outcome.principal.establishment,
        user: outcome.principal.user,
      };
    },
  );

  app.get(
    '/v1/auth/session',
    {
      preHandler: requireSession,
      schema: {
        tags: TAGS,
        summary: 'La session courante',
        security: [{ dpopSession: [] }],
        response: {
          200: {
            type: 'object',
            required: ['mode', 'establishment', 'practitioner'],
            properties: {
              mode: { type: 'string', enum: ['practitioner', 'establishment'] },
              establishment: { type: 'boolean', description: 'vrai en mode établissement : envoi seulement, jamais de lecture' },
              practitioner: { anyOf: [{ $ref: 'Practitioner#' }, { type: 'null' }] },
              organisation: { anyOf: [ENTITY_SCHEMA, { type: 'null' }] },
              user: { anyOf: [ENTITY_SCHEMA, { type: 'null' }] },
              activity: { anyOf: [ACTIVITY_SCHEMA, { type: 'null' }] },
            },
          },
          ...problemResponses(401, 403, 500),
        },
      },
    },
    async (request) => {
      const session = request.dmpSession;
      if (!session) throw new DmpError('SESSION_REQUIRED', 'session requise');
      return {
        mode: session.kind,
        establishment: session.establishment,
        practitioner: request.practitioner,
        organisation: session.organisation,
        user: session.user,
        activity: session.activity,
      };
    },
  );

  app.post(
    '/v1/auth/logout',
    {
      preHandler: requireSession,
      bodyLimit: 1024,
      schema: {
        tags: TAGS,
        summary: 'Fin de la session',
        security: [{ dpopSession: [] }],
        response: { 204: { type: 'null', description: 'session terminée' }, ...problemResponses(401, 500) },
      },
    },
    async (request, reply) => {
      const tokenHash = sessionTokenHashOf(request);
      const session = request.dmpSession;
      if (tokenHash === undefined || !session) throw new DmpError('SESSION_REQUIRED', 'session requise');
      const now = app.dmp.clock();
      await app.dmp.store.transaction(async (tx) => {
        if (!(await tx.deleteSession(tokenHash))) return; // ended meanwhile by another request
        const practitioner = request.practitioner;
        const establishmentId = session.organisation?.id ?? '?';
        await appendTrace(tx, {
          chain: practitioner ? practitionerChainId(practitioner.nationalId) : establishmentChainId(establishmentId),
          at: now,
          actor: practitioner
            ? { kind: 'practitioner', id: practitioner.nationalId, role: practitioner.professionCode }
            : { kind: 'establishment', id: establishmentId.slice(0, 200) },
          action: 'logout',
          mode: 'normal',
          result: 'ok',
          detail: { session: session.sessionRef, ...(session.user ? { user: session.user } : {}) },
        });
      });
      return reply.code(204).send();
    },
  );
}
