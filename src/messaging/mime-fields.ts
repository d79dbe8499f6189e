// Header field values of the messages this library writes, each with its strict reader:
//   - text (subject, display names): RFC 2047 encoded-words, always `=?UTF-8?B?…?=`, at most 68
//     characters each and never splitting a character, one word per folded line, so that header
//     lines stay within 78 characters (RFC 5322 §2.1.1);
//   - mailboxes: `<encoded display name>` then `<nationalId@MAILBOX_DOMAIN>` on the next line;
//   - dates: RFC 5322 `Tue, 04 Mar 2025 10:15:00 +0000`, always UTC;
//   - attachment file names: RFC 2231 `filename*=UTF-8''percent-encoded`.
import { fromBase64, toBase64 } from '../client/shared/bytes.js';
import { isNationalId, type Practitioner } from './message-model.js';

/** The domain of every mailbox: addresses are national identifiers, not Internet mail. */
export const MAILBOX_DOMAIN = 'messagerie.cardbridge.invalid';

/** Header folding: CRLF followed by one space. */
export const FOLD = '\r\n ';

export class FieldError extends Error {
  override readonly name = 'FieldError';
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * At most 42 UTF-8 bytes per word: 56 base64 characters + 12 of `=?UTF-8?B??=` = 68, so that
 * "Subject: " + a word is 77 characters.
 */
const WORD_BYTES = 42;
const WORD = /^=\?UTF-8\?B\?([A-Za-z0-9+/]+={0,2})\?=$/;

export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new FieldError(`${what} is not UTF-8`);
  }
}

/** The encoded-words of `text` ([] for ''), whole characters in each. */
export function encodeWords(text: string): string[] {
  const words: string[] = [];
  let chunk = '';
  let chunkBytes = 0;
  for (const character of text) {
    const size = utf8.encode(character).length;
    if (chunkBytes + size > WORD_BYTES) {
      words.push(chunk);
      chunk = '';
      chunkBytes = 0;
    }
    chunk += character;
    chunkBytes += size;
  }
  if (chunk !== '') words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${toBase64(utf8.encode(w))}?=`);
}

/** Reads words written by encodeWords, separated by one space once unfolded. */
export function decodeWords(value: string, what: string): string {
  if (value === '') return '';
  let text = '';
  for (const word of value.split(' ')) {
    const m = WORD.exec(word);
    const base64 = m?.[1];
    if (base64 === undefined || base64.length % 4 !== 0) throw new FieldError(`${what} is not a sequence of UTF-8 B encoded-words`);
    const bytes = fromBase64(base64);
    if (bytes.length > WORD_BYTES || toBase64(bytes) !== base64) throw new FieldError(`${what} has a non-canonical encoded-word`);
    text += decodeUtf8(bytes, what);
  }
  return text;
}

export function formatMailbox(p: Practitioner): string {
  return `${encodeWords(p.name).join(FOLD)}${FOLD}<${p.nationalId}@${MAILBOX_DOMAIN}>`;
}

/** Reads one unfolded mailbox. */
export function parseMailbox(value: string, what: string): Practitioner {
  const open = value.lastIndexOf(' <');
  if (open < 0 || !value.endsWith('>')) throw new FieldError(`${what} is not "name <address>"`);
  const address = value.slice(open + 2, -1);
  const at = address.indexOf('@');
  const nationalId = address.slice(0, at);
  if (at < 0 || address.slice(at + 1) !== MAILBOX_DOMAIN || !isNationalId(nationalId)) {
    throw new FieldError(`${what} is not a national identifier at ${MAILBOX_DOMAIN}`);
  }
  return { nationalId, name: decodeWords(value.slice(0, open), `${what} display name`) };
}

export function formatMailboxList(list: readonly Practitioner[]): string {
  return list.map(formatMailbox).join(`,${FOLD}`);
}

/** Reads an unfolded list written by formatMailboxList (encoded-words hold no comma). */
export function parseMailboxList(value: string, what: string): Practitioner[] {
  return value.split(', ').map((item, i) => parseMailbox(item, `${what}[${i}]`));
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DATE = /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat), ([0-9]{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) \+0000$/;

const pad2 = (n: number): string => String(n).padStart(2, '0');

export function formatDate(date: Date): string {
  return (
    `${DAYS[date.getUTCDay()]}, ${pad2(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())} +0000`
  );
}

export function parseDate(value: string): Date {
  const m = DATE.exec(value);
  if (!m) throw new FieldError('Date is not an RFC 5322 UTC date');
  const [, day, dd, month, yyyy, hh, mi, ss] = m as unknown as [string, string, string, string, string, string, string, string];
  const date = new Date(Date.UTC(Number(yyyy), MONTHS.indexOf(month), Number(dd), Number(hh), Number(mi), Number(ss)));
  // Date.UTC rolls 31 Feb over to March: only a date that formats back to the same text exists.
  if (Number.isNaN(date.getTime()) || formatDate(date) !== value || DAYS[date.getUTCDay()] !== day) throw new FieldError('Date does not exist');
  return date;
}

/** RFC 2231 / RFC 5987 attr-char: what a parameter value may hold without percent-encoding. */
const ATTR_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~]$/;

export function encodeFilenameParameter(filename: string): string {
  let out = "filename*=UTF-8''";
  for (const byte of utf8.encode(filename)) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeFilenameParameter(parameter: string): string {
  const m = /^filename\*=UTF-8''((?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})+)$/.exec(parameter);
  if (!m) throw new FieldError("filename is not filename*=UTF-8''…");
  const encoded = m[1] as string;
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    if (encoded[i] === '%') {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(encoded.charCodeAt(i));
    }
  }
  const filename = decodeUtf8(Uint8Array.from(bytes), 'filename');
  if (encodeFilenameParameter(filename) !== parameter) throw new FieldError('filename is not canonically encoded');
  return filename;
}
