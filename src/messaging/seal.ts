// Sealing a message on the sender's workstation: MIME entity -> SignedData by the sender's CPS
// signature key (the card signs through the callback) -> application/pkcs7-mime entity ->
// EnvelopedData to the authentication certificate of every addressee and of the sender.
import { CertificateReadError, readCertificate, type MessagingCertificate } from './certificates.js';
import { buildEnvelopedData } from './enveloped-data.js';
import { isBytes } from './bytes.js';
import { MessageError } from './errors.js';
import { MAX_ENVELOPE_BYTES, MAX_RECIPIENT_INFOS } from './limits.js';
import { encodeMime } from './mime-encode.js';
import { parseMime } from './mime-parse.js';
import type { SecureMessage } from './message-model.js';
import { wrapSignedData } from './pkcs7-mime.js';
import { buildEncapsulatedSignedData, SignedDataError } from './signed-data.js';

export interface SealRequest {
  /** The message, or a MIME entity written by encodeMime (signed as it is). */
  mime: SecureMessage | Uint8Array;
  /** DER of the sender's CPS signature certificate. */
  signerCertificate: Uint8Array;
  /**
   * Signs a SHA-256 hash with RSA PKCS#1 v1.5 by the signature key: on a workstation the card's
   * `cps.sign` through the agent (the card adds the DigestInfo and the padding).
   */
  signHash: (hash: Uint8Array) => Promise<Uint8Array>;
  /**
   * DER of the authentication certificates (keyEncipherment) of every addressee AND of the
   * sender (their own copy): each `to` and the `from` practitioner need at least one, and no
   * certificate may belong to anyone else.
   */
  recipientCertificates: readonly Uint8Array[];
  /** Written in the signingTime attribute; default now. */
  signingTime?: Date;
}

function invalid(reason: string, cause?: unknown): MessageError {
  return new MessageError('INVALID_INPUT', reason, cause === undefined ? undefined : { cause });
}

function read(der: unknown, what: string): MessagingCertificate {
  try {
    return readCertificate(der);
  } catch (error) {
    if (error instanceof CertificateReadError) throw invalid(`${what}: ${error.message}`, error);
    throw error;
  }
}

function checkSigner(der: Uint8Array, message: SecureMessage): MessagingCertificate {
  const signer = read(der, 'signerCertificate');
  if (!signer.isRsa) throw invalid('signerCertificate does not hold an RSA key');
  if (signer.keyUsage && !signer.keyUsage.has('nonRepudiation') && !signer.keyUsage.has('digitalSignature')) {
    throw invalid('signerCertificate is not a signature certificate (keyUsage)');
  }
  if (signer.nationalId === undefined) throw invalid('signerCertificate names no practitioner (CN is not a national identifier)');
  if (signer.nationalId !== message.from.nationalId) {
    throw new MessageError('SENDER_MISMATCH', `the message is from ${message.from.nationalId} but the signer certificate is ${signer.nationalId}'s`);
  }
  return signer;
}

function checkRecipients(ders: readonly Uint8Array[], message: SecureMessage): MessagingCertificate[] {
  if (!Array.isArray(ders) || ders.length === 0 || ders.length > MAX_RECIPIENT_INFOS) {
    throw invalid(`recipientCertificates must list 1 to ${MAX_RECIPIENT_INFOS} certificates`);
  }
  const recipients = ders.map((der, i) => {
    const r = read(der, `recipientCertificates[${i}]`);
    if (!r.isRsa) throw invalid(`recipientCertificates[${i}] does not hold an RSA key`);
    if (!r.keyUsage?.has('keyEncipherment')) throw invalid(`recipientCertificates[${i}] does not allow keyEncipherment (not an authentication certificate?)`);
    if (r.nationalId === undefined) throw invalid(`recipientCertificates[${i}] names no practitioner`);
    return r;
  });
  const seen = new Set<string>();
  recipients.forEach((r, i) => {
    const key = `${Array.from(r.issuerDer).join(',')}/${Array.from(r.serialDer).join(',')}`;
    if (seen.has(key)) throw invalid(`recipientCertificates[${i}] is listed twice`);
    seen.add(key);
  });
  const wanted = new Set([message.from.nationalId, ...message.to.map((p) => p.nationalId)]);
  const covered = new Set(recipients.map((r) => r.nationalId as string));
  for (const id of wanted) {
    if (!covered.has(id)) throw invalid(id === message.from.nationalId ? "the sender's own authentication certificate is missing" : `no certificate for addressee ${id}`);
  }
  for (const id of covered) if (!wanted.has(id)) throw invalid(`a certificate belongs to ${id}, who is neither sender nor addressee`);
  return recipients;
}

/**
 * Signs and encrypts a message; returns the DER ContentInfo of the EnvelopedData.
 * @throws MessageError INVALID_INPUT, SENDER_MISMATCH, ATTACHMENT_TOO_LARGE, MESSAGE_TOO_LARGE,
 *   MALFORMED (MIME bytes not written by encodeMime); the signHash callback's own errors
 *   (PIN required, card removed…) pass through unchanged.
 */
export async function sealMessage(request: SealRequest): Promise<Uint8Array> {
  if (typeof request !== 'object' || request === null) throw invalid('sealMessage needs a request object');
  if (typeof request.signHash !== 'function') throw invalid('signHash must be a function');
  const signingTime = request.signingTime ?? new Date();
  if (!(signingTime instanceof Date) || Number.isNaN(signingTime.getTime())) throw invalid('signingTime must be a valid Date');
  let mimeBytes: Uint8Array;
  let message: SecureMessage;
  if (isBytes(request.mime)) {
    mimeBytes = new Uint8Array(request.mime); // signed as it is: our own copy
    message = parseMime(mimeBytes);
  } else {
    message = request.mime;
    mimeBytes = encodeMime(message);
  }
  const signer = checkSigner(request.signerCertificate, message);
  const recipients = checkRecipients(request.recipientCertificates, message);

  let signedData: Uint8Array;
  try {
    signedData = await buildEncapsulatedSignedData({ content: mimeBytes, signer, signHash: request.signHash, signingTime });
  } catch (error) {
    if (error instanceof SignedDataError) throw invalid(error.message, error);
    throw error;
  }
  const envelope = await buildEnvelopedData(wrapSignedData(signedData), recipients);
  if (envelope.byteLength > MAX_ENVELOPE_BYTES) throw new MessageError('MESSAGE_TOO_LARGE', `the envelope is larger than ${MAX_ENVELOPE_BYTES} bytes`);
  return envelope;
}
