// Conformance: every row of the published ASIP INS-C sample (cards.md) — NIR key and INS-C + key.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { computeInsC, nirKey } from '../../../src/ins/index.js';

// `../shared/vectors/` next to the repository root (test/unit/ins -> repo root is three levels up).
const VECTORS = fileURLToPath(new URL('../../../../shared/vectors/insc-asip-sample.csv', import.meta.url));
const EXPECTED_ROWS = 14_369;

interface Row {
  line: number;
  firstName: string;
  birthDate: string;
  nir13: string;
  nirKey: string;
  insC: string;
  insCKey: string;
}

function loadRows(): Row[] {
  const lines = readFileSync(VECTORS, 'utf8').split(/\r?\n/);
  // Line 1: input / expected-results banner; line 2: column names.
  expect(lines[1]?.split(';')).toEqual(['Prénom', 'Date de naissance', 'NIR', 'Clé du NIR', 'INS-C', 'Clé INS-C']);
  const rows: Row[] = [];
  lines.slice(2).forEach((text, i) => {
    if (text === '') return;
    const cells = text.split(';');
    expect(cells, `line ${i + 3}`).toHaveLength(6);
    const [firstName = '', birthDate = '', nir13 = '', key = '', insC = '', insCKey = ''] = cells;
    rows.push({ line: i + 3, firstName, birthDate, nir13, nirKey: key, insC, insCKey });
  });
  return rows;
}

describe('ASIP INS-C sample', () => {
  const rows = loadRows();

  it(`has the ${EXPECTED_ROWS} published rows`, () => {
    expect(rows.length).toBe(EXPECTED_ROWS);
  });

  it('gives the expected NIR key for every row (Corsican rows included)', () => {
    const wrong = rows.filter((r) => nirKey(r.nir13) !== r.nirKey).map((r) => r.line);
    expect(wrong).toEqual([]);
    const corsican = rows.filter((r) => /^.{5}2[AB]/.test(r.nir13));
    expect(corsican.length).toBeGreaterThan(100);
    console.info(`NIR keys checked: ${rows.length} rows (${corsican.length} Corsican)`);
  });

  it('gives the expected 22-digit INS-C (20 digits + key) for every row', () => {
    const wrong = rows
      .filter((r) => computeInsC(r.firstName, r.birthDate, r.nir13) !== r.insC + r.insCKey)
      .map((r) => r.line);
    expect(wrong).toEqual([]);
    const composite = rows.filter((r) => r.firstName.includes(' ')).length;
    const lunar = rows.filter((r) => /^\d{4}00$|^\d{2}00/.test(r.birthDate)).length;
    const blank = rows.filter((r) => r.firstName.trim() === '').length;
    expect(composite).toBeGreaterThan(0);
    expect(lunar).toBeGreaterThan(0);
    expect(blank).toBeGreaterThan(0);
    console.info(`INS-C checked: ${rows.length} rows (${composite} composite first names, ${lunar} lunar dates, ${blank} blank first names)`);
  });
});
