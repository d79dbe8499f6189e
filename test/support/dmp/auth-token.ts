// A real `cardbridge-auth:1` token (agent-protocol.md, "Authentication token"): RS256 by the
// persona's authentication private key over SHA-256(UTF-8(origin)) || SHA-256(UTF-8(challenge)),
// the same bytes a virtual card's INTERNAL AUTHENTICATE gives for that DigestInfo.
import { createHash, createPrivateKey, sign } from 'node:crypto';

export interface AuthTokenJson {
  format: string;
  algorithm: string;
  origin: string;
  unverifiedCertificate: string;
  signature: string;
  appVersion?: string;
}

export interface SignAuthTokenInput {
  /** DER of the certificate put in the token. */
  certificateDer: Uint8Array;
  /** PKCS#8 DER of the key that signs (normally the certificate's). */
  privateKeyPkcs8Der: Uint8Array;
  /** The origin written in the token. */
  origin: string;
  challenge: string;
  /** Sign over this origin instead of `origin` (a token whose origin differs from the signed one). */
  signedOrigin?: string;
  appVersion?: string;
}

export function authData(origin: string, challenge: string): Buffer {
  return Buffer.concat([
    createHash('sha256').update(origin, 'utf8').digest(),
    createHash('sha256').update(challenge, 'utf8').digest(),
  ]);
}

export function signAuthToken(input: SignAuthTokenInput): AuthTokenJson {
  const key = createPrivateKey({ key: Buffer.from(input.privateKeyPkcs8Der), format: 'der', type: 'pkcs8' });
  const signature = sign('sha256', authData(input.signedOrigin ?? input.origin, input.challenge), key);
  return {
    format: 'cardbridge-auth:1',
    algorithm: 'RS256',
    origin: input.origin,
    unverifiedCertificate: Buffer.from(input.certificateDer).toString('base64'),
    signature: signature.toString('base64'),
    appVersion: input.appVersion ?? 'test',
  };
}
