// Session tokens: 32 random bytes (base64url, 43 characters) handed to the client once; the
// store keeps only a hash, so a copy of the database opens no session.
import { createHash, randomBytes } from 'node:crypto';

export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the store keeps: base64url SHA-256 of a domain-separated token (distinct from DPoP's ath). */
export function sessionTokenHash(token: string): string {
  return createHash('sha256').update(`cardbridge-session:${token}`, 'utf8').digest('base64url');
}

/** A session token as the service issues them. */
export function isSessionTokenShape(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value);
}
