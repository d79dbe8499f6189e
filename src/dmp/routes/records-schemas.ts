// JSON schemas of the records routes (validation, response serialisation, /openapi.json).
import { ACCESS_MODES, CLOSE_REASONS, CONFIDENTIALITY_CODES, SEARCHABLE_STATUSES } from '../records/index.js';
import { DATE_TIME } from './schemas.js';

const NULLABLE_STRING = { type: ['string', 'null'] } as const;
const NULLABLE_DATE_TIME = { type: ['string', 'null'], format: 'date-time' } as const;

export const INS_OBJECT = {
  type: 'object',
  required: ['oid', 'value'],
  additionalProperties: false,
  properties: {
    oid: { type: 'string', description: 'OID INS-NIR 1.2.250.1.213.1.4.8 (test .10, démonstration .11) ou INS-C 1.2.250.1.213.1.4.2' },
    value: { type: 'string' },
  },
} as const;

export const INS_PARAMS = {
  type: 'object',
  required: ['ins'],
  properties: { ins: { type: 'string', maxLength: 64, description: '<oid>:<valeur>, p. ex. 1.2.250.1.213.1.4.10:180057511234567' } },
} as const;

export const DOCUMENT_ID_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 64 } },
} as const;

/** Reading routes: the access mode headers. */
export const ACCESS_HEADERS = {
  type: 'object',
  properties: {
    'x-access-mode': { type: 'string', description: `${ACCESS_MODES.join(' | ')} (défaut normal) ; bris_de_glace exige un motif, centre_15 est réservé aux médecins` },
    'x-access-reason': { type: 'string', description: 'motif du bris de glace (UTF-8 encodé en pourcentage hors ISO-8859-1)' },
  },
} as const;

/** The caller's authorisation by the patient, as members of the patient's status. */
export const AUTHORIZATION_VIEW = {
  type: 'object',
  required: ['authorization', 'blocked', 'sameRightsAsMedecinTraitant', 'authorizationRecordedBy', 'authorizationUpdatedAt'],
  properties: {
    authorization: { type: 'string', enum: ['none', 'granted', 'expired', 'denied'], description: "autorisation de l'appelant par le patient" },
    blocked: { type: 'boolean', description: "le patient a bloqué l'appelant" },
    sameRightsAsMedecinTraitant: { type: 'boolean' },
    authorizationRecordedBy: { type: ['string', 'null'], enum: ['patient', 'practitioner', null] },
    authorizationUpdatedAt: NULLABLE_DATE_TIME,
  },
} as const;

export const PATIENT_STATUS = {
  type: 'object',
  required: ['ins', 'status', 'createdAt', 'closedAt', ...AUTHORIZATION_VIEW.required, 'medecinTraitant', 'hasMedecinTraitant'],
  properties: {
    ins: INS_OBJECT,
    status: { type: 'string', enum: ['active', 'closed'] },
    createdAt: DATE_TIME,
    closedAt: NULLABLE_DATE_TIME,
    ...AUTHORIZATION_VIEW.properties,
    medecinTraitant: { type: 'boolean', description: "l'appelant est le médecin traitant DMP du patient" },
    hasMedecinTraitant: { type: 'boolean' },
  },
} as const;

export const TRAITS = {
  type: 'object',
  description: "Traits d'identité INS (obligatoires pour un INS-NIR) : nom et prénoms de naissance, date de naissance, sexe, code INSEE du lieu de naissance",
  properties: {
    birthSurname: { type: 'string' },
    firstNames: { type: 'string' },
    birthDate: { type: 'string', description: 'AAAA-MM-JJ' },
    sex: { type: 'string', enum: ['M', 'F'] },
    birthplaceCode: { type: 'string' },
    usedSurname: { type: 'string' },
    usedFirstName: { type: 'string' },
  },
} as const;

export const DOCUMENT_VIEW = {
  type: 'object',
  required: ['id', 'ins', 'classCode', 'typeCode', 'title', 'confidentiality', 'format', 'mimeType', 'creationTime', 'submittedAt', 'updatedAt', 'author', 'status', 'replaces', 'replacedBy', 'hash', 'size'],
  properties: {
    id: { type: 'string' },
    ins: INS_OBJECT,
    classCode: { type: 'string' },
    typeCode: { type: 'string', description: 'LOINC' },
    title: { type: 'string' },
    confidentiality: { type: 'array', items: { type: 'string', enum: [...CONFIDENTIALITY_CODES] } },
    format: { type: 'string', enum: ['cda-r2', 'pdf'] },
    mimeType: { type: 'string' },
    creationTime: DATE_TIME,
    submittedAt: DATE_TIME,
    updatedAt: DATE_TIME,
    author: {
      type: 'object',
      required: ['kind', 'id', 'name', 'professionCode', 'establishmentId'],
      properties: {
        kind: { type: 'string', enum: ['practitioner', 'establishment', 'patient'] },
        id: { type: 'string' },
        name: { type: 'string' },
        professionCode: NULLABLE_STRING,
        establishmentId: NULLABLE_STRING,
      },
    },
    status: { type: 'string', enum: ['approved', 'deprecated', 'archived', 'deleted'] },
    replaces: NULLABLE_STRING,
    replacedBy: NULLABLE_STRING,
    hash: { type: 'string', description: 'SHA-256 du contenu, hexadécimal' },
    size: { type: 'integer' },
  },
} as const;

export const DOCUMENT_SEARCH_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    classCode: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 64 }, description: 'répétable' },
    typeCode: { type: 'array', maxItems: 30, items: { type: 'string', maxLength: 16 }, description: 'répétable' },
    from: { type: 'string', format: 'date-time', description: 'date de création ≥' },
    to: { type: 'string', format: 'date-time', description: 'date de création <' },
    status: { type: 'array', maxItems: 3, items: { type: 'string', maxLength: 64 }, description: `répétable (ou séparé par des virgules) parmi ${SEARCHABLE_STATUSES.join(', ')} ; défaut approved` },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    cursor: { type: 'string', maxLength: 256, description: 'nextCursor de la page précédente' },
  },
} as const;

export const DOCUMENT_PATCH_BODY = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    status: { type: 'string', enum: ['approved', 'archived'] },
    confidentiality: { type: 'array', maxItems: 3, items: { type: 'string', enum: [...CONFIDENTIALITY_CODES] } },
  },
} as const;

export const CLOSE_BODY = {
  type: 'object',
  required: ['reason'],
  additionalProperties: false,
  properties: {
    reason: { type: 'string', enum: [...CLOSE_REASONS], description: 'patient_request (à la demande du patient, en consultation) ou deces' },
    comment: { type: 'string', maxLength: 500 },
  },
} as const;
