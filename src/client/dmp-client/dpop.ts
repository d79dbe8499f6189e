// The session key and its DPoP proofs (RFC 9449) as the DMP service accepts them: ES256, a
// WebCrypto key pair whose private half is NOT extractable (no script, not even ours, can read
// it out), `typ: dpop+jwt` with the public JWK in the header, claims htm / htu / iat / jti and
// `ath` = base64url(SHA-256(session token)) once there is one. The compact JWS is built here:
// WebCrypto's ECDSA signature is already the raw r||s that JWS wants.
import { randomBytes, sha256, toArrayBuffer, toBase64Url, utf8 } from '../shared/bytes.js';

export interface EcPublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

export interface ProofClaims {
  /** HTTP method, upper case. */
  htm: string;
  /** The request URL without query or fragment. */
  htu: string;
  /** The session token the request carries (sets `ath`). */
  accessToken?: string;
  /** Seconds since the epoch; default now. */
  iat?: number;
}

function encodeJson(value: unknown): string {
  return toBase64Url(utf8(JSON.stringify(value)));
}

export async function accessTokenHash(token: string): Promise<string> {
  return toBase64Url(await sha256(utf8(token)));
}

export class DpopKey {
  private constructor(
    private readonly privateKey: CryptoKey,
    /** The public key as it goes into every proof's header. */
    readonly publicJwk: EcPublicJwk,
  ) {}

  /** A fresh P-256 key pair; the private key cannot be exported. */
  static async generate(): Promise<DpopKey> {
    const pair = (await globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    const jwk = await globalThis.crypto.subtle.exportKey('jwk', pair.publicKey);
    if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') throw new Error('WebCrypto gave a P-256 public key without coordinates');
    return new DpopKey(pair.privateKey, { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y });
  }

  /** False: WebCrypto refuses to export the private key. */
  get extractable(): boolean {
    return this.privateKey.extractable;
  }

  async proof(claims: ProofClaims): Promise<string> {
    const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: this.publicJwk };
    const payload: Record<string, string | number> = {
      jti: toBase64Url(randomBytes(16)),
      htm: claims.htm,
      htu: claims.htu,
      iat: claims.iat ?? Math.floor(Date.now() / 1000),
    };
    if (claims.accessToken !== undefined) payload.ath = await accessTokenHash(claims.accessToken);
    const signingInput = `${encodeJson(header)}.${encodeJson(payload)}`;
    const signature = await globalThis.crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, this.privateKey, toArrayBuffer(utf8(signingInput)));
    return `${signingInput}.${toBase64Url(new Uint8Array(signature))}`;
  }
}
