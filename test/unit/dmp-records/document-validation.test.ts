// Document validation on its own: the XML well-formedness checker (no DTD, no external entity,
// no entity expansion), CDA R2 / PDF detection and the CDA patient's INS, the metadata part, and
// the identity of a new DMP (consent, INS, traits).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INS_C_OID, INS_NIA_OID, INS_NIR_TEST_OID, computeInsC, nirKey } from '../../../src/ins/index.js';
import {
  checkWellFormedXml,
  decodeCursor,
  detectDocumentFormat,
  encodeCursor,
  parseDocumentMetadata,
  parseNewPatient,
  XmlError,
} from '../../../src/dmp/records/index.js';
import { cdaDocument, freshIns } from './support.js';

const NOW = new Date('2025-03-12T09:30:00Z');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).name;
  }
};

describe('XML well-formedness', () => {
  const ok = [
    '<a/>',
    '<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><a x="1" y=\'2\'><b>t &amp; &lt; &#233; &#x1F600;</b><![CDATA[<not markup>]]><?pi data?></a>\n',
    '<p:a xmlns:p="urn:x" p:attr="v"><p:b/></p:a>',
    '<a xmlns="urn:x"><b xmlns=""/></a>',
  ];
  const bad: [string, string][] = [
    ['<a>', 'unclosed'],
    ['<a></b>', 'mismatched'],
    ['<a/><b/>', 'two roots'],
    ['text<a/>', 'text before root'],
    ['<a x="1" x="2"/>', 'repeated attribute'],
    ['<a x=1/>', 'unquoted attribute'],
    ['<a x="<"/>', '< in attribute'],
    ['<a>&nbsp;</a>', 'undeclared entity'],
    ['<a>&#0;</a>', 'illegal character reference'],
    ['<a>]]></a>', ']]> in text'],
    ['<a><!-- a -- b --></a>', '-- in comment'],
    ['<p:a/>', 'unbound prefix'],
    ['<a xmlns:p="urn:1" xmlns:q="urn:1" p:x="1" q:x="2"/>', 'same expanded attribute twice'],
    ['<a>\u0001</a>', 'illegal character'],
    ['<?xml version="1.0" encoding="ISO-8859-1"?><a/>', 'not UTF-8'],
    [' <?xml version="1.0"?><a/>', 'late declaration'],
    ['<![CDATA[x]]><a/>', 'CDATA outside root'],
    ['<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>', 'external entity'],
    ['<!DOCTYPE a [<!ENTITY l "lol"><!ENTITY l2 "&l;&l;&l;">]><a>&l2;</a>', 'entity expansion'],
    ['<!doctype a><a/>', 'lower-case doctype'],
  ];

  it('accepts well-formed documents', () => {
    for (const text of ok) expect(codeOf(() => checkWellFormedXml(text)), text).toBeUndefined();
  });

  it.each(bad)('refuses %j (%s)', (text) => {
    expect(() => checkWellFormedXml(text)).toThrow(XmlError);
  });

  it('reports start tags with their resolved namespace, decoded attributes and ancestors', () => {
    const seen: string[] = [];
    checkWellFormedXml('<r xmlns="urn:v3"><x:c xmlns:x="urn:o" a="&quot;1&#10;2&quot;"><d/></x:c></r>', {
      onStartElement: (e, ancestors) => seen.push(`${ancestors.map((a) => a.localName).join('/')}>{${e.namespace}}${e.localName}${JSON.stringify([...e.attributes])}`),
    });
    expect(seen).toEqual(['>{urn:v3}r[]', 'r>{urn:o}c[["a","\\"1 2\\""]]', 'r/c>{urn:v3}d[]']);
  });

  it('limits the depth', () => {
    const deep = `${'<a>'.repeat(300)}${'</a>'.repeat(300)}`;
    expect(() => checkWellFormedXml(deep)).toThrow(/imbrication/);
    expect(() => checkWellFormedXml(deep, { maxDepth: 400 })).not.toThrow();
  });

  it('accepts generated well-formed trees with escaped text and attributes, and throws only XmlError on shuffled markup (property)', () => {
    const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/]]>/g, ']]&gt;');
    const text = fc.string({ maxLength: 8 }).map((s) => s.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/g, '?'));
    const name = fc.constantFrom('a', 'b', 'x:c', 'd-e', 'f.g', '\u00e9l');
    const treeOf = (depth: number): fc.Arbitrary<string> =>
      fc
        .tuple(name, text, depth === 0 ? fc.constant([]) : fc.array(treeOf(depth - 1), { maxLength: 3 }), text)
        .map(([n, t, children, attr]) => `<${n} k="${escape(attr)}">${escape(t)}${children.join('')}</${n}>`);
    const tree = treeOf(3);
    fc.assert(
      fc.property(tree, (xml) => {
        checkWellFormedXml(`<root xmlns:x="urn:x">${xml}</root>`);
      }),
      { numRuns: 500 },
    );
    const fragment = fc.constantFrom('<a>', '</a>', '<b/>', '<c x="1">', '</c>', 'text', '&amp;', '&bad;', '<!--c-->', '<![CDATA[z]]>', ' ', '<?p q?>', '"', "'", '<', '>', '<!DOCTYPE a>');
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 12 }), (parts) => {
        try {
          checkWellFormedXml(parts.join(''));
        } catch (error) {
          expect(error).toBeInstanceOf(XmlError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('document format', () => {
  const ins = freshIns();

  it('accepts a CDA R2 whose patient is the DMP’s INS, and a plain PDF; decides from the bytes', () => {
    expect(detectDocumentFormat(cdaDocument(ins, 'ok'), ins)).toEqual({ format: 'cda-r2', mimeType: 'text/xml' });
    expect(detectDocumentFormat(utf8('%PDF-1.7\n%%EOF'), ins)).toEqual({ format: 'pdf', mimeType: 'application/pdf' });
    // with a BOM, and another local id beside the INS
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...cdaDocument(ins, 'x', { extraPatientIds: '<id root="1.2.250.1.71.4.2.7" extension="IPP123"/>' })]);
    expect(detectDocumentFormat(bom, ins).format).toBe('cda-r2');
  });

  it('415 for anything else: HTML, XHTML, JSON, an XML that is not a CDA, a PNG', () => {
    for (const text of ['<html><script>alert(1)</script></html>', '{"a":1}', 'plain text', '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>']) {
      expect(codeOf(() => detectDocumentFormat(utf8(text), ins)), text).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    expect(codeOf(() => detectDocumentFormat(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), ins))).toBe('UNSUPPORTED_MEDIA_TYPE');
    // the CDA element outside the HL7 v3 namespace is not a CDA
    expect(codeOf(() => detectDocumentFormat(utf8('<ClinicalDocument/>'), ins))).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('422 INS_MISMATCH when the CDA’s patient is another INS, absent, doubled, or a second patient is named', () => {
    const other = freshIns();
    expect(codeOf(() => detectDocumentFormat(cdaDocument(other, 'x'), ins))).toBe('INS_MISMATCH');
    expect(codeOf(() => detectDocumentFormat(cdaDocument({ oid: '1.2.250.1.71.4.2.7', value: 'IPP' }, 'x'), ins))).toBe('INS_MISMATCH');
    expect(codeOf(() => detectDocumentFormat(cdaDocument(ins, 'x', { extraPatientIds: `<id root="${other.oid}" extension="${other.value}"/>` }), ins))).toBe('INS_MISMATCH');
    const two = new TextDecoder().decode(cdaDocument(ins, 'x')).replace('<component>', '<recordTarget><patientRole/></recordTarget><component>');
    expect(codeOf(() => detectDocumentFormat(utf8(two), ins))).toBe('INS_MISMATCH');
  });

  it('422 CDA_MALFORMED for a broken CDA, a DOCTYPE (external entity) or invalid UTF-8', () => {
    const text = new TextDecoder().decode(cdaDocument(ins, 'x'));
    expect(codeOf(() => detectDocumentFormat(utf8(text.replace('</ClinicalDocument>', '')), ins))).toBe('CDA_MALFORMED');
    const xxe = text.replace('<ClinicalDocument', '<!DOCTYPE ClinicalDocument [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<ClinicalDocument').replace('<title>Compte rendu</title>', '<title>&x;</title>');
    expect(codeOf(() => detectDocumentFormat(utf8(xxe), ins))).toBe('CDA_MALFORMED');
    expect(codeOf(() => detectDocumentFormat(new Uint8Array([...utf8('<a>'), 0xff, ...utf8('</a>')]), ins))).toBe('CDA_MALFORMED');
  });

  it('413 beyond 10 MiB', () => {
    const big = new Uint8Array(10 * 1024 * 1024 + 1);
    big.set(utf8('%PDF-'));
    expect(codeOf(() => detectDocumentFormat(big, ins))).toBe('DOCUMENT_TOO_LARGE');
    expect(detectDocumentFormat(big.subarray(0, 10 * 1024 * 1024), ins).format).toBe('pdf');
  });
});

describe('document metadata', () => {
  it('derives the classCode from the typeCode; refuses unknown types, a contradicting classCode, unknown members and codes', () => {
    expect(parseDocumentMetadata({ typeCode: '11490-0', title: ' Lettre ' }, NOW)).toEqual({
      classCode: 'SEJOUR',
      typeCode: '11490-0',
      title: 'Lettre',
      confidentiality: [],
      creationTime: NOW.getTime(),
      replaces: null,
    });
    expect(parseDocumentMetadata({ typeCode: '11490-0', classCode: 'SEJOUR', title: 't', confidentiality: ['MASQUE_PS', 'INVISIBLE_PATIENT'], creationTime: '2025-03-01T10:00:00+01:00' }, NOW)).toMatchObject({
      confidentiality: ['INVISIBLE_PATIENT', 'MASQUE_PS'],
      creationTime: Date.parse('2025-03-01T09:00:00Z'),
    });
    // a class of another vocabulary (XDS numeric classes) is ignored, the derived one kept; format is informative
    expect(parseDocumentMetadata({ typeCode: '11490-0', classCode: '10', title: 't', format: 'urn:ihe:iti:xds-sd:pdf:2008' }, NOW).classCode).toBe('SEJOUR');
    for (const bad of [
      { typeCode: '99999-9', title: 't' },
      { typeCode: '11490-0', classCode: 'SOINS', title: 't' },
      { typeCode: '11490-0', title: '' },
      { typeCode: '11490-0', title: 't', confidentiality: ['SECRET'] },
      { typeCode: '11490-0', title: 't', confidentiality: ['MASQUE_PS', 'MASQUE_PS'] },
      { typeCode: '11490-0', title: 't', creationTime: '2025-04-01T00:00:00Z' },
      { typeCode: '11490-0', title: 't', creationTime: '12/03/2025' },
      { typeCode: '11490-0', title: 't', replaces: "1' OR '1'='1" },
      { typeCode: '11490-0', title: 't', author: 'me' },
      ['not', 'an', 'object'],
    ]) {
      expect(codeOf(() => parseDocumentMetadata(bad, NOW)), JSON.stringify(bad)).toBe('METADATA_INVALID');
    }
  });

  it('search cursors round-trip; forged ones are CURSOR_INVALID', () => {
    const position = { creationTime: 1741771800000, id: '0b0a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d' };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
    for (const forged of ['', 'not base64!', Buffer.from('{"v":1,"t":"x","id":"y"}').toString('base64url'), Buffer.from('[]').toString('base64url')]) {
      expect(codeOf(() => decodeCursor(forged)), forged).toBe('CURSOR_INVALID');
    }
  });
});

describe('new DMP identity', () => {
  const nir = (body: string): string => `${body}${nirKey(body)}`;
  const traits = { birthSurname: 'DUPONT', firstNames: 'JEAN PAUL', birthDate: '1980-05-14', sex: 'M', birthplaceCode: '75112' };
  const nirIns = { oid: INS_NIR_TEST_OID, value: nir('1800575112001') };

  it('CONSENT_REQUIRED unless consent is exactly true; then a valid INS-NIR with its traits passes', () => {
    for (const consent of [undefined, false, 'true', 1]) {
      expect(codeOf(() => parseNewPatient({ ins: nirIns, traits, consent }, NOW)), String(consent)).toBe('CONSENT_REQUIRED');
    }
    expect(parseNewPatient({ ins: nirIns, traits, consent: true }, NOW)).toMatchObject({ ins: nirIns, traits });
  });

  it('INS_INVALID for a wrong key, an unknown OID or an NIA; an INS-C is accepted without traits', () => {
    expect(codeOf(() => parseNewPatient({ ins: { ...nirIns, value: `${nirIns.value.slice(0, 13)}00` }, traits, consent: true }, NOW))).toBe('INS_INVALID');
    expect(codeOf(() => parseNewPatient({ ins: { oid: '1.2.3', value: nirIns.value }, traits, consent: true }, NOW))).toBe('INS_INVALID');
    expect(codeOf(() => parseNewPatient({ ins: { oid: INS_NIA_OID, value: nirIns.value }, traits, consent: true }, NOW))).toBe('INS_INVALID');
    const insc = computeInsC('JEAN', '800514', '1800575112001');
    expect(parseNewPatient({ ins: { oid: INS_C_OID, value: insc }, consent: true }, NOW)).toEqual({ ins: { oid: INS_C_OID, value: insc }, traits: null });
  });

  it('TRAITS_INVALID: missing for an INS-NIR, malformed, or disagreeing with the NIR (sex, year, month)', () => {
    expect(codeOf(() => parseNewPatient({ ins: nirIns, consent: true }, NOW))).toBe('TRAITS_INVALID');
    for (const bad of [
      { ...traits, sex: 'F' },
      { ...traits, birthDate: '1981-05-14' },
      { ...traits, birthDate: '1980-06-14' },
      { ...traits, birthDate: '1980-02-30' },
      { ...traits, birthplaceCode: '7511' },
      { ...traits, birthSurname: "DUPONT'); DROP TABLE patients;--" },
      { ...traits, nickname: 'JP' },
    ]) {
      expect(codeOf(() => parseNewPatient({ ins: nirIns, traits: bad, consent: true }, NOW)), JSON.stringify(bad)).toBe('TRAITS_INVALID');
    }
  });
});
