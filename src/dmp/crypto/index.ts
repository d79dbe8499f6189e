// Encryption at rest of DMP documents: per-document AES-256-GCM keys wrapped by a KeyProvider.
export { decryptDocument, encryptDocument, type EncryptedDocument } from './document-cipher.js';
export { DocumentCryptoError, MasterKeyFileError, type DocumentCryptoErrorCode } from './errors.js';
export { DEK_BYTES, type KeyProvider } from './key-provider.js';
export { LocalFileKeyProvider, MASTER_KEY_BYTES } from './local-file-key-provider.js';
