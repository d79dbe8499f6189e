// Small secrets the portal must keep readable by the service but not by a reader of the database
// alone: the TOTP seed of a patient and the text of a one-time-password message waiting in the
// outbox. They go through the same envelope encryption as documents (src/dmp/crypto: a fresh
// AES-256-GCM key wrapped by the KeyProvider), with a purpose-and-owner label as associated data
// so a sealed value moved to another row or another use fails to open.
import { decryptDocument, encryptDocument, type KeyProvider } from '../crypto/index.js';

/** JSON-safe form of an EncryptedDocument. */
export interface SealedValue {
  readonly keyId: string;
  readonly wrappedKey: string;
  readonly iv: string;
  readonly tag: string;
  readonly ciphertext: string;
}

/** `label` names what and whose (e.g. `portal-totp:<patient id>`); it is bound as associated data. */
export async function seal(plaintext: Uint8Array, provider: KeyProvider, label: string): Promise<SealedValue> {
  const e = await encryptDocument(plaintext, provider, label);
  const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
  return { keyId: e.keyId, wrappedKey: b64(e.wrappedKey), iv: b64(e.iv), tag: b64(e.tag), ciphertext: b64(e.ciphertext) };
}

/** Throws DocumentCryptoError when the value was altered, sealed for another label, or under an unknown key. */
export async function unseal(sealed: SealedValue, provider: KeyProvider, label: string): Promise<Uint8Array> {
  const bytes = (b64: unknown): Uint8Array => new Uint8Array(Buffer.from(typeof b64 === 'string' ? b64 : '', 'base64'));
  return decryptDocument(
    { keyId: sealed.keyId, wrappedKey: bytes(sealed.wrappedKey), iv: bytes(sealed.iv), tag: bytes(sealed.tag), ciphertext: bytes(sealed.ciphertext) },
    provider,
    label,
  );
}
