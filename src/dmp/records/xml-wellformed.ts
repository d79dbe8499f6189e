// A small, safe XML 1.0 well-formedness checker for the documents sent to the DMP (CDA R2). It
// reads the text once, without building a tree, and reports each start tag (namespace resolved)
// with its ancestors to a callback. It never loads anything: a DOCTYPE (hence any DTD, external
// entity or entity expansion) is refused outright, and the only references are the five
// predefined entities and character references. Anything not well-formed throws XmlError.
//
// Checked: legal characters, the XML declaration (version 1.x, encoding UTF-8 when named), one
// root element, matching tags, names, attributes (quoted, unique, no `<`, valid references),
// comments (no `--`), processing instructions (target not `xml`), CDATA only inside the root,
// no `]]>` in text, namespace prefixes bound (Namespaces in XML 1.0), and a maximum depth.

export class XmlError extends Error {
  override readonly name = 'XmlError';

  constructor(
    message: string,
    /** Offset (UTF-16 code units) in the text where the problem was found. */
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface XmlStartElement {
  /** Namespace URI, or null for none. */
  readonly namespace: string | null;
  readonly localName: string;
  /** Attribute values (references decoded, whitespace normalised). Key: the local name for unprefixed attributes, `{uri}local` otherwise. */
  readonly attributes: ReadonlyMap<string, string>;
}

export interface XmlCheckOptions {
  /** Deepest nesting accepted (default 256). */
  readonly maxDepth?: number;
  /** Called for each start tag, with its ancestors (outermost first). */
  readonly onStartElement?: (element: XmlStartElement, ancestors: readonly XmlStartElement[]) => void;
}

export const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

const NAME_START = ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const NAME = new RegExp(`[${NAME_START}][${NAME_CHAR}]*`, 'uy');
/** Characters XML 1.0 does not allow anywhere (lone surrogates included). */
const ILLEGAL_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const XML_DECLARATION = /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.[0-9]+\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])([A-Za-z][A-Za-z0-9._-]*)\2)?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(?:yes|no)\4)?[ \t\r\n]*\?>/y;
const REFERENCE = /&(?:(lt|gt|amp|apos|quot)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));/y;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';

function legalCodePoint(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

interface OpenElement {
  readonly qname: string;
  readonly scope: ReadonlyMap<string, string>;
  readonly element: XmlStartElement;
}

class Checker {
  private i = 0;
  private readonly stack: OpenElement[] = [];
  private readonly ancestors: XmlStartElement[] = [];
  private rootSeen = false;
  private readonly maxDepth: number;

  constructor(
    private readonly text: string,
    private readonly options: XmlCheckOptions,
  ) {
    this.maxDepth = options.maxDepth ?? 256;
  }

  private fail(message: string, offset = this.i): never {
    throw new XmlError(message, offset);
  }

  private name(at: number): string {
    NAME.lastIndex = at;
    const match = NAME.exec(this.text);
    if (!match) this.fail('nom XML attendu', at);
    return match[0];
  }

  private skipSpaces(): boolean {
    const start = this.i;
    while (isSpace(this.text[this.i])) this.i++;
    return this.i > start;
  }

  /** Checks the references of a text run or attribute value; returns it decoded. */
  private references(raw: string, offset: number, decode: boolean): string {
    let amp = raw.indexOf('&');
    if (amp < 0) return raw;
    let out = '';
    let from = 0;
    while (amp >= 0) {
      REFERENCE.lastIndex = amp;
      const match = REFERENCE.exec(raw);
      if (!match) this.fail('référence d’entité non autorisée (seules &lt; &gt; &amp; &apos; &quot; et &#…; le sont)', offset + amp);
      let replacement: string;
      if (match[1] !== undefined) replacement = PREDEFINED[match[1]] as string;
      else {
        const cp = match[2] !== undefined ? Number.parseInt(match[2], 10) : Number.parseInt(match[3] as string, 16);
        if (!legalCodePoint(cp)) this.fail('référence de caractère interdit', offset + amp);
        replacement = String.fromCodePoint(cp);
      }
      if (decode) out += raw.slice(from, amp) + replacement;
      from = amp + match[0].length;
      amp = raw.indexOf('&', from);
    }
    return decode ? out + raw.slice(from) : raw;
  }

  private declaration(): void {
    if (!this.text.startsWith('<?xml') || !(isSpace(this.text[5]) || this.text[5] === '?')) return;
    XML_DECLARATION.lastIndex = 0;
    const match = XML_DECLARATION.exec(this.text);
    if (!match) this.fail('déclaration XML mal formée', 0);
    const encoding = match[3];
    if (encoding !== undefined && !/^utf-?8$/i.test(encoding)) this.fail(`encodage ${encoding} non accepté (UTF-8 attendu)`, 0);
    this.i = match[0].length;
  }

  private comment(): void {
    const end = this.text.indexOf('-->', this.i + 4);
    if (end < 0) this.fail('commentaire non terminé');
    const body = this.text.slice(this.i + 4, end);
    if (body.includes('--') || body.endsWith('-')) this.fail('« -- » interdit dans un commentaire');
    this.i = end + 3;
  }

  private processingInstruction(): void {
    const target = this.name(this.i + 2);
    if (target.toLowerCase() === 'xml') this.fail('déclaration XML ailleurs qu’au tout début du document');
    if (target.includes(':')) this.fail('cible d’instruction de traitement invalide');
    const after = this.i + 2 + target.length;
    if (!this.text.startsWith('?>', after) && !isSpace(this.text[after])) this.fail('instruction de traitement mal formée', after);
    const end = this.text.indexOf('?>', after);
    if (end < 0) this.fail('instruction de traitement non terminée');
    this.i = end + 2;
  }

  private cdata(): void {
    if (this.stack.length === 0) this.fail('section CDATA hors de l’élément racine');
    const end = this.text.indexOf(']]>', this.i + 9);
    if (end < 0) this.fail('section CDATA non terminée');
    this.i = end + 3;
  }

  private textRun(end: number): void {
    const run = this.text.slice(this.i, end);
    const cdataEnd = run.indexOf(']]>');
    if (cdataEnd >= 0) this.fail('« ]]> » interdit dans le texte', this.i + cdataEnd);
    this.references(run, this.i, false);
    this.i = end;
  }

  private endTag(): void {
    const start = this.i;
    const qname = this.name(this.i + 2);
    this.i += 2 + qname.length;
    this.skipSpaces();
    if (this.text[this.i] !== '>') this.fail('balise fermante mal formée');
    this.i++;
    const open = this.stack.pop();
    if (!open) this.fail(`balise fermante </${qname.slice(0, 60)}> sans élément ouvert`, start);
    if (open.qname !== qname) this.fail(`</${qname.slice(0, 60)}> ferme <${open.qname.slice(0, 60)}>`, start);
    this.ancestors.pop();
  }

  private splitQName(qname: string, at: number): [string | null, string] {
    const colon = qname.indexOf(':');
    if (colon < 0) return [null, qname];
    const prefix = qname.slice(0, colon);
    const local = qname.slice(colon + 1);
    if (prefix === '' || local === '' || local.includes(':')) this.fail(`nom qualifié invalide : ${qname.slice(0, 60)}`, at);
    return [prefix, local];
  }

  private startTag(): void {
    const start = this.i;
    if (this.stack.length === 0 && this.rootSeen) this.fail('un seul élément racine est permis');
    const qname = this.name(this.i + 1);
    this.i += 1 + qname.length;
    const raw: [string, string, number][] = [];
    const seen = new Set<string>();
    let selfClosing = false;
    for (;;) {
      const spaced = this.skipSpaces();
      const c = this.text[this.i];
      if (c === '>') {
        this.i++;
        break;
      }
      if (c === '/' && this.text[this.i + 1] === '>') {
        this.i += 2;
        selfClosing = true;
        break;
      }
      if (c === undefined) this.fail('balise ouvrante non terminée', start);
      if (!spaced) this.fail('espace attendu avant un attribut');
      const attrAt = this.i;
      const attrName = this.name(this.i);
      this.i += attrName.length;
      this.skipSpaces();
      if (this.text[this.i] !== '=') this.fail('« = » attendu après le nom d’attribut');
      this.i++;
      this.skipSpaces();
      const quote = this.text[this.i];
      if (quote !== '"' && quote !== "'") this.fail('valeur d’attribut entre guillemets attendue');
      const end = this.text.indexOf(quote, this.i + 1);
      if (end < 0) this.fail('valeur d’attribut non terminée');
      const value = this.text.slice(this.i + 1, end);
      const lt = value.indexOf('<');
      if (lt >= 0) this.fail('« < » interdit dans une valeur d’attribut', this.i + 1 + lt);
      if (seen.has(attrName)) this.fail(`attribut ${attrName.slice(0, 60)} répété`, attrAt);
      seen.add(attrName);
      const decoded = this.references(value, this.i + 1, true).replace(/[\t\n\r]/g, ' ');
      raw.push([attrName, decoded, attrAt]);
      this.i = end + 1;
    }

    // namespaces: declarations first, then the element's and the attributes' prefixes
    const parentScope = this.stack.at(-1)?.scope ?? new Map<string, string>([['xml', XML_NAMESPACE]]);
    let scope = parentScope;
    for (const [attrName, value, at] of raw) {
      if (attrName !== 'xmlns' && !attrName.startsWith('xmlns:')) continue;
      if (scope === parentScope) scope = new Map(parentScope);
      const prefix = attrName === 'xmlns' ? '' : attrName.slice(6);
      if (prefix === 'xmlns' || (prefix === 'xml' && value !== XML_NAMESPACE) || (prefix !== 'xml' && value === XML_NAMESPACE) || value === XMLNS_NAMESPACE) {
        this.fail('déclaration d’espace de noms réservée', at);
      }
      if (prefix !== '' && (prefix.includes(':') || value === '')) this.fail('déclaration de préfixe invalide', at);
      (scope as Map<string, string>).set(prefix, value);
    }
    const [prefix, localName] = this.splitQName(qname, start);
    const defaultNs = scope.get('') ?? '';
    let namespace: string | null;
    if (prefix === null) namespace = defaultNs === '' ? null : defaultNs;
    else {
      const bound = scope.get(prefix);
      if (bound === undefined) this.fail(`préfixe ${prefix.slice(0, 40)} non déclaré`, start);
      namespace = bound;
    }
    const attributes = new Map<string, string>();
    for (const [attrName, value, at] of raw) {
      if (attrName === 'xmlns' || attrName.startsWith('xmlns:')) continue;
      const [attrPrefix, attrLocal] = this.splitQName(attrName, at);
      let key = attrLocal;
      if (attrPrefix !== null) {
        const bound = scope.get(attrPrefix);
        if (bound === undefined) this.fail(`préfixe ${attrPrefix.slice(0, 40)} non déclaré`, at);
        key = `{${bound}}${attrLocal}`;
      }
      if (attributes.has(key)) this.fail(`attribut ${attrName.slice(0, 60)} répété (même espace de noms)`, at);
      attributes.set(key, value);
    }

    const element: XmlStartElement = { namespace, localName, attributes };
    this.rootSeen = true;
    this.options.onStartElement?.(element, this.ancestors);
    if (!selfClosing) {
      if (this.stack.length >= this.maxDepth) this.fail(`imbrication plus profonde que ${this.maxDepth} éléments`, start);
      this.stack.push({ qname, scope, element });
      this.ancestors.push(element);
    }
  }

  run(): void {
    const illegal = ILLEGAL_CHAR.exec(this.text);
    if (illegal) this.fail('caractère interdit en XML', illegal.index);
    this.declaration();
    const text = this.text;
    for (;;) {
      if (this.stack.length === 0) {
        this.skipSpaces();
        if (this.i >= text.length) break;
        if (text[this.i] !== '<') this.fail(this.rootSeen ? 'texte après l’élément racine' : 'texte avant l’élément racine');
      } else {
        const next = text.indexOf('<', this.i);
        if (next < 0) this.fail(`élément <${this.stack.at(-1)?.qname.slice(0, 60)}> non fermé`, text.length);
        if (next > this.i) this.textRun(next);
      }
      if (text.startsWith('<!--', this.i)) this.comment();
      else if (text.startsWith('<![CDATA[', this.i)) this.cdata();
      else if (text.startsWith('<!DOCTYPE', this.i)) this.fail('DOCTYPE refusé : ni DTD ni entités déclarées');
      else if (text.startsWith('<!', this.i)) this.fail('déclaration de balisage non autorisée');
      else if (text.startsWith('<?', this.i)) this.processingInstruction();
      else if (text.startsWith('</', this.i)) this.endTag();
      else this.startTag();
    }
    if (!this.rootSeen) this.fail('aucun élément racine', text.length);
  }
}

/** Throws XmlError unless `text` is a well-formed XML 1.0 document (namespace-well-formed, no DOCTYPE). */
export function checkWellFormedXml(text: string, options: XmlCheckOptions = {}): void {
  new Checker(text, options).run();
}
