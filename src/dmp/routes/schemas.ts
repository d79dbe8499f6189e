// JSON schemas shared by the routes (registered once with app.addSchema; referenced as
// `{ $ref: 'Problem#' }`), and small helpers to write route schemas consistently.
import type { FastifyInstance } from 'fastify';
import { PROBLEMS } from '../errors.js';

export const PROBLEM_SCHEMA = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details; `code` is stable, `title` in French.',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', enum: Object.keys(PROBLEMS) },
  },
  additionalProperties: true,
} as const;

export const PRACTITIONER_SCHEMA = {
  $id: 'Practitioner',
  type: 'object',
  description: "Le professionnel authentifié, d'après son certificat d'authentification CPS.",
  required: ['nationalId', 'idType', 'surname', 'givenName', 'professionCode', 'professionLabel'],
  properties: {
    nationalId: { type: 'string', description: '8 + RPPS ou 0 + ADELI' },
    idType: { type: 'string', enum: ['RPPS', 'ADELI'] },
    surname: { type: 'string' },
    givenName: { type: 'string' },
    professionCode: { type: 'string', description: 'TRE_G15' },
    professionLabel: { type: 'string' },
    specialtyCode: { type: ['string', 'null'] },
    structureId: { type: ['string', 'null'] },
    structureName: { type: ['string', 'null'] },
  },
  additionalProperties: false,
} as const;

export const DATE_TIME = { type: 'string', format: 'date-time', description: 'ISO 8601 UTC' } as const;

const problemRef = { $ref: 'Problem#' } as const;

/** Response schemas for the given error statuses, all problem+json. */
export function problemResponses(...statuses: number[]): Record<number, typeof problemRef> {
  return Object.fromEntries(statuses.map((status) => [status, problemRef]));
}

export function addSharedSchemas(app: FastifyInstance): void {
  app.addSchema(PROBLEM_SCHEMA);
  app.addSchema(PRACTITIONER_SCHEMA);
}
