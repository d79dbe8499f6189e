// One error type for everything that can go wrong reading an encrypted document, with a code the
// service can act on: INTEGRITY (ciphertext, tag, wrapped key or document id altered: never
// return any plaintext), KEY_UNAVAILABLE (the key id is not one this provider holds), MALFORMED
// (field sizes or versions this code never writes).

export type DocumentCryptoErrorCode = 'INTEGRITY' | 'KEY_UNAVAILABLE' | 'MALFORMED';

export class DocumentCryptoError extends Error {
  override readonly name = 'DocumentCryptoError';
  readonly code: DocumentCryptoErrorCode;

  constructor(code: DocumentCryptoErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Problems with the master key file itself (permissions, size): configuration errors. */
export class MasterKeyFileError extends Error {
  override readonly name = 'MasterKeyFileError';
}
