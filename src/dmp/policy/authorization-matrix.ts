// The authorisation matrix of dmp-service.md: profession (TRE_G15 code) × document type (LOINC
// typeCode, grouped by classCode) -> allowed or not, read from data/authorization-matrix.json.
// Deny by default: an unlisted profession sees nothing, an unlisted type is seen by nobody (not
// even doctors: a type the matrix does not know is not a type anyone has decided about).
// The file is validated strictly when loaded (unknown keys, unknown classes or types, bad LOINC
// check digits, unknown TRE_G15 codes are errors) and compiled into one set of visible types
// per profession, so canSee() is two hash lookups on the search path (P5).
import { readFileSync } from 'node:fs';
import { isKnownProfessionCode } from '../../pki/professions.js';
import { defaultMatrixPath } from './default-matrix-path.js';
import { isValidLoincCode } from './loinc.js';

export const MATRIX_FORMAT = 'cardbridge/dmp-authorization-matrix';
export const MATRIX_VERSION = 1;
/** In a profession's `classes`: every class. */
export const ALL_CLASSES = '*';

export interface DocumentClass {
  readonly classCode: string;
  /** French display name. */
  readonly display: string;
}

export interface DocumentType {
  /** LOINC code. */
  readonly typeCode: string;
  readonly classCode: string;
  /** French display name (what the pages show). */
  readonly display: string;
  /** The LOINC long common name, for people reading the file. */
  readonly loincName?: string;
}

export interface ProfessionRule {
  readonly label: string;
  /** Classes whose every type is visible, or ['*']. */
  readonly classes: readonly string[];
  /** Further single types visible. */
  readonly types: readonly string[];
  /** Types hidden even though a granted class holds them. */
  readonly exceptTypes: readonly string[];
}

export interface AuthorizationMatrix {
  readonly version: number;
  readonly classes: readonly DocumentClass[];
  readonly documentTypes: readonly DocumentType[];
  readonly professions: ReadonlyMap<string, ProfessionRule>;
  /** Compiled from the rules: the type codes each profession may see. */
  readonly visibleTypes: ReadonlyMap<string, ReadonlySet<string>>;
}

export class MatrixError extends Error {
  override readonly name = 'MatrixError';
}

type Json = Record<string, unknown>;

function object(value: unknown, where: string, keys: { required: string[]; optional?: string[] }): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MatrixError(`${where}: object expected`);
  const allowed = new Set([...keys.required, ...(keys.optional ?? [])]);
  for (const key of Object.keys(value)) if (!allowed.has(key)) throw new MatrixError(`${where}: unknown key "${key}"`);
  for (const key of keys.required) if (!(key in value)) throw new MatrixError(`${where}: "${key}" missing`);
  return value as Json;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value !== value.trim()) throw new MatrixError(`${where}: non-empty string expected`);
  return value;
}

function list(value: unknown, where: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new MatrixError(`${where}: array expected`);
  return value;
}

function uniqueStrings(value: unknown, where: string): string[] {
  const items = list(value, where).map((item, i) => text(item, `${where}[${i}]`));
  if (new Set(items).size !== items.length) throw new MatrixError(`${where}: duplicate entries`);
  return items;
}

/** Validates a parsed matrix file and compiles it. Throws MatrixError on any deviation. */
export function parseMatrix(json: unknown): AuthorizationMatrix {
  const root = object(json, 'matrix', {
    required: ['format', 'version', 'classes', 'documentTypes', 'professions'],
    optional: ['description', 'typeCodeSystem'],
  });
  if (root.format !== MATRIX_FORMAT) throw new MatrixError(`matrix: format must be "${MATRIX_FORMAT}"`);
  if (root.version !== MATRIX_VERSION) throw new MatrixError(`matrix: version ${String(root.version)} is not supported (expected ${MATRIX_VERSION})`);
  if (root.typeCodeSystem !== undefined && root.typeCodeSystem !== '2.16.840.1.113883.6.1') throw new MatrixError('matrix: typeCodeSystem must be LOINC');

  const classes: DocumentClass[] = list(root.classes, 'classes').map((item, i) => {
    const entry = object(item, `classes[${i}]`, { required: ['classCode', 'display'] });
    const classCode = text(entry.classCode, `classes[${i}].classCode`);
    if (classCode === ALL_CLASSES) throw new MatrixError(`classes[${i}]: "${ALL_CLASSES}" is reserved`);
    return { classCode, display: text(entry.display, `classes[${i}].display`) };
  });
  const classCodes = new Set(classes.map((c) => c.classCode));
  if (classCodes.size !== classes.length) throw new MatrixError('classes: duplicate classCode');

  const documentTypes: DocumentType[] = list(root.documentTypes, 'documentTypes').map((item, i) => {
    const where = `documentTypes[${i}]`;
    const entry = object(item, where, { required: ['typeCode', 'classCode', 'display'], optional: ['loincName'] });
    const typeCode = text(entry.typeCode, `${where}.typeCode`);
    if (!isValidLoincCode(typeCode)) throw new MatrixError(`${where}: ${typeCode} is not a LOINC code (format or check digit)`);
    const classCode = text(entry.classCode, `${where}.classCode`);
    if (!classCodes.has(classCode)) throw new MatrixError(`${where}: unknown classCode ${classCode}`);
    const type: DocumentType = { typeCode, classCode, display: text(entry.display, `${where}.display`) };
    return entry.loincName === undefined ? type : { ...type, loincName: text(entry.loincName, `${where}.loincName`) };
  });
  const typesByCode = new Map(documentTypes.map((t) => [t.typeCode, t]));
  if (typesByCode.size !== documentTypes.length) throw new MatrixError('documentTypes: duplicate typeCode');

  if (typeof root.professions !== 'object' || root.professions === null || Array.isArray(root.professions)) {
    throw new MatrixError('professions: object expected');
  }
  const professionsJson = root.professions as Json;
  const professions = new Map<string, ProfessionRule>();
  const visibleTypes = new Map<string, ReadonlySet<string>>();
  for (const [code, value] of Object.entries(professionsJson)) {
    const where = `professions.${code}`;
    if (!isKnownProfessionCode(code)) throw new MatrixError(`${where}: not a TRE_G15 profession code`);
    const entry = object(value, where, { required: ['label'], optional: ['classes', 'types', 'exceptTypes'] });
    const rule: ProfessionRule = {
      label: text(entry.label, `${where}.label`),
      classes: uniqueStrings(entry.classes, `${where}.classes`),
      types: uniqueStrings(entry.types, `${where}.types`),
      exceptTypes: uniqueStrings(entry.exceptTypes, `${where}.exceptTypes`),
    };
    if (rule.classes.includes(ALL_CLASSES) && rule.classes.length > 1) throw new MatrixError(`${where}.classes: "${ALL_CLASSES}" stands alone`);
    for (const classCode of rule.classes) {
      if (classCode !== ALL_CLASSES && !classCodes.has(classCode)) throw new MatrixError(`${where}.classes: unknown class ${classCode}`);
    }
    for (const typeCode of [...rule.types, ...rule.exceptTypes]) {
      if (!typesByCode.has(typeCode)) throw new MatrixError(`${where}: unknown type ${typeCode}`);
    }
    const visible = new Set<string>();
    for (const type of documentTypes) {
      const byClass = rule.classes.includes(ALL_CLASSES) || rule.classes.includes(type.classCode);
      if ((byClass || rule.types.includes(type.typeCode)) && !rule.exceptTypes.includes(type.typeCode)) visible.add(type.typeCode);
    }
    professions.set(code, rule);
    visibleTypes.set(code, visible);
  }

  return { version: MATRIX_VERSION, classes, documentTypes, professions, visibleTypes };
}

/** Reads and validates the matrix file (default: data/authorization-matrix.json of the package). */
export function loadMatrix(path: string = defaultMatrixPath()): AuthorizationMatrix {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new MatrixError(`cannot read the authorisation matrix ${path}: ${(error as Error).message}`);
  }
  return parseMatrix(json);
}

/** Whether a practitioner of this profession may see documents of this type. Deny by default. */
export function canSee(matrix: AuthorizationMatrix, professionCode: string, typeCode: string): boolean {
  if (typeof professionCode !== 'string' || typeof typeCode !== 'string') return false;
  return matrix.visibleTypes.get(professionCode)?.has(typeCode) === true;
}

/** The type codes a profession may see (empty for an unknown one): a search filter for the store. */
export function visibleTypeCodes(matrix: AuthorizationMatrix, professionCode: string): string[] {
  return [...(matrix.visibleTypes.get(professionCode) ?? [])];
}
