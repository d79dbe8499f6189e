// Where the shipped matrix file is: `data/authorization-matrix.json` at the package root, found
// by walking up from this module, so the same code works from src/ (tsx, tests) and from the
// compiled dist/src/ tree.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MATRIX_FILE = join('data', 'authorization-matrix.json');

export function defaultMatrixPath(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(directory, MATRIX_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(directory);
    if (parent === directory) throw new Error(`${MATRIX_FILE} not found above ${fileURLToPath(import.meta.url)}`);
    directory = parent;
  }
}
