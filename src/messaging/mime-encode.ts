// SecureMessage -> MIME entity (RFC 5322 + RFC 2045/2046): a multipart/mixed whose first part is
// the body (text/plain; charset=UTF-8) and the others the attachments, every part in base64, the
// text fields in UTF-8 encoded-words. These bytes are what the sender's card signs.
import { encodeBase64Lines } from './base64-lines.js';
import { concat } from './bytes.js';
import { CRLF, asciiBytes, headerLine } from './mime-entity.js';
import { encodeFilenameParameter, encodeWords, FOLD, formatDate, formatMailbox, formatMailboxList } from './mime-fields.js';
import { checkMessage, normaliseLineBreaks, type SecureMessage } from './message-model.js';

const utf8 = new TextEncoder();

/** `=_cb_` + 32 hex digits: "=_" never occurs in base64 or in an encoded-word. */
function newBoundary(): string {
  const random = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return `=_cb_${Array.from(random, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Delimiter line, part headers, empty line, base64 lines, CRLF (the next delimiter's). */
function part(boundary: string, headers: readonly string[], content: Uint8Array): Uint8Array[] {
  return [asciiBytes(`--${boundary}${CRLF}${headers.join(CRLF)}${CRLF}${CRLF}`), encodeBase64Lines(content), asciiBytes(CRLF)];
}

/**
 * The MIME entity of `message`.
 * @throws MessageError INVALID_INPUT (a field breaks a rule of message-model.ts),
 *   ATTACHMENT_TOO_LARGE (attachments over 10 MiB in total), MESSAGE_TOO_LARGE (body over 1 MiB).
 */
export function encodeMime(message: SecureMessage): Uint8Array {
  checkMessage(message, 'INVALID_INPUT');
  const boundary = newBoundary();
  const header = [
    'MIME-Version: 1.0',
    headerLine('Date', formatDate(message.date)),
    headerLine('From', formatMailbox(message.from)),
    headerLine('To', formatMailboxList(message.to)),
    headerLine('Subject', encodeWords(message.subject).join(FOLD)),
    headerLine('Content-Type', `multipart/mixed;${FOLD}boundary="${boundary}"`),
  ];
  const body = normaliseLineBreaks(message.body).replace(/\n/g, CRLF);
  return concat([
    asciiBytes(header.join(CRLF) + CRLF + CRLF),
    ...part(boundary, ['Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: base64'], utf8.encode(body)),
    ...message.attachments.flatMap((a) =>
      part(
        boundary,
        [`Content-Type: ${a.mediaType}`, 'Content-Transfer-Encoding: base64', `Content-Disposition: attachment;${FOLD}${encodeFilenameParameter(a.filename)}`],
        a.content,
      ),
    ),
    asciiBytes(`--${boundary}--${CRLF}`),
  ]);
}
