// A canonical JSON serialisation for hashing: object keys sorted by UTF-16 code units (as
// RFC 8785 does), no whitespace, strings and numbers written as JSON.stringify writes them
// (ECMAScript number formatting, -0 as 0). The same value always gives the same bytes, whatever
// order its keys were built or read back from a database in. Only JSON values are accepted:
// anything else (undefined in an array, NaN, a Date, a Map, a BigInt, a cycle) throws rather
// than being silently coerced, because a hash over a coerced value would not survive a round
// trip through storage.

export class CanonicalJsonError extends TypeError {
  override readonly name = 'CanonicalJsonError';
}

const MAX_DEPTH = 64;

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function write(value: unknown, depth: number, path: string): string {
  if (depth > MAX_DEPTH) throw new CanonicalJsonError(`${path}: nested deeper than ${MAX_DEPTH}`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${path}: ${value} is not a JSON number`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((item, index) => {
          if (item === undefined) throw new CanonicalJsonError(`${path}[${index}]: undefined is not JSON`);
          return write(item, depth + 1, `${path}[${index}]`);
        }).join(',')}]`;
      }
      if (!isPlainObject(value)) throw new CanonicalJsonError(`${path}: ${Object.prototype.toString.call(value)} is not a plain JSON object`);
      const members: string[] = [];
      for (const key of Object.keys(value).sort()) {
        const member = value[key];
        if (member === undefined) continue; // an absent optional field and an undefined one hash alike
        members.push(`${JSON.stringify(key)}:${write(member, depth + 1, `${path}.${key}`)}`);
      }
      return `{${members.join(',')}}`;
    }
    default:
      throw new CanonicalJsonError(`${path}: ${typeof value} is not JSON`);
  }
}

/** The canonical JSON text of a JSON value. Throws CanonicalJsonError for anything else. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) throw new CanonicalJsonError('$: undefined is not JSON');
  return write(value, 0, '$');
}
