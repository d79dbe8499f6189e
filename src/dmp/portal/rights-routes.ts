// The patient's decisions about who reaches his DMP: authorisations of practitioners (grant,
// revoke, block — a block wins over everything, médecin traitant and break-glass included, as the
// practitioner-side access decision applies it), his médecin traitant DMP, his oppositions to
// break-glass and regulation-centre access; his traces; closing his DMP.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { DmpError } from '../errors.js';
import { problemResponses } from '../routes/schemas.js';
import type { DmpRepository, PortalAuthorization } from '../store/index.js';
import { decodeCursor, encodeCursor, sessionOf, TAGS } from './schemas.js';
import { requirePatient } from './session.js';
import { patientChain, readableTraces, tracePortal } from './traces.js';

/** `8` + RPPS (11 digits) or `0` + ADELI (9 characters), as read from CPS certificates. */
export const PRACTITIONER_ID_PATTERN = '^(8[0-9]{11}|0[0-9A-Z]{9})$';
/** TRE_G15: only a médecin can be the médecin traitant. */
const MEDECIN = '10';

const ERRORS = problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 500);
const PRACTITIONER_ID = { type: 'string', pattern: PRACTITIONER_ID_PATTERN, description: 'identifiant national : 8 + RPPS ou 0 + ADELI' } as const;

const AUTHORIZATION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['practitionerId', 'status', 'blocked', 'sameRightsAsMedecinTraitant', 'medecinTraitant', 'recordedBy', 'updatedAt', 'practitioner'],
  properties: {
    practitionerId: { type: 'string' },
    status: { type: 'string', enum: ['granted', 'expired', 'denied'], description: 'authorization : expired quand sa date est passée' },
    blocked: { type: 'boolean', description: 'bloqué : ne voit rien, quoi qu’il arrive' },
    sameRightsAsMedecinTraitant: { type: 'boolean', description: 'voit aussi les documents masqués aux professionnels' },
    medecinTraitant: { type: 'boolean' },
    recordedBy: { type: 'string', enum: ['patient', 'practitioner'] },
    grantedAt: { type: ['string', 'null'], format: 'date-time' },
    expiresAt: { type: ['string', 'null'], format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    practitioner: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: { surname: { type: 'string' }, givenName: { type: 'string' }, professionCode: { type: 'string' }, professionLabel: { type: 'string' } },
    },
  },
} as const;

const OPPOSITIONS_SCHEMA = {
  type: 'object',
  required: ['brisDeGlace', 'centre15'],
  additionalProperties: false,
  properties: {
    brisDeGlace: { type: 'boolean', description: 'opposition à l’accès en urgence (bris de glace)' },
    centre15: { type: 'boolean', description: 'opposition à l’accès par le centre de régulation (SAMU, centre 15)' },
  },
} as const;

interface AuthorizationBody {
  practitionerId: string;
  status: 'granted' | 'denied';
  blocked?: boolean;
  sameRightsAsMedecinTraitant?: boolean;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function authorizationView(a: PortalAuthorization, medecinTraitantId: string | null, now: number): Record<string, unknown> {
  return {
    practitionerId: a.practitionerId,
    status: a.status === 'granted' && a.expiresAt !== null && a.expiresAt <= now ? 'expired' : a.status,
    blocked: a.blocked,
    sameRightsAsMedecinTraitant: a.sameRightsAsMedecinTraitant,
    medecinTraitant: a.practitionerId === medecinTraitantId,
    recordedBy: a.recordedBy,
    grantedAt: iso(a.grantedAt),
    expiresAt: iso(a.expiresAt),
    updatedAt: iso(a.updatedAt),
    practitioner: a.practitioner,
  };
}

async function notify(tx: DmpRepository, recipient: string, payload: Record<string, unknown>, at: number): Promise<void> {
  await tx.records.enqueueNotification({ id: randomUUID(), kind: 'notification', recipient, payload: JSON.stringify(payload), createdAt: at, availableAt: at });
}

export async function portalRightsRoutes(app: FastifyInstance): Promise<void> {
  const { store, clock } = app.dmp;

  app.get(
    '/v1/portal/authorizations',
    {
      preHandler: requirePatient,
      schema: {
        tags: TAGS,
        summary: 'Les professionnels autorisés, refusés ou bloqués, et le médecin traitant',
        response: {
          200: {
            type: 'object',
            required: ['medecinTraitantId', 'authorizations'],
            additionalProperties: false,
            properties: { medecinTraitantId: { type: ['string', 'null'] }, authorizations: { type: 'array', items: AUTHORIZATION_SCHEMA } },
          },
          ...ERRORS,
        },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      const at = clock();
      const now = at.getTime();
      const list = await store.transaction(async (tx) => {
        await tracePortal(tx, { insPath: session.ins, patientId: session.patient.id, at, action: 'read_authorizations' });
        return tx.portal.listAuthorizations(session.patient.id);
      });
      return {
        medecinTraitantId: session.patient.medecinTraitantId,
        authorizations: list.map((a) => authorizationView(a, session.patient.medecinTraitantId, now)),
      };
    },
  );

  app.put<{ Body: AuthorizationBody }>(
    '/v1/portal/authorizations',
    {
      preHandler: requirePatient,
      schema: {
        tags: TAGS,
        summary:
          'Autoriser (status granted), retirer l’autorisation (denied) ou bloquer (denied + blocked) un professionnel ; bloquer le médecin traitant le retire comme médecin traitant',
        body: {
          type: 'object',
          required: ['practitionerId', 'status'],
          additionalProperties: false,
          properties: {
            practitionerId: PRACTITIONER_ID,
            status: { type: 'string', enum: ['granted', 'denied'] },
            blocked: { type: 'boolean', default: false },
            sameRightsAsMedecinTraitant: { type: 'boolean', default: false },
          },
        },
        response: { 200: AUTHORIZATION_SCHEMA, ...ERRORS },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      const body = request.body;
      const blocked = body.blocked ?? false;
      const sameRights = body.sameRightsAsMedecinTraitant ?? false;
      if (blocked && body.status === 'granted') throw new DmpError('REQUEST_INVALID', 'un professionnel bloqué ne peut pas être autorisé : status denied attendu');
      if (sameRights && body.status !== 'granted') throw new DmpError('REQUEST_INVALID', 'les mêmes droits que le médecin traitant supposent une autorisation (status granted)');
      const at = clock();
      const now = at.getTime();
      const wasMedecinTraitant = session.patient.medecinTraitantId === body.practitionerId;
      const removeMedecinTraitant = blocked && wasMedecinTraitant;
      const saved = await store.transaction(async (tx) => {
        const previous = await tx.records.getAuthorization(session.patient.id, body.practitionerId);
        await tx.portal.putAuthorization({
          patientId: session.patient.id,
          practitionerId: body.practitionerId,
          status: body.status,
          blocked,
          sameRightsAsMedecinTraitant: sameRights,
          grantedAt: body.status === 'granted' ? (previous?.status === 'granted' ? previous.grantedAt : now) : null,
          expiresAt: null,
          now,
        });
        if (removeMedecinTraitant) await tx.portal.setMedecinTraitant(session.patient.id, null, now);
        await tracePortal(tx, {
          insPath: session.ins,
          patientId: session.patient.id,
          at,
          action: 'authorization',
          target: `practitioner:${body.practitionerId}`,
          detail: { status: body.status, blocked, sameRightsAsMedecinTraitant: sameRights, ...(removeMedecinTraitant ? { medecinTraitantRemoved: true } : {}) },
        });
        return (await tx.portal.listAuthorizations(session.patient.id)).find((a) => a.practitionerId === body.practitionerId) ?? null;
      });
      if (!saved) throw new DmpError('INTERNAL', 'autorisation enregistrée introuvable');
      return authorizationView(saved, removeMedecinTraitant ? null : session.patient.medecinTraitantId, now);
    },
  );

  app.put<{ Body: { practitionerId: string | null } }>(
    '/v1/portal/medecin-traitant',
    {
      preHandler: requirePatient,
      schema: {
        tags: TAGS,
        summary: 'Déclarer son médecin traitant DMP (un médecin déjà connu du service, non bloqué ; il est alors autorisé), ou null pour n’en plus avoir',
        body: {
          type: 'object',
          required: ['practitionerId'],
          additionalProperties: false,
          properties: { practitionerId: { anyOf: [PRACTITIONER_ID, { type: 'null' }] } },
        },
        response: {
          200: { type: 'object', required: ['medecinTraitantId'], additionalProperties: false, properties: { medecinTraitantId: { type: ['string', 'null'] } } },
          ...ERRORS,
        },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      const practitionerId = request.body.practitionerId;
      await store.transaction(async (tx) => {
        const at = clock();
        if (practitionerId !== null) {
          const known = await tx.portal.practitionerProfession(practitionerId);
          if (!known || known.professionCode !== MEDECIN) {
            throw new DmpError('MEDECIN_TRAITANT_INVALID', 'ce professionnel n’est pas un médecin connu du service (il doit s’être connecté au DMP au moins une fois)');
          }
          const current = await tx.records.getAuthorization(session.patient.id, practitionerId);
          if (current?.blocked) throw new DmpError('PRACTITIONER_BLOCKED', 'ce médecin est bloqué : débloquez-le avant de le déclarer médecin traitant');
          if (current?.status !== 'granted' || (current.expiresAt !== null && current.expiresAt <= at.getTime())) {
            await tx.portal.putAuthorization({
              patientId: session.patient.id,
              practitionerId,
              status: 'granted',
              blocked: false,
              sameRightsAsMedecinTraitant: current?.sameRightsAsMedecinTraitant ?? false,
              grantedAt: at.getTime(),
              expiresAt: null,
              now: at.getTime(),
            });
          }
        }
        await tx.portal.setMedecinTraitant(session.patient.id, practitionerId, at.getTime());
        await tracePortal(tx, {
          insPath: session.ins,
          patientId: session.patient.id,
          at,
          action: 'medecin_traitant',
          ...(practitionerId === null ? {} : { target: `practitioner:${practitionerId}` }),
          detail: { previous: session.patient.medecinTraitantId },
        });
      });
      return { medecinTraitantId: practitionerId };
    },
  );

  app.put<{ Body: { brisDeGlace: boolean; centre15: boolean } }>(
    '/v1/portal/oppositions',
    {
      preHandler: requirePatient,
      schema: {
        tags: TAGS,
        summary: 'S’opposer (true) ou non à l’accès en urgence (bris de glace) et à l’accès par le centre de régulation (centre 15)',
        body: OPPOSITIONS_SCHEMA,
        response: { 200: OPPOSITIONS_SCHEMA, ...ERRORS },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      const { brisDeGlace, centre15 } = request.body;
      await store.transaction(async (tx) => {
        const at = clock();
        await tx.portal.setOppositions(session.patient.id, brisDeGlace, centre15, at.getTime());
        await tracePortal(tx, { insPath: session.ins, patientId: session.patient.id, at, action: 'oppositions', detail: { brisDeGlace, centre15 } });
      });
      return { brisDeGlace, centre15 };
    },
  );

  app.get<{ Querystring: { limit?: number; cursor?: string } }>(
    '/v1/portal/traces',
    {
      preHandler: requirePatient,
      schema: {
        tags: TAGS,
        summary: 'L’historique des accès et actions sur son DMP, du plus récent au plus ancien, en clair',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 500 }, cursor: { type: 'string', maxLength: 64 } },
        },
        response: {
          200: {
            type: 'object',
            required: ['traces', 'nextCursor'],
            additionalProperties: false,
            properties: {
              traces: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  properties: {
                    seq: { type: 'integer' },
                    at: { type: 'string', format: 'date-time' },
                    actor: {
                      type: 'object',
                      additionalProperties: false,
                      properties: { kind: { type: 'string' }, id: { type: 'string' }, role: { type: ['string', 'null'] }, label: { type: 'string' } },
                    },
                    mode: { type: 'string' },
                    modeLabel: { type: 'string' },
                    action: { type: 'string' },
                    actionLabel: { type: 'string' },
                    target: { type: ['string', 'null'] },
                    result: { type: 'string', enum: ['ok', 'refused'] },
                    resultLabel: { type: 'string' },
                    detail: { type: ['object', 'null'], additionalProperties: true },
                    summary: { type: 'string' },
                  },
                },
              },
              nextCursor: { type: ['string', 'null'] },
            },
          },
          ...ERRORS,
        },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      const limit = request.query.limit ?? 100;
      const cursor = decodeCursor(request.query.cursor, (v): v is { before: number } => typeof v === 'object' && v !== null && Number.isSafeInteger((v as { before: number }).before));
      const chain = patientChain(session.ins);
      const page = await store.transaction(async (tx) => {
        await tracePortal(tx, { insPath: session.ins, patientId: session.patient.id, at: clock(), action: 'read_traces' });
        // seqs of a chain run 1..head without gaps: the page before `before` is (before - 1 - limit, before - 1]
        const head = await tx.traceHead(chain);
        const before = Math.min(cursor?.before ?? Number.MAX_SAFE_INTEGER, (head?.seq ?? 0) + 1);
        const count = Math.min(limit, before - 1);
        if (count <= 0) return [];
        return (await tx.listTraces(chain, { afterSeq: before - 1 - count, limit: count })).reverse();
      });
      const names = await store.portal.practitionerNames(page.map((r) => r.actorId).filter((id): id is string => id !== null));
      const last = page.at(-1);
      return { traces: readableTraces(page, names), nextCursor: last && last.seq > 1 ? encodeCursor({ before: last.seq }) : null };
    },
  );

  app.post<{ Body: { confirm: true; reason?: string } }>(
    '/v1/portal/close',
    {
      preHandler: requirePatient,
      schema: {
        tags: TAGS,
        summary: 'Fermer son DMP : plus aucun accès, ni au portail ni pour les professionnels ; le médecin traitant est prévenu',
        body: {
          type: 'object',
          required: ['confirm'],
          additionalProperties: false,
          properties: { confirm: { type: 'boolean', const: true }, reason: { type: 'string', maxLength: 1000 } },
        },
        response: {
          200: {
            type: 'object',
            required: ['status', 'closedAt'],
            additionalProperties: false,
            properties: { status: { type: 'string', const: 'closed' }, closedAt: { type: 'string', format: 'date-time' } },
          },
          ...ERRORS,
        },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      const reason = request.body.reason;
      const at = clock();
      await store.transaction(async (tx) => {
        if (!(await tx.records.closePatient(session.patient.id, at.getTime()))) throw new DmpError('DMP_CLOSED', 'ce DMP est déjà fermé');
        await tx.portal.deletePatientSessions(session.patient.id);
        await tx.portal.burnPendingOtps(session.patient.id, at.getTime());
        const mt = session.patient.medecinTraitantId;
        const event = { event: 'dmp.closed', at: at.toISOString(), by: 'patient', patientIns: { oid: session.patient.insOid, value: session.patient.insValue } };
        await notify(tx, `patient:${session.patient.id}`, event, at.getTime());
        if (mt !== null) await notify(tx, `practitioner:${mt}`, event, at.getTime());
        await tracePortal(tx, { insPath: session.ins, patientId: session.patient.id, at, action: 'close', ...(reason === undefined ? {} : { detail: { reason } }) });
      });
      return { status: 'closed' as const, closedAt: at.toISOString() };
    },
  );
}
