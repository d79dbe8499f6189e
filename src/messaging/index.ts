// Secure messaging between practitioners (dmp-service.md, "Secure messaging and directory"):
// S/MIME-compatible messages signed by the sender's CPS and encrypted to each recipient's card
// with RSA PKCS#1 v1.5 key transport and AES-256-CBC. Client-side and browser-safe: WebCrypto,
// asn1js/pkijs and node-forge, no Node built-ins. docs/messaging.md has the formats.
export { sealMessage, type SealRequest } from './seal.js';
export { openMessage, type CheckSigner, type MessageSigner, type OpenedMessage, type OpenRequest, type SignerCheckResult } from './open.js';
export { routingMetadata, type RoutingMetadata, type RoutingRecipient } from './routing.js';
export { encodeMime } from './mime-encode.js';
export { parseMime } from './mime-parse.js';
export { MAILBOX_DOMAIN } from './mime-fields.js';
export type { Attachment, Practitioner, SecureMessage } from './message-model.js';
export { isMessageError, MessageError, type MessageErrorCode } from './errors.js';
export {
  MAX_ATTACHMENTS,
  MAX_ATTACHMENTS_BYTES,
  MAX_BODY_BYTES,
  MAX_ENVELOPE_BYTES,
  MAX_FILENAME_BYTES,
  MAX_MIME_BYTES,
  MAX_NAME_LENGTH,
  MAX_RECIPIENTS,
  MAX_SUBJECT_LENGTH,
} from './limits.js';
