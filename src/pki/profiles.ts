// Certificate profiles of the test PKI: which extensions and how long each kind of certificate
// lives. (Key identifiers are added by the certificate builder.)
import type * as pkijs from 'pkijs';
import { KEY_PURPOSE_OID } from './oids.js';
import { professionExtension, type ProfessionInfo } from './profession-extension.js';
import {
  basicConstraints,
  crlDistributionPoint,
  extendedKeyUsage,
  keyUsage,
  subjectAltName,
} from './standard-extensions.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const YEAR_MS = 365 * DAY_MS;

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * CAs start five years in the past so that certificates issued "already expired" (for tests)
 * still fall inside their issuer's validity, and fail on their own dates only.
 */
export function caValidity(now: Date, years: number): Validity {
  return { notBefore: new Date(now.getTime() - 5 * YEAR_MS), notAfter: new Date(now.getTime() + years * YEAR_MS) };
}

export const ROOT_VALIDITY_YEARS = 20;
export const INTERMEDIATE_VALIDITY_YEARS = 12;
export const END_ENTITY_VALIDITY_YEARS = 3; // a CPS is valid three years

/**
 * End-entity validity. Starts an hour back (clock skew between machines). An expired
 * certificate lived two years and ended two days ago.
 */
export function endEntityValidity(now: Date, expired: boolean): Validity {
  if (expired) {
    return { notBefore: new Date(now.getTime() - 2 * YEAR_MS), notAfter: new Date(now.getTime() - 2 * DAY_MS) };
  }
  return {
    notBefore: new Date(now.getTime() - 60 * 60 * 1000),
    notAfter: new Date(now.getTime() + END_ENTITY_VALIDITY_YEARS * YEAR_MS),
  };
}

export function rootCaExtensions(): pkijs.Extension[] {
  return [basicConstraints({ ca: true }), keyUsage(['keyCertSign', 'cRLSign'])];
}

/** Intermediates sign end-entity certificates only (pathLen 0); their status is in the root's CRL. */
export function intermediateCaExtensions(rootCrlUrl: string): pkijs.Extension[] {
  return [basicConstraints({ ca: true, pathLength: 0 }), keyUsage(['keyCertSign', 'cRLSign']), crlDistributionPoint(rootCrlUrl)];
}

export interface PractitionerProfileOptions {
  readonly crlUrl: string;
  /** The profession extension; undefined leaves it out (a certificate shaped like a real CPS one). */
  readonly profession?: ProfessionInfo;
}

function professionExtensions(profession: ProfessionInfo | undefined): pkijs.Extension[] {
  return profession ? [professionExtension(profession)] : [];
}

/** CPS authentication certificate: digitalSignature + keyEncipherment, clientAuth. */
export function practitionerAuthenticationExtensions(options: PractitionerProfileOptions): pkijs.Extension[] {
  return [
    keyUsage(['digitalSignature', 'keyEncipherment']),
    extendedKeyUsage([KEY_PURPOSE_OID.clientAuth]),
    crlDistributionPoint(options.crlUrl),
    ...professionExtensions(options.profession),
  ];
}

/** CPS signature certificate: nonRepudiation only. */
export function practitionerSignatureExtensions(options: PractitionerProfileOptions): pkijs.Extension[] {
  return [keyUsage(['nonRepudiation']), crlDistributionPoint(options.crlUrl), ...professionExtensions(options.profession)];
}

export interface ServerProfileOptions {
  readonly crlUrl: string;
  readonly hostnames: readonly string[];
  /** Also clientAuth, for an establishment that logs in with its server certificate. */
  readonly clientAuth: boolean;
}

export function serverExtensions(options: ServerProfileOptions): pkijs.Extension[] {
  const purposes: string[] = [KEY_PURPOSE_OID.serverAuth];
  if (options.clientAuth) purposes.push(KEY_PURPOSE_OID.clientAuth);
  return [
    keyUsage(['digitalSignature', 'keyEncipherment']),
    extendedKeyUsage(purposes),
    subjectAltName(options.hostnames),
    crlDistributionPoint(options.crlUrl),
  ];
}
