// Patient portal access (dmp-service.md "Patient portal"): activation with the one-time code,
// login with INS + secret code + a one-time password sent through the outbox, TOTP, failed
// attempts limited per INS and per address, patient sessions (Bearer, 15 minutes idle). Same suite
// on SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSecretHash } from '../../../src/dmp/portal/index.js';
import { insBucket } from '../../../src/dmp/portal/rate-limit.js';
import { patientSessionTokenHash } from '../../../src/dmp/portal/session.js';
import { traceEntryOf } from '../../../src/dmp/store/index.js';
import { dmpStoreKinds, loginAs, openDmpTestPki, TestClock, type DmpTestPki, type TestDmpService } from '../../support/dmp/index.js';
import {
  activate,
  createPatient,
  expectPortalProblem,
  lastOtpFromOutbox,
  loginWithOtp,
  newTestNir,
  PatientClient,
  SECRET_CODE,
  startPortalService,
  totpCodeFromUri,
  type TestPatient,
} from './portal-support.js';

const STORES = await dmpStoreKinds();

let pki: DmpTestPki;
beforeAll(async () => {
  pki = await openDmpTestPki();
});

describe.each(STORES)('patient portal access on %s', (kind) => {
  let service: TestDmpService;
  let client: PatientClient;
  const clock = new TestClock();
  const logLines: string[] = [];

  beforeAll(async () => {
    service = await startPortalService(pki, kind, clock, logLines);
    client = new PatientClient(service.url);
  });
  afterAll(async () => {
    await service?.close();
  });

  /** Failure windows are 15 minutes: move past them so that one test's failures do not count in the next. */
  function forgetFailures(): void {
    clock.advanceMinutes(16);
  }

  async function chainActions(patient: TestPatient): Promise<{ action: string; result: string; mode: string; actor: string }[]> {
    const rows = await service.store.listTraces(`patient:${patient.insPath}`);
    return rows.map((row) => {
      const entry = traceEntryOf(row);
      return { action: entry.action, result: entry.result, mode: entry.mode, actor: entry.actor.kind };
    });
  }

  describe('activation', () => {
    it('refuses a wrong code (traced as refused), accepts the right one once, then the code is burnt', async () => {
      forgetFailures();
      const patient = await createPatient(service, { now: clock.now().getTime() });
      const contact = { kind: 'sms' as const, value: '06 12 34 56 78' };
      const wrong = await client.call('POST', '/v1/portal/activate', {
        body: { ins: patient.ins, activationCode: 'AAAA-BBBB-CCCC', secretCode: SECRET_CODE, contact },
      });
      expectPortalProblem(wrong, 401, 'ACTIVATION_INVALID');

      const ok = await client.call('POST', '/v1/portal/activate', {
        body: { ins: patient.ins, activationCode: patient.activationCode.toLowerCase().replace(/-/g, ' '), secretCode: SECRET_CODE, contact },
      });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.body).toEqual({ activated: true, contact: { kind: 'sms', hint: '+33•••••••78' } });

      const stored = await service.store.portal.getPatient(patient.id);
      expect(stored?.activationCodeHash).toBeNull();
      expect(stored?.activatedAt).toBe(clock.now().getTime());
      expect(stored?.portalContact).toBe('+33612345678');
      expect(isSecretHash(stored?.portalSecretHash ?? '')).toBe(true);
      expect(stored?.portalSecretHash).not.toContain(SECRET_CODE);

      const again = await client.call('POST', '/v1/portal/activate', {
        body: { ins: patient.ins, activationCode: patient.activationCode, secretCode: 'Autre-Code-99', contact },
      });
      expectPortalProblem(again, 401, 'ACTIVATION_INVALID');
      // the secret code chosen first still opens the portal, the second one does not
      const login = await client.call('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode: 'Autre-Code-99' } });
      expectPortalProblem(login, 401, 'PORTAL_CREDENTIALS_INVALID');
      expect((await chainActions(patient)).slice(0, 2)).toEqual([
        { action: 'activate', result: 'refused', mode: 'portal', actor: 'patient' },
        { action: 'activate', result: 'ok', mode: 'portal', actor: 'patient' },
      ]);
    });

    it('refuses an expired code (only once the code itself is right) and an INS without a DMP', async () => {
      forgetFailures();
      const now = clock.now().getTime();
      const patient = await createPatient(service, { now: now - 40 * 86_400_000, activationExpiresAt: now - 1 });
      const contact = { kind: 'email' as const, value: 'a@exemple.fr' };
      const expired = await client.call('POST', '/v1/portal/activate', { body: { ins: patient.ins, activationCode: patient.activationCode, secretCode: SECRET_CODE, contact } });
      expectPortalProblem(expired, 401, 'ACTIVATION_EXPIRED');
      const wrongAndExpired = await client.call('POST', '/v1/portal/activate', {
        body: { ins: patient.ins, activationCode: 'ZZZZ-ZZZZ-ZZZZ', secretCode: SECRET_CODE, contact },
      });
      expectPortalProblem(wrongAndExpired, 401, 'ACTIVATION_INVALID');
      expect((await service.store.portal.getPatient(patient.id))?.portalSecretHash).toBeNull();

      const nobody = await client.call('POST', '/v1/portal/activate', {
        body: { ins: { oid: patient.ins.oid, value: newTestNir() }, activationCode: patient.activationCode, secretCode: SECRET_CODE, contact },
      });
      expectPortalProblem(nobody, 401, 'ACTIVATION_INVALID');
    });

    it('refuses weak secret codes and invalid contacts without using the activation code', async () => {
      forgetFailures();
      const patient = await createPatient(service, { now: clock.now().getTime() });
      const contact = { kind: 'sms' as const, value: '+33612345678' };
      for (const weak of ['Ab1!xyz', '11111111', '12345678', 'hgfedcba', 'abcabcab', 'motdepasse', `x${patient.ins.value.slice(2, 12)}`]) {
        const response = await client.call('POST', '/v1/portal/activate', { body: { ins: patient.ins, activationCode: patient.activationCode, secretCode: weak, contact } });
        expectPortalProblem(response, 400, 'SECRET_CODE_WEAK');
        expect((response.body as { reasons: string[] }).reasons.length, weak).toBeGreaterThan(0);
      }
      for (const bad of [
        { kind: 'sms', value: '12' },
        { kind: 'sms', value: 'not a number' },
        { kind: 'email', value: 'no-at-sign' },
        { kind: 'email', value: 'a@b' },
        { kind: 'email', value: 'x y@exemple.fr' },
      ]) {
        const response = await client.call('POST', '/v1/portal/activate', { body: { ins: patient.ins, activationCode: patient.activationCode, secretCode: SECRET_CODE, contact: bad } });
        expectPortalProblem(response, 400, 'CONTACT_INVALID');
      }
      expect((await service.store.portal.getPatient(patient.id))?.activationCodeHash).not.toBeNull();
      await activate(client, patient, contact);
    });
  });

  describe('login', () => {
    it('sends a one-time password through the outbox (sealed, stored hashed) and opens a session with it', async () => {
      forgetFailures();
      const patient = await createPatient(service, { now: clock.now().getTime() });
      await activate(client, patient, { kind: 'sms', value: '+33611223344' });
      const step1 = await client.call<{ otpRequestId: string; expiresAt: string; channel: string; contactHint: string }>('POST', '/v1/portal/login', {
        body: { ins: patient.ins, secretCode: SECRET_CODE },
      });
      expect(step1.status, JSON.stringify(step1.body)).toBe(200);
      expect(step1.body.channel).toBe('sms');
      expect(step1.body.contactHint).toBe('+33•••••••44');
      expect(Date.parse(step1.body.expiresAt) - clock.now().getTime()).toBe(5 * 60_000);

      const [message] = await service.store.portal.listOutbox('+33611223344');
      expect(message?.kind).toBe('sms');
      const { code, otpRequestId } = await lastOtpFromOutbox(service, '+33611223344');
      expect(otpRequestId).toBe(step1.body.otpRequestId);
      expect(message?.payload).not.toContain(code);
      const otp = await service.store.portal.getOtp(otpRequestId);
      expect(otp?.codeHash).not.toContain(code);
      expect(otp?.usedAt).toBeNull();

      const step2 = await client.call<{ sessionToken: string; expiresAt: string }>('POST', '/v1/portal/login/verify', { body: { otpRequestId, otp: code } });
      expect(step2.status, JSON.stringify(step2.body)).toBe(200);
      expect(step2.body.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Date.parse(step2.body.expiresAt) - clock.now().getTime()).toBe(15 * 60_000);
      const session = await service.store.getSession(patientSessionTokenHash(step2.body.sessionToken));
      expect(session).toMatchObject({ kind: 'patient', patientId: patient.id, keyThumbprint: null });

      const me = await client.call('GET', '/v1/portal/me', { token: step2.body.sessionToken });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ ins: patient.ins, status: 'active', contact: { kind: 'sms' }, totp: 'none' });
      expect((await chainActions(patient)).at(-1)).toEqual({ action: 'login', result: 'ok', mode: 'portal', actor: 'patient' });
    });

    it('answers the same for a wrong secret code and an INS without a DMP, and sends nothing', async () => {
      forgetFailures();
      const patient = await createPatient(service, { now: clock.now().getTime() });
      await activate(client, patient, { kind: 'email', value: 'wrong.secret@exemple.fr' });
      const wrong = await client.call('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode: 'Pas-le-bon-7' } });
      expectPortalProblem(wrong, 401, 'PORTAL_CREDENTIALS_INVALID');
      const unknown = await client.call('POST', '/v1/portal/login', { body: { ins: { oid: patient.ins.oid, value: newTestNir() }, secretCode: SECRET_CODE } });
      expectPortalProblem(unknown, 401, 'PORTAL_CREDENTIALS_INVALID');
      const notActivated = await createPatient(service, { now: clock.now().getTime() });
      const none = await client.call('POST', '/v1/portal/login', { body: { ins: notActivated.ins, secretCode: SECRET_CODE } });
      expectPortalProblem(none, 401, 'PORTAL_CREDENTIALS_INVALID');
      expect(await service.store.portal.listOutbox('wrong.secret@exemple.fr')).toEqual([]);
      expect((await chainActions(patient)).at(-1)).toEqual({ action: 'login', result: 'refused', mode: 'portal', actor: 'patient' });
    });

    it('accepts a one-time password once, never after 5 minutes, never after 3 wrong tries, and only the latest one', async () => {
      forgetFailures();
      const patient = await createPatient(service, { now: clock.now().getTime() });
      const email = 'otp.rules@exemple.fr';
      await activate(client, patient, { kind: 'email', value: email });

      // reuse
      await client.call('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode: SECRET_CODE } });
      const first = await lastOtpFromOutbox(service, email);
      expect((await client.call('POST', '/v1/portal/login/verify', { body: { otpRequestId: first.otpRequestId, otp: first.code } })).status).toBe(200);
      const replay = await client.call('POST', '/v1/portal/login/verify', { body: { otpRequestId: first.otpRequestId, otp: first.code } });
      expectPortalProblem(replay, 401, 'OTP_INVALID');

      // expiry
      await client.call('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode: SECRET_CODE } });
      const late = await lastOtpFromOutbox(service, email);
      clock.advanceMinutes(5);
      expectPortalProblem((await client.call('POST', '/v1/portal/login/verify', { body: { otpRequestId: late.otpRequestId, otp: late.code } })), 401, 'OTP_INVALID');

      // three wrong tries burn it
      forgetFailures();
      await client.call('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode: SECRET_CODE } });
      const guessed = await lastOtpFromOutbox(service, email);
      const wrongCode = guessed.code === '000000' ? '111111' : '000000';
      for (let i = 0; i < 3; i++) {
        expectPortalProblem((await client.call('POST', '/v1/portal/login/verify', { body: { otpRequestId: guessed.otpRequestId, otp: wrongCode } })), 401, 'OTP_INVALID');
      }
      expectPortalProblem((await client.call('POST', '/v1/portal/login/verify', { body: { otpRequestId: guessed.otpRequestId, otp: guessed.code } })), 401, 'OTP_INVALID');

      // a new login burns the previous code
      forgetFailures();
      await client.call('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode: SECRET_CODE } });
      const older = await lastOtpFromOutbox(service, email);
      await client.call('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode: SECRET_CODE } });
      const newer = await lastOtpFromOutbox(service, email);
      expectPortalProblem((await client.call('POST', '/v1/portal/login/verify', { body: { otpRequestId: older.otpRequestId, otp: older.code } })), 401, 'OTP_INVALID');
      expect((await client.call('POST', '/v1/portal/login/verify', { body: { otpRequestId: newer.otpRequestId, otp: newer.code } })).status).toBe(200);

      const malformed = await client.call('POST', '/v1/portal/login/verify', { body: { otpRequestId: newer.otpRequestId } });
      expectPortalProblem(malformed, 400, 'REQUEST_INVALID');
    });

    it('opens one session only when the same one-time password is sent several times at once', async () => {
      forgetFailures();
      const patient = await createPatient(service, { now: clock.now().getTime() });
      const email = 'otp.race@exemple.fr';
      await activate(client, patient, { kind: 'email', value: email });
      await client.call('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode: SECRET_CODE } });
      const { otpRequestId, code } = await lastOtpFromOutbox(service, email);
      const answers = await Promise.all(Array.from({ length: 4 }, () => client.call('POST', '/v1/portal/login/verify', { body: { otpRequestId, otp: code } })));
      expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401, 401]);
      expect((await chainActions(patient)).filter((e) => e.action === 'login' && e.result === 'ok')).toHaveLength(1);
    });

    it('accepts TOTP once enrolled and confirmed, each code once, and only with the right secret code', async () => {
      forgetFailures();
      const patient = await createPatient(service, { now: clock.now().getTime() });
      const email = 'totp@exemple.fr';
      await activate(client, patient, { kind: 'email', value: email });
      const token = await loginWithOtp(service, client, patient, email);

      const enroll = await client.call<{ otpauthUri: string; secret: string; confirmed: boolean }>('POST', '/v1/portal/totp/enroll', { token });
      expect(enroll.status, JSON.stringify(enroll.body)).toBe(200);
      expect(enroll.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/.+secret=[A-Z2-7]+/);
      const stored = await service.store.portal.getPatient(patient.id);
      expect(Buffer.from(stored?.portalTotpSecret ?? []).toString('utf8')).not.toContain(enroll.body.secret);

      const totpLogin = (code: string, secretCode = SECRET_CODE) =>
        client.call<{ sessionToken: string }>('POST', '/v1/portal/login/verify', { body: { ins: patient.ins, secretCode, totp: code } });
      // pending: not accepted for login yet
      expectPortalProblem((await totpLogin(totpCodeFromUri(enroll.body.otpauthUri, clock.now().getTime()))), 401, 'PORTAL_CREDENTIALS_INVALID');
      expect((await client.call<{ totp: string }>('GET', '/v1/portal/me', { token })).body.totp).toBe('pending');

      clock.advance(30_000);
      const current = totpCodeFromUri(enroll.body.otpauthUri, clock.now().getTime());
      const wrongConfirm = await client.call('POST', '/v1/portal/totp/confirm', { token, body: { totp: current === '000000' ? '111111' : '000000' } });
      expectPortalProblem(wrongConfirm, 401, 'OTP_INVALID');
      const confirm = await client.call('POST', '/v1/portal/totp/confirm', { token, body: { totp: current } });
      expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
      expect((await client.call<{ totp: string }>('GET', '/v1/portal/me', { token })).body.totp).toBe('active');

      clock.advance(30_000);
      const code = totpCodeFromUri(enroll.body.otpauthUri, clock.now().getTime());
      expectPortalProblem((await totpLogin(code, 'Pas-le-bon-7')), 401, 'PORTAL_CREDENTIALS_INVALID');
      const ok = await totpLogin(code);
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect((await client.call('GET', '/v1/portal/me', { token: ok.body.sessionToken })).status).toBe(200);
      expectPortalProblem((await totpLogin(code)), 401, 'PORTAL_CREDENTIALS_INVALID');
      clock.advance(30_000);
      expect((await totpLogin(totpCodeFromUri(enroll.body.otpauthUri, clock.now().getTime()))).status).toBe(200);
    });
  });

  describe('failed attempts', () => {
    it('refuses an INS after 5 failures with 429 and Retry-After, even with the right code; the window then passes', async () => {
      forgetFailures();
      const patient = await createPatient(service, { now: clock.now().getTime() });
      const email = 'limited@exemple.fr';
      await activate(client, patient, { kind: 'email', value: email });
      for (let i = 0; i < 4; i++) {
        expectPortalProblem((await client.call('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode: `Mauvais-${i}-xyz` } })), 401, 'PORTAL_CREDENTIALS_INVALID');
        clock.advanceMinutes(1);
      }
      // a wrong one-time password counts for the same INS
      const step1 = await client.call<{ otpRequestId: string }>('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode: SECRET_CODE } });
      const { code } = await lastOtpFromOutbox(service, email);
      expectPortalProblem(
        (await client.call('POST', '/v1/portal/login/verify', { body: { otpRequestId: step1.body.otpRequestId, otp: code === '123456' ? '654321' : '123456' } })),
        401,
        'OTP_INVALID',
      );

      const refused = await client.call('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode: SECRET_CODE } });
      expectPortalProblem(refused, 429, 'TOO_MANY_ATTEMPTS');
      const retryAfter = Number(refused.headers.get('retry-after'));
      // the first failure (4 minutes ago) leaves the 15-minute window in 11 minutes
      expect(retryAfter).toBeGreaterThan(10 * 60);
      expect(retryAfter).toBeLessThanOrEqual(11 * 60);
      expect(refused.body).toMatchObject({ retryAfter });
      // the right one-time password is refused too while the INS is limited
      expectPortalProblem((await client.call('POST', '/v1/portal/login/verify', { body: { otpRequestId: step1.body.otpRequestId, otp: code } })), 429, 'TOO_MANY_ATTEMPTS');
      // and another patient is not affected
      const other = await createPatient(service, { now: clock.now().getTime() });
      await activate(client, other, { kind: 'email', value: 'not.limited@exemple.fr' });
      expect((await client.call('POST', '/v1/portal/login', { body: { ins: other.ins, secretCode: SECRET_CODE } })).status).toBe(200);

      clock.advance(retryAfter * 1000);
      expect((await client.call('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode: SECRET_CODE } })).status).toBe(200);
    });

    it('limits activation attempts per INS the same way', async () => {
      forgetFailures();
      const patient = await createPatient(service, { now: clock.now().getTime() });
      const contact = { kind: 'email', value: 'activation.limited@exemple.fr' };
      for (let i = 0; i < 5; i++) {
        const response = await client.call('POST', '/v1/portal/activate', { body: { ins: patient.ins, activationCode: `AAAA-AAAA-AAA${'23456'[i]}`, secretCode: SECRET_CODE, contact } });
        expectPortalProblem(response, 401, 'ACTIVATION_INVALID');
      }
      const refused = await client.call('POST', '/v1/portal/activate', { body: { ins: patient.ins, activationCode: patient.activationCode, secretCode: SECRET_CODE, contact } });
      expectPortalProblem(refused, 429, 'TOO_MANY_ATTEMPTS');
      expect((await service.store.portal.getPatient(patient.id))?.activationCodeHash).not.toBeNull();
    });

    it('refuses a client address after 20 failures across INS, even with the right code; other addresses go on', async () => {
      forgetFailures();
      const patient = await createPatient(service, { now: clock.now().getTime() });
      await activate(client, patient, { kind: 'email', value: 'address.limited@exemple.fr' });
      const body = { ins: patient.ins, secretCode: SECRET_CODE };
      for (let i = 0; i < 20; i++) {
        const response = await client.call('POST', '/v1/portal/login', { body: { ins: { oid: patient.ins.oid, value: newTestNir() }, secretCode: 'Devine-moi-1' } });
        expectPortalProblem(response, 401, 'PORTAL_CREDENTIALS_INVALID');
      }
      const refused = await client.call('POST', '/v1/portal/login', { body });
      expectPortalProblem(refused, 429, 'TOO_MANY_ATTEMPTS');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

      const elsewhere = await service.app.inject({ method: 'POST', url: '/v1/portal/login', payload: body, remoteAddress: '203.0.113.9' });
      expect(elsewhere.statusCode, elsewhere.body).toBe(200);
    });

    it('lets at most 5 of 12 concurrent wrong attempts on one INS reach the secret code check', async () => {
      // reservations are taken before the check: a check-then-count limiter lets all 12 through
      forgetFailures();
      const patient = await createPatient(service, { now: clock.now().getTime() });
      await activate(client, patient, { kind: 'email', value: 'concurrent@exemple.fr' });
      const responses = await Promise.all(
        Array.from({ length: 12 }, (_, i) => client.call('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode: `Concurrent-${i}-x` } })),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
      expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
      // and the INS stays limited afterwards only by what was really tried
      const tried = statuses.filter((s) => s === 401).length;
      const slots = await service.store.portal.rateLimitSlots(insBucket('login', patient.insPath), clock.now().getTime() - 15 * 60_000);
      expect(slots.reduce((sum, slot) => sum + slot.count, 0)).toBe(tried);
    });
  });

  it('never logs an activation code, a secret code, a one-time password, a TOTP seed or a session token', async () => {
    forgetFailures();
    const patient = await createPatient(service, { now: clock.now().getTime() });
    const email = 'logs@exemple.fr';
    await activate(client, patient, { kind: 'email', value: email });
    await client.call('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode: 'Mauvais-code-1' } });
    await client.call('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode: SECRET_CODE } });
    const { otpRequestId, code } = await lastOtpFromOutbox(service, email);
    const session = await client.call<{ sessionToken: string }>('POST', '/v1/portal/login/verify', { body: { otpRequestId, otp: code } });
    const enroll = await client.call<{ secret: string }>('POST', '/v1/portal/totp/enroll', { token: session.body.sessionToken });
    await client.call('GET', '/v1/portal/me', { token: session.body.sessionToken });
    const logs = logLines.join('\n');
    expect(logs).toContain('/v1/portal/login/verify');
    for (const secret of [patient.activationCode, SECRET_CODE, 'Mauvais-code-1', code, session.body.sessionToken, enroll.body.secret]) {
      expect(logs, secret).not.toContain(secret);
    }
  });

  describe('patient sessions', () => {
    it('end after 15 minutes without a request, stay alive with activity, and end at 2 hours in any case', async () => {
      forgetFailures();
      const patient = await createPatient(service, { now: clock.now().getTime() });
      const email = 'session@exemple.fr';
      await activate(client, patient, { kind: 'email', value: email });

      const idle = await loginWithOtp(service, client, patient, email);
      clock.advanceMinutes(15);
      clock.advance(1000);
      expectPortalProblem((await client.call('GET', '/v1/portal/me', { token: idle })), 401, 'SESSION_EXPIRED');
      expectPortalProblem((await client.call('GET', '/v1/portal/me', { token: idle })), 401, 'SESSION_INVALID');

      const active = await loginWithOtp(service, client, patient, email);
      for (let i = 0; i < 8; i++) {
        clock.advanceMinutes(14);
        expect((await client.call('GET', '/v1/portal/me', { token: active })).status).toBe(200);
      }
      clock.advanceMinutes(14);
      expectPortalProblem((await client.call('GET', '/v1/portal/me', { token: active })), 401, 'SESSION_EXPIRED');
    });

    it('end at logout (traced), and need Authorization: Bearer with a patient session', async () => {
      forgetFailures();
      const patient = await createPatient(service, { now: clock.now().getTime() });
      const email = 'logout@exemple.fr';
      await activate(client, patient, { kind: 'email', value: email });
      const token = await loginWithOtp(service, client, patient, email);

      expectPortalProblem((await client.call('GET', '/v1/portal/me')), 401, 'PATIENT_SESSION_REQUIRED');
      expectPortalProblem((await client.call('GET', '/v1/portal/me', { headers: { Authorization: `DPoP ${token}` } })), 401, 'PATIENT_SESSION_REQUIRED');
      expectPortalProblem((await client.call('GET', '/v1/portal/me', { token: 'x'.repeat(43) })), 401, 'SESSION_INVALID');
      // a practitioner's session token is no patient session
      const practitioner = await loginAs(service, pki, 'cps:medecin', { client: await service.client() });
      expectPortalProblem((await client.call('GET', '/v1/portal/me', { token: practitioner.sessionToken })), 401, 'SESSION_INVALID');
      const withChallenge = await client.call('GET', '/v1/portal/me');
      expect(withChallenge.headers.get('www-authenticate')).toMatch(/^Bearer /);

      const logout = await client.call('POST', '/v1/portal/logout', { token });
      expect(logout.status).toBe(204);
      expectPortalProblem((await client.call('GET', '/v1/portal/me', { token })), 401, 'SESSION_INVALID');
      expect((await chainActions(patient)).at(-1)).toEqual({ action: 'logout', result: 'ok', mode: 'portal', actor: 'patient' });
    });
  });
});
