// The CDA R2 N1 builder alone: well-formed whatever the values hold (checked by a conformant
// parser over generated strings), values kept, identifiers and times in their formats.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCdaN1, hl7Time, idNatPs, type CdaN1Input } from '../../../src/client/dmp-client/index.js';
import { uuidOid } from '../../../src/client/dmp-client/cda.js';
import { child, parseXmlStrict } from './support/xml-tree.js';

const base: CdaN1Input = {
  ins: { oid: '1.2.250.1.213.1.4.10', value: '180057511234580' },
  pdf: new TextEncoder().encode('%PDF-1.4\n%%EOF\n'),
  title: 'Compte rendu',
  typeCode: '11490-0',
  classCode: '10',
  author: { idType: 'RPPS', nationalId: '99900000101', surname: 'MARTIN', givenName: 'SOPHIE', professionCode: '10', professionLabel: 'Médecin' },
  effectiveTime: new Date('2025-03-12T09:30:05Z'),
};

/** What an XML document can carry of a string: the builder turns the rest into U+FFFD. */
function xmlVisible(value: string): string {
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    const allowed = c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000;
    out += allowed ? ch : '\uFFFD';
  }
  return out;
}

describe('buildCdaN1', () => {
  it('writes the header in CDA order with the document type, patient, author, custodian and the B64 body', () => {
    const cda = parseXmlStrict(buildCdaN1({ ...base, organization: { id: '499900001000001', name: 'CABINET DU DR MARTIN' } }));
    expect(cda.children.map((c) => c.name)).toEqual([
      'realmCode', 'typeId', 'templateId', 'id', 'code', 'title', 'effectiveTime', 'confidentialityCode', 'languageCode',
      'setId', 'versionNumber', 'recordTarget', 'author', 'custodian', 'documentationOf', 'component',
    ]);
    expect(child(cda, 'typeId').attributes).toEqual({ root: '2.16.840.1.113883.1.3', extension: 'POCD_HD000040' });
    expect(child(cda, 'effectiveTime').attributes.value).toBe('20250312093005+0000');
    expect(child(cda, 'confidentialityCode').attributes.code).toBe('N');
    expect(child(cda, 'id').attributes.root).toMatch(/^2\.25\.\d+$/);
    expect(child(cda, 'author', 'assignedAuthor', 'code').attributes).toMatchObject({ code: '10', displayName: 'Médecin' });
    expect(child(cda, 'author', 'assignedAuthor', 'representedOrganization', 'id').attributes).toEqual({ root: '1.2.250.1.71.4.2.2', extension: '499900001000001' });
    expect(child(cda, 'custodian', 'assignedCustodian', 'representedCustodianOrganization', 'name').text).toBe('CABINET DU DR MARTIN');
    expect(child(cda, 'recordTarget', 'patientRole', 'patient', 'name').attributes).toEqual({ nullFlavor: 'UNK' });
    expect(Buffer.from(child(cda, 'component', 'nonXMLBody', 'text').text, 'base64').toString()).toBe('%PDF-1.4\n%%EOF\n');
  });

  it('stays well-formed and keeps every value, whatever the strings hold', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom('\uD800', 'a\uDC00b', ']]>', '<!--', '&amp;', '"\'<>&', '\u0000\u0001\u001f', 'ligne\r\nsuivante\t', '\uFFFE\uFFFF', '😀'),
    );
    fc.assert(
      fc.property(text, text, text, text, (title, family, given, org) => {
        const xml = buildCdaN1({
          ...base,
          title,
          patient: { birthSurname: family, firstNames: given },
          author: { ...base.author, surname: family, givenName: given, professionLabel: title },
          organization: { id: org, name: org },
        });
        const cda = parseXmlStrict(xml);
        // text content: exactly what XML can carry of the value (line ends normalised by XML itself)
        const normalise = (s: string) => xmlVisible(s).replace(/\r\n?/g, '\n');
        expect(child(cda, 'title').text).toBe(normalise(title));
        expect(child(cda, 'recordTarget', 'patientRole', 'patient', 'name', 'family').text).toBe(normalise(family));
        // attributes: kept exactly, tabs and line breaks included
        expect(child(cda, 'code').attributes.displayName).toBe(xmlVisible(title));
        // (an empty structure id is unknown: nullFlavor)
        expect(child(cda, 'author', 'assignedAuthor', 'representedOrganization', 'id').attributes.extension).toBe(org === '' ? undefined : xmlVisible(org));
      }),
      { numRuns: 500 },
    );
  });

  it('writes the class as a translation only when given', () => {
    const { classCode: _classCode, ...withoutClass } = base;
    expect(child(parseXmlStrict(buildCdaN1(withoutClass)), 'code').children).toEqual([]);
    expect(child(parseXmlStrict(buildCdaN1(base)), 'code', 'translation').attributes).toMatchObject({ code: '10', codeSystem: '1.2.250.1.213.1.1.4.1' });
  });

  it('refuses an INS without oid or value, and bytes that are not bytes', () => {
    expect(() => buildCdaN1({ ...base, ins: { oid: '', value: '1' } })).toThrow(TypeError);
    expect(() => buildCdaN1({ ...base, pdf: 'x' as never })).toThrow(TypeError);
  });
});

describe('identifiers and times', () => {
  it('IdNat_PS: 8 + RPPS, 0 + ADELI, never twice', () => {
    expect(idNatPs({ idType: 'RPPS', nationalId: '99900000101' })).toBe('899900000101');
    expect(idNatPs({ idType: 'RPPS', nationalId: '899900000101' })).toBe('899900000101');
    expect(idNatPs({ idType: 'ADELI', nationalId: '751234567' })).toBe('0751234567');
    expect(idNatPs({ idType: 'ADELI', nationalId: '0751234567' })).toBe('0751234567');
  });

  it('HL7 times in UTC, document ids as 2.25 OIDs from random UUIDs', () => {
    expect(hl7Time(new Date('2049-12-31T23:59:59.999Z'))).toBe('20491231235959+0000');
    const ids = new Set(Array.from({ length: 50 }, () => uuidOid()));
    expect(ids.size).toBe(50);
    for (const id of ids) {
      expect(id).toMatch(/^2\.25\.[1-9]\d*$/);
      const uuid = BigInt(id.slice(5)).toString(16).padStart(32, '0');
      expect(uuid[12]).toBe('4');
      expect('89ab').toContain(uuid[16]);
    }
  });
});
