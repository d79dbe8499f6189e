// A strict XML parse for the tests (saxes: a conformant parser that reports every
// well-formedness error, character validity included) into a small tree to query.
import { SaxesParser } from 'saxes';

export interface XmlElement {
  /** Local name. */
  name: string;
  /** Namespace URI. */
  uri: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** Throws on the first well-formedness error. */
export function parseXmlStrict(text: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let failure: Error | undefined;
  parser.on('error', (error) => {
    failure ??= error;
  });
  parser.on('opentag', (tag) => {
    const attributes: Record<string, string> = {};
    for (const [name, attribute] of Object.entries(tag.attributes)) attributes[name] = typeof attribute === 'string' ? attribute : attribute.value;
    const element: XmlElement = { name: tag.local ?? tag.name, uri: tag.uri ?? '', attributes, children: [], text: '' };
    stack.at(-1)?.children.push(element);
    root ??= element;
    stack.push(element);
  });
  parser.on('text', (value) => {
    const current = stack.at(-1);
    if (current) current.text += value;
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.write(text).close();
  if (failure) throw failure;
  if (!root) throw new Error('no root element');
  return root;
}

/** The element at a path of local names below `from` (first match at each step). */
export function child(from: XmlElement, ...path: string[]): XmlElement {
  let current = from;
  for (const name of path) {
    const next = current.children.find((c) => c.name === name);
    if (!next) throw new Error(`no <${name}> under <${current.name}>`);
    current = next;
  }
  return current;
}
