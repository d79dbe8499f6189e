// The authentication token the agent's `cps.authenticate` returns (agent-protocol.md,
// "Authentication token"): its format check (400 TOKEN_MALFORMED), the 64 bytes it signs, and
// the RS256 verification of that signature with the certificate's key.
import { X509Certificate, constants, createHash, verify } from 'node:crypto';
import { DmpError } from '../errors.js';

export const AUTH_TOKEN_FORMAT = 'cardbridge-auth:1';
export const AUTH_TOKEN_ALGORITHM = 'RS256';
export const MAX_CERTIFICATE_BYTES = 16 * 1024;
/** RSA 1024 to 8192 bits. */
export const MIN_SIGNATURE_BYTES = 128;
export const MAX_SIGNATURE_BYTES = 1024;
const MAX_ORIGIN_LENGTH = 255;
const MAX_APP_VERSION_LENGTH = 64;
const MAX_MEMBERS = 16;

export interface AuthToken {
  readonly origin: string;
  readonly certificate: Uint8Array;
  readonly signature: Uint8Array;
  readonly appVersion: string | undefined;
}

function malformed(detail: string): DmpError {
  return new DmpError('TOKEN_MALFORMED', detail);
}

/** Standard base64 with padding (RFC 4648 §4), canonical; the decoded bytes. */
export function decodeStrictBase64(value: string): Uint8Array | undefined {
  if (value.length === 0 || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) return undefined; // non-zero padding bits
  return new Uint8Array(bytes);
}

/** `https://host[:port]` (ASCII serialisation, no trailing slash) or `app:<appId>`. */
export function isSerializedOrigin(value: string): boolean {
  if (value.length === 0 || value.length > MAX_ORIGIN_LENGTH) return false;
  if (value.startsWith('app:')) return /^app:[A-Za-z0-9._-]{1,128}$/.test(value);
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

function base64Member(token: Record<string, unknown>, name: string, maxBytes: number, minBytes = 1): Uint8Array {
  const value = token[name];
  if (typeof value !== 'string') throw malformed(`champ ${name} absent ou non textuel`);
  if (value.length > Math.ceil(maxBytes / 3) * 4) throw malformed(`champ ${name} trop long`);
  const bytes = decodeStrictBase64(value);
  if (!bytes) throw malformed(`champ ${name} : base64 avec remplissage attendu`);
  if (bytes.length < minBytes || bytes.length > maxBytes) throw malformed(`champ ${name} : taille ${bytes.length} octets hors limites`);
  return bytes;
}

/** Checks the token's format and sizes; throws DmpError TOKEN_MALFORMED. */
export function parseAuthToken(value: unknown): AuthToken {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('objet JSON attendu');
  const token = value as Record<string, unknown>;
  if (Object.keys(token).length > MAX_MEMBERS) throw malformed('trop de champs');
  if (token.format !== AUTH_TOKEN_FORMAT) throw malformed(`format « ${AUTH_TOKEN_FORMAT} » attendu`);
  if (token.algorithm !== AUTH_TOKEN_ALGORITHM) throw malformed(`algorithme ${AUTH_TOKEN_ALGORITHM} attendu`);
  if (typeof token.origin !== 'string' || !isSerializedOrigin(token.origin)) {
    throw malformed('origine : https://hôte[:port] (sans « / » final) ou app:<identifiant> attendu');
  }
  const certificate = base64Member(token, 'unverifiedCertificate', MAX_CERTIFICATE_BYTES);
  const signature = base64Member(token, 'signature', MAX_SIGNATURE_BYTES, MIN_SIGNATURE_BYTES);
  const appVersion = token.appVersion;
  if (appVersion !== undefined && (typeof appVersion !== 'string' || appVersion.length > MAX_APP_VERSION_LENGTH)) {
    throw malformed('appVersion : texte court attendu');
  }
  return { origin: token.origin, certificate, signature, appVersion };
}

/** `SHA-256(UTF-8(origin)) || SHA-256(UTF-8(challenge))`: the 64 bytes the card signs. */
export function authSignedData(origin: string, challenge: string): Uint8Array {
  const originHash = createHash('sha256').update(origin, 'utf8').digest();
  const challengeHash = createHash('sha256').update(challenge, 'utf8').digest();
  return new Uint8Array(Buffer.concat([originHash, challengeHash]));
}

/** RS256 (RSASSA-PKCS1-v1_5, SHA-256) over `data` with the certificate's RSA key. */
export function verifyAuthSignature(certificateDer: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    const publicKey = new X509Certificate(certificateDer).publicKey;
    if (publicKey.asymmetricKeyType !== 'rsa') return false;
    return verify('sha256', data, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
}
