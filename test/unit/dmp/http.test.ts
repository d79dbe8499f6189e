// The service's HTTP surface: OpenAPI document, RFC 9457 problems, security headers, CORS only
// for allowed origins, logs without secrets, and SQL-looking text stored verbatim. Same suite on
// SQLite and PostgreSQL.
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkListenAddress } from '../../../src/dmp/config.js';
import { toPem } from '../../../src/pki/pem.js';
import { establishmentChainId } from '../../../src/dmp/auth/index.js';
import { PROBLEMS } from '../../../src/dmp/errors.js';
import {
  attemptLogin,
  dmpStoreKinds,
  expectProblem,
  loginAs,
  openDmpTestPki,
  startTestDmpService,
  TEST_ORIGIN,
  type DmpTestPki,
  type TestDmpService,
} from '../../support/dmp/index.js';

const STORES = await dmpStoreKinds();

let pki: DmpTestPki;
beforeAll(async () => {
  pki = await openDmpTestPki();
  await pki.persona('cps:medecin');
});

function expectSecurityHeaders(headers: Headers): void {
  expect(headers.get('cache-control')).toBe('no-store');
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(headers.get('referrer-policy')).toBe('no-referrer');
}

const SQL_TEXTS = [
  "'; DROP TABLE sessions; --",
  "1' OR '1'='1",
  'Robert"); DELETE FROM practitioners; --',
  "x'); TRUNCATE traces; SELECT ('",
  '$1 ? :name \\x00 %s',
];

describe.each(STORES)('DMP HTTP surface on %s', (kind) => {
  let service: TestDmpService;
  const logLines: string[] = [];

  beforeAll(async () => {
    service = await startTestDmpService(pki, {
      store: kind,
      config: { logger: { level: 'debug', stream: { write: (line: string) => void logLines.push(line) } } },
    });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('serves its OpenAPI 3.1 document at /openapi.json', async () => {
    const response = await fetch(`${service.url}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties?: Record<string, { enum?: string[] }> }> };
    };
    expect(document.openapi).toBe('3.1.0');
    for (const path of ['/v1/auth/challenge', '/v1/auth/login', '/v1/auth/login-establishment', '/v1/auth/logout']) {
      expect(document.paths[path]?.post, path).toBeDefined();
    }
    expect(document.paths['/v1/auth/session']?.get).toBeDefined();
    expect(document.paths['/v1/auth/login']?.post?.responses).toHaveProperty('401');
    expect(document.components.schemas.Problem?.properties?.code?.enum).toEqual(Object.keys(PROBLEMS));
    expect(document.paths['/openapi.json']).toBeUndefined();
  });

  it('answers errors as application/problem+json { type, title, status, detail, code } with a French title', async () => {
    const notFound = await (await service.client()).call('GET', '/v1/nothing-here', { proof: null });
    expectProblem(notFound, 404, 'NOT_FOUND');
    expect(notFound.body).toEqual({
      type: 'urn:cardbridge:problem:not-found',
      title: 'Ressource introuvable',
      status: 404,
      detail: expect.any(String),
      code: 'NOT_FOUND',
    });
    const client = await service.client();
    const badJson = await client.call('POST', '/v1/auth/login', { body: '{"token": ' });
    expectProblem(badJson, 400, 'REQUEST_INVALID');
    const wrongType = await client.call('POST', '/v1/auth/login', { body: 'token=1', headers: { 'Content-Type': 'text/plain' } });
    expectProblem(wrongType, 415, 'UNSUPPORTED_MEDIA_TYPE');
    const tooLarge = await client.call('POST', '/v1/auth/login', { body: { token: { padding: 'x'.repeat(100 * 1024) } } });
    expectProblem(tooLarge, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('puts the security headers on every answer: success, refusal, not found, preflight, OpenAPI', async () => {
    const client = await service.client();
    const ok = await client.call('POST', '/v1/auth/challenge');
    expect(ok.status).toBe(200);
    expectSecurityHeaders(ok.headers);
    expectSecurityHeaders((await client.call('POST', '/v1/auth/challenge', { proof: null })).headers);
    expectSecurityHeaders((await client.call('GET', '/nowhere', { proof: null })).headers);
    expectSecurityHeaders(
      (
        await fetch(`${service.url}/v1/auth/login`, {
          method: 'OPTIONS',
          headers: { Origin: TEST_ORIGIN, 'Access-Control-Request-Method': 'POST' },
        })
      ).headers,
    );
    const openapi = await fetch(`${service.url}/openapi.json`);
    expect(openapi.headers.get('x-content-type-options')).toBe('nosniff');
    expect(openapi.headers.get('x-frame-options')).toBe('DENY');
  });

  it('allows a CORS preflight from an allowed origin, for Authorization, DPoP and Content-Type', async () => {
    const response = await fetch(`${service.url}/v1/auth/login`, {
      method: 'OPTIONS',
      headers: { Origin: TEST_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, dpop, content-type' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(TEST_ORIGIN);
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'dpop', 'content-type']));
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    // and the actual request carries Access-Control-Allow-Origin
    const client = await service.client();
    const actual = await client.call('POST', '/v1/auth/challenge', { headers: { Origin: TEST_ORIGIN } });
    expect(actual.headers.get('access-control-allow-origin')).toBe(TEST_ORIGIN);
  });

  it('refuses a CORS preflight from any other origin or for other headers, and gives other origins no CORS grant', async () => {
    for (const origin of ['https://evil.example', `${TEST_ORIGIN}:444`, 'null', TEST_ORIGIN.replace('https', 'http')]) {
      const response = await fetch(`${service.url}/v1/auth/login`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'dpop' },
      });
      expect(response.status, origin).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(((await response.json()) as { code: string }).code).toBe('CORS_NOT_ALLOWED');
    }
    const otherHeader = await fetch(`${service.url}/v1/auth/login`, {
      method: 'OPTIONS',
      headers: { Origin: TEST_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'dpop, x-forwarded-user' },
    });
    expect(otherHeader.status).toBe(403);
    const client = await service.client();
    const actual = await client.call('POST', '/v1/auth/challenge', { headers: { Origin: 'https://evil.example' } });
    expect(actual.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('never logs session tokens, DPoP proofs, the Authorization header or authentication tokens', async () => {
    const { client, sessionToken } = await loginAs(service, pki, 'cps:medecin');
    const call = await client.call('GET', '/v1/auth/session', { sessionToken });
    expect(call.status).toBe(200);
    await client.call('GET', '/v1/auth/session', { sessionToken: 'B'.repeat(43) }); // a refusal is logged too
    const text = logLines.join('');
    expect(text).toContain('"route":"/v1/auth/session"'); // the request lines are there…
    expect(text).toContain('[masqué]'); // …with the secret headers redacted
    expect(text).not.toContain(sessionToken);
    expect(text).not.toContain('B'.repeat(43));
    expect(text).not.toContain(String(call.proof));
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./); // no JWS at all
    expect(text).not.toContain('cardbridge-auth:1');
  });

  it('stores SQL-looking text verbatim in every text field (identity, activity, establishment user, jti)', async () => {
    const [sql0, sql1, sql2, sql3, sql4] = SQL_TEXTS as [string, string, string, string, string];
    const credentials = await pki.practitioner('dmp-sql-names', {
      rpps: '99900000160',
      surname: sql2.slice(0, 60),
      givenName: sql1,
      professionCode: '10',
      professionLabel: 'Médecin',
      structureId: sql3,
      structureName: sql0,
    });
    const activity = { structureId: sql0, structureName: sql2, sector: sql1, role: sql4 };
    const client = await service.client();
    const login = await attemptLogin(client, { certificate: credentials.authentication, activity });
    expect(login.status).toBe(200);
    expect(login.body.practitioner).toMatchObject({ surname: sql2.slice(0, 60), givenName: sql1, structureId: sql3, structureName: sql0 });
    const stored = await service.store.getPractitioner('899900000160');
    expect(stored).toMatchObject({ surname: sql2.slice(0, 60), givenName: sql1, structureId: sql3, structureName: sql0 });
    const sessionToken = String(login.body.sessionToken);
    const session = await client.call<{ activity: unknown }>('GET', '/v1/auth/session', { sessionToken });
    expect(session.body.activity).toEqual(activity);

    const server = await pki.pki.issueServer('dmp-sql-etab', ['sql.clinique.cardbridge.test'], {
      clientAuth: true,
      organisationName: sql0,
      organisationId: sql1,
    });
    const etabClient = await service.client();
    const etab = await attemptLogin(etabClient, { certificate: server, path: '/v1/auth/login-establishment', user: { id: sql3, name: sql2 } });
    expect(etab.status).toBe(200);
    expect(etab.body).toMatchObject({ establishment: { id: sql1, name: sql0 }, user: { id: sql3, name: sql2 } });
    const etabSession = await etabClient.call('GET', '/v1/auth/session', { sessionToken: String(etab.body.sessionToken) });
    expect(etabSession.body).toMatchObject({ organisation: { id: sql1, name: sql0 }, user: { id: sql3, name: sql2 } });
    expect((await service.store.listTraces(establishmentChainId(sql1))).length).toBe(1);

    // a jti full of SQL is just a jti: accepted once, replay refused
    const proof = await client.proof('POST', '/v1/auth/challenge', { jti: sql0 });
    expect((await client.call('POST', '/v1/auth/challenge', { proof })).status).toBe(200);
    expectProblem(await client.call('POST', '/v1/auth/challenge', { proof }), 401, 'DPOP_REPLAYED');

    // every table is still there and the first session still works
    expect((await client.call('GET', '/v1/auth/session', { sessionToken })).status).toBe(200);
    expect((await service.store.listTraces('practitioner:899900000160')).length).toBeGreaterThanOrEqual(1);
  });
});

describe('DMP over HTTPS', () => {
  it('serves HTTPS with --tls-cert/--tls-key (server certificate of the organisations CA) and sends HSTS', async () => {
    const server = await pki.pki.issueServer('dmp-tls', ['localhost', '127.0.0.1']);
    const service = await startTestDmpService(pki, {
      store: 'sqlite',
      config: {
        tls: {
          cert: toPem('CERTIFICATE', server.certificateDer) + toPem('CERTIFICATE', pki.pki.caCertificate('organisations')),
          key: toPem('PRIVATE KEY', server.privateKeyPkcs8Der),
        },
      },
    });
    try {
      expect(service.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const answer = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
        const request = httpsRequest(
          `${service.url}/openapi.json`,
          { ca: toPem('CERTIFICATE', pki.pki.caCertificate('root')) },
          (response) => {
            let body = '';
            response.on('data', (chunk: Buffer) => (body += chunk.toString()));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
          },
        );
        request.on('error', reject);
        request.end();
      });
      expect(answer.status).toBe(200);
      expect(answer.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect((JSON.parse(answer.body) as { openapi: string }).openapi).toBe('3.1.0');
      // and the API works over it, DPoP htu in https
      const client = await service.client();
      const challenge = await new Promise<number>((resolve, reject) => {
        void client.proof('POST', '/v1/auth/challenge').then((proof) => {
          const request = httpsRequest(
            `${service.url}/v1/auth/challenge`,
            { method: 'POST', ca: toPem('CERTIFICATE', pki.pki.caCertificate('root')), headers: { DPoP: proof } },
            (response) => {
              response.resume();
              resolve(response.statusCode ?? 0);
            },
          );
          request.on('error', reject);
          request.end();
        }, reject);
      });
      expect(challenge).toBe(200);
    } finally {
      await service.close();
    }
  });

  it('refuses plain HTTP anywhere but loopback', () => {
    expect(() => checkListenAddress('0.0.0.0', false)).toThrow(/boucle locale/);
    expect(() => checkListenAddress('192.0.2.10', false)).toThrow(/boucle locale/);
    expect(() => checkListenAddress('0.0.0.0', true)).not.toThrow();
    expect(() => checkListenAddress('127.0.0.1', false)).not.toThrow();
    expect(() => checkListenAddress('::1', false)).not.toThrow();
  });
});
