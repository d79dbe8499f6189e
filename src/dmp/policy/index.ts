// DMP access policy data: the authorisation matrix, who may use the DMP, the document types.
export {
  ALL_CLASSES,
  canSee,
  loadMatrix,
  MatrixError,
  parseMatrix,
  visibleTypeCodes,
  type AuthorizationMatrix,
  type DocumentClass,
  type DocumentType,
  type ProfessionRule,
} from './authorization-matrix.js';
export { defaultMatrixPath } from './default-matrix-path.js';
export { classCodeOf, documentClasses, documentTypeByCode, documentTypes } from './document-types.js';
export { isValidLoincCode } from './loinc.js';
export {
  dmpProfessionDecision,
  EXCLUDED_SECTORS,
  EXCLUDED_SPECIALTIES,
  isProfessionAllowedInDmp,
  type DmpExclusionReason,
  type DmpProfessionContext,
  type DmpProfessionDecision,
} from './profession-policy.js';
