// The patient portal API (/v1/portal, dmp-service.md "Patient portal"): activation, login with
// secret code + one-time password or TOTP, patient sessions (Authorization: Bearer), and the
// patient's rights over his DMP. docs/dmp-portal.md describes the routes and their codes.
import type { FastifyInstance } from 'fastify';
import { portalAccessRoutes } from './access-routes.js';
import { portalDocumentRoutes } from './document-routes.js';
import { FAILURE_WINDOW_MS } from './rate-limit.js';
import { portalRightsRoutes } from './rights-routes.js';

export { ACTIVATION_CODE_LIFETIME_MS, hashActivationCode, newActivationCode, normalizeActivationCode, verifyActivationCode } from './activation.js';
export { hashSecret, verifySecret, isSecretHash } from './credentials.js';
export { secretCodeProblems, SECRET_CODE_MIN_LENGTH } from './secret-policy.js';
export { openOutboxText, OTP_LIFETIME_MS, OTP_MAX_ATTEMPTS, type OtpOutboxPayload } from './otp.js';
export { FAILURES_PER_ADDRESS, FAILURES_PER_INS, FAILURE_WINDOW_MS, addressKey } from './rate-limit.js';
export { PATIENT_SESSION_IDLE_MS, PATIENT_SESSION_MAX_MS, requirePatient, type PatientSession } from './session.js';
export { totpCodeFromUri } from './totp.js';
export { PORTAL_ACTIONS, patientChain, readableTraces, type ReadableTrace } from './traces.js';

/** Expired one-time passwords and old rate-limit slots are dropped this often (every node may do it). */
const PORTAL_PURGE_INTERVAL_MS = 5 * 60_000;

export async function portalRoutes(app: FastifyInstance): Promise<void> {
  app.decorateRequest('patientSession', null);
  await app.register(portalAccessRoutes);
  await app.register(portalDocumentRoutes);
  await app.register(portalRightsRoutes);

  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    timer = setInterval(() => {
      const now = app.dmp.clock().getTime();
      app.dmp.store.portal
        .purgePortal(now, now - FAILURE_WINDOW_MS)
        .catch((error: unknown) => app.log.warn({ err: error }, 'purge des codes à usage unique et compteurs impossible'));
    }, PORTAL_PURGE_INTERVAL_MS);
    timer.unref();
  });
  app.addHook('onClose', async () => {
    if (timer) clearInterval(timer);
  });
}
