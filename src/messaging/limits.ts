// Bounds of a secure message. The first group is the product rule (what a practitioner may send);
// the sizes below it follow from it, each layer adding its own encoding, so that a message at
// every limit still fits through every layer while a parser never reads more than it must.

/** Sum of the attachments' decoded sizes (dmp-service.md messaging: 10 MiB). */
export const MAX_ATTACHMENTS_BYTES = 10 * 1024 * 1024;
/** UTF-8 size of the body text. */
export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_ATTACHMENTS = 100;
/** Addressees in To (the sender's own copy comes on top). */
export const MAX_RECIPIENTS = 100;
/** Characters (UTF-16 code units) of the subject. */
export const MAX_SUBJECT_LENGTH = 500;
/** Characters of a practitioner's display name. */
export const MAX_NAME_LENGTH = 200;
/** UTF-8 bytes of an attachment's file name (what file systems accept). */
export const MAX_FILENAME_BYTES = 255;
/** Characters of an attachment's media type (RFC 6838: 127 + "/" + 127). */
export const MAX_MEDIA_TYPE_LENGTH = 255;

/** Length of `n` bytes in base64 cut in 76-character lines separated by CRLF. */
export function wrappedBase64Length(n: number): number {
  const chars = 4 * Math.ceil(n / 3);
  const lines = Math.ceil(chars / 76);
  return chars + 2 * Math.max(0, lines - 1);
}

/** The top-level header section (From, To with every addressee, Subject, …). */
export const MAX_HEADER_BYTES = 256 * 1024;
/** One part's headers and delimiter. */
const PART_OVERHEAD_BYTES = 2 * 1024;

/** The MIME entity: base64 of body and attachments, headers, delimiters. */
export const MAX_MIME_BYTES =
  wrappedBase64Length(MAX_ATTACHMENTS_BYTES) + wrappedBase64Length(MAX_BODY_BYTES) + MAX_HEADER_BYTES + (MAX_ATTACHMENTS + 1) * PART_OVERHEAD_BYTES;

/** Signer certificate, signed attributes and signature around the MIME entity. */
const SIGNED_DATA_OVERHEAD_BYTES = 64 * 1024;
export const MAX_SIGNED_DATA_BYTES = MAX_MIME_BYTES + SIGNED_DATA_OVERHEAD_BYTES;

/** The application/pkcs7-mime entity (headers + base64 of the SignedData): what is encrypted. */
export const MAX_INNER_ENTITY_BYTES = wrappedBase64Length(MAX_SIGNED_DATA_BYTES) + 1024;

/** Key transport recipients of one envelope (every addressee's certificates and the sender's). */
export const MAX_RECIPIENT_INFOS = 2 * (MAX_RECIPIENTS + 1);
/** One KeyTransRecipientInfo: issuer name, serial, a 4096-bit encrypted key, with room to spare. */
const RECIPIENT_INFO_BYTES = 2 * 1024;

/** The DER envelope: what the service stores and a client downloads. */
export const MAX_ENVELOPE_BYTES = MAX_INNER_ENTITY_BYTES + 16 + MAX_RECIPIENT_INFOS * RECIPIENT_INFO_BYTES + 1024;
