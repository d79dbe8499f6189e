// DPoP proofs (RFC 9449) as the service checks them, and sessions: bound to the DPoP key, 30
// minutes idle (moved clock), logout. Same suite on SQLite and PostgreSQL.
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDmpApp } from '../../../src/dmp/app.js';
import {
  attemptLogin,
  dmpStoreKinds,
  expectProblem,
  loginAs,
  openDmpTestPki,
  requestChallenge,
  startTestDmpService,
  TestClock,
  type DmpTestPki,
  type TestDmpService,
} from '../../support/dmp/index.js';

const STORES = await dmpStoreKinds();

let pki: DmpTestPki;
beforeAll(async () => {
  pki = await openDmpTestPki();
  await pki.persona('cps:medecin');
});

describe.each(STORES)('DPoP proofs on %s', (kind) => {
  let service: TestDmpService;

  beforeAll(async () => {
    service = await startTestDmpService(pki, { store: kind });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('accepts a proof once: the same proof again is DPOP_REPLAYED', async () => {
    const client = await service.client();
    const proof = await client.proof('POST', '/v1/auth/challenge');
    expect((await client.call('POST', '/v1/auth/challenge', { proof })).status).toBe(200);
    expectProblem(await client.call('POST', '/v1/auth/challenge', { proof }), 401, 'DPOP_REPLAYED');
  });

  it('remembers jtis for every node: a proof used on one node is refused by another', async () => {
    const node2 = await buildDmpApp({
      db: service.db,
      allowedOrigins: [],
      trustAnchors: pki.trustAnchors,
      crlFiles: pki.crlFiles,
      crlDistributionPoints: false,
      publicUrl: service.url, // behind one load balancer, both nodes have the same public URL
      logger: false,
      purgeIntervalMs: 0,
    });
    try {
      await node2.listen({ host: '127.0.0.1', port: 0 });
      const address = node2.server.address();
      const node2Url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const client = await service.client();
      const proof = await client.proof('POST', '/v1/auth/challenge');
      expect((await client.call('POST', '/v1/auth/challenge', { proof })).status).toBe(200);
      const replay = await fetch(`${node2Url}/v1/auth/challenge`, { method: 'POST', headers: { DPoP: proof } });
      expect(replay.status).toBe(401);
      expect(((await replay.json()) as { code: string }).code).toBe('DPOP_REPLAYED');
      // a fresh proof is fine on node 2, and its challenge is redeemable on node 1 (shared store)
      const fresh = await fetch(`${node2Url}/v1/auth/challenge`, { method: 'POST', headers: { DPoP: await client.proof('POST', '/v1/auth/challenge') } });
      expect(fresh.status).toBe(200);
      const { challenge } = (await fresh.json()) as { challenge: string };
      const medecin = await pki.persona('cps:medecin');
      expect((await attemptLogin(client, { certificate: medecin.authentication, challenge })).status).toBe(200);
    } finally {
      await node2.close();
    }
  });

  it('DPOP_HTU_MISMATCH for a proof naming another URL, another host (Host header never used) or another path', async () => {
    const client = await service.client();
    const wrongPath = await client.call('POST', '/v1/auth/challenge', { htu: `${service.url}/v1/auth/login` });
    expectProblem(wrongPath, 401, 'DPOP_HTU_MISMATCH');
    const otherHost = await client.call('POST', '/v1/auth/challenge', { htu: service.url.replace('127.0.0.1', 'localhost') + '/v1/auth/challenge' });
    expectProblem(otherHost, 401, 'DPOP_HTU_MISMATCH');
    const httpsInstead = await client.call('POST', '/v1/auth/challenge', { htu: service.url.replace('http:', 'https:') + '/v1/auth/challenge' });
    expectProblem(httpsInstead, 401, 'DPOP_HTU_MISMATCH');
    // the query is not part of the comparison
    const withQuery = await client.call('POST', '/v1/auth/challenge?x=1', { htu: `${service.url}/v1/auth/challenge` });
    expect(withQuery.status).toBe(200);
  });

  it('DPOP_HTM_MISMATCH for a proof made for another method', async () => {
    const client = await service.client();
    expectProblem(await client.call('POST', '/v1/auth/challenge', { htm: 'GET' }), 401, 'DPOP_HTM_MISMATCH');
  });

  it('DPOP_STALE for iat more than 60 s away, either way; within the window is fine', async () => {
    const client = await service.client();
    const now = Math.floor(Date.now() / 1000);
    expectProblem(await client.call('POST', '/v1/auth/challenge', { iat: now - 120 }), 401, 'DPOP_STALE');
    expectProblem(await client.call('POST', '/v1/auth/challenge', { iat: now + 120 }), 401, 'DPOP_STALE');
    expect((await client.call('POST', '/v1/auth/challenge', { iat: now - 45 })).status).toBe(200);
    expect((await client.call('POST', '/v1/auth/challenge', { iat: now + 45 })).status).toBe(200);
  });

  it('DPOP_REQUIRED without a proof, on every authenticated step', async () => {
    const { client, sessionToken } = await loginAs(service, pki, 'cps:medecin');
    expectProblem(await client.call('POST', '/v1/auth/challenge', { proof: null }), 401, 'DPOP_REQUIRED');
    expectProblem(await client.call('POST', '/v1/auth/login', { proof: null, body: { token: {} } }), 401, 'DPOP_REQUIRED');
    expectProblem(await client.call('GET', '/v1/auth/session', { proof: null, sessionToken }), 401, 'DPOP_REQUIRED');
  });

  it('DPOP_INVALID for a wrong typ, a private key in the header, another algorithm, or a signature by another key', async () => {
    const client = await service.client();
    expectProblem(await client.call('POST', '/v1/auth/challenge', { typ: 'JWT' }), 401, 'DPOP_INVALID');
    expectProblem(await client.call('POST', '/v1/auth/challenge', { jwk: await client.privateJwk() }), 401, 'DPOP_INVALID');
    const other = await service.client();
    expectProblem(await client.call('POST', '/v1/auth/challenge', { jwk: other.publicJwk }), 401, 'DPOP_INVALID');
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const rsaJwk = await exportJWK(rsa.publicKey);
    const rs256 = await new SignJWT({ jti: randomUUID(), htm: 'POST', htu: `${service.url}/v1/auth/challenge`, iat: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ alg: 'RS256', typ: 'dpop+jwt', jwk: rsaJwk })
      .sign(rsa.privateKey);
    expectProblem(await client.call('POST', '/v1/auth/challenge', { proof: rs256 }), 401, 'DPOP_INVALID');
    expectProblem(await client.call('POST', '/v1/auth/challenge', { proof: 'not.a.jws' }), 401, 'DPOP_INVALID');
  });

  it('DPOP_ATH_MISMATCH when ath is missing or names another session token', async () => {
    const { client, sessionToken } = await loginAs(service, pki, 'cps:medecin');
    expectProblem(await client.call('GET', '/v1/auth/session', { sessionToken, ath: null }), 401, 'DPOP_ATH_MISMATCH');
    const other = await loginAs(service, pki, 'cps:medecin');
    expectProblem(await client.call('GET', '/v1/auth/session', { sessionToken, accessToken: other.sessionToken }), 401, 'DPOP_ATH_MISMATCH');
    expect((await client.call('GET', '/v1/auth/session', { sessionToken })).status).toBe(200);
  });

  it('a stolen session token is useless without its key: DPOP_KEY_MISMATCH', async () => {
    const { sessionToken } = await loginAs(service, pki, 'cps:medecin');
    const thief = await service.client();
    const response = await thief.call('GET', '/v1/auth/session', { sessionToken });
    expectProblem(response, 401, 'DPOP_KEY_MISMATCH');
  });

  it('SESSION_REQUIRED without Authorization or with a Bearer scheme; SESSION_INVALID for an unknown token', async () => {
    const { client, sessionToken } = await loginAs(service, pki, 'cps:medecin');
    expectProblem(await client.call('GET', '/v1/auth/session'), 401, 'SESSION_REQUIRED');
    const bearer = await client.call('GET', '/v1/auth/session', { headers: { Authorization: `Bearer ${sessionToken}` } });
    expectProblem(bearer, 401, 'SESSION_REQUIRED');
    const unknown = 'A'.repeat(43);
    expectProblem(await client.call('GET', '/v1/auth/session', { sessionToken: unknown }), 401, 'SESSION_INVALID');
  });

  it('logout ends the session (then SESSION_INVALID) and is traced', async () => {
    const { client, sessionToken } = await loginAs(service, pki, 'cps:medecin');
    const logout = await client.call('POST', '/v1/auth/logout', { sessionToken });
    expect(logout.status).toBe(204);
    expectProblem(await client.call('GET', '/v1/auth/session', { sessionToken }), 401, 'SESSION_INVALID');
    expectProblem(await client.call('POST', '/v1/auth/logout', { sessionToken }), 401, 'SESSION_INVALID');
    const traces = await service.store.listTraces('practitioner:899900000101');
    expect(traces.at(-1)).toMatchObject({ action: 'logout', result: 'ok' });
  });
});

describe.each(STORES)('sessions and challenges over time on %s', (kind) => {
  let service: TestDmpService;
  const clock = new TestClock();

  beforeAll(async () => {
    service = await startTestDmpService(pki, { store: kind, clock: clock.now, config: { sessionMaxHours: 2 } });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('a session ends after 30 minutes without a request; each request restarts the count', async () => {
    const { client, sessionToken } = await loginAs(service, pki, 'cps:medecin');
    clock.advanceMinutes(20);
    expect((await client.call('GET', '/v1/auth/session', { sessionToken })).status).toBe(200);
    clock.advanceMinutes(29); // 49 minutes after login, 29 idle
    expect((await client.call('GET', '/v1/auth/session', { sessionToken })).status).toBe(200);
    clock.advanceMinutes(31);
    expectProblem(await client.call('GET', '/v1/auth/session', { sessionToken }), 401, 'SESSION_EXPIRED');
    // and it is gone
    expectProblem(await client.call('GET', '/v1/auth/session', { sessionToken }), 401, 'SESSION_INVALID');
  });

  it('a session ends at its maximum duration even when active', async () => {
    const { client, sessionToken } = await loginAs(service, pki, 'cps:medecin');
    for (let i = 0; i < 4; i++) {
      clock.advanceMinutes(25);
      expect((await client.call('GET', '/v1/auth/session', { sessionToken })).status).toBe(200);
    }
    clock.advanceMinutes(25); // 125 minutes > 2 hours, 25 idle
    expectProblem(await client.call('GET', '/v1/auth/session', { sessionToken }), 401, 'SESSION_EXPIRED');
  });

  it('a challenge expires after 5 minutes: CHALLENGE_INVALID', async () => {
    const medecin = await pki.persona('cps:medecin');
    const client = await service.client();
    const challenge = await requestChallenge(client);
    clock.advance(5 * 60_000 + 1_000);
    expectProblem(await attemptLogin(client, { certificate: medecin.authentication, challenge }), 401, 'CHALLENGE_INVALID');
    const fresh = await requestChallenge(client);
    clock.advance(4 * 60_000);
    expect((await attemptLogin(client, { certificate: medecin.authentication, challenge: fresh })).status).toBe(200);
  });

  it('expired challenges, jtis and sessions are purged', async () => {
    await loginAs(service, pki, 'cps:medecin');
    clock.advanceMinutes(31);
    const now = clock.now().getTime();
    const purged = await service.store.purgeExpired(now, now - 30 * 60_000);
    expect(purged.sessions).toBeGreaterThanOrEqual(1);
    expect(purged.jtis).toBeGreaterThanOrEqual(1);
    expect(purged.challenges).toBeGreaterThanOrEqual(1);
  });

  it('REVOCATION_UNKNOWN once the CRL is past its nextUpdate (no current CRL)', async () => {
    const medecin = await pki.persona('cps:medecin');
    clock.advance(8 * 24 * 3_600_000);
    expectProblem(await attemptLogin(await service.client(), { certificate: medecin.authentication }), 401, 'REVOCATION_UNKNOWN');
  });
});
