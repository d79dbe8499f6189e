// Practitioner login (dmp-service.md step 3): the challenge, a successful CPS login, and every
// refusal with its code, in the contract's order; establishment mode. Same suite on SQLite and
// PostgreSQL.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { establishmentChainId, requirePractitioner, requireSession } from '../../../src/dmp/auth/index.js';
import { verifyStoredTraces } from '../../../src/dmp/store/index.js';
import type { PractitionerCredentials } from '../../../src/pki/test-pki.js';
import {
  attemptLogin,
  dmpStoreKinds,
  expectProblem,
  freshTempDir,
  loginAs,
  makeToken,
  openDmpTestPki,
  requestChallenge,
  startTestDmpService,
  TEST_ORIGIN,
  type DmpTestPki,
  type TestDmpService,
} from '../../support/dmp/index.js';

const STORES = await dmpStoreKinds();

let pki: DmpTestPki;
let medecin: PractitionerCredentials;
let infirmier: PractitionerCredentials;

beforeAll(async () => {
  pki = await openDmpTestPki();
  medecin = await pki.persona('cps:medecin');
  infirmier = await pki.persona('cps:infirmier');
});

function testRoutes(app: FastifyInstance): void {
  app.get('/v1/test/read', { preHandler: requirePractitioner }, async (request) => ({
    nationalId: request.practitioner?.nationalId ?? null,
  }));
  app.post('/v1/test/send', { preHandler: requireSession }, async (request) => ({
    establishment: request.dmpSession?.establishment ?? null,
    user: request.dmpSession?.user ?? null,
  }));
}

describe.each(STORES)('DMP login on %s', (kind) => {
  let service: TestDmpService;

  beforeAll(async () => {
    service = await startTestDmpService(pki, { store: kind, beforeListen: testRoutes });
  });
  afterAll(async () => {
    await service?.close();
  });

  describe('challenge', () => {
    it('is 32 random bytes in padded base64 (44 characters), 5 minutes, bound to the proof key and stored', async () => {
      const client = await service.client();
      const before = Date.now();
      const first = await client.call<{ challenge: string; expiresAt: string }>('POST', '/v1/auth/challenge');
      const second = await client.call<{ challenge: string; expiresAt: string }>('POST', '/v1/auth/challenge');
      expect(first.status).toBe(200);
      const { challenge, expiresAt } = first.body;
      expect(challenge).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(challenge, 'base64')).toHaveLength(32);
      expect(second.body.challenge).not.toBe(challenge);
      expect(expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const lifetime = Date.parse(expiresAt) - before;
      expect(lifetime).toBeGreaterThan(5 * 60_000 - 5_000);
      expect(lifetime).toBeLessThanOrEqual(5 * 60_000 + 5_000);
      // stored, bound to this key: the live one is the latest, and only this key can redeem it
      const other = await service.client();
      expect(await service.store.consumeChallenge(other.thumbprint, Date.now())).toBeNull();
      const live = await service.store.consumeChallenge(client.thumbprint, Date.now());
      expect(live?.challenge).toBe(second.body.challenge);
    });

    it('needs a DPoP proof', async () => {
      const client = await service.client();
      const response = await client.call('POST', '/v1/auth/challenge', { proof: null });
      expectProblem(response, 401, 'DPOP_REQUIRED');
      expect(response.headers.get('www-authenticate')).toMatch(/^DPoP /);
    });
  });

  describe('successful login', () => {
    it('logs cps:medecin in: session token, idle expiry, practitioner from the certificate, stored and traced', async () => {
      const before = Date.now();
      const { client, sessionToken, body } = await loginAs(service, pki, 'cps:medecin');
      expect(sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Date.parse(String(body.expiresAt)) - before).toBeGreaterThan(29 * 60_000);
      expect(Date.parse(String(body.expiresAt)) - before).toBeLessThanOrEqual(30 * 60_000 + 5_000);
      expect(body.practitioner).toEqual({
        nationalId: '899900000101',
        idType: 'RPPS',
        surname: 'MARTIN',
        givenName: 'SOPHIE',
        professionCode: '10',
        professionLabel: 'Médecin',
        specialtyCode: 'SM54',
        structureId: '499900001000001',
        structureName: 'CABINET DU DR MARTIN',
      });
      const session = await client.call<Record<string, unknown>>('GET', '/v1/auth/session', { sessionToken });
      expect(session.status).toBe(200);
      expect(session.body).toMatchObject({ mode: 'practitioner', establishment: false, practitioner: { nationalId: '899900000101' } });
      const read = await client.call('GET', '/v1/test/read', { sessionToken });
      expect(read.body).toEqual({ nationalId: '899900000101' });

      const stored = await service.store.getPractitioner('899900000101');
      expect(stored?.authCertificate).toEqual(medecin.authentication.certificateDer);
      // only the hash of the token is stored
      expect(JSON.stringify(await service.store.listTraces('practitioner:899900000101'))).not.toContain(sessionToken);
      const traces = await service.store.listTraces('practitioner:899900000101');
      expect(traces.at(-1)).toMatchObject({ action: 'login', result: 'ok', actorId: '899900000101', seq: traces.length });
      expect(JSON.parse(traces.at(-1)?.entry ?? '{}')).toMatchObject({
        chain: 'practitioner:899900000101',
        actor: { kind: 'practitioner', id: '899900000101', role: '10' },
        action: 'login',
        result: 'ok',
      });
      expect(await verifyStoredTraces(service.store)).toMatchObject({ ok: true });
    });

    it('falls back on the certificate title when the profession extension is absent', async () => {
      const credentials = await pki.practitioner(
        'dmp-title-only',
        {
          rpps: '99900000150',
          surname: 'TITRE',
          givenName: 'SEUL',
          professionCode: '60',
          professionLabel: 'Infirmière',
          structureId: '499900001000050',
          structureName: 'CABINET TITRE',
        },
        { includeProfessionExtension: false },
      );
      const response = await attemptLogin(await service.client(), { certificate: credentials.authentication });
      expect(response.status).toBe(200);
      expect(response.body.practitioner).toMatchObject({ professionCode: '60', professionLabel: 'Infirmière', specialtyCode: null });
    });
  });

  describe('refusals, each with its code', () => {
    it('TOKEN_MALFORMED for every format or size fault, checked before the challenge (which stays usable)', async () => {
      const client = await service.client();
      const challenge = await requestChallenge(client);
      const good = makeToken({ certificate: medecin.authentication }, challenge);
      const bad: [string, unknown][] = [
        ['other format', { ...good, format: 'cardbridge-auth:2' }],
        ['other algorithm', { ...good, algorithm: 'ES256' }],
        ['origin with a path', { ...good, origin: `${TEST_ORIGIN}/` }],
        ['origin not an origin', { ...good, origin: "' OR 1=1 --" }],
        ['certificate not base64', { ...good, unverifiedCertificate: '***' }],
        ['certificate base64 without padding', { ...good, unverifiedCertificate: Buffer.alloc(100, 0x30).toString('base64').replace(/=+$/, '') }],
        ['certificate in base64url', { ...good, unverifiedCertificate: Buffer.alloc(99, 0xff).toString('base64url') }],
        ['certificate too large', { ...good, unverifiedCertificate: Buffer.alloc(17 * 1024, 1).toString('base64') }],
        ['signature too short', { ...good, signature: Buffer.alloc(16, 1).toString('base64') }],
        ['signature too long', { ...good, signature: Buffer.alloc(2048, 1).toString('base64') }],
        ['signature missing', { ...good, signature: undefined }],
        ['token as a string', JSON.stringify(good)],
        ['token an array', [good]],
      ];
      for (const [what, token] of bad) {
        const response = await client.call('POST', '/v1/auth/login', { body: { token } });
        expect(response.body, what).toMatchObject({ code: 'TOKEN_MALFORMED' });
        expectProblem(response, 400, 'TOKEN_MALFORMED');
      }
      expectProblem(await client.call('POST', '/v1/auth/login', { body: {} }), 400, 'TOKEN_MALFORMED');
      // none of them burnt the challenge: the format check comes first
      const ok = await client.call('POST', '/v1/auth/login', { body: { token: good } });
      expect(ok.status).toBe(200);
    });

    it('CHALLENGE_INVALID for a replayed challenge', async () => {
      const client = await service.client();
      const challenge = await requestChallenge(client);
      const first = await attemptLogin(client, { certificate: medecin.authentication, challenge });
      expect(first.status).toBe(200);
      const replay = await attemptLogin(client, { certificate: medecin.authentication, challenge });
      expectProblem(replay, 401, 'CHALLENGE_INVALID');
    });

    it('CHALLENGE_INVALID for a challenge redeemed with another DPoP key (which leaves it to its key)', async () => {
      const owner = await service.client();
      const thief = await service.client();
      const challenge = await requestChallenge(owner);
      expectProblem(await attemptLogin(thief, { certificate: medecin.authentication, challenge }), 401, 'CHALLENGE_INVALID');
      expect((await attemptLogin(owner, { certificate: medecin.authentication, challenge })).status).toBe(200);
    });

    it('CHALLENGE_INVALID for a challenge never issued, and a newer challenge replaces the older', async () => {
      const client = await service.client();
      const older = await requestChallenge(client);
      await requestChallenge(client);
      // signed over the older challenge: the live one is the newer, so the signature cannot match
      expectProblem(await attemptLogin(client, { certificate: medecin.authentication, challenge: older }), 401, 'SIGNATURE_INVALID');
      const fresh = await service.client();
      const invented = Buffer.alloc(32, 7).toString('base64');
      expectProblem(await attemptLogin(fresh, { certificate: medecin.authentication, challenge: invented }), 401, 'CHALLENGE_INVALID');
    });

    it('ORIGIN_NOT_ALLOWED for a token made for another origin, after the challenge is burnt', async () => {
      const client = await service.client();
      const challenge = await requestChallenge(client);
      expectProblem(
        await attemptLogin(client, { certificate: medecin.authentication, challenge, origin: 'https://evil.example' }),
        401,
        'ORIGIN_NOT_ALLOWED',
      );
      expectProblem(await attemptLogin(client, { certificate: medecin.authentication, challenge }), 401, 'CHALLENGE_INVALID');
      // origin before certificate: a revoked card with a foreign origin is refused for its origin
      const revoked = await pki.persona('cps:revoked');
      expectProblem(
        await attemptLogin(await service.client(), { certificate: revoked.authentication, origin: 'app:autre-logiciel' }),
        401,
        'ORIGIN_NOT_ALLOWED',
      );
    });

    it('SIGNATURE_INVALID for a token whose origin differs from the signed one', async () => {
      expectProblem(
        await attemptLogin(await service.client(), { certificate: medecin.authentication, signedOrigin: 'https://evil.example' }),
        401,
        'SIGNATURE_INVALID',
      );
    });

    it('SIGNATURE_INVALID for a token signed by another card (medecin certificate, infirmier key)', async () => {
      expectProblem(
        await attemptLogin(await service.client(), { certificate: medecin.authentication, signer: infirmier.authentication }),
        401,
        'SIGNATURE_INVALID',
      );
      // the signature key instead of the authentication key of the same card
      expectProblem(
        await attemptLogin(await service.client(), { certificate: medecin.authentication, signer: medecin.signature }),
        401,
        'SIGNATURE_INVALID',
      );
    });

    it('CERTIFICATE_REVOKED for cps:revoked, before the signature is looked at', async () => {
      const revoked = await pki.persona('cps:revoked');
      expectProblem(await attemptLogin(await service.client(), { certificate: revoked.authentication }), 401, 'CERTIFICATE_REVOKED');
      expectProblem(
        await attemptLogin(await service.client(), { certificate: revoked.authentication, signer: infirmier.authentication }),
        401,
        'CERTIFICATE_REVOKED',
      );
    });

    it('CERTIFICATE_INVALID for cps:expired', async () => {
      const expired = await pki.persona('cps:expired');
      const response = await attemptLogin(await service.client(), { certificate: expired.authentication });
      expectProblem(response, 401, 'CERTIFICATE_INVALID');
    });

    it('CERTIFICATE_INVALID for a certificate from a self-made CA', async () => {
      const rogue = await openDmpTestPki(freshTempDir('cardbridge-dmp-rogue-'));
      const forged = await rogue.persona('cps:medecin'); // same names, same RPPS, other CA
      expectProblem(await attemptLogin(await service.client(), { certificate: forged.authentication }), 401, 'CERTIFICATE_INVALID');
    });

    it('CERTIFICATE_INVALID for the signature certificate or an establishment certificate used to log in', async () => {
      expectProblem(await attemptLogin(await service.client(), { certificate: medecin.signature }), 401, 'CERTIFICATE_INVALID');
      const server = await pki.pki.issueServer('dmp-etab-login', ['etab.cardbridge.test'], { clientAuth: true });
      expectProblem(await attemptLogin(await service.client(), { certificate: server }), 401, 'CERTIFICATE_INVALID');
    });

    it('PROFESSION_NOT_ALLOWED for an occupational physician (cps:medecin-travail), traced', async () => {
      const travail = await pki.persona('cps:medecin-travail');
      expectProblem(await attemptLogin(await service.client(), { certificate: travail.authentication }), 403, 'PROFESSION_NOT_ALLOWED');
      const traces = await service.store.listTraces('practitioner:899900000106');
      expect(traces.at(-1)).toMatchObject({ action: 'login', result: 'refused' });
      expect(JSON.parse(traces.at(-1)?.entry ?? '{}')).toMatchObject({ detail: { code: 'PROFESSION_NOT_ALLOWED' } });
      // the signature is checked first
      expectProblem(
        await attemptLogin(await service.client(), { certificate: travail.authentication, signer: medecin.authentication }),
        401,
        'SIGNATURE_INVALID',
      );
    });

    it('PROFESSION_NOT_ALLOWED for a declared occupational-health sector', async () => {
      const response = await attemptLogin(await service.client(), {
        certificate: medecin.authentication,
        activity: { structureId: '499900001000006', sector: 'SA33', role: 'FON-01' },
      });
      expectProblem(response, 403, 'PROFESSION_NOT_ALLOWED');
    });

    it('PROFESSION_UNKNOWN for a certificate without the profession extension and an unknown title', async () => {
      const credentials = await pki.practitioner(
        'dmp-unknown-title',
        {
          rpps: '99900000151',
          surname: 'INCONNU',
          givenName: 'TITRE',
          professionCode: '10',
          professionLabel: 'Guérisseur',
          structureId: '499900001000051',
          structureName: 'CABINET INCONNU',
        },
        { includeProfessionExtension: false },
      );
      expectProblem(await attemptLogin(await service.client(), { certificate: credentials.authentication }), 403, 'PROFESSION_UNKNOWN');
      // with the extension, the same title is no obstacle (the extension wins)
      const withExtension = await pki.practitioner('dmp-unknown-title-ext', {
        rpps: '99900000152',
        surname: 'INCONNU',
        givenName: 'EXTENSION',
        professionCode: '10',
        professionLabel: 'Guérisseur',
        structureId: '499900001000052',
        structureName: 'CABINET EXTENSION',
      });
      expect((await attemptLogin(await service.client(), { certificate: withExtension.authentication })).status).toBe(200);
    });
  });

  describe('establishment mode (indirect)', () => {
    it('logs an establishment in with its server certificate: session flagged, may send, never read', async () => {
      const server = await pki.pki.issueServer('dmp-etab', ['dpi.clinique.cardbridge.test'], {
        clientAuth: true,
        organisationName: 'CLINIQUE DE TEST',
        organisationId: '999900001',
      });
      const client = await service.client();
      const response = await attemptLogin(client, {
        certificate: server,
        path: '/v1/auth/login-establishment',
        user: { id: 'u-42', name: 'Dr Secrétaire' },
      });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        mode: 'establishment',
        establishment: { id: '999900001', name: 'CLINIQUE DE TEST' },
        user: { id: 'u-42', name: 'Dr Secrétaire' },
      });
      const sessionToken = String(response.body.sessionToken);
      const session = await client.call('GET', '/v1/auth/session', { sessionToken });
      expect(session.body).toMatchObject({ mode: 'establishment', establishment: true, practitioner: null });
      const send = await client.call('POST', '/v1/test/send', { sessionToken, body: {} });
      expect(send.body).toEqual({ establishment: true, user: { id: 'u-42', name: 'Dr Secrétaire' } });
      expectProblem(await client.call('GET', '/v1/test/read', { sessionToken }), 403, 'ESTABLISHMENT_READ_FORBIDDEN');
      const traces = await service.store.listTraces(establishmentChainId('999900001'));
      expect(traces.at(-1)).toMatchObject({ action: 'login', result: 'ok' });
    });

    it('refuses a CPS certificate, an establishment certificate without clientAuth, and a missing user', async () => {
      const viaCps = await attemptLogin(await service.client(), {
        certificate: medecin.authentication,
        path: '/v1/auth/login-establishment',
        user: { id: 'u', name: 'n' },
      });
      expectProblem(viaCps, 401, 'CERTIFICATE_INVALID');
      const tlsOnly = await pki.pki.issueServer('dmp-etab-tls-only', ['tls.clinique.cardbridge.test']);
      const viaTls = await attemptLogin(await service.client(), {
        certificate: tlsOnly,
        path: '/v1/auth/login-establishment',
        user: { id: 'u', name: 'n' },
      });
      expectProblem(viaTls, 401, 'CERTIFICATE_INVALID');
      const server = await pki.pki.issueServer('dmp-etab', ['dpi.clinique.cardbridge.test'], {
        clientAuth: true,
        organisationName: 'CLINIQUE DE TEST',
        organisationId: '999900001',
      });
      expectProblem(await attemptLogin(await service.client(), { certificate: server, path: '/v1/auth/login-establishment' }), 400, 'REQUEST_INVALID');
    });
  });
});

describe.each(STORES)('DMP login without a current CRL on %s', (kind) => {
  let service: TestDmpService;

  beforeAll(async () => {
    service = await startTestDmpService(pki, { store: kind, config: { crlFiles: [], crlDistributionPoints: false } });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('REVOCATION_UNKNOWN when no CRL of the issuer is available: refused, never passed', async () => {
    expectProblem(await attemptLogin(await service.client(), { certificate: medecin.authentication }), 401, 'REVOCATION_UNKNOWN');
  });
});
