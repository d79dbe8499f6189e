// DPoP proof verification (RFC 9449), the way this service accepts them: ES256 only, `typ`
// dpop+jwt, a public P-256 `jwk` in the header, `htm` = the request method, `htu` = the
// configured public URL + the request path (never the Host header; query and fragment ignored),
// `iat` within ±60 s, `ath` = base64url(SHA-256(session token)) when a session token is
// presented, and a `jti` never seen before by any node (the replay cache is in the store).
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { DmpError, type ProblemCode } from '../errors.js';
import type { VerifiedDpop } from '../http/context.js';

export const DPOP_ALGORITHM = 'ES256';
export const DPOP_IAT_WINDOW_SECONDS = 60;
/** A jti is remembered for this long: the longest a proof can stay acceptable (iat up to 60 s ahead, then 60 s old) plus margin. */
export const DPOP_JTI_RETENTION_MS = 3 * 60 * 1000;
const MAX_PROOF_LENGTH = 8 * 1024;
const MAX_JTI_LENGTH = 256;

export const DPOP_WWW_AUTHENTICATE = `DPoP error="invalid_dpop_proof", algs="${DPOP_ALGORITHM}"`;

export interface DpopCheck {
  /** The `DPoP` header as received (undefined when absent; several headers are refused). */
  readonly proof: string | string[] | undefined;
  readonly method: string;
  /** What `htu` must be: the public URL + the request path. */
  readonly expectedUrl: string;
  readonly now: Date;
  /** The session token presented with the proof, if any: `ath` must then match it. */
  readonly accessToken?: string;
  /** Records a (key, jti) pair; false when already recorded. */
  readonly rememberJti: (key: string, expiresAt: number) => Promise<boolean>;
}

function fail(code: ProblemCode, detail: string): DmpError {
  return new DmpError(code, detail, { headers: { 'WWW-Authenticate': DPOP_WWW_AUTHENTICATE } });
}

export function base64urlSha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

/** `scheme://host[:port]/path` without query or fragment, default port dropped; undefined when not a URL. */
export function normalizeHtu(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    return `${url.origin}${url.pathname}`;
  } catch {
    return undefined;
  }
}

function publicJwk(value: unknown): JWK {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('DPOP_INVALID', 'en-tête jwk absent ou mal formé');
  const jwk = value as Record<string, unknown>;
  if ('d' in jwk) throw fail('DPOP_INVALID', 'la clé jwk de la preuve ne doit contenir que la partie publique');
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') {
    throw fail('DPOP_INVALID', 'clé jwk EC P-256 attendue');
  }
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
}

interface ProofClaims {
  jti: string;
  htm: string;
  htu: string;
  iat: number;
  ath?: string;
}

function claimsOf(payload: Uint8Array): ProofClaims {
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw fail('DPOP_INVALID', 'charge utile de la preuve illisible');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw fail('DPOP_INVALID', 'charge utile de la preuve illisible');
  const c = claims as Record<string, unknown>;
  if (typeof c.jti !== 'string' || c.jti.length === 0 || c.jti.length > MAX_JTI_LENGTH) throw fail('DPOP_INVALID', 'revendication jti absente ou invalide');
  if (typeof c.htm !== 'string') throw fail('DPOP_INVALID', 'revendication htm absente');
  if (typeof c.htu !== 'string') throw fail('DPOP_INVALID', 'revendication htu absente');
  if (typeof c.iat !== 'number' || !Number.isFinite(c.iat)) throw fail('DPOP_INVALID', 'revendication iat absente ou invalide');
  if (c.ath !== undefined && typeof c.ath !== 'string') throw fail('DPOP_INVALID', 'revendication ath invalide');
  return { jti: c.jti, htm: c.htm, htu: c.htu, iat: c.iat, ...(c.ath === undefined ? {} : { ath: c.ath }) };
}

/** Checks a proof; throws DmpError (401, a DPOP_* code) on the first failure. */
export async function verifyDpopProof(check: DpopCheck): Promise<VerifiedDpop> {
  const { proof } = check;
  if (proof === undefined || proof === '') throw fail('DPOP_REQUIRED', 'en-tête DPoP absent');
  if (typeof proof !== 'string') throw fail('DPOP_INVALID', 'un seul en-tête DPoP attendu');
  if (proof.length > MAX_PROOF_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(proof)) {
    throw fail('DPOP_INVALID', 'preuve DPoP : JWS compact attendu');
  }

  let header;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw fail('DPOP_INVALID', 'en-tête de la preuve illisible');
  }
  if (header.typ !== 'dpop+jwt') throw fail('DPOP_INVALID', 'typ « dpop+jwt » attendu');
  if (header.alg !== DPOP_ALGORITHM) throw fail('DPOP_INVALID', `algorithme ${DPOP_ALGORITHM} seul accepté`);
  if (header.crit !== undefined) throw fail('DPOP_INVALID', 'extensions critiques non prises en charge');
  const jwk = publicJwk(header.jwk);

  let payload: Uint8Array;
  try {
    const key = await importJWK(jwk, DPOP_ALGORITHM);
    payload = (await compactVerify(proof, key, { algorithms: [DPOP_ALGORITHM] })).payload;
  } catch {
    throw fail('DPOP_INVALID', 'signature de la preuve invalide');
  }
  const claims = claimsOf(payload);

  if (claims.htm !== check.method) throw fail('DPOP_HTM_MISMATCH', `preuve pour ${claims.htm.slice(0, 16)}, requête ${check.method}`);
  const htu = normalizeHtu(claims.htu);
  if (htu === undefined || htu !== normalizeHtu(check.expectedUrl)) {
    throw fail('DPOP_HTU_MISMATCH', `htu attendu : ${normalizeHtu(check.expectedUrl) ?? check.expectedUrl}`);
  }
  const skew = check.now.getTime() / 1000 - claims.iat;
  if (Math.abs(skew) > DPOP_IAT_WINDOW_SECONDS) {
    throw fail('DPOP_STALE', `iat à ${Math.round(skew)} s de l'heure du service (±${DPOP_IAT_WINDOW_SECONDS} s acceptées)`);
  }
  if (check.accessToken !== undefined) {
    if (claims.ath === undefined) throw fail('DPOP_ATH_MISMATCH', 'revendication ath requise avec un jeton de session');
    if (claims.ath !== base64urlSha256(check.accessToken)) throw fail('DPOP_ATH_MISMATCH', 'ath ne correspond pas au jeton de session');
  }

  const thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
  // Keyed by key and jti, hashed: fixed size whatever the client sends.
  const replayKey = base64urlSha256(`${thumbprint} ${claims.jti}`);
  if (!(await check.rememberJti(replayKey, check.now.getTime() + DPOP_JTI_RETENTION_MS))) {
    throw fail('DPOP_REPLAYED', 'cette preuve (jti) a déjà été présentée');
  }
  return { thumbprint, jti: claims.jti, iat: claims.iat };
}
