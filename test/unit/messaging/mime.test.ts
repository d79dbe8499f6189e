// The MIME entity of a secure message: what encodeMime writes (RFC 5322/2045/2046/2047/2231), that
// parseMime reads it back exactly, and that parseMime refuses what encodeMime would not write.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Lines, encodeBase64Lines } from '../../../src/messaging/base64-lines.js';
import { isMessageError } from '../../../src/messaging/errors.js';
import { MAX_ATTACHMENTS_BYTES } from '../../../src/messaging/limits.js';
import type { SecureMessage } from '../../../src/messaging/message-model.js';
import { encodeMime } from '../../../src/messaging/mime-encode.js';
import { parseMime } from '../../../src/messaging/mime-parse.js';
import { samplePdf } from './sample-pdf.js';

const doctor = { nationalId: '99900000101', name: 'SOPHIE MARTIN' };
const nurse = { nationalId: '99900000103', name: 'CLAIRE PETIT' };

function message(overrides: Partial<SecureMessage> = {}): SecureMessage {
  return {
    from: doctor,
    to: [nurse],
    subject: 'Compte rendu — Mme Hélène Dupré',
    date: new Date('2025-03-04T10:15:42Z'),
    body: 'Bonjour,\n\nCi-joint le compte rendu.\nBien à vous',
    attachments: [{ filename: 'compte-rendu Dupré.pdf', mediaType: 'application/pdf', content: samplePdf() }],
    ...overrides,
  };
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

function expectCode(fn: () => unknown, code: string, reason?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(isMessageError(thrown), `expected a MessageError ${code}, got ${String(thrown)}`).toBe(true);
  expect((thrown as { code: string }).code).toBe(code);
  if (reason) expect((thrown as Error).message).toMatch(reason);
}

/** Replaces the first occurrence of `from` (which must be there). */
function replaced(entity: Uint8Array, from: string, to: string): Uint8Array {
  const s = text(entity);
  expect(s.includes(from), `entity contains ${JSON.stringify(from)}`).toBe(true);
  return bytes(s.replace(from, to));
}

describe('encodeMime', () => {
  it('writes a 7-bit multipart/mixed RFC 5322 message: UTF-8 encoded-words, base64 parts, CRLF, short lines', () => {
    const entity = encodeMime(message({ subject: 'Compte rendu — Mme Hélène Dupré, suivi post-opératoire de la hanche gauche' }));
    const s = text(entity);
    expect([...entity].every((b) => b > 0 && b < 0x80)).toBe(true);
    expect(s).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
    const [header, ...rest] = s.split('\r\n\r\n');
    expect(header).toMatch(/^MIME-Version: 1\.0\r\nDate: Tue, 04 Mar 2025 10:15:42 \+0000\r\n/);
    expect(header).toContain('From: =?UTF-8?B?U09QSElFIE1BUlRJTg==?=\r\n <99900000101@messagerie.cardbridge.invalid>');
    expect(header).toMatch(/\r\nSubject: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=/);
    expect(header).toMatch(/\r\nContent-Type: multipart\/mixed;\r\n boundary="=_cb_[0-9a-f]{32}"$/);
    // The subject never travels in clear, and each encoded-word is at most 75 characters.
    expect(s).not.toContain('Hélène');
    expect(s).not.toContain('Compte rendu');
    const words = s.match(/=\?UTF-8\?B\?[^?]*\?=/g) ?? [];
    expect(words.length).toBeGreaterThan(3); // From, To and a subject folded over two words
    for (const word of words) expect(word.length).toBeLessThanOrEqual(75);
    for (const line of s.split('\r\n')) expect(line.length).toBeLessThanOrEqual(78);
    expect(rest.join('\r\n\r\n')).toContain("Content-Disposition: attachment;\r\n filename*=UTF-8''compte-rendu%20Dupr%C3%A9.pdf");
    expect(s).toContain('Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64');
    expect(s).toContain('Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64');
    expect(s.endsWith('--\r\n')).toBe(true);
  });

  it('gives every message its own boundary', () => {
    const boundary = (e: Uint8Array) => /boundary="([^"]+)"/.exec(text(e))?.[1];
    expect(boundary(encodeMime(message()))).not.toBe(boundary(encodeMime(message())));
  });

  it('sends the body with CRLF line breaks (MIME canonical text) and reads it back with "\\n"', () => {
    const entity = encodeMime(message({ body: 'a\r\nb\nc\rd' }));
    const base64 = /charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n([^\r]*)\r\n/.exec(text(entity))?.[1] ?? '';
    expect(Buffer.from(base64, 'base64').toString('utf8')).toBe('a\r\nb\r\nc\r\nd');
    expect(parseMime(entity).body).toBe('a\nb\nc\nd');
  });

  it('refuses a message that breaks a rule, as INVALID_INPUT', () => {
    const pdf = { filename: 'a.pdf', mediaType: 'application/pdf', content: new Uint8Array(1) };
    const cases: [string, Partial<SecureMessage>][] = [
      ['from.nationalId', { from: { nationalId: '8' + doctor.nationalId, name: 'X' } }],
      ['to must list', { to: [] }],
      ['a second time', { to: [nurse, { ...nurse, name: 'AUTRE' }] }],
      ['name', { to: [{ nationalId: '123456789', name: 'bad\r\nBcc: evil' }] }],
      ['subject', { subject: 'Objet\r\nBcc: x@y' }],
      ['date', { date: new Date('invalid') }],
      ['path separator', { attachments: [{ ...pdf, filename: '../../etc/passwd' }] }],
      ['path separator', { attachments: [{ ...pdf, filename: 'C:\\x.pdf' }] }],
      ['UTF-8 bytes', { attachments: [{ ...pdf, filename: 'é'.repeat(128) }] }],
      ['composite', { attachments: [{ ...pdf, mediaType: 'multipart/mixed' }] }],
      ['lower-case', { attachments: [{ ...pdf, mediaType: 'Application/PDF' }] }],
      ['lower-case', { attachments: [{ ...pdf, mediaType: 'application/pdf; name=x' }] }],
      ['bytes', { attachments: [{ ...pdf, content: 'text' as unknown as Uint8Array }] }],
      ['lone surrogate', { body: 'x\uD800y' }],
    ];
    for (const [reason, overrides] of cases) expectCode(() => encodeMime(message(overrides)), 'INVALID_INPUT', new RegExp(reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  });

  it('accepts attachments adding up to exactly 10 MiB and refuses one byte more (ATTACHMENT_TOO_LARGE)', () => {
    const half = new Uint8Array(MAX_ATTACHMENTS_BYTES / 2);
    const a = { filename: 'a.bin', mediaType: 'application/octet-stream', content: half };
    expect(() => encodeMime(message({ attachments: [a, { ...a, filename: 'b.bin' }] }))).not.toThrow();
    expectCode(() => encodeMime(message({ attachments: [a, { ...a, filename: 'b.bin', content: new Uint8Array(half.length + 1) }] })), 'ATTACHMENT_TOO_LARGE');
  });

  it('refuses a body over 1 MiB (MESSAGE_TOO_LARGE)', () => {
    expectCode(() => encodeMime(message({ body: 'x'.repeat(1024 * 1024 + 1) })), 'MESSAGE_TOO_LARGE');
  });
});

describe('parseMime', () => {
  it('reads back exactly what encodeMime wrote: several addressees, empty subject, empty body, empty attachment', () => {
    const original = message({
      to: [nurse, { nationalId: '123456789', name: 'Jean-Émile N’Guyen (ADELI)' }, { nationalId: '99900000104', name: 'THOMAS LEROY' }],
      subject: '',
      body: '',
      attachments: [
        { filename: 'vide.txt', mediaType: 'text/plain', content: new Uint8Array(0) },
        { filename: 'résultats 2025 — 患者 🙂.pdf', mediaType: 'application/pdf', content: samplePdf() },
        { filename: "a+b=c;d'e\"f%.hl7", mediaType: 'application/x-hl7', content: new Uint8Array([0, 1, 2, 253, 254, 255]) },
      ],
    });
    expect(parseMime(encodeMime(original))).toEqual(original);
  });

  it('round-trips any well-formed message (property)', () => {
    const cleanText = (max: number) => fc.string({ unit: 'grapheme', maxLength: max }).filter((s) => !/[\u0000-\u001f\u007f-\u009f]/.test(s));
    const practitioner = fc.record({
      nationalId: fc.oneof(fc.stringMatching(/^[0-9]{11}$/), fc.stringMatching(/^[0-9]{9}$/)),
      name: cleanText(60).filter((s) => s.trim() !== ''),
    });
    const attachment = fc.record({
      filename: cleanText(40).filter((s) => s !== '' && s !== '.' && s !== '..' && !/[/\\]/.test(s) && Buffer.byteLength(s) <= 255),
      mediaType: fc.constantFrom('application/pdf', 'image/jpeg', 'text/plain', 'application/vnd.ms-excel'),
      content: fc.uint8Array({ maxLength: 300 }),
    });
    fc.assert(
      fc.property(
        practitioner,
        fc.uniqueArray(practitioner, { minLength: 1, maxLength: 5, selector: (p) => p.nationalId }),
        cleanText(200),
        fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2199-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.array(attachment, { maxLength: 4 }),
        (from, to, subject, date, body, attachments) => {
          const m: SecureMessage = { from, to, subject, date: new Date(Math.floor(date.getTime() / 1000) * 1000), body: body.replace(/\r\n?/g, '\n'), attachments };
          expect(parseMime(encodeMime(m))).toEqual(m);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps whole seconds of the date (RFC 5322 has no milliseconds)', () => {
    expect(parseMime(encodeMime(message({ date: new Date('2025-03-04T10:15:42.987Z') }))).date.toISOString()).toBe('2025-03-04T10:15:42.000Z');
  });

  it('refuses what encodeMime would not write (MALFORMED)', () => {
    const entity = encodeMime(message());
    const s = text(entity);
    const boundary = /boundary="([^"]+)"/.exec(s)?.[1] as string;
    const cases: [string, Uint8Array][] = [
      ['LF line breaks', bytes(s.replace(/\r\n/g, '\n'))],
      ['8-bit byte', replaced(entity, 'MIME-Version: 1.0', 'MIME-Version: 1.0\xe9')],
      ['NUL byte', replaced(entity, 'MIME-Version: 1.0', 'MIME-Version: 1.0\x00')],
      ['unknown field', replaced(entity, 'MIME-Version: 1.0\r\n', 'MIME-Version: 1.0\r\nBcc: =?UTF-8?B?WA==?= <123456789@messagerie.cardbridge.invalid>\r\n')],
      ['duplicate field', replaced(entity, 'MIME-Version: 1.0\r\n', 'MIME-Version: 1.0\r\nMIME-Version: 1.0\r\n')],
      ['missing field', replaced(entity, 'MIME-Version: 1.0\r\n', '')],
      ['MIME version', replaced(entity, 'MIME-Version: 1.0', 'MIME-Version: 2.0')],
      ['31 February', replaced(entity, 'Tue, 04 Mar 2025', 'Mon, 31 Feb 2025')],
      ['wrong weekday', replaced(entity, 'Tue, 04 Mar 2025', 'Wed, 04 Mar 2025')],
      ['local time zone', replaced(entity, '10:15:42 +0000', '11:15:42 +0100')],
      ['clear subject', bytes(s.replace(/Subject: [^\r]*(\r\n [^\r]*)*/, 'Subject: Compte rendu'))],
      ['other charset', bytes(s.replace(/Subject: =\?UTF-8\?B\?/, 'Subject: =?ISO-8859-1?B?'))],
      ['foreign domain', replaced(entity, '99900000103@messagerie.cardbridge.invalid', '99900000103@example.org')],
      ['address not a national id', replaced(entity, '<99900000103@', '<claire.petit@')],
      ['other content type', replaced(entity, 'multipart/mixed;', 'multipart/alternative;')],
      ['unquoted boundary', replaced(entity, `boundary="${boundary}"`, `boundary=${boundary}`)],
      ['preamble', replaced(entity, `\r\n\r\n--${boundary}\r\n`, `\r\n\r\nThis is a multi-part message.\r\n--${boundary}\r\n`)],
      ['epilogue', bytes(`${s}trailing text\r\n`)],
      ['no closing delimiter', bytes(s.replace(`--${boundary}--\r\n`, ''))],
      ['closing delimiter inside', replaced(entity, `\r\n--${boundary}\r\nContent-Type: application/pdf`, `\r\n--${boundary}--\r\n--${boundary}\r\nContent-Type: application/pdf`)],
      ['body not first', replaced(entity, 'Content-Type: text/plain; charset=UTF-8', 'Content-Type: text/html; charset=UTF-8')],
      ['quoted-printable', replaced(entity, 'application/pdf\r\nContent-Transfer-Encoding: base64', 'application/pdf\r\nContent-Transfer-Encoding: quoted-printable')],
      ['inline disposition', replaced(entity, 'Content-Disposition: attachment;', 'Content-Disposition: inline;')],
      ['plain filename', bytes(s.replace(/filename\*=UTF-8''[^\r]*/, 'filename="a.pdf"'))],
      ['lower-case percent', replaced(entity, 'Dupr%C3%A9', 'Dupr%c3%a9')],
      ['path in filename', bytes(s.replace(/filename\*=UTF-8''[^\r]*/, "filename*=UTF-8''..%2Fetc%2Fpasswd"))],
      ['base64 short line', bytes(s.replace(/\r\n([A-Za-z0-9+/]{76})\r\n/, '\r\n$1\r\n\r\n'))],
      ['base64 outside alphabet', bytes(s.replace(/\r\n([A-Za-z0-9+/]{75})[A-Za-z0-9+/]\r\n/, '\r\n$1*\r\n'))],
      ['base64 pad bits', replaced(encodeMime(message({ attachments: [{ filename: 'z', mediaType: 'application/octet-stream', content: Uint8Array.of(0) }] })), '\r\nAA==\r\n', '\r\nAB==\r\n')],
      ['long line', replaced(entity, 'MIME-Version: 1.0', `MIME-Version: 1.0${' '.repeat(1000)}`)],
      ['misplaced fold', replaced(entity, 'MIME-Version: 1.0\r\n', 'MIME-Version: 1.0\r\n \r\n')],
    ];
    for (const [what, input] of cases) {
      let thrown: unknown;
      try {
        parseMime(input);
      } catch (error) {
        thrown = error;
      }
      expect((thrown as { code?: string } | undefined)?.code, what).toBe('MALFORMED');
    }
    // and the unaltered entity does parse: each case fails because of its change
    expect(parseMime(entity).subject).toBe('Compte rendu — Mme Hélène Dupré');
  });

  it('refuses attachments adding up to more than 10 MiB (ATTACHMENT_TOO_LARGE)', () => {
    const size = 5.5 * 1024 * 1024;
    const six = { filename: 'a.bin', mediaType: 'application/octet-stream', content: new Uint8Array(size) };
    const s = text(encodeMime(message({ attachments: [six] })));
    // the same attachment part twice: an entity encodeMime would never write
    const boundary = /boundary="([^"]+)"/.exec(s)?.[1] as string;
    const start = s.indexOf(`--${boundary}\r\nContent-Type: application/octet-stream`);
    const end = s.indexOf(`--${boundary}--`);
    const doubled = s.slice(0, end) + s.slice(start, end) + s.slice(end);
    expectCode(() => parseMime(bytes(doubled)), 'ATTACHMENT_TOO_LARGE');
    expect(parseMime(bytes(s)).attachments[0]?.content.length).toBe(size);
  });

  it('refuses an entity larger than the largest message (MESSAGE_TOO_LARGE) and non-bytes (INVALID_INPUT)', () => {
    expectCode(() => parseMime(new Uint8Array(20 * 1024 * 1024)), 'MESSAGE_TOO_LARGE');
    expectCode(() => parseMime('MIME-Version: 1.0' as unknown as Uint8Array), 'INVALID_INPUT');
  });
});

describe('base64 lines', () => {
  it("are Node's base64 cut in 76-character lines joined by CRLF, and decode back, for every length up to 400", () => {
    for (let n = 0; n <= 400; n++) {
      const data = new Uint8Array(n).map((_, i) => (i * 151 + n) & 0xff);
      const expected = (Buffer.from(data).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
      const encoded = encodeBase64Lines(data);
      expect(Buffer.from(encoded).toString('latin1'), `length ${n}`).toBe(expected);
      expect(decodeBase64Lines(expected), `length ${n}`).toEqual(data);
    }
  });

  it('refuse a trailing CRLF, a missing line break and padding in the middle', () => {
    const line = 'A'.repeat(76);
    expect(() => decodeBase64Lines(`${line}\r\n`)).toThrow(/line break/);
    expect(() => decodeBase64Lines(`${line}AAAA`)).toThrow(/line break/);
    expect(() => decodeBase64Lines('AA==AAAA')).toThrow(/alphabet/);
    expect(decodeBase64Lines(`${line}\r\nAA==`).length).toBe(58);
  });
});
