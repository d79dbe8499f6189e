// Opening a message on a recipient's workstation: find the RecipientInfo of the recipient's
// certificate, have the card decipher the content key (cps.decrypt through the agent), decrypt
// the content here (WebCrypto AES-256-CBC), verify the inner SignedData, read the MIME entity.
//
// AES-CBC carries no integrity of its own: the only proof that the content is what the sender
// sealed is the inner signature. So once this recipient's key has been found, every way the
// content can fail — content key, padding, S/MIME entity, SignedData, digest, signature — is
// TAMPERED. What the signature then proves is "the holder of this certificate's key signed
// these bytes"; whether that certificate is a valid, unrevoked CPS signature certificate is for
// the caller's checkSigner hook (src/pki/validation's CertificateValidator, purpose 'signature').
import { CertificateReadError, readCertificate } from './certificates.js';
import { contentEncryptionOf, decryptContent, EnvelopeError, identifies, parseEnvelope, type ParsedEnvelope } from './enveloped-data.js';
import { isBytes } from './bytes.js';
import { inputBytes, MessageError } from './errors.js';
import { MAX_ENVELOPE_BYTES, MAX_SIGNED_DATA_BYTES } from './limits.js';
import { CMS_OID } from '../pki/cms/cms-oids.js';
import { parseMime } from './mime-parse.js';
import type { SecureMessage } from './message-model.js';
import { unwrapSignedData } from './pkcs7-mime.js';
import { verifyEncapsulatedSignedData, type VerifiedSignedData } from './signed-data.js';

/** The caller's verdict on the signer certificate (CertificateValidator's ValidationResult fits). */
export type SignerCheckResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export type CheckSigner = (signer: { certificate: Uint8Array; signingTime: Date | undefined }) => Promise<SignerCheckResult>;

export interface OpenRequest {
  /** DER ContentInfo of the EnvelopedData, as sealMessage returned it. */
  envelopedDer: Uint8Array;
  /** DER of the recipient's authentication certificate (the card's key that deciphers). */
  recipientCertificate: Uint8Array;
  /**
   * Deciphers the encrypted content key with RSA PKCS#1 v1.5 and returns the plain key: on a
   * workstation the card's `cps.decrypt` through the agent. An error whose `code` is
   * DECRYPT_FAILED (CardError, the agent client's error) means the cryptogram was refused.
   */
  decryptKey: (encryptedKey: Uint8Array) => Promise<Uint8Array>;
  /** Chain and revocation check of the signer's certificate; see OpenedMessage.signatureValid. */
  checkSigner?: CheckSigner;
}

export interface MessageSigner {
  /** DER of the signature certificate included in the SignedData. */
  readonly certificate: Uint8Array;
  readonly nationalId: string;
  readonly name: string;
}

export interface OpenedMessage {
  readonly mime: SecureMessage;
  readonly signer: MessageSigner;
  readonly signingTime: Date | undefined;
  /**
   * The signature verified (a failure never gets here: it is TAMPERED) and, when checkSigner was
   * given, the hook accepted the signer. Without a hook this says nothing about the signer's
   * chain or revocation: whoever shows the message must check them.
   */
  readonly signatureValid: boolean;
  /** The hook's verdict; undefined when no hook was given. */
  readonly signerCheck: SignerCheckResult | undefined;
}

function tampered(reason: string, cause?: unknown): MessageError {
  return new MessageError('TAMPERED', reason, cause === undefined ? undefined : { cause });
}

function isDecryptRefusal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'DECRYPT_FAILED';
}

function envelopeOf(input: unknown): ParsedEnvelope {
  const der = inputBytes(input, 'envelopedDer');
  if (der.byteLength > MAX_ENVELOPE_BYTES) throw new MessageError('MESSAGE_TOO_LARGE', `the envelope is larger than ${MAX_ENVELOPE_BYTES} bytes`);
  try {
    return parseEnvelope(der);
  } catch (error) {
    if (error instanceof EnvelopeError) throw new MessageError('MALFORMED', error.message, { cause: error });
    throw error;
  }
}

/**
 * @throws MessageError NOT_A_RECIPIENT, MALFORMED (not an envelope of this service, unsupported
 *   algorithm), TAMPERED, SENDER_MISMATCH (signed by someone other than From), INVALID_INPUT;
 *   the decryptKey callback's other errors (PIN required, card removed…) pass through unchanged.
 */
export async function openMessage(request: OpenRequest): Promise<OpenedMessage> {
  if (typeof request !== 'object' || request === null || typeof request.decryptKey !== 'function') {
    throw new MessageError('INVALID_INPUT', 'openMessage needs { envelopedDer, recipientCertificate, decryptKey }');
  }
  let recipient;
  try {
    recipient = readCertificate(request.recipientCertificate);
  } catch (error) {
    if (error instanceof CertificateReadError) throw new MessageError('INVALID_INPUT', `recipientCertificate: ${error.message}`, { cause: error });
    throw error;
  }
  const envelope = envelopeOf(request.envelopedDer);
  const mine = envelope.recipients.filter((r) => identifies(r.id, recipient));
  if (mine.length === 0) throw new MessageError('NOT_A_RECIPIENT', 'the envelope has no key for this certificate');
  if (mine.length > 1) throw new MessageError('MALFORMED', 'the envelope has several keys for this certificate');
  const entry = mine[0]!;
  if (entry.keyEncryptionAlgorithm !== CMS_OID.rsaEncryption) {
    throw new MessageError('MALFORMED', `key transport ${entry.keyEncryptionAlgorithm} is not rsaEncryption (PKCS#1 v1.5, what the card deciphers)`);
  }
  let encryption;
  try {
    encryption = contentEncryptionOf(envelope.encryptedContentInfo);
  } catch (error) {
    if (error instanceof EnvelopeError) throw new MessageError('MALFORMED', error.message, { cause: error });
    throw error;
  }

  let contentKey: unknown;
  try {
    contentKey = await request.decryptKey(entry.encryptedKey);
  } catch (error) {
    if (isDecryptRefusal(error)) throw tampered('the card refused the encrypted content key', error);
    throw error;
  }
  let signedEntity: Uint8Array;
  try {
    if (!isBytes(contentKey)) throw new TypeError('decryptKey returned no bytes');
    signedEntity = await decryptContent(encryption, inputBytes(contentKey, 'the content key'));
  } catch (error) {
    throw tampered('the content does not decrypt with the content key', error);
  } finally {
    if (isBytes(contentKey)) contentKey.fill(0);
  }

  let verified: VerifiedSignedData;
  try {
    verified = await verifyEncapsulatedSignedData(unwrapSignedData(signedEntity, MAX_SIGNED_DATA_BYTES));
  } catch (error) {
    throw tampered(`the signed content does not verify: ${(error as Error).message}`, error);
  }
  // Signed as it is by the signer: a MIME entity this library would not write is MALFORMED.
  const mime = parseMime(verified.content);
  const { signer } = verified;
  if (signer.nationalId === undefined || signer.nationalId !== mime.from.nationalId) {
    throw new MessageError('SENDER_MISMATCH', `the message says it is from ${mime.from.nationalId} but is signed by ${signer.nationalId ?? signer.name}`);
  }

  const signerCheck = request.checkSigner === undefined ? undefined : await request.checkSigner({ certificate: signer.der, signingTime: verified.signingTime });
  if (signerCheck !== undefined && (typeof signerCheck !== 'object' || signerCheck === null || typeof signerCheck.ok !== 'boolean')) {
    throw new MessageError('INVALID_INPUT', 'checkSigner must resolve to { ok: true } or { ok: false, reason }');
  }
  return {
    mime,
    signer: { certificate: signer.der, nationalId: signer.nationalId, name: signer.name },
    signingTime: verified.signingTime,
    signatureValid: signerCheck?.ok ?? true,
    signerCheck: signerCheck === undefined ? undefined : signerCheck.ok ? { ok: true } : { ok: false, reason: signerCheck.reason },
  };
}
