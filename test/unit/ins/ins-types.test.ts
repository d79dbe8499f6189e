import { describe, expect, it } from 'vitest';
import {
  formatInsPath,
  INS_C_OID,
  INS_NIA_OID,
  INS_NIR_DEMO_OID,
  INS_NIR_OID,
  INS_NIR_TEST_OID,
  INS_OIDS,
  InsError,
  parseInsPath,
  type Ins,
} from '../../../src/ins/index.js';

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'no error';
  } catch (error) {
    expect(error).toBeInstanceOf(InsError);
    return (error as InsError).code;
  }
}

describe('INS OIDs and paths', () => {
  it('names the five OIDs of cards.md', () => {
    expect([INS_C_OID, INS_NIR_OID, INS_NIA_OID, INS_NIR_TEST_OID, INS_NIR_DEMO_OID]).toEqual([
      '1.2.250.1.213.1.4.2',
      '1.2.250.1.213.1.4.8',
      '1.2.250.1.213.1.4.9',
      '1.2.250.1.213.1.4.10',
      '1.2.250.1.213.1.4.11',
    ]);
    expect(INS_OIDS).toHaveLength(5);
  });

  it('writes <oid>:<value> and reads it back', () => {
    const nir: Ins = { oid: INS_NIR_OID, value: '253072A07300443' };
    expect(formatInsPath(nir)).toBe('1.2.250.1.213.1.4.8:253072A07300443');
    expect(parseInsPath('1.2.250.1.213.1.4.8:253072A07300443')).toEqual(nir);
    const insc: Ins = { oid: INS_C_OID, value: '0574991909444312813202' };
    expect(parseInsPath(formatInsPath(insc))).toEqual(insc);
    expect(parseInsPath('1.2.250.1.213.1.4.10:123111106268933')).toEqual({ oid: INS_NIR_TEST_OID, value: '123111106268933' });
  });

  it('refuses malformed paths, unknown OIDs and values that do not fit the OID', () => {
    expect(codeOf(() => parseInsPath('253072A07300443'))).toBe('INS_PATH_FORMAT');
    expect(codeOf(() => parseInsPath('1.2.250.1.213.1.4.8:2530:72A07300443'))).toBe('INS_PATH_FORMAT');
    expect(codeOf(() => parseInsPath('1.2.250.1.213.1.4.1:253072A07300443'))).toBe('INS_OID_UNKNOWN');
    expect(codeOf(() => parseInsPath('1.2.250.1.213.1.4.8:253072A07300444'))).toBe('NIR_KEY');
    expect(codeOf(() => parseInsPath('1.2.250.1.213.1.4.8:'))).toBe('NIR_LENGTH');
    expect(codeOf(() => parseInsPath('1.2.250.1.213.1.4.2:253072A07300443'))).toBe('INSC_FORMAT');
    expect(codeOf(() => parseInsPath('1.2.250.1.213.1.4.2:0574991909444312813203'))).toBe('INSC_FORMAT');
    expect(codeOf(() => formatInsPath({ oid: '1.2.3' as typeof INS_C_OID, value: '0574991909444312813202' }))).toBe('INS_OID_UNKNOWN');
    expect(codeOf(() => formatInsPath({ oid: INS_NIR_OID, value: '0574991909444312813202' }))).toBe('NIR_LENGTH');
    expect(codeOf(() => formatInsPath(null as unknown as Ins))).toBe('NOT_A_STRING');
  });
});
