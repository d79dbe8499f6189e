import { describe, expect, it } from 'vitest';
import {
  TRE_G15_PROFESSIONS,
  isKnownProfessionCode,
  professionCodeFromLabel,
  professionLabel,
} from '../../../src/pki/professions.js';

describe('TRE_G15 professions', () => {
  it('labels the codes cards.md names', () => {
    expect(professionLabel('10')).toBe('Médecin');
    expect(professionLabel('21')).toBe('Pharmacien');
    expect(professionLabel('40')).toBe('Chirurgien-dentiste');
    expect(professionLabel('50')).toBe('Sage-femme');
    expect(professionLabel('60')).toBe('Infirmier');
    expect(professionLabel('70')).toBe('Masseur-kinésithérapeute');
    expect(professionLabel('80')).toBe('Pédicure-podologue');
    expect(professionLabel('99')).toBeUndefined();
    expect(isKnownProfessionCode('60')).toBe(true);
    expect(isKnownProfessionCode('6')).toBe(false);
  });

  it('maps every label of the table back to its own code', () => {
    const codes = TRE_G15_PROFESSIONS.map((p) => p.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const { code, label } of TRE_G15_PROFESSIONS) {
      expect(professionCodeFromLabel(label)).toBe(code);
    }
  });

  it('finds the code whatever the case, accents and hyphens of the label', () => {
    expect(professionCodeFromLabel('MEDECIN')).toBe('10');
    expect(professionCodeFromLabel('  médecin ')).toBe('10');
    expect(professionCodeFromLabel('PEDICURE PODOLOGUE')).toBe('80');
    expect(professionCodeFromLabel('Pédicure-Podologue')).toBe('80');
    expect(professionCodeFromLabel('masseur kinesitherapeute')).toBe('70');
    expect(professionCodeFromLabel('Chirurgien-Dentiste')).toBe('40');
    expect(professionCodeFromLabel('SAGE FEMME')).toBe('50');
    expect(professionCodeFromLabel('Infirmière')).toBe('60');
    expect(professionCodeFromLabel('Infirmier psychiatrique')).toBe('69');
  });

  it('gives nothing for labels that name no profession', () => {
    expect(professionCodeFromLabel('')).toBeUndefined();
    expect(professionCodeFromLabel('Médecin du travail')).toBeUndefined();
    expect(professionCodeFromLabel('Astronaute')).toBeUndefined();
    expect(professionCodeFromLabel('Médeci')).toBeUndefined();
  });
});
