// The seam between document encryption and whatever holds the master key: a local key file by
// default, a KMS in a deployment that has one (dmp-service.md, "Encryption at rest"). Only data
// encryption keys (DEKs, 32 bytes) cross it; the master key never leaves the provider.

export interface KeyProvider {
  /** Encrypts a DEK under the provider's current master key; keyId names that master key. */
  wrap(dek: Uint8Array): Promise<{ keyId: string; wrapped: Uint8Array }>;
  /**
   * The DEK back. Throws DocumentCryptoError: KEY_UNAVAILABLE for a key id the provider does not
   * hold, INTEGRITY when the wrapped key was altered, MALFORMED for an unknown format.
   */
  unwrap(keyId: string, wrapped: Uint8Array): Promise<Uint8Array>;
}

/** AES-256: every DEK is 32 bytes. */
export const DEK_BYTES = 32;
