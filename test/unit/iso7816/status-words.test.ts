import { describe, expect, it } from 'vitest';
import {
  SW,
  describeStatusWord,
  isBytesAvailable,
  isSuccess,
  isWrongLe,
  retriesFromSw,
} from '../../../src/iso7816/status-words.js';

const UNKNOWN_FR = /inconnu ou propriétaire/;

describe('status words', () => {
  it('has the values other layers code against', () => {
    expect(SW).toMatchObject({
      SUCCESS: 0x9000,
      WRONG_LENGTH: 0x6700,
      SECURITY_STATUS_NOT_SATISFIED: 0x6982,
      AUTH_METHOD_BLOCKED: 0x6983,
      REFERENCE_DATA_NOT_USABLE: 0x6984,
      CONDITIONS_NOT_SATISFIED: 0x6985,
      COMMAND_NOT_ALLOWED_NO_EF: 0x6986,
      INCORRECT_DATA: 0x6a80,
      FUNCTION_NOT_SUPPORTED: 0x6a81,
      FILE_NOT_FOUND: 0x6a82,
      RECORD_NOT_FOUND: 0x6a83,
      NOT_ENOUGH_MEMORY: 0x6a84,
      INCORRECT_P1P2: 0x6a86,
      REFERENCE_NOT_FOUND: 0x6a88,
      WRONG_P1P2: 0x6b00,
      INS_NOT_SUPPORTED: 0x6d00,
      CLA_NOT_SUPPORTED: 0x6e00,
      UNKNOWN: 0x6f00,
      END_OF_FILE: 0x6282,
    });
  });

  it('isSuccess only for 9000', () => {
    expect(isSuccess(0x9000)).toBe(true);
    expect(isSuccess(0x9001)).toBe(false);
    expect(isSuccess(0x6100)).toBe(false);
    expect(isSuccess(0x6282)).toBe(false);
  });

  it('recognises the T=0 families', () => {
    expect(isBytesAvailable(0x6110)).toBe(true);
    expect(isBytesAvailable(0x6c10)).toBe(false);
    expect(isWrongLe(0x6c00)).toBe(true);
    expect(isWrongLe(0x6b00)).toBe(false);
  });

  it('reads tries left from 63Cx only', () => {
    for (let x = 0; x <= 0xf; x++) expect(retriesFromSw(0x63c0 | x)).toBe(x);
    expect(retriesFromSw(0x6300)).toBeUndefined();
    expect(retriesFromSw(0x63d3)).toBeUndefined();
    expect(retriesFromSw(0x6983)).toBeUndefined();
    expect(retriesFromSw(0x9000)).toBeUndefined();
  });

  it.each(Object.entries(SW))('describes %s specifically, in French and English', (_name, sw) => {
    const d = describeStatusWord(sw);
    expect(d.fr.length).toBeGreaterThan(3);
    expect(d.en.length).toBeGreaterThan(3);
    expect(d.fr).not.toMatch(UNKNOWN_FR);
    expect(d.en).not.toMatch(/Unknown or proprietary/);
    expect(d.fr).not.toBe(d.en);
  });

  it('gives the exact texts for common card answers', () => {
    expect(describeStatusWord(0x9000)).toEqual({ fr: 'Succès', en: 'Success' });
    expect(describeStatusWord(0x6a82).en).toBe('File or application not found');
    expect(describeStatusWord(0x6983).fr).toMatch(/bloqué/);
  });

  it('counts bytes in 61xx and 6Cxx (00 = 256)', () => {
    expect(describeStatusWord(0x6110)).toEqual({
      fr: '16 octets de réponse disponibles (GET RESPONSE)',
      en: '16 response bytes available (GET RESPONSE)',
    });
    expect(describeStatusWord(0x6100).en).toMatch(/^256 /);
    expect(describeStatusWord(0x6c20).fr).toBe('Longueur attendue (Le) incorrecte : 32 octets disponibles');
    expect(describeStatusWord(0x6c00).en).toBe('Wrong Le: 256 bytes available');
  });

  it('counts tries in 63Cx with French plural agreement', () => {
    expect(describeStatusWord(0x63c2)).toEqual({ fr: 'Vérification échouée, 2 essais restants', en: 'Verification failed, 2 tries left' });
    expect(describeStatusWord(0x63c1)).toEqual({ fr: 'Vérification échouée, 1 essai restant', en: 'Verification failed, 1 try left' });
    expect(describeStatusWord(0x63c0).fr).toBe('Vérification échouée, plus aucun essai restant');
  });

  it('falls back to the SW1 class, then to unknown, showing the value', () => {
    expect(describeStatusWord(0x6a99)).toEqual({ fr: 'Paramètres P1-P2 incorrects (6A99)', en: 'Wrong parameters P1-P2 (6A99)' });
    expect(describeStatusWord(0x6999).en).toBe('Command not allowed (6999)');
    expect(describeStatusWord(0x9f10).fr).toMatch(UNKNOWN_FR);
    expect(describeStatusWord(0x9f10).en).toBe('Unknown or proprietary status word (9F10)');
    expect(describeStatusWord(0x0042).en).toMatch(/\(0042\)/);
  });

  it('never throws, even for values that are not status words', () => {
    expect(describeStatusWord(-1).en).toMatch(/Invalid status word/);
    expect(describeStatusWord(0x10000).en).toMatch(/Invalid status word/);
    expect(describeStatusWord(Number.NaN).fr).toMatch(/invalide/);
  });
});
