import * as pkijs from 'pkijs';
import { describe, expect, it } from 'vitest';
import {
  buildName,
  caNameAttributes,
  encodeName,
  formatName,
  nameAttributesOf,
  practitionerNameAttributes,
} from '../../../src/pki/names.js';

const practitioner = {
  rpps: '99900000101',
  surname: 'MARTIN',
  givenName: 'JEAN',
  professionLabel: 'Médecin',
  structureId: '499900001000001',
  structureName: 'CABINET DU DR MARTIN',
};

describe('distinguished names', () => {
  it('lays out a practitioner name exactly as cards.md, one attribute per RDN', () => {
    const attributes = practitionerNameAttributes(practitioner);
    expect(formatName(attributes)).toBe(
      'C=FR, O=CABINET DU DR MARTIN, OU=499900001000001, title=Médecin, SN=MARTIN, GN=JEAN, CN=899900000101',
    );
    const name = pkijs.RelativeDistinguishedNames.fromBER(encodeName(attributes).slice().buffer);
    expect(nameAttributesOf(name)).toEqual(attributes.map((a) => ({ type: a.type, value: a.value })));
    // 7 RDNs (SETs), not one multi-valued RDN
    const der = encodeName(attributes);
    const rdnCount = (buildName(attributes).toSchema() as { valueBlock: { value: unknown[] } }).valueBlock.value.length;
    expect(rdnCount).toBe(7);
    expect(der[0]).toBe(0x30);
  });

  it('uses PrintableString for the country and UTF8String for the rest', () => {
    const der = Buffer.from(encodeName(caNameAttributes('TEST AC IGC-SANTE RACINE')));
    expect(der.includes(Buffer.from('0603550406' + '1302' + '4652', 'hex'))).toBe(true); // C PrintableString "FR"
    expect(der.includes(Buffer.from('060355040a' + '0c0a', 'hex'))).toBe(true); // O UTF8String, 10 chars
  });

  it('refuses RPPS values that are not 11-digit test numbers', () => {
    for (const rpps of ['10001234567', '9990000010', '999000001011', '99A00000101']) {
      expect(() => practitionerNameAttributes({ ...practitioner, rpps }), rpps).toThrow(RangeError);
    }
  });

  it('refuses empty, padded and over-long attribute values', () => {
    expect(() => encodeName([{ type: 'CN', value: '' }])).toThrow(RangeError);
    expect(() => encodeName([{ type: 'CN', value: ' x' }])).toThrow(RangeError);
    expect(() => encodeName([{ type: 'CN', value: 'x'.repeat(65) }])).toThrow(RangeError);
    expect(() => encodeName([{ type: 'C', value: 'fr' }])).toThrow(RangeError);
  });
});
