// Getting into the portal: activation with the one-time code handed over at the DMP's creation,
// login (INS + secret code, then a one-time password sent through the outbox, or a TOTP code),
// logout, TOTP enrolment, and the patient's own account summary.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DmpError } from '../errors.js';
import { problemResponses } from '../routes/schemas.js';
import type { PortalPatient } from '../store/index.js';
import { verifyActivationCode } from './activation.js';
import { maskContact, normalizeContact } from './contact.js';
import { hashSecret, verifySecret } from './credentials.js';
import { newOtp, OTP_MAX_ATTEMPTS, otpMatches } from './otp.js';
import { addressBucket, FAILURE_WINDOW_MS, FAILURES_PER_ADDRESS, FAILURES_PER_INS, insBucket, limitedKeys, reserveAttempt, type LimitedKey } from './rate-limit.js';
import { INS_SCHEMA, insOf, keyProviderOf, sessionOf, TAGS, UUID_PATTERN } from './schemas.js';
import { secretCodeProblems } from './secret-policy.js';
import { openPatientSession, PATIENT_SESSION_IDLE_MS, requirePatient } from './session.js';
import { acceptedTotpStep, decodeTotpRecord, encodeTotpRecord, newTotpEnrollment } from './totp.js';
import { tracePortal } from './traces.js';

/** SMS / e-mail sends per INS: someone who knows the secret code cannot flood the patient's phone. */
const OTP_SENDS_PER_INS = { limit: 5, windowMs: FAILURE_WINDOW_MS };

const CONTACT_SCHEMA = {
  type: 'object',
  required: ['kind', 'value'],
  additionalProperties: false,
  properties: { kind: { type: 'string', enum: ['sms', 'email'] }, value: { type: 'string', minLength: 1, maxLength: 254 } },
} as const;

const SESSION_SCHEMA = {
  type: 'object',
  required: ['sessionToken', 'expiresAt'],
  additionalProperties: false,
  properties: {
    sessionToken: { type: 'string', description: 'À présenter dans Authorization: Bearer <jeton>. Fin après 15 minutes sans requête, 2 heures au plus.' },
    expiresAt: { type: 'string', format: 'date-time', description: 'fin de la session si elle reste inactive' },
  },
} as const;

const SECRET_CODE = { type: 'string', minLength: 1, maxLength: 512 } as const;

const PUBLIC_ERRORS = problemResponses(400, 401, 403, 413, 415, 429, 500, 503);
const SESSION_ERRORS = problemResponses(400, 401, 403, 404, 409, 413, 415, 500, 503);

interface ActivateBody {
  ins: { oid: string; value: string };
  activationCode: string;
  secretCode: string;
  contact: { kind: 'sms' | 'email'; value: string };
}

interface LoginBody {
  ins: { oid: string; value: string };
  secretCode: string;
}

interface VerifyBody {
  otpRequestId?: string;
  otp?: string;
  ins?: { oid: string; value: string };
  secretCode?: string;
  totp?: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Runs `fn` as a limited attempt: refused with 429 before anything is checked when a bucket is
 * full; `fn` calls `fail()` before refusing for a wrong credential (the failure stays counted);
 * any other outcome gives the reservation back.
 */
async function limitedAttempt<T>(request: FastifyRequest, keys: readonly LimitedKey[], fn: (fail: () => void) => Promise<T>): Promise<T> {
  const { store, clock } = request.server.dmp;
  const reservation = await reserveAttempt(store.portal, keys, clock().getTime());
  let failed = false;
  try {
    return await fn(() => {
      failed = true;
    });
  } finally {
    if (!failed) await reservation.release();
  }
}

export async function portalAccessRoutes(app: FastifyInstance): Promise<void> {
  const { store, clock } = app.dmp;

  /** A refused attempt on an existing DMP shows in its traces (the patient sees someone tried). */
  async function traceRefused(patient: PortalPatient | null, action: 'activate' | 'login', reason: string): Promise<void> {
    if (!patient) return;
    await store.transaction((tx) =>
      tracePortal(tx, { insPath: `${patient.insOid}:${patient.insValue}`, patientId: patient.id, at: clock(), action, result: 'refused', detail: { reason } }),
    );
  }

  app.post<{ Body: ActivateBody }>(
    '/v1/portal/activate',
    {
      schema: {
        tags: TAGS,
        summary: "Activer l'accès au portail avec le code remis à la création du DMP, choisir son code secret et son moyen de contact",
        body: {
          type: 'object',
          required: ['ins', 'activationCode', 'secretCode', 'contact'],
          additionalProperties: false,
          properties: { ins: INS_SCHEMA, activationCode: { type: 'string', minLength: 1, maxLength: 64 }, secretCode: SECRET_CODE, contact: CONTACT_SCHEMA },
        },
        response: {
          200: {
            type: 'object',
            required: ['activated', 'contact'],
            additionalProperties: false,
            properties: {
              activated: { type: 'boolean', const: true },
              contact: { type: 'object', required: ['kind', 'hint'], additionalProperties: false, properties: { kind: { type: 'string' }, hint: { type: 'string' } } },
            },
          },
          ...PUBLIC_ERRORS,
        },
      },
    },
    async (request) => {
      const body = request.body;
      const { ins, path } = insOf(body.ins);
      const contact = normalizeContact(body.contact.kind, body.contact.value);
      if (!contact) throw new DmpError('CONTACT_INVALID', body.contact.kind === 'sms' ? 'numéro de téléphone mobile invalide' : 'adresse électronique invalide');
      const reasons = secretCodeProblems(body.secretCode, ins.value);
      if (reasons.length > 0) throw new DmpError('SECRET_CODE_WEAK', reasons.join(' ; '), { extensions: { reasons } });

      return limitedAttempt(request, limitedKeys('activation', path, request.ip), async (fail) => {
        const patient = await store.portal.findPatientByIns(ins.oid, ins.value);
        const codeHash = patient?.activationCodeHash ?? null;
        if (!(await verifyActivationCode(body.activationCode, codeHash)) || !patient || codeHash === null) {
          fail();
          await traceRefused(patient, 'activate', 'activation_code');
          throw new DmpError('ACTIVATION_INVALID', "code d'activation incorrect ou déjà utilisé");
        }
        const now = clock();
        if (patient.activationExpiresAt !== null && now.getTime() >= patient.activationExpiresAt) {
          await traceRefused(patient, 'activate', 'expired');
          throw new DmpError('ACTIVATION_EXPIRED', "ce code d'activation a expiré ; un professionnel de santé peut vous en remettre un nouveau");
        }
        if (patient.status !== 'active') throw new DmpError('DMP_CLOSED', 'ce DMP est fermé');
        const secretHash = await hashSecret(body.secretCode);
        await store.transaction(async (tx) => {
          const at = clock();
          const done = await tx.portal.activatePatient({
            id: patient.id,
            expectedCodeHash: codeHash,
            secretHash,
            contactKind: contact.kind,
            contact: contact.value,
            now: at.getTime(),
          });
          if (!done) throw new DmpError('ACTIVATION_INVALID', "code d'activation déjà utilisé");
          await tx.portal.deletePatientSessions(patient.id);
          await tx.portal.burnPendingOtps(patient.id, at.getTime());
          await tracePortal(tx, { insPath: path, patientId: patient.id, at, action: 'activate', detail: { contactKind: contact.kind } });
        });
        await store.portal.clearRateLimit(insBucket('activation', path));
        return { activated: true as const, contact: { kind: contact.kind, hint: maskContact(contact.kind, contact.value) } };
      });
    },
  );

  app.post<{ Body: LoginBody }>(
    '/v1/portal/login',
    {
      schema: {
        tags: TAGS,
        summary: 'Connexion, étape 1 : INS + code secret ; un code à usage unique est envoyé par SMS ou courriel',
        body: { type: 'object', required: ['ins', 'secretCode'], additionalProperties: false, properties: { ins: INS_SCHEMA, secretCode: SECRET_CODE } },
        response: {
          200: {
            type: 'object',
            required: ['otpRequestId', 'expiresAt', 'channel', 'contactHint'],
            additionalProperties: false,
            properties: {
              otpRequestId: { type: 'string', description: 'à renvoyer avec le code reçu à POST /v1/portal/login/verify' },
              expiresAt: { type: 'string', format: 'date-time' },
              channel: { type: 'string', enum: ['sms', 'email'] },
              contactHint: { type: 'string' },
            },
          },
          ...PUBLIC_ERRORS,
        },
      },
    },
    async (request) => {
      const { ins, path } = insOf(request.body.ins);
      const provider = keyProviderOf(request);
      return limitedAttempt(request, limitedKeys('login', path, request.ip), async (fail) => {
        const patient = await store.portal.findPatientByIns(ins.oid, ins.value);
        if (!(await verifySecret(request.body.secretCode, patient?.portalSecretHash)) || !patient?.portalContact || !patient.portalContactKind) {
          fail();
          await traceRefused(patient, 'login', 'secret_code');
          throw new DmpError('PORTAL_CREDENTIALS_INVALID', 'INS ou code secret incorrect');
        }
        if (patient.status !== 'active') throw new DmpError('DMP_CLOSED', 'ce DMP est fermé');
        const channel = patient.portalContactKind;
        const recipient = patient.portalContact;
        // every send counts (not given back): at most OTP_SENDS_PER_INS messages per window
        await reserveAttempt(store.portal, [{ bucket: insBucket('otp-send', path), rule: OTP_SENDS_PER_INS }], clock().getTime());
        const now = clock().getTime();
        const { otp, message } = await newOtp({ patientId: patient.id, channel, recipient, now, provider });
        await store.transaction(async (tx) => {
          await tx.portal.burnPendingOtps(patient.id, now);
          await tx.portal.insertOtp(otp);
          await tx.records.enqueueNotification(message);
        });
        return { otpRequestId: otp.id, expiresAt: iso(otp.expiresAt), channel, contactHint: maskContact(channel, recipient) };
      });
    },
  );

  app.post<{ Body: VerifyBody }>(
    '/v1/portal/login/verify',
    {
      schema: {
        tags: TAGS,
        summary: 'Connexion, étape 2 : { otpRequestId, otp } (code reçu), ou en une fois { ins, secretCode, totp } (application d’authentification)',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            otpRequestId: { type: 'string', pattern: UUID_PATTERN },
            otp: { type: 'string', pattern: '^[0-9]{6}$' },
            ins: INS_SCHEMA,
            secretCode: SECRET_CODE,
            totp: { type: 'string', pattern: '^[0-9]{6}$' },
          },
        },
        response: { 200: SESSION_SCHEMA, ...PUBLIC_ERRORS },
      },
    },
    async (request) => {
      const body = request.body;
      if (body.otpRequestId !== undefined && body.otp !== undefined && body.ins === undefined && body.secretCode === undefined && body.totp === undefined) {
        return verifyOtp(request, body.otpRequestId, body.otp);
      }
      if (body.ins !== undefined && body.secretCode !== undefined && body.totp !== undefined && body.otpRequestId === undefined && body.otp === undefined) {
        return verifyTotp(request, body.ins, body.secretCode, body.totp);
      }
      throw new DmpError('REQUEST_INVALID', 'attendu : { otpRequestId, otp } ou { ins, secretCode, totp }');
    },
  );

  async function verifyOtp(request: FastifyRequest, otpRequestId: string, code: string): Promise<{ sessionToken: string; expiresAt: string }> {
    const otp = await store.portal.getOtp(otpRequestId);
    const patient = otp ? await store.portal.getPatient(otp.patientId) : null;
    const path = patient ? `${patient.insOid}:${patient.insValue}` : undefined;
    const keys: LimitedKey[] =
      path === undefined
        ? [{ bucket: addressBucket('login', request.ip), rule: FAILURES_PER_ADDRESS }]
        : [
            { bucket: insBucket('login', path), rule: FAILURES_PER_INS },
            { bucket: addressBucket('login', request.ip), rule: FAILURES_PER_ADDRESS },
          ];
    return limitedAttempt(request, keys, async (fail) => {
      const now = clock().getTime();
      const live = otp !== null && otp.usedAt === null && now < otp.expiresAt && otp.attempts < OTP_MAX_ATTEMPTS;
      if (!otp || !patient || path === undefined || !live || !otpMatches(otp, code)) {
        fail();
        if (otp && live) await store.portal.recordOtpFailure(otp.id, now, OTP_MAX_ATTEMPTS);
        await traceRefused(patient, 'login', 'otp');
        throw new DmpError('OTP_INVALID', 'code incorrect, expiré ou déjà utilisé ; recommencez la connexion si besoin');
      }
      if (patient.status !== 'active') throw new DmpError('DMP_CLOSED', 'ce DMP est fermé');
      const session = await store.transaction(async (tx) => {
        const at = clock();
        if (!(await tx.portal.consumeOtp(otp.id, at.getTime(), OTP_MAX_ATTEMPTS))) return null;
        const opened = await openPatientSession(tx, patient.id, at.getTime());
        await tracePortal(tx, { insPath: path, patientId: patient.id, at, action: 'login', detail: { method: 'otp', channel: otp.channel } });
        return opened;
      });
      if (!session) {
        fail(); // used by a concurrent request in the meantime
        throw new DmpError('OTP_INVALID', 'code déjà utilisé');
      }
      await store.portal.clearRateLimit(insBucket('login', path));
      return { sessionToken: session.token, expiresAt: iso(session.expiresAt) };
    });
  }

  async function verifyTotp(request: FastifyRequest, insBody: { oid: string; value: string }, secretCode: string, token: string): Promise<{ sessionToken: string; expiresAt: string }> {
    const { ins, path } = insOf(insBody);
    const provider = keyProviderOf(request);
    return limitedAttempt(request, limitedKeys('login', path, request.ip), async (fail) => {
      const patient = await store.portal.findPatientByIns(ins.oid, ins.value);
      const secretOk = await verifySecret(secretCode, patient?.portalSecretHash);
      const record = decodeTotpRecord(patient?.portalTotpSecret ?? null);
      const now = clock().getTime();
      const step =
        secretOk && patient && record && record.confirmedAt !== null ? await acceptedTotpStep(record, token, now, patient.id, provider) : undefined;
      if (!patient || !record || step === undefined) {
        fail();
        await traceRefused(patient, 'login', secretOk ? 'totp' : 'secret_code');
        throw new DmpError('PORTAL_CREDENTIALS_INVALID', 'INS, code secret ou code de l’application incorrect');
      }
      if (patient.status !== 'active') throw new DmpError('DMP_CLOSED', 'ce DMP est fermé');
      const session = await store.transaction(async (tx) => {
        const at = clock();
        const next = encodeTotpRecord({ ...record, lastStep: step });
        // compare-and-set: the same code accepted on two nodes at once opens one session only
        if (!(await tx.portal.replaceTotpSecret(patient.id, patient.portalTotpSecret, next, at.getTime()))) return null;
        const opened = await openPatientSession(tx, patient.id, at.getTime());
        await tracePortal(tx, { insPath: path, patientId: patient.id, at, action: 'login', detail: { method: 'totp' } });
        return opened;
      });
      if (!session) {
        fail();
        throw new DmpError('PORTAL_CREDENTIALS_INVALID', 'code de l’application déjà utilisé');
      }
      await store.portal.clearRateLimit(insBucket('login', path));
      return { sessionToken: session.token, expiresAt: iso(session.expiresAt) };
    });
  }

  app.post(
    '/v1/portal/logout',
    { preHandler: requirePatient, schema: { tags: TAGS, summary: 'Fin de la session patient', response: { 204: { type: 'null' }, ...SESSION_ERRORS } } },
    async (request, reply) => {
      const session = sessionOf(request);
      await store.transaction(async (tx) => {
        await tx.deleteSession(session.tokenHash);
        await tracePortal(tx, { insPath: session.ins, patientId: session.patient.id, at: clock(), action: 'logout' });
      });
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/portal/totp/enroll',
    {
      preHandler: requirePatient,
      schema: {
        tags: TAGS,
        summary: "Enregistrer une application d'authentification (TOTP) : l'URI otpauth:// n'est donnée qu'une fois, à confirmer par un premier code",
        response: {
          200: {
            type: 'object',
            required: ['otpauthUri', 'secret', 'confirmed'],
            additionalProperties: false,
            properties: {
              otpauthUri: { type: 'string', description: 'à montrer en QR code ; jamais redonnée' },
              secret: { type: 'string', description: 'la même clé en base32, pour une saisie à la main' },
              confirmed: { type: 'boolean', const: false },
            },
          },
          ...SESSION_ERRORS,
        },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      const provider = keyProviderOf(request);
      const enrollment = await newTotpEnrollment({ patientId: session.patient.id, accountLabel: `INS …${session.patient.insValue.slice(-4)}`, provider });
      await store.transaction(async (tx) => {
        const at = clock();
        if (!(await tx.portal.replaceTotpSecret(session.patient.id, session.patient.portalTotpSecret, encodeTotpRecord(enrollment.record), at.getTime()))) {
          throw new DmpError('TOTP_NOT_PENDING', 'enregistrement concurrent en cours ; recommencez');
        }
        await tracePortal(tx, { insPath: session.ins, patientId: session.patient.id, at, action: 'totp_enroll' });
      });
      return { otpauthUri: enrollment.uri, secret: enrollment.secret, confirmed: false as const };
    },
  );

  app.post<{ Body: { totp: string } }>(
    '/v1/portal/totp/confirm',
    {
      preHandler: requirePatient,
      schema: {
        tags: TAGS,
        summary: "Confirmer l'application d'authentification par un premier code : les connexions par TOTP sont alors acceptées",
        body: { type: 'object', required: ['totp'], additionalProperties: false, properties: { totp: { type: 'string', pattern: '^[0-9]{6}$' } } },
        response: { 200: { type: 'object', required: ['confirmed'], additionalProperties: false, properties: { confirmed: { type: 'boolean', const: true } } }, ...SESSION_ERRORS },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      const provider = keyProviderOf(request);
      const record = decodeTotpRecord(session.patient.portalTotpSecret);
      if (!record || record.confirmedAt !== null) throw new DmpError('TOTP_NOT_PENDING', "aucune application d'authentification en attente : enregistrez-en une d'abord");
      const now = clock().getTime();
      const step = await acceptedTotpStep(record, request.body.totp, now, session.patient.id, provider);
      if (step === undefined) throw new DmpError('OTP_INVALID', "code de l'application incorrect");
      await store.transaction(async (tx) => {
        const at = clock();
        const next = encodeTotpRecord({ ...record, confirmedAt: at.getTime(), lastStep: step });
        if (!(await tx.portal.replaceTotpSecret(session.patient.id, session.patient.portalTotpSecret, next, at.getTime()))) {
          throw new DmpError('TOTP_NOT_PENDING', 'enregistrement modifié entre-temps ; recommencez');
        }
        await tracePortal(tx, { insPath: session.ins, patientId: session.patient.id, at, action: 'totp_confirm' });
      });
      return { confirmed: true as const };
    },
  );

  app.get(
    '/v1/portal/me',
    {
      preHandler: requirePatient,
      schema: {
        tags: TAGS,
        summary: 'Le compte du patient : INS, moyen de contact, TOTP, médecin traitant, oppositions, fin de session',
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['ins', 'status', 'contact', 'totp', 'medecinTraitantId', 'oppositions', 'sessionIdleSeconds'],
            properties: {
              ins: INS_SCHEMA,
              status: { type: 'string' },
              activatedAt: { type: ['string', 'null'], format: 'date-time' },
              contact: { type: 'object', additionalProperties: false, properties: { kind: { type: ['string', 'null'] }, hint: { type: ['string', 'null'] } } },
              totp: { type: 'string', enum: ['none', 'pending', 'active'] },
              medecinTraitantId: { type: ['string', 'null'] },
              oppositions: { type: 'object', additionalProperties: false, properties: { brisDeGlace: { type: 'boolean' }, centre15: { type: 'boolean' } } },
              sessionIdleSeconds: { type: 'integer' },
            },
          },
          ...SESSION_ERRORS,
        },
      },
    },
    async (request) => {
      const { patient } = sessionOf(request);
      const totp = decodeTotpRecord(patient.portalTotpSecret);
      return {
        ins: { oid: patient.insOid, value: patient.insValue },
        status: patient.status,
        activatedAt: patient.activatedAt === null ? null : iso(patient.activatedAt),
        contact: {
          kind: patient.portalContactKind,
          hint: patient.portalContactKind && patient.portalContact ? maskContact(patient.portalContactKind, patient.portalContact) : null,
        },
        totp: totp === undefined ? 'none' : totp.confirmedAt === null ? 'pending' : 'active',
        medecinTraitantId: patient.medecinTraitantId,
        oppositions: { brisDeGlace: patient.opposesBrisDeGlace, centre15: patient.opposesCentre15 },
        sessionIdleSeconds: PATIENT_SESSION_IDLE_MS / 1000,
      };
    },
  );
}
