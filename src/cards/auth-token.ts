// The origin-bound authentication token of agent-protocol.md (`cps.authenticate`), modelled on
// Web eID: the card signs SHA-256(UTF-8(origin)) || SHA-256(UTF-8(challenge)), so a token made for
// one origin is worthless to another. Inputs are checked strictly before the card is touched.
import { createHash } from 'node:crypto';
import { invalidParams } from './errors.js';

export const AUTH_TOKEN_FORMAT = 'cardbridge-auth:1';

export interface AuthenticationToken {
  readonly format: typeof AUTH_TOKEN_FORMAT;
  readonly algorithm: 'RS256';
  readonly origin: string;
  /** base64 DER of the authentication certificate (the verifier validates it). */
  readonly unverifiedCertificate: string;
  /** base64 RS256 signature over the 64 bytes of `authenticationSignedData`. */
  readonly signature: string;
  readonly appVersion: string;
}

/** Base64 with padding (RFC 4648 §4), 44 to 128 characters: the DMP sends 32 bytes (44 chars). */
const CHALLENGE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const CHALLENGE_MIN = 44;
const CHALLENGE_MAX = 128;

export function checkChallenge(challenge: unknown): asserts challenge is string {
  if (typeof challenge !== 'string' || challenge.length < CHALLENGE_MIN || challenge.length > CHALLENGE_MAX || !CHALLENGE.test(challenge)) {
    throw invalidParams(
      `Le défi doit être en base64 avec remplissage, de ${CHALLENGE_MIN} à ${CHALLENGE_MAX} caractères`,
      `The challenge must be padded base64, ${CHALLENGE_MIN} to ${CHALLENGE_MAX} characters`,
    );
  }
}

const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;
const PORT = /^[1-9][0-9]{0,4}$/;
const APP_ID = /^[A-Za-z0-9][A-Za-z0-9._~+@/-]{0,127}$/;

function isHostName(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  if (IPV4.test(host)) return true;
  const labels = host.split('.');
  // The last label of a DNS name is never all digits (that would be a mistyped IPv4 address).
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return false;
  return labels.every((l) => DNS_LABEL.test(l));
}

/**
 * True for what the token may be bound to: the ASCII serialisation of an https origin
 * (`https://host[:port]`, lower case, no default port, no path or trailing slash), an http origin
 * on the loopback (`http://localhost[:port]`, `http://127.0.0.1[:port]`), or `app:<appId>` for a
 * desktop caller.
 */
export function isTokenOrigin(origin: unknown): origin is string {
  if (typeof origin !== 'string' || origin.length > 300) return false;
  if (origin.startsWith('app:')) return APP_ID.test(origin.slice(4));
  const m = /^(https|http):\/\/([^:/?#@\s]+)(?::([0-9]+))?$/.exec(origin);
  if (!m) return false;
  const [, scheme, host = '', port] = m;
  if (port !== undefined) {
    if (!PORT.test(port) || Number(port) > 65535) return false;
    if ((scheme === 'https' && port === '443') || (scheme === 'http' && port === '80')) return false;
  }
  if (scheme === 'http') return host === 'localhost' || host === '127.0.0.1';
  return isHostName(host);
}

export function checkOrigin(origin: unknown): asserts origin is string {
  if (!isTokenOrigin(origin)) {
    throw invalidParams(
      'Origine invalide : https://hôte[:port], http://localhost[:port], http://127.0.0.1[:port] ou app:<identifiant>',
      'Invalid origin: https://host[:port], http://localhost[:port], http://127.0.0.1[:port] or app:<appId>',
    );
  }
}

/** SHA-256(UTF-8(origin)) || SHA-256(UTF-8(challenge)): the 64 bytes the token signs. */
export function authenticationSignedData(origin: string, challenge: string): Uint8Array {
  const out = new Uint8Array(64);
  out.set(createHash('sha256').update(origin, 'utf8').digest(), 0);
  out.set(createHash('sha256').update(challenge, 'utf8').digest(), 32);
  return out;
}
