// Routes of the DMPs themselves, practitioner side (dmp-service.md, "Patients and access"):
//   POST /v1/patients                          create (consent, INS, traits) -> one-time activation code
//   GET  /v1/patients/{ins}                    status, the caller's authorisation, médecin traitant flag
//   PUT  /v1/patients/{ins}/authorization      recorded by the practitioner with the patient's agreement
//   PUT  /v1/patients/{ins}/medecin-traitant   always 403: declared by the patient (portal)
//   POST /v1/patients/{ins}/close              by a practitioner, with a reason
//   GET  /v1/patients/{ins}/traces             always 403: the patient reads his traces (portal)
// Every operation and every refusal on an existing DMP is traced in its chain.
import type { FastifyInstance } from 'fastify';
import { DmpError } from '../errors.js';
import {
  PatientTrail,
  closeByPractitioner,
  createPatient,
  insPath,
  parseNewPatient,
  patientStatusView,
  recordAuthorization,
  traceActorOf,
  traceRefusals,
  callerOf,
  type CloseReason,
} from '../records/index.js';
import { loadMatrix } from '../policy/index.js';
import { requirePractitioner, requireSession } from '../auth/index.js';
import { CLOSE_BODY, INS_PARAMS, PATIENT_STATUS, TRAITS } from './records-schemas.js';
import { patientScope, practitionerOnly, type PractitionerCaller } from './records-scope.js';
import { DATE_TIME, problemResponses } from './schemas.js';

const TAGS = ['patients'];
const SECURITY = [{ dpopSession: [], dpopProof: [] }];

interface InsParams {
  ins: string;
}

export async function patientRoutes(app: FastifyInstance): Promise<void> {
  const matrix = loadMatrix();
  const { store, clock } = app.dmp;

  app.post<{ Body: { ins?: unknown; traits?: unknown; consent?: unknown } }>(
    '/v1/patients',
    {
      preHandler: requirePractitioner,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Créer le DMP d’un patient (consentement recueilli)',
        description:
          'Renvoie l’état du DMP et un code d’activation à usage unique de l’accès web du patient, à imprimer et remettre au patient : il n’est montré qu’ici (seul son condensat est conservé). Le professionnel créateur est enregistré comme autorisé.',
        body: {
          type: 'object',
          properties: { ins: { type: 'object' }, traits: { type: ['object', 'null'] }, consent: { description: 'true obligatoire' } },
        },
        response: {
          201: {
            type: 'object',
            required: [...PATIENT_STATUS.required, 'traits', 'activationCode', 'activationExpiresAt'],
            properties: {
              ...PATIENT_STATUS.properties,
              traits: { ...TRAITS, type: ['object', 'null'] },
              activationCode: { type: 'string', description: 'code d’activation à usage unique de l’accès web du patient (12 caractères par groupes de 4), à lui remettre' },
              activationExpiresAt: DATE_TIME,
            },
          },
          ...problemResponses(400, 401, 403, 409, 415, 500),
        },
      },
    },
    async (request, reply) => {
      const caller = (await callerOf(request)) as PractitionerCaller;
      const now = clock();
      const input = parseNewPatient(request.body ?? {}, now);
      const actor = traceActorOf(caller);
      try {
        const created = await createPatient(store, caller, input, (patient) => new PatientTrail(patient, actor, clock), now);
        reply.code(201).header('Location', `/v1/patients/${encodeURIComponent(insPath(input.ins))}`);
        return {
          ...patientStatusView(created.patient, created.authorization, caller.nationalId, now),
          traits: input.traits,
          activationCode: created.activationCode,
          activationExpiresAt: new Date(created.patient.activationExpiresAt as number).toISOString(),
        };
      } catch (error) {
        if (error instanceof DmpError && error.code === 'PATIENT_EXISTS') {
          const existing = await store.records.getPatientByIns(input.ins.oid, input.ins.value);
          if (existing) await new PatientTrail(existing, actor, clock).refused(store, { action: 'patient.create' }, error);
        }
        throw error;
      }
    },
  );

  app.get<{ Params: InsParams }>(
    '/v1/patients/:ins',
    {
      preHandler: requireSession,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'État du DMP, autorisation de l’appelant, indicateur médecin traitant',
        params: INS_PARAMS,
        response: { 200: PATIENT_STATUS, ...problemResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request) => {
      const { patient, caller, trail } = await patientScope(request, request.params.ins);
      return traceRefusals(store, trail, { action: 'patient.read' }, async () => {
        const practitioner = practitionerOnly(caller);
        const now = clock();
        const authorization = await store.records.getAuthorization(patient.id, practitioner.nationalId);
        const view = patientStatusView(patient, authorization, practitioner.nationalId, now);
        await store.transaction((tx) => trail.ok(tx, { action: 'patient.read', detail: { authorization: view.authorization, blocked: view.blocked } }));
        return view;
      });
    },
  );

  app.put<{ Params: InsParams; Body: { status: 'granted' | 'expired' | 'denied'; sameRightsAsMedecinTraitant?: boolean } }>(
    '/v1/patients/:ins/authorization',
    {
      preHandler: requireSession,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Enregistrer l’autorisation du patient (en consultation, avec son accord)',
        description: 'Pour le professionnel appelant. Un professionnel bloqué par le patient ne peut pas lever ce blocage (403 BLOCKED_BY_PATIENT).',
        params: INS_PARAMS,
        body: {
          type: 'object',
          required: ['status'],
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['granted', 'expired', 'denied'] },
            sameRightsAsMedecinTraitant: { type: 'boolean', description: 'mêmes droits que le médecin traitant (documents masqués aux professionnels), avec granted' },
          },
        },
        response: { 200: PATIENT_STATUS, ...problemResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request) => {
      const { patient, caller, trail } = await patientScope(request, request.params.ins);
      const body = request.body;
      return traceRefusals(store, trail, { action: 'authorization.update', detail: { status: body.status } }, async () => {
        const practitioner = practitionerOnly(caller);
        const now = clock();
        const stored = await recordAuthorization(
          store,
          patient,
          practitioner,
          { status: body.status, sameRightsAsMedecinTraitant: body.sameRightsAsMedecinTraitant === true },
          trail,
          now,
        );
        return patientStatusView(patient, stored, practitioner.nationalId, now);
      });
    },
  );

  app.put<{ Params: InsParams }>(
    '/v1/patients/:ins/medecin-traitant',
    {
      preHandler: requireSession,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Refusé aux professionnels : le médecin traitant DMP est déclaré par le patient (portail)',
        params: INS_PARAMS,
        response: problemResponses(400, 401, 403, 404, 500),
      },
    },
    async (request) => {
      const { trail } = await patientScope(request, request.params.ins);
      return traceRefusals(store, trail, { action: 'medecin-traitant.declare' }, async () => {
        throw new DmpError('MEDECIN_TRAITANT_PATIENT_ONLY', 'le patient déclare son médecin traitant DMP sur son portail (/v1/portal)');
      });
    },
  );

  app.post<{ Params: InsParams; Body: { reason: CloseReason; comment?: string } }>(
    '/v1/patients/:ins/close',
    {
      preHandler: requireSession,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Fermer le DMP (à la demande du patient, ou décès)',
        description: 'Par un professionnel autorisé par le patient (non bloqué), avec un motif ; le patient peut aussi fermer son DMP sur le portail. Le patient en est notifié.',
        params: INS_PARAMS,
        body: CLOSE_BODY,
        response: {
          200: { type: 'object', required: ['status', 'closedAt'], properties: { status: { type: 'string', enum: ['closed'] }, closedAt: DATE_TIME } },
          ...problemResponses(400, 401, 403, 404, 500),
        },
      },
    },
    async (request) => {
      const { patient, caller, trail } = await patientScope(request, request.params.ins);
      return traceRefusals(store, trail, { action: 'patient.close', detail: { reason: request.body.reason } }, async () => {
        const practitioner = practitionerOnly(caller);
        const closed = await closeByPractitioner(store, matrix, patient, practitioner, request.body.reason, trail, clock());
        return { status: 'closed' as const, closedAt: new Date(closed.closedAt ?? clock().getTime()).toISOString() };
      });
    },
  );

  app.get<{ Params: InsParams }>(
    '/v1/patients/:ins/traces',
    {
      preHandler: requireSession,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Refusé aux professionnels : le patient consulte ses traces sur son portail',
        params: INS_PARAMS,
        response: problemResponses(400, 401, 403, 404, 500),
      },
    },
    async (request) => {
      const { trail } = await patientScope(request, request.params.ins);
      return traceRefusals(store, trail, { action: 'traces.read' }, async () => {
        throw new DmpError('TRACES_PATIENT_ONLY', 'les traces d’un DMP sont consultées par le patient sur son portail (/v1/portal)');
      });
    },
  );
}
