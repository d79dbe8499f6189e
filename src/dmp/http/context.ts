// What every route of the DMP service reaches through `request.server.dmp` (or `app.dmp`): the
// store, the certificate validator, the clock and the resolved settings. Nothing in it is per
// user: sessions, challenges and DPoP jtis live in the store, shared by all nodes.
import type { CertificateValidator } from '../../pki/validation/index.js';
import type { KeyProvider } from '../crypto/index.js';
import type { DmpStore } from '../store/index.js';

export interface DmpContext {
  readonly store: DmpStore;
  readonly validator: CertificateValidator;
  readonly clock: () => Date;
  /** The public base URL without trailing slash (DPoP htu = this + path). */
  publicUrl(): string;
  /** Normalised origins (tokens and CORS). */
  readonly allowedOrigins: ReadonlySet<string>;
  readonly sessionIdleMs: number;
  readonly sessionMaxMs: number;
  /** Wraps documents' keys at rest (src/dmp/crypto encryptDocument/decryptDocument); undefined when not configured. */
  readonly keyProvider: KeyProvider | undefined;
}

/** A practitioner authenticated by a session (request.practitioner). */
export interface AuthenticatedPractitioner {
  /** `8` + RPPS or `0` + ADELI. */
  readonly nationalId: string;
  readonly idType: string;
  readonly surname: string;
  readonly givenName: string;
  readonly professionCode: string;
  readonly professionLabel: string;
  readonly specialtyCode: string | null;
  readonly structureId: string | null;
  readonly structureName: string | null;
}

/** The session behind an authenticated request (request.dmpSession). */
export interface AuthenticatedSession {
  readonly kind: 'practitioner' | 'establishment';
  /**
   * Establishment mode (indirect login by a server certificate): may send documents, never read.
   * Routes that read must use `requirePractitioner`, which refuses such sessions.
   */
  readonly establishment: boolean;
  /** The establishment and its local user, in establishment mode. */
  readonly organisation: { readonly id: string; readonly name: string } | null;
  readonly user: { readonly id: string; readonly name: string } | null;
  /** Sector etc. declared at login (practitioner sessions). */
  readonly activity: { readonly structureId?: string; readonly structureName?: string; readonly sector?: string; readonly role?: string } | null;
  readonly keyThumbprint: string;
  /** Identifies the session in traces without revealing its token (first 16 characters of the token hash). */
  readonly sessionRef: string;
}

/** The checked DPoP proof of a request (request.dpop). */
export interface VerifiedDpop {
  /** RFC 7638 thumbprint of the proof key. */
  readonly thumbprint: string;
  readonly jti: string;
  readonly iat: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    dmp: DmpContext;
  }
  interface FastifyRequest {
    /** Set by the DPoP guards. */
    dpop: VerifiedDpop | null;
    /** Set by requireSession / requirePractitioner. */
    dmpSession: AuthenticatedSession | null;
    /** Set by requirePractitioner, and by requireSession for practitioner sessions. */
    practitioner: AuthenticatedPractitioner | null;
  }
}
