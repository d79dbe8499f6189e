import * as asn1js from 'asn1js';
import { describe, expect, it } from 'vitest';
import {
  PROFESSION_EXTENSION_OID,
  ProfessionExtensionError,
  decodeProfessionExtensionValue,
  encodeProfessionExtensionValue,
  professionExtension,
} from '../../../src/pki/profession-extension.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('profession extension value', () => {
  it('encodes SEQUENCE { UTF8String, UTF8String } in DER', () => {
    // 30 0a | 0c 02 "10" | 0c 04 "SM54"
    expect(hex(encodeProfessionExtensionValue({ professionCode: '10', specialtyCode: 'SM54' }))).toBe(
      '300a0c0231300c04534d3534',
    );
    expect(hex(encodeProfessionExtensionValue({ professionCode: '60' }))).toBe('30040c023630');
  });

  it('round-trips with and without a specialty, including non-ASCII text', () => {
    for (const info of [
      { professionCode: '10', specialtyCode: 'SM54' },
      { professionCode: '80' },
      { professionCode: '10', specialtyCode: 'Médecine du travail' },
    ]) {
      expect(decodeProfessionExtensionValue(encodeProfessionExtensionValue(info))).toEqual(info);
    }
    expect('specialtyCode' in decodeProfessionExtensionValue(encodeProfessionExtensionValue({ professionCode: '21' }))).toBe(false);
  });

  it('refuses malformed values', () => {
    const bad = [
      '', // nothing
      '30040c0236', // truncated
      '30040c02363000', // trailing byte
      '30040402363', // odd hex -> garbage
      '3100', // SET, not SEQUENCE
      '3000', // no field
      '30040c023630'.replace('0c', '13'), // PrintableString instead of UTF8String
      '300f0c0231300c04534d35340c0141', // three fields (length bytes deliberately inconsistent)
      '300d0c0231300c04534d35340c0141', // three fields
      '30800c0236300000', // indefinite length: BER, not DER
      '30020c00', // empty code
    ];
    for (const value of bad) {
      expect(() => decodeProfessionExtensionValue(Buffer.from(value, 'hex')), value).toThrow(ProfessionExtensionError);
    }
  });

  it('refuses to encode empty codes', () => {
    expect(() => encodeProfessionExtensionValue({ professionCode: '' })).toThrow(ProfessionExtensionError);
    expect(() => encodeProfessionExtensionValue({ professionCode: '10', specialtyCode: ' ' })).toThrow(ProfessionExtensionError);
  });

  it('builds a non-critical extension under the UUID OID, encoded correctly', () => {
    const extension = professionExtension({ professionCode: '10' });
    expect(extension.critical).toBe(false);
    expect(extension.extnID).toBe(PROFESSION_EXTENSION_OID);
    const encoded = new Uint8Array(extension.toSchema().toBER(false));
    // SEQUENCE (30 bytes) { OID (22 bytes), OCTET STRING { 30 04 0c 02 "10" } }: no BOOLEAN
    const oid = new Uint8Array(new asn1js.ObjectIdentifier({ value: PROFESSION_EXTENSION_OID }).toBER(false));
    expect(hex(oid)).toBe('06146981fb81e7efa0abf295cbaac48a838e9bb8c564');
    expect(hex(encoded)).toBe(`301e${hex(oid)}040630040c023130`);
  });
});
