// The one error type of secure messaging. Callers switch on `code`, never on the message; the
// message is English and for logs (it never quotes a subject, a body or an attachment).
import { isBytes } from './bytes.js';

export type MessageErrorCode =
  /** The attachments of one message add up to more than MAX_ATTACHMENTS_BYTES (10 MiB). */
  | 'ATTACHMENT_TOO_LARGE'
  /** The body, the MIME entity or the envelope exceeds its bound (see limits.ts). */
  | 'MESSAGE_TOO_LARGE'
  /** What the caller asked to seal cannot be sealed (bad field, certificate, recipient list). */
  | 'INVALID_INPUT'
  /** The bytes are not a message of this service (not CMS, not our MIME, unsupported algorithm). */
  | 'MALFORMED'
  /** The certificate opening the envelope is not one of its recipients. */
  | 'NOT_A_RECIPIENT'
  /**
   * The envelope opened by this recipient does not hold what its sender signed: content key,
   * ciphertext, signed content, signed attributes or signature altered.
   */
  | 'TAMPERED'
  /** The message is signed by a practitioner other than the one its From header names. */
  | 'SENDER_MISMATCH';

export class MessageError extends Error {
  override readonly name = 'MessageError';

  constructor(
    readonly code: MessageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isMessageError(value: unknown, code?: MessageErrorCode): value is MessageError {
  return value instanceof MessageError && (code === undefined || value.code === code);
}

/** `value` as a Uint8Array of this realm (a view, no copy). @throws MessageError INVALID_INPUT */
export function inputBytes(value: unknown, what: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (!isBytes(value)) throw new MessageError('INVALID_INPUT', `${what} must be bytes (Uint8Array)`);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}
