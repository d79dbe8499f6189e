// One login attempt with every part replaceable (who signs, which certificate, which origin,
// which challenge, which client), for the refusal tests; and the problem+json assertion.
import { expect } from 'vitest';
import { PROBLEMS, problemType, type ProblemCode } from '../../../src/dmp/errors.js';
import { signAuthToken, type AuthTokenJson } from './auth-token.js';
import type { DmpResponse, DpopClient } from './dpop-client.js';
import { TEST_ORIGIN } from './service.js';

export interface Credential {
  readonly certificateDer: Uint8Array;
  readonly privateKeyPkcs8Der: Uint8Array;
}

export interface AttemptOptions {
  /** The certificate in the token. */
  readonly certificate: Credential;
  /** The key that signs (default the certificate's). */
  readonly signer?: Credential;
  readonly origin?: string;
  readonly signedOrigin?: string;
  /** Sign this challenge instead of asking for one. */
  readonly challenge?: string;
  /** Edit the token before sending it. */
  readonly editToken?: (token: AuthTokenJson) => unknown;
  readonly activity?: Record<string, unknown>;
  readonly path?: '/v1/auth/login' | '/v1/auth/login-establishment';
  readonly user?: { id: string; name: string };
}

export async function requestChallenge(client: DpopClient): Promise<string> {
  const response = await client.call<{ challenge: string }>('POST', '/v1/auth/challenge');
  if (response.status !== 200) throw new Error(`challenge: HTTP ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.challenge;
}

export function makeToken(options: AttemptOptions, challenge: string): AuthTokenJson {
  return signAuthToken({
    certificateDer: options.certificate.certificateDer,
    privateKeyPkcs8Der: (options.signer ?? options.certificate).privateKeyPkcs8Der,
    origin: options.origin ?? TEST_ORIGIN,
    challenge,
    ...(options.signedOrigin === undefined ? {} : { signedOrigin: options.signedOrigin }),
  });
}

export async function attemptLogin(client: DpopClient, options: AttemptOptions): Promise<DmpResponse<Record<string, unknown>>> {
  const challenge = options.challenge ?? (await requestChallenge(client));
  const token = makeToken(options, challenge);
  const sent = options.editToken ? options.editToken(token) : token;
  return client.call('POST', options.path ?? '/v1/auth/login', {
    body: {
      token: sent,
      ...(options.activity ? { activity: options.activity } : {}),
      ...(options.user ? { user: options.user } : {}),
    },
  });
}

/** An RFC 9457 answer with this status and code, French title from the catalogue. */
export function expectProblem(response: DmpResponse<unknown>, status: number, code: ProblemCode): void {
  const body = response.body as Record<string, unknown>;
  expect({ status: response.status, code: body?.code }, JSON.stringify(body)).toEqual({ status, code });
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(body).toMatchObject({ type: problemType(code), title: PROBLEMS[code].title, status, code });
  expect(typeof body.detail).toBe('string');
}
