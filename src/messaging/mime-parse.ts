// MIME entity -> SecureMessage, for the entities encodeMime writes and nothing else: the same
// fields, the body part first, base64 everywhere, no preamble or epilogue. Bounded: the entity,
// its header section and the parts are size-checked before anything is decoded, and the
// attachments' decoded sizes are added up from their base64 lengths before any is decoded.
import { Base64LinesError, checkBase64Lines, decodeBase64Lines } from './base64-lines.js';
import { inputBytes, MessageError } from './errors.js';
import { MAX_ATTACHMENTS, MAX_ATTACHMENTS_BYTES, MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_MIME_BYTES } from './limits.js';
import { asciiText, CRLF, EntityError, field, parseEntity } from './mime-entity.js';
import { decodeFilenameParameter, decodeUtf8, decodeWords, FieldError, parseDate, parseMailbox, parseMailboxList } from './mime-fields.js';
import { checkMessage, type Attachment, type SecureMessage } from './message-model.js';

const TOP_FIELDS = ['mime-version', 'date', 'from', 'to', 'subject', 'content-type'];
const BODY_FIELDS = ['content-type', 'content-transfer-encoding'];
const ATTACHMENT_FIELDS = ['content-type', 'content-transfer-encoding', 'content-disposition'];
const PART_HEADER_BYTES = 4096;

function malformed(reason: string, cause?: unknown): MessageError {
  return new MessageError('MALFORMED', `MIME: ${reason}`, cause === undefined ? undefined : { cause });
}

/** The parts' texts between the delimiters of `boundary` (RFC 2046 §5.1.1, CRLF before each). */
function splitParts(body: string, boundary: string): string[] {
  const opening = `--${boundary}${CRLF}`;
  const closing = `${CRLF}--${boundary}--${CRLF}`;
  if (!body.startsWith(opening) || !body.endsWith(closing)) throw malformed('multipart body does not open and close with its boundary');
  const inner = body.slice(opening.length, body.length - closing.length);
  const parts = inner.split(`${CRLF}--${boundary}${CRLF}`);
  if (parts.length > MAX_ATTACHMENTS + 1) throw malformed(`more than ${MAX_ATTACHMENTS} attachments`);
  // No delimiter-looking line may be left inside a part (a closing one in the middle, say).
  if (parts.some((p) => p.includes(`--${boundary}`))) throw malformed('a part holds its boundary');
  return parts;
}

/**
 * Reads a MIME entity written by encodeMime.
 * @throws MessageError MALFORMED (anything encodeMime would not have written),
 *   ATTACHMENT_TOO_LARGE (attachments over 10 MiB once decoded), MESSAGE_TOO_LARGE.
 */
export function parseMime(input: Uint8Array): SecureMessage {
  const bytes = inputBytes(input, 'the MIME entity');
  if (bytes.byteLength > MAX_MIME_BYTES) throw new MessageError('MESSAGE_TOO_LARGE', `the MIME entity is larger than ${MAX_MIME_BYTES} bytes`);
  try {
    const text = asciiText(bytes, 'message');
    const top = parseEntity(text, 'message', TOP_FIELDS, TOP_FIELDS, MAX_HEADER_BYTES);
    if (field(top, 'mime-version') !== '1.0') throw malformed('MIME-Version is not 1.0');
    const type = /^multipart\/mixed; boundary="(=_cb_[0-9a-f]{32})"$/.exec(field(top, 'content-type'));
    if (!type) throw malformed('Content-Type is not multipart/mixed with a boundary of this library');
    const from = parseMailbox(field(top, 'from'), 'From');
    const to = parseMailboxList(field(top, 'to'), 'To');
    const subject = decodeWords(field(top, 'subject'), 'Subject');
    const date = parseDate(field(top, 'date'));

    const [bodyPart, ...attachmentParts] = splitParts(top.body, type[1] as string);
    const bodyEntity = parseEntity(bodyPart as string, 'body part', BODY_FIELDS, BODY_FIELDS, PART_HEADER_BYTES);
    if (field(bodyEntity, 'content-type') !== 'text/plain; charset=UTF-8' || field(bodyEntity, 'content-transfer-encoding') !== 'base64') {
      throw malformed('the first part is not the base64 text/plain UTF-8 body');
    }
    const bodyCheck = checkBase64Lines(bodyEntity.body);
    if (bodyCheck.decodedLength > MAX_BODY_BYTES) throw new MessageError('MESSAGE_TOO_LARGE', `the body is larger than ${MAX_BODY_BYTES} bytes`);
    const wireBody = decodeUtf8(decodeBase64Lines(bodyEntity.body), 'body');
    if (/\r(?!\n)|(?<!\r)\n/.test(wireBody)) throw malformed('the body has a line break that is not CRLF');

    const entities = attachmentParts.map((p, i) => parseEntity(p, `attachment ${i + 1}`, ATTACHMENT_FIELDS, ATTACHMENT_FIELDS, PART_HEADER_BYTES));
    let total = 0;
    for (const entity of entities) total += checkBase64Lines(entity.body).decodedLength;
    if (total > MAX_ATTACHMENTS_BYTES) {
      throw new MessageError('ATTACHMENT_TOO_LARGE', `the attachments add up to ${total} bytes, more than ${MAX_ATTACHMENTS_BYTES}`);
    }
    const attachments: Attachment[] = entities.map((entity, i) => {
      if (field(entity, 'content-transfer-encoding') !== 'base64') throw malformed(`attachment ${i + 1} is not base64`);
      const disposition = /^attachment; (filename\*=.*)$/.exec(field(entity, 'content-disposition'));
      if (!disposition) throw malformed(`attachment ${i + 1} has no attachment disposition with a file name`);
      return {
        filename: decodeFilenameParameter(disposition[1] as string),
        mediaType: field(entity, 'content-type'),
        content: decodeBase64Lines(entity.body),
      };
    });

    const message: SecureMessage = { from, to, subject, date, body: wireBody.replace(/\r\n/g, '\n'), attachments };
    checkMessage(message, 'MALFORMED');
    return message;
  } catch (error) {
    if (error instanceof EntityError || error instanceof FieldError || error instanceof Base64LinesError) throw malformed(error.message, error);
    throw error;
  }
}
