// The `metadata` part of a document upload: { classCode?, typeCode, title, confidentiality?,
// creationTime?, replaces?, format? }, strictly checked (unknown members refused). The typeCode
// must be a type of the authorisation matrix; the classCode is derived from it: a client's
// classCode naming another class of the matrix is refused, one of another vocabulary (the XDS
// numeric classes) is ignored. `format` (an XDS format code) is informative: the service decides
// the format from the bytes. Creation time defaults to the submission time and cannot be in the
// future.
import { DmpError } from '../errors.js';
import { classCodeOf, documentClasses } from '../policy/index.js';

export const CONFIDENTIALITY_CODES = ['MASQUE_PS', 'INVISIBLE_PATIENT', 'INVISIBLE_REPRESENTANTS_LEGAUX'] as const;
export type ConfidentialityCode = (typeof CONFIDENTIALITY_CODES)[number];

export interface DocumentMetadataInput {
  readonly classCode: string;
  readonly typeCode: string;
  readonly title: string;
  readonly confidentiality: readonly ConfidentialityCode[];
  /** Epoch ms. */
  readonly creationTime: number;
  readonly replaces: string | null;
}

const PROJECT_CLASSES = new Set(documentClasses.map((c) => c.classCode));
const KEYS = new Set(['classCode', 'typeCode', 'title', 'confidentiality', 'creationTime', 'replaces', 'format']);
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
export const DOCUMENT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Clocks differ: a creation time this far ahead of the service's is still accepted. */
const FUTURE_SKEW_MS = 5 * 60_000;

function invalid(detail: string): DmpError {
  return new DmpError('METADATA_INVALID', detail);
}

/** Checks a list of confidentiality codes (unique, known); sorted for storage. */
export function parseConfidentiality(value: unknown): ConfidentialityCode[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid('confidentiality : tableau de codes attendu');
  const codes = new Set<ConfidentialityCode>();
  for (const code of value) {
    if (typeof code !== 'string' || !(CONFIDENTIALITY_CODES as readonly string[]).includes(code)) {
      throw invalid(`confidentiality : codes acceptés ${CONFIDENTIALITY_CODES.join(', ')}`);
    }
    if (codes.has(code as ConfidentialityCode)) throw invalid('confidentiality : code répété');
    codes.add(code as ConfidentialityCode);
  }
  return [...codes].sort();
}

export function parseDocumentMetadata(value: unknown, now: Date): DocumentMetadataInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('métadonnées JSON (objet) attendues');
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) if (!KEYS.has(key)) throw invalid(`membre inconnu : ${key.slice(0, 40)}`);

  const typeCode = input.typeCode;
  if (typeof typeCode !== 'string') throw invalid('typeCode (code LOINC) attendu');
  const classCode = classCodeOf(typeCode);
  if (classCode === undefined) throw invalid(`typeCode ${typeCode.slice(0, 20)} inconnu de la matrice d'habilitations`);
  if (input.classCode !== undefined) {
    if (typeof input.classCode !== 'string' || input.classCode.length > 64) throw invalid('classCode : texte attendu');
    // a class of the matrix that is not the type's is a contradiction; a code of another
    // vocabulary (e.g. the XDS numeric classes) is not ours to judge: the derived class is kept
    if (PROJECT_CLASSES.has(input.classCode) && input.classCode !== classCode) {
      throw invalid(`classCode ${input.classCode} incohérent : ${typeCode} est de la classe ${classCode}`);
    }
  }
  if (input.format !== undefined && (typeof input.format !== 'string' || input.format.length > 256)) throw invalid('format : texte attendu');

  const title = typeof input.title === 'string' ? input.title.replace(/[\p{Cc}\p{Cf}]+/gu, ' ').trim() : '';
  if (title === '' || title.length > 256) throw invalid('title : texte de 1 à 256 caractères attendu');

  let creationTime = now.getTime();
  if (input.creationTime !== undefined) {
    const parsed = typeof input.creationTime === 'string' && ISO_DATE_TIME.test(input.creationTime) ? Date.parse(input.creationTime) : Number.NaN;
    if (Number.isNaN(parsed)) throw invalid('creationTime : date ISO 8601 avec fuseau attendue');
    if (parsed > now.getTime() + FUTURE_SKEW_MS) throw invalid('creationTime dans le futur');
    if (parsed < Date.UTC(1900, 0, 1)) throw invalid('creationTime antérieure à 1900');
    creationTime = parsed;
  }

  let replaces: string | null = null;
  if (input.replaces !== undefined && input.replaces !== null) {
    if (typeof input.replaces !== 'string' || !DOCUMENT_ID_PATTERN.test(input.replaces)) throw invalid('replaces : identifiant de document attendu');
    replaces = input.replaces;
  }

  return { classCode, typeCode, title, confidentiality: parseConfidentiality(input.confidentiality), creationTime, replaces };
}

export interface ConfidentialityFlags {
  readonly json: string;
  readonly maskedPs: boolean;
  readonly invisiblePatient: boolean;
  readonly invisibleRepresentants: boolean;
}

/** The stored form: the JSON list and the three flags reads go by. */
export function confidentialityFlags(codes: readonly ConfidentialityCode[]): ConfidentialityFlags {
  return {
    json: JSON.stringify([...codes].sort()),
    maskedPs: codes.includes('MASQUE_PS'),
    invisiblePatient: codes.includes('INVISIBLE_PATIENT'),
    invisibleRepresentants: codes.includes('INVISIBLE_REPRESENTANTS_LEGAUX'),
  };
}

/** The codes of a stored document, from its flags (the portal changes the MASQUE_PS flag alone). */
export function confidentialityOf(flags: { maskedPs: boolean; invisiblePatient: boolean; invisibleRepresentants: boolean }): ConfidentialityCode[] {
  const codes: ConfidentialityCode[] = [];
  if (flags.invisiblePatient) codes.push('INVISIBLE_PATIENT');
  if (flags.invisibleRepresentants) codes.push('INVISIBLE_REPRESENTANTS_LEGAUX');
  if (flags.maskedPs) codes.push('MASQUE_PS');
  return codes;
}
