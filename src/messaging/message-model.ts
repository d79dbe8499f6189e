// The secure message as the application sees it, and the rules every message obeys whichever way
// it comes: built by a sender (a broken rule is the caller's INVALID_INPUT) or parsed from a
// MIME entity (the same rule broken is MALFORMED). Sizes have their own codes.
import { isBytes } from './bytes.js';
import { MessageError, type MessageErrorCode } from './errors.js';
import {
  MAX_ATTACHMENTS,
  MAX_ATTACHMENTS_BYTES,
  MAX_BODY_BYTES,
  MAX_FILENAME_BYTES,
  MAX_MEDIA_TYPE_LENGTH,
  MAX_NAME_LENGTH,
  MAX_RECIPIENTS,
  MAX_SUBJECT_LENGTH,
} from './limits.js';

/** A practitioner as the message names them: national identifier (RPPS or ADELI) and display name. */
export interface Practitioner {
  /** The 11-digit RPPS or the 9-digit ADELI, without the type digit of the certificate's CN. */
  readonly nationalId: string;
  readonly name: string;
}

export interface Attachment {
  /** A file name, not a path (no "/" or "\"), at most 255 UTF-8 bytes. */
  readonly filename: string;
  /** `type/subtype` (RFC 6838), lower case, no parameters; not multipart/* or message/*. */
  readonly mediaType: string;
  readonly content: Uint8Array;
}

export interface SecureMessage {
  readonly from: Practitioner;
  /** 1 to 100 addressees, each national identifier once. */
  readonly to: readonly Practitioner[];
  readonly subject: string;
  /** Sent date; travels with whole seconds (RFC 5322), so milliseconds are lost. */
  readonly date: Date;
  /** Plain text; line breaks are "\n" here and CRLF on the wire ("\r\n" and "\r" become "\n"). */
  readonly body: string;
  readonly attachments: readonly Attachment[];
}

const NATIONAL_ID = /^(?:[0-9]{11}|[0-9]{9})$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MEDIA_NAME = "[a-z0-9][a-z0-9!#$&^_.+-]{0,126}";
const MEDIA_TYPE = new RegExp(`^${MEDIA_NAME}/${MEDIA_NAME}$`);

const utf8 = new TextEncoder();

/** "\r\n" and lone "\r" become "\n". */
export function normaliseLineBreaks(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

export function isNationalId(value: unknown): value is string {
  return typeof value === 'string' && NATIONAL_ID.test(value);
}

/** Text that survives UTF-8 both ways (no lone surrogate) and has no control character. */
function isCleanText(value: string): boolean {
  return !CONTROL.test(value) && !LONE_SURROGATE.test(value);
}

function practitionerProblem(value: unknown, what: string): string | undefined {
  if (typeof value !== 'object' || value === null) return `${what} must be { nationalId, name }`;
  const { nationalId, name } = value as Partial<Practitioner>;
  if (!isNationalId(nationalId)) return `${what}.nationalId must be an 11-digit RPPS or a 9-digit ADELI`;
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_NAME_LENGTH || !isCleanText(name)) {
    return `${what}.name must be 1 to ${MAX_NAME_LENGTH} characters without control characters`;
  }
  return undefined;
}

export function filenameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '' || value === '.' || value === '..') return 'is empty or not a name';
  if (/[/\\]/.test(value)) return 'contains a path separator';
  if (!isCleanText(value)) return 'contains control characters';
  if (utf8.encode(value).length > MAX_FILENAME_BYTES) return `is longer than ${MAX_FILENAME_BYTES} UTF-8 bytes`;
  return undefined;
}

export function mediaTypeProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > MAX_MEDIA_TYPE_LENGTH || !MEDIA_TYPE.test(value)) return 'is not a lower-case type/subtype';
  if (value.startsWith('multipart/') || value.startsWith('message/')) return 'is a composite type (multipart/*, message/*)';
  return undefined;
}

/**
 * Checks every rule; throws MessageError with `code` for a broken rule, ATTACHMENT_TOO_LARGE when
 * the attachments add up to more than 10 MiB, MESSAGE_TOO_LARGE for a body over 1 MiB.
 */
export function checkMessage(message: SecureMessage, code: Extract<MessageErrorCode, 'INVALID_INPUT' | 'MALFORMED'>): void {
  const fail = (reason: string): never => {
    throw new MessageError(code, reason);
  };
  if (typeof message !== 'object' || message === null) fail('the message must be an object');
  const problem = practitionerProblem(message.from, 'from');
  if (problem) fail(problem);
  if (!Array.isArray(message.to) || message.to.length === 0 || message.to.length > MAX_RECIPIENTS) {
    fail(`to must list 1 to ${MAX_RECIPIENTS} practitioners`);
  }
  const seen = new Set<string>();
  message.to.forEach((p, i) => {
    const toProblem = practitionerProblem(p, `to[${i}]`);
    if (toProblem) fail(toProblem);
    if (seen.has(p.nationalId)) fail(`to[${i}] names ${p.nationalId} a second time`);
    seen.add(p.nationalId);
  });
  if (typeof message.subject !== 'string' || message.subject.length > MAX_SUBJECT_LENGTH || !isCleanText(message.subject)) {
    fail(`subject must be at most ${MAX_SUBJECT_LENGTH} characters without control characters`);
  }
  // A Date of this realm or another (Object.prototype.toString, not instanceof)
  if (Object.prototype.toString.call(message.date) !== '[object Date]' || Number.isNaN(message.date.getTime())) fail('date must be a valid Date');
  const year = message.date.getUTCFullYear();
  if (year < 1970 || year > 9999) fail('date must fall in the years 1970 to 9999');
  if (typeof message.body !== 'string' || LONE_SURROGATE.test(message.body)) fail('body must be text (no lone surrogate)');
  if (utf8.encode(message.body).length > MAX_BODY_BYTES) {
    throw new MessageError('MESSAGE_TOO_LARGE', `the body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  if (!Array.isArray(message.attachments) || message.attachments.length > MAX_ATTACHMENTS) fail(`attachments must be a list of at most ${MAX_ATTACHMENTS}`);
  let total = 0;
  message.attachments.forEach((a, i) => {
    if (typeof a !== 'object' || a === null) fail(`attachments[${i}] must be { filename, mediaType, content }`);
    const nameProblem = filenameProblem(a.filename);
    if (nameProblem) fail(`attachments[${i}].filename ${nameProblem}`);
    const typeProblem = mediaTypeProblem(a.mediaType);
    if (typeProblem) fail(`attachments[${i}].mediaType ${typeProblem}`);
    if (!isBytes(a.content)) fail(`attachments[${i}].content must be bytes`);
    total += a.content.byteLength;
  });
  if (total > MAX_ATTACHMENTS_BYTES) {
    throw new MessageError('ATTACHMENT_TOO_LARGE', `the attachments add up to ${total} bytes, more than ${MAX_ATTACHMENTS_BYTES}`);
  }
}
