// The authorisation matrix (the rows dmp-service.md requires, deny by default, strict loading)
// and the professions kept out of the DMP.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canSee, loadMatrix, MatrixError, parseMatrix, visibleTypeCodes } from '../../../src/dmp/policy/authorization-matrix.js';
import { classCodeOf, documentTypeByCode, documentTypes } from '../../../src/dmp/policy/document-types.js';
import { isValidLoincCode, loincCheckDigit } from '../../../src/dmp/policy/loinc.js';
import { dmpProfessionDecision, isProfessionAllowedInDmp } from '../../../src/dmp/policy/profession-policy.js';
import { TRE_G15_PROFESSIONS } from '../../../src/pki/professions.js';
import { CPS_PERSONAS } from '../../../src/simulator/personas.js';

const matrix = loadMatrix();

const DISCHARGE = ['11490-0', '34133-9']; // hospital discharge letter
const PSYCHIATRIC = ['59259-2', '34788-0', '28628-6'];
const DOCTOR = '10';
const PHARMACIST = '21';
const DENTIST = '40';
const MIDWIFE = '50';
const NURSE = '60';
const PHYSIO = '70';
const PODIATRIST = '80';

describe('the shipped matrix', () => {
  it('lets doctors see every type', () => {
    expect(documentTypes.length).toBeGreaterThan(15);
    for (const type of documentTypes) expect(canSee(matrix, DOCTOR, type.typeCode)).toBe(true);
  });

  it('keeps the hospital discharge letter from the pédicure-podologue', () => {
    for (const typeCode of DISCHARGE) {
      expect(documentTypeByCode(typeCode)?.classCode).toBe('SEJOUR');
      expect(canSee(matrix, PODIATRIST, typeCode)).toBe(false);
      expect(canSee(matrix, DOCTOR, typeCode)).toBe(true);
    }
  });

  it('keeps psychiatric summaries from dentists and nurses (but not from a psychiatric nurse)', () => {
    for (const typeCode of PSYCHIATRIC) {
      expect(classCodeOf(typeCode)).toBe('PSYCHIATRIE');
      expect(canSee(matrix, DENTIST, typeCode)).toBe(false);
      expect(canSee(matrix, NURSE, typeCode)).toBe(false);
      expect(canSee(matrix, '69', typeCode)).toBe(true);
    }
  });

  it('gives each other profession the common types relevant to it', () => {
    const rows: [string, string[], string[]][] = [
      [PHARMACIST, ['57833-6', '11502-2', '60591-5', '87273-9', '11490-0'], ['34788-0', '18748-4', '34746-8']],
      [MIDWIFE, ['34778-1', '11502-2', '18748-4', '57833-6', '11490-0'], ['59259-2', '28579-1']],
      [PHYSIO, ['28579-1', '18748-4', '57832-8', '11504-8'], ['11490-0', '11502-2', '59259-2']],
      [PODIATRIST, ['34829-2', '11488-4', '60591-5', '57833-6', '11502-2'], ['11504-8', '28570-0', '34746-8']],
      [NURSE, ['34746-8', '57833-6', '11490-0', '87273-9'], ['28618-7', '28579-1']],
      [DENTIST, ['28618-7', '18748-4', '57833-6'], ['34746-8', '34778-1']],
    ];
    for (const [profession, allowed, denied] of rows) {
      for (const typeCode of allowed) expect(canSee(matrix, profession, typeCode), `${profession} sees ${typeCode}`).toBe(true);
      for (const typeCode of denied) expect(canSee(matrix, profession, typeCode), `${profession} must not see ${typeCode}`).toBe(false);
    }
  });

  it('denies by default: unknown profession, unknown or malformed type, wrong argument types', () => {
    expect(canSee(matrix, '26', '60591-5')).toBe(false); // audioprothésiste: a real profession, not in the matrix
    expect(canSee(matrix, '99', '60591-5')).toBe(false);
    expect(canSee(matrix, '', '60591-5')).toBe(false);
    expect(canSee(matrix, DOCTOR, '34794-8')).toBe(false); // a real LOINC code the matrix does not list
    expect(canSee(matrix, DOCTOR, 'not-a-code')).toBe(false);
    expect(canSee(matrix, undefined as never, '60591-5')).toBe(false);
    expect(canSee(matrix, DOCTOR, null as never)).toBe(false);
    expect(canSee(matrix, '__proto__', 'constructor')).toBe(false);
    expect(visibleTypeCodes(matrix, '26')).toEqual([]);
    expect(visibleTypeCodes(matrix, PODIATRIST).sort()).toEqual(documentTypes.filter((t) => canSee(matrix, PODIATRIST, t.typeCode)).map((t) => t.typeCode).sort());
  });

  it('lists only valid LOINC codes with a French name and a known class for the pages', () => {
    for (const type of documentTypes) {
      expect(isValidLoincCode(type.typeCode)).toBe(true);
      expect(type.display).toMatch(/\S/);
      expect(matrix.classes.some((c) => c.classCode === type.classCode)).toBe(true);
    }
    // frozen: a page cannot change what the service enforces
    const first = documentTypes[0] as unknown as { typeCode: string };
    expect(() => (first.typeCode = 'x')).toThrow(TypeError);
  });
});

describe('loading a matrix file', () => {
  const base = () => JSON.parse(JSON.stringify({
    format: 'cardbridge/dmp-authorization-matrix',
    version: 1,
    classes: [{ classCode: 'A', display: 'Classe A' }, { classCode: 'B', display: 'Classe B' }],
    documentTypes: [
      { typeCode: '11488-4', classCode: 'A', display: 'Consultation' },
      { typeCode: '11502-2', classCode: 'A', display: 'Biologie' },
      { typeCode: '18748-4', classCode: 'B', display: 'Imagerie' },
    ],
    professions: { '60': { label: 'Infirmier', classes: ['A'], exceptTypes: ['11502-2'] }, '80': { label: 'Pédicure-podologue', types: ['18748-4'] } },
  })) as Record<string, unknown>;

  it('compiles classes, single types and exceptions', () => {
    const m = parseMatrix(base());
    expect(canSee(m, '60', '11488-4')).toBe(true);
    expect(canSee(m, '60', '11502-2')).toBe(false); // excepted from its class
    expect(canSee(m, '60', '18748-4')).toBe(false);
    expect(canSee(m, '80', '18748-4')).toBe(true);
    expect(canSee(m, '80', '11488-4')).toBe(false);
  });

  it('refuses every malformed shape with a MatrixError', () => {
    const mutations: ((m: Record<string, unknown>) => void)[] = [
      (m) => (m.format = 'other'),
      (m) => (m.version = 2),
      (m) => (m.extra = true),
      (m) => (m.professions = []),
      (m) => delete m.classes,
      (m) => ((m.documentTypes as Record<string, unknown>[])[0]!.typeCode = '11488-5'), // bad check digit
      (m) => ((m.documentTypes as Record<string, unknown>[])[0]!.classCode = 'Z'),
      (m) => (m.documentTypes as unknown[]).push({ typeCode: '11488-4', classCode: 'A', display: 'doublon' }),
      (m) => (m.classes as unknown[]).push({ classCode: '*', display: 'tout' }),
      (m) => ((m.professions as Record<string, unknown>)['99'] = { label: 'Inconnu', classes: ['A'] }),
      (m) => ((m.professions as Record<string, Record<string, unknown>>)['60']!.classes = ['*', 'A']),
      (m) => ((m.professions as Record<string, Record<string, unknown>>)['60']!.classes = ['C']),
      (m) => ((m.professions as Record<string, Record<string, unknown>>)['60']!.types = ['34794-8']),
      (m) => ((m.professions as Record<string, Record<string, unknown>>)['60']!.label = ' '),
      (m) => ((m.professions as Record<string, Record<string, unknown>>)['60']!.allow = ['A']),
    ];
    for (const mutate of mutations) {
      const json = base();
      mutate(json);
      expect(() => parseMatrix(json), mutate.toString()).toThrow(MatrixError);
    }
    expect(() => parseMatrix(null)).toThrow(MatrixError);
  });

  it('reads a file given by path and reports an unreadable one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-matrix-'));
    const path = join(dir, 'matrix.json');
    writeFileSync(path, JSON.stringify(base()));
    expect(canSee(loadMatrix(path), '80', '18748-4')).toBe(true);
    writeFileSync(path, '{ not json');
    expect(() => loadMatrix(path)).toThrow(MatrixError);
    expect(() => loadMatrix(join(dir, 'missing.json'))).toThrow(MatrixError);
  });

  it('checks LOINC check digits', () => {
    expect(loincCheckDigit('11488')).toBe(4);
    expect(isValidLoincCode('34133-9')).toBe(true);
    expect(isValidLoincCode('34133-8')).toBe(false);
    expect(isValidLoincCode('34133')).toBe(false);
    expect(isValidLoincCode(34133)).toBe(false);
  });
});

describe('professions allowed in the DMP', () => {
  it('allows the usual professions and refuses an unknown one', () => {
    for (const professionCode of ['10', '21', '40', '50', '60', '70', '80']) {
      expect(isProfessionAllowedInDmp({ professionCode, sector: 'SA07' })).toBe(true);
    }
    expect(TRE_G15_PROFESSIONS.length).toBeGreaterThan(20);
    expect(dmpProfessionDecision({ professionCode: undefined })).toMatchObject({ allowed: false, reason: 'PROFESSION_UNKNOWN' });
    expect(dmpProfessionDecision({ professionCode: '99' })).toMatchObject({ allowed: false, reason: 'PROFESSION_UNKNOWN' });
  });

  it('refuses occupational medicine by specialty (SM43) or by sector (SA33), as the medecin-travail persona carries', () => {
    const persona = CPS_PERSONAS['cps:medecin-travail'];
    const sector = persona.activities[0]?.sector;
    expect(dmpProfessionDecision({ professionCode: persona.professionCode, specialtyCode: persona.specialtyCode, sector })).toMatchObject({
      allowed: false,
      reason: 'OCCUPATIONAL_MEDICINE',
    });
    expect(isProfessionAllowedInDmp({ professionCode: '10', specialtyCode: 'SM43' })).toBe(false);
    expect(isProfessionAllowedInDmp({ professionCode: '10', specialtyCode: 'sm43 ' })).toBe(false);
    expect(isProfessionAllowedInDmp({ professionCode: '60', sector: 'SA33' })).toBe(false);
    const doctor = CPS_PERSONAS['cps:medecin'];
    expect(isProfessionAllowedInDmp({ professionCode: doctor.professionCode, specialtyCode: doctor.specialtyCode, sector: doctor.activities[0]?.sector })).toBe(true);
  });

  it('refuses insurers (SA90) and mutual funds (SA91) whatever the profession', () => {
    expect(dmpProfessionDecision({ professionCode: '10', sector: 'SA90' })).toMatchObject({ allowed: false, reason: 'INSURER' });
    expect(dmpProfessionDecision({ professionCode: '10', specialtyCode: 'SM54', sector: 'SA91' })).toMatchObject({ allowed: false, reason: 'MUTUAL_FUND' });
    expect(dmpProfessionDecision({ professionCode: '21', sector: 'sa90' })).toMatchObject({ allowed: false, reason: 'INSURER' });
  });
});
