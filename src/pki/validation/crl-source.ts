// Where the validator gets CRLs from. A source answers "the current CRL of this CA" and nothing
// more; the validator checks whatever it is given again (issuer, signature, dates), so a source
// that is wrong or tampered with can make a validation fail, never pass.

export interface CrlSource {
  /**
   * DER of a current CRL issued by the CA whose certificate is `issuer` (DER), or undefined when
   * the source has none. `subject` is the certificate whose status is being checked: sources that
   * follow CRL distribution points read the URL from it (a CA certificate does not say where its
   * own CRL is). Sources should return the same Uint8Array object while the CRL is unchanged:
   * the validator keys its caches on that object. The array must not be modified afterwards.
   */
  currentCrl(issuer: Uint8Array, subject?: Uint8Array): Promise<Uint8Array | undefined>;
}

/** Shared by the sources: the time, and how far ahead of us a CA clock may be. */
export interface CrlSourceClockOptions {
  /** Current time; default the system clock. */
  clock?: () => Date;
  /** A CRL whose thisUpdate is up to this far in the future is still accepted. Default 5 min. */
  clockSkewMs?: number;
}

export const DEFAULT_CRL_CLOCK_SKEW_MS = 5 * 60 * 1000;
