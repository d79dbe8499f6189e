// Property tests: whatever a caller passes, the INS functions answer or throw InsError, nothing else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeInsC, formatInsPath, InsError, isValidInsC, isValidNir, nirKey, parseInsPath, parseNir, type Ins } from '../../../src/ins/index.js';

const onlyInsError = (run: () => unknown): void => {
  try {
    run();
  } catch (error) {
    if (!(error instanceof InsError)) throw error;
  }
};

/** Strings of every kind: any code point, NIR-like characters, and digit runs around 13/15. */
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...'0123456789AB2 :.'.split('')), maxLength: 24 }),
);

const nirBody = fc
  .tuple(
    fc.constantFrom('1', '2'),
    fc.integer({ min: 0, max: 99 }),
    fc.integer({ min: 1, max: 12 }),
    fc.constantFrom('01', '13', '2A', '2B', '75', '95', '99'),
    fc.integer({ min: 0, max: 999_999 }),
  )
  .map(([sex, year, month, dept, rest]) => `${sex}${pad(year, 2)}${pad(month, 2)}${dept}${pad(rest, 6)}`);

function pad(n: number, width: number): string {
  return n.toString().padStart(width, '0');
}

describe('INS functions on arbitrary input', () => {
  it('throw nothing but InsError for random strings (20,000 runs each)', () => {
    fc.assert(
      fc.property(anyString, anyString, anyString, (a, b, c) => {
        onlyInsError(() => nirKey(a));
        onlyInsError(() => parseNir(a));
        expect(typeof isValidNir(a)).toBe('boolean');
        expect(typeof isValidInsC(a)).toBe('boolean');
        onlyInsError(() => computeInsC(a, b, c));
        onlyInsError(() => parseInsPath(a));
        onlyInsError(() => parseInsPath(`1.2.250.1.213.1.4.8:${a}`));
        onlyInsError(() => formatInsPath({ oid: a, value: b } as unknown as Ins));
      }),
      { numRuns: 20_000 },
    );
  });

  it('throw nothing but InsError for values that are not strings', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (a, b, c) => {
        onlyInsError(() => nirKey(a as string));
        onlyInsError(() => parseNir(a as string));
        onlyInsError(() => computeInsC(a as string, b as string, c as string));
        onlyInsError(() => parseInsPath(a as string));
        onlyInsError(() => formatInsPath(a as Ins));
      }),
      { numRuns: 5_000 },
    );
  });

  it('accept every NIR with its key and refuse every single-character change of the 13 digits', () => {
    fc.assert(
      fc.property(nirBody, fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 9 }), (body, at, delta) => {
        const nir = body + nirKey(body);
        expect(isValidNir(nir)).toBe(true);
        expect(parseNir(nir).body).toBe(body);
        const ch = body[at] ?? '0';
        if (!/[0-9]/.test(ch)) return; // the A/B of 2A/2B
        const changed = body.slice(0, at) + ((Number(ch) + delta) % 10).toString() + body.slice(at + 1);
        expect(isValidNir(changed + nir.slice(13))).toBe(false);
      }),
      { numRuns: 5_000 },
    );
  });

  it('always produce a valid 22-digit INS-C for well-formed input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), fc.integer({ min: 0, max: 999_999 }), nirBody, (name, date, body) => {
        const first = `A${name}`;
        const insc = computeInsC(first, pad(date, 6), body);
        expect(insc).toMatch(/^[0-9]{22}$/);
        expect(isValidInsC(insc)).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });
});
