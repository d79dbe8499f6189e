// Escaping for XML 1.0 text and attribute values. Characters XML cannot carry at all (most C0
// controls, lone surrogates, U+FFFE/U+FFFF) become U+FFFD: the document stays well-formed
// whatever a name or a title holds.

const NOT_XML_BMP = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const SURROGATE = /[\uD800-\uDFFF]/;

/** Lone surrogates to U+FFFD (no lookbehind: older Safari cannot parse it). */
function pairSurrogates(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += value[i]! + value[i + 1]!;
        i++;
      } else out += '\uFFFD';
    } else if (c >= 0xdc00 && c <= 0xdfff) out += '\uFFFD';
    else out += value[i]!;
  }
  return out;
}

function clean(value: string): string {
  const text = String(value).replace(NOT_XML_BMP, '\uFFFD');
  return SURROGATE.test(text) ? pairSurrogates(text) : text;
}

export function escapeText(value: string): string {
  return clean(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** For a double-quoted attribute; tabs and line breaks as references so that parsers keep them. */
export function escapeAttribute(value: string): string {
  return clean(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/** `<name a="…" b="…"/>` or `<name …>children</name>`; attributes with undefined values are left out. */
export function element(name: string, attributes: Record<string, string | undefined>, ...children: string[]): string {
  const attrs = Object.entries(attributes)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => ` ${key}="${escapeAttribute(value)}"`)
    .join('');
  return children.length === 0 ? `<${name}${attrs}/>` : `<${name}${attrs}>${children.join('')}</${name}>`;
}

/** An element holding escaped text. */
export function textElement(name: string, text: string, attributes: Record<string, string | undefined> = {}): string {
  return element(name, attributes, escapeText(text));
}
