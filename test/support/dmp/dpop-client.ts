// A DPoP client for tests: an ES256 key pair (jose), proofs built for a method and URL, and
// `fetch` helpers that attach them (plus Authorization: DPoP <session token> when given).
// Every proof knob can be overridden to build the wrong proofs the refusal tests need.
import { randomUUID } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { createHash } from 'node:crypto';

export interface ProofOptions {
  /** Session token: sets `ath` (unless `ath` is given). */
  accessToken?: string;
  ath?: string | null;
  jti?: string;
  /** Seconds since the epoch; default the client's clock. */
  iat?: number;
  htm?: string;
  htu?: string;
  typ?: string;
  /** Header jwk to announce (default the public key). */
  jwk?: JWK;
}

export interface DmpResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON (problem+json included), else the text. */
  body: T;
  /** The DPoP proof that was sent (replay tests). */
  proof: string | undefined;
}

export interface CallOptions extends ProofOptions {
  body?: unknown;
  /** Authorization: DPoP <sessionToken>. */
  sessionToken?: string;
  headers?: Record<string, string>;
  /** Send this proof instead of making one (null: no DPoP header). */
  proof?: string | null;
}

export function athOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

export class DpopClient {
  private constructor(
    readonly baseUrl: string,
    private readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
    readonly thumbprint: string,
    private readonly clock: () => Date,
  ) {}

  /** A new key pair; `baseUrl` is the service's public URL (proof htu = baseUrl + path). */
  static async create(baseUrl: string, clock: () => Date = () => new Date()): Promise<DpopClient> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const jwk: JWK = { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y };
    return new DpopClient(baseUrl.replace(/\/+$/, ''), privateKey, jwk, await calculateJwkThumbprint(jwk, 'sha256'), clock);
  }

  /** The private JWK (tests that put a private key in the header). */
  async privateJwk(): Promise<JWK> {
    return exportJWK(this.privateKey);
  }

  async proof(method: string, path: string, options: ProofOptions = {}): Promise<string> {
    const claims: Record<string, unknown> = {
      jti: options.jti ?? randomUUID(),
      htm: options.htm ?? method,
      htu: options.htu ?? `${this.baseUrl}${path}`,
      iat: options.iat ?? Math.floor(this.clock().getTime() / 1000),
    };
    const ath = options.ath === undefined ? (options.accessToken === undefined ? undefined : athOf(options.accessToken)) : options.ath;
    if (ath !== null && ath !== undefined) claims.ath = ath;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: options.typ ?? 'dpop+jwt', jwk: options.jwk ?? this.publicJwk })
      .sign(this.privateKey);
  }

  async call<T = Record<string, unknown>>(method: string, path: string, options: CallOptions = {}): Promise<DmpResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    const proof =
      options.proof === null ? undefined : (options.proof ?? (await this.proof(method, path, { ...options, accessToken: options.accessToken ?? options.sessionToken })));
    if (proof !== undefined) headers.DPoP = proof;
    if (options.sessionToken !== undefined) headers.Authorization = `DPoP ${options.sessionToken}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['Content-Type'] ??= 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    const parsed = type.includes('json') && text !== '' ? (JSON.parse(text) as T) : (text as T);
    return { status: response.status, headers: response.headers, body: parsed, proof };
  }
}
