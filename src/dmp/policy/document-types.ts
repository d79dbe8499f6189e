// The document types the pages offer (type, class, French name), taken from the shipped matrix
// file so that the list a practitioner picks from and the rules that apply to it cannot drift.
import { loadMatrix, type AuthorizationMatrix, type DocumentClass, type DocumentType } from './authorization-matrix.js';

const shipped: AuthorizationMatrix = loadMatrix();

export const documentTypes: readonly DocumentType[] = Object.freeze(shipped.documentTypes.map((t) => Object.freeze({ ...t })));
export const documentClasses: readonly DocumentClass[] = Object.freeze(shipped.classes.map((c) => Object.freeze({ ...c })));

const byTypeCode = new Map(documentTypes.map((t) => [t.typeCode, t]));

/** The known document type of a LOINC code, or undefined. */
export function documentTypeByCode(typeCode: string): DocumentType | undefined {
  return byTypeCode.get(typeCode);
}

/** The classCode a typeCode belongs to (the service derives it rather than trusting the client's). */
export function classCodeOf(typeCode: string): string | undefined {
  return byTypeCode.get(typeCode)?.classCode;
}
