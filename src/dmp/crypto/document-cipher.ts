// Encryption at rest of document contents (dmp-service.md): each document under its own fresh
// AES-256-GCM key (DEK), the DEK wrapped by the KeyProvider, the document id bound as associated
// data so that a ciphertext moved to another document's row fails authentication instead of
// being served as that document. One DEK encrypts one document once, so a random 96-bit IV can
// never repeat under a key.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DocumentCryptoError } from './errors.js';
import { DEK_BYTES, type KeyProvider } from './key-provider.js';

export interface EncryptedDocument {
  ciphertext: Uint8Array;
  /** 12 bytes. */
  iv: Uint8Array;
  /** GCM tag, 16 bytes. */
  tag: Uint8Array;
  /** The DEK wrapped by the provider. */
  wrappedKey: Uint8Array;
  /** The provider's master key id, needed to unwrap. */
  keyId: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const MAX_DOCUMENT_ID_LENGTH = 256;

function associatedData(documentId: string): Buffer {
  if (typeof documentId !== 'string' || documentId.length === 0 || documentId.length > MAX_DOCUMENT_ID_LENGTH) {
    throw new TypeError(`document id must be a string of 1 to ${MAX_DOCUMENT_ID_LENGTH} characters`);
  }
  return Buffer.from(`cardbridge/document/v1\u0000${documentId}`, 'utf8');
}

export async function encryptDocument(content: Uint8Array, provider: KeyProvider, documentId: string): Promise<EncryptedDocument> {
  if (!(content instanceof Uint8Array)) throw new TypeError('document content must be bytes');
  const aad = associatedData(documentId);
  const dek = randomBytes(DEK_BYTES);
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', dek, iv);
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(content), cipher.final()]);
    const tag = cipher.getAuthTag();
    const { keyId, wrapped } = await provider.wrap(new Uint8Array(dek));
    return { ciphertext: new Uint8Array(ciphertext), iv: new Uint8Array(iv), tag: new Uint8Array(tag), wrappedKey: wrapped, keyId };
  } finally {
    dek.fill(0); // best effort: the key does not linger in this buffer
  }
}

/** The content back; throws DocumentCryptoError (INTEGRITY for any alteration, never partial plaintext). */
export async function decryptDocument(encrypted: EncryptedDocument, provider: KeyProvider, documentId: string): Promise<Uint8Array> {
  const aad = associatedData(documentId);
  const { ciphertext, iv, tag, wrappedKey, keyId } = encrypted ?? ({} as EncryptedDocument);
  if (!(ciphertext instanceof Uint8Array) || !(iv instanceof Uint8Array) || !(tag instanceof Uint8Array) || !(wrappedKey instanceof Uint8Array)) {
    throw new DocumentCryptoError('MALFORMED', 'encrypted document fields must be bytes');
  }
  if (iv.byteLength !== IV_BYTES) throw new DocumentCryptoError('MALFORMED', `IV must be ${IV_BYTES} bytes`);
  if (tag.byteLength !== TAG_BYTES) throw new DocumentCryptoError('MALFORMED', `tag must be ${TAG_BYTES} bytes`);
  if (typeof keyId !== 'string') throw new DocumentCryptoError('MALFORMED', 'key id missing');

  const dek = Buffer.from(await provider.unwrap(keyId, wrappedKey));
  try {
    if (dek.byteLength !== DEK_BYTES) throw new DocumentCryptoError('MALFORMED', 'unwrapped key has the wrong size');
    const decipher = createDecipheriv('aes-256-gcm', dek, iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const plaintext = decipher.update(ciphertext);
    try {
      decipher.final();
    } catch {
      plaintext.fill(0);
      throw new DocumentCryptoError('INTEGRITY', 'document failed authentication (altered, or another document id)');
    }
    return new Uint8Array(plaintext);
  } finally {
    dek.fill(0);
  }
}
