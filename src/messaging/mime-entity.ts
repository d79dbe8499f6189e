// The shape shared by every MIME entity this library writes: 7-bit text with CRLF line breaks
// only, lines of at most 998 characters (RFC 5322 §2.1.1), a header section, an empty line, a
// body. The reader refuses anything else, duplicate fields, and fields it does not expect.

export const CRLF = '\r\n';
const ascii = new TextDecoder('utf-8'); // on 7-bit bytes, ASCII
const MAX_LINE_LENGTH = 998;

export class EntityError extends Error {
  override readonly name = 'EntityError';
}

/** The bytes as text, when they are 7-bit with no NUL and no CR or LF outside a CRLF. */
export function asciiText(bytes: Uint8Array, what: string): string {
  const length = bytes.length;
  let previous = 0;
  for (let i = 0; i < length; i++) {
    const byte = bytes[i] as number;
    if (byte === 0 || byte > 0x7f) throw new EntityError(`${what}: byte ${i} is not 7-bit text`);
    // A CR must be followed by LF, and an LF preceded by CR. (Indexes stay in bounds: reading
    // past the end of a typed array makes V8 drop to a slow path for the whole loop.)
    if ((previous === 13) !== (byte === 10)) throw new EntityError(`${what}: a line break is not CRLF`);
    previous = byte;
  }
  if (previous === 13) throw new EntityError(`${what}: a line break is not CRLF`);
  return ascii.decode(bytes);
}

/** The bytes of header text being written (always 7-bit: text fields travel as encoded-words). */
export function asciiBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) throw new EntityError('non-ASCII character in a MIME entity being written');
    bytes[i] = code;
  }
  return bytes;
}

export interface Entity {
  /** Lower-case field name -> unfolded value (folding CRLFs removed, leading space dropped). */
  readonly fields: ReadonlyMap<string, string>;
  /** Everything after the empty line. */
  readonly body: string;
}

/**
 * Splits an entity into its header fields and body. `allowed` lists the field names (lower
 * case) that may appear, `required` those that must; each appears at most once.
 */
export function parseEntity(text: string, what: string, allowed: readonly string[], required: readonly string[], maxHeaderBytes: number): Entity {
  const end = text.indexOf(CRLF + CRLF);
  if (end < 0 || end > maxHeaderBytes) throw new EntityError(`${what}: no header section within ${maxHeaderBytes} bytes`);
  const lines = text.slice(0, end).split(CRLF);
  const fields = new Map<string, string>();
  let current: { name: string; value: string } | undefined;
  const flush = (): void => {
    if (!current) return;
    if (fields.has(current.name)) throw new EntityError(`${what}: field ${current.name} appears twice`);
    fields.set(current.name, current.value);
  };
  for (const line of lines) {
    if (line.length > MAX_LINE_LENGTH) throw new EntityError(`${what}: header line longer than ${MAX_LINE_LENGTH}`);
    if (line.startsWith(' ')) {
      // A folded continuation: RFC 5322 unfolding removes the CRLF and keeps the space.
      if (!current || line.trim() === '') throw new EntityError(`${what}: misplaced folded line`);
      current.value += line;
      continue;
    }
    flush();
    const m = /^([A-Za-z][A-Za-z0-9-]*):( ?)(.*)$/.exec(line);
    if (!m) throw new EntityError(`${what}: not a header field`);
    const name = (m[1] as string).toLowerCase();
    if (!allowed.includes(name)) throw new EntityError(`${what}: unexpected field ${name}`);
    if (m[2] === '' && m[3] !== '') throw new EntityError(`${what}: no space after ${name}:`);
    current = { name, value: m[3] as string };
  }
  flush();
  for (const name of required) if (!fields.has(name)) throw new EntityError(`${what}: field ${name} missing`);
  // A folded value begins its continuation with the space that separated the two parts.
  for (const [name, value] of fields) if (value !== value.trimEnd() || value.startsWith(' ')) throw new EntityError(`${what}: ${name} has stray spaces`);
  return { fields, body: text.slice(end + 4) };
}

/** The field that parseEntity required (present by construction). */
export function field(entity: Entity, name: string): string {
  const value = entity.fields.get(name);
  if (value === undefined) throw new EntityError(`field ${name} missing`);
  return value;
}

/** A header field line, value folded by the caller with FOLD where it is long. */
export function headerLine(name: string, value: string): string {
  return value === '' ? `${name}:` : `${name}: ${value}`;
}
