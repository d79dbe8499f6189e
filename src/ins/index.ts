// Pure INS domain: NIR key and fields, INS-C computation, INS OIDs and paths. No I/O.
export { InsError, type InsErrorCode } from './ins-error.js';
export { compactNir, isValidNir, nirKey, parseNir, type Nir } from './nir.js';
export { computeInsC, insCKey, isValidInsC, normalizeInsCFirstName } from './ins-c.js';
export {
  INS_C_OID,
  INS_NIA_OID,
  INS_NIR_DEMO_OID,
  INS_NIR_OID,
  INS_NIR_TEST_OID,
  INS_OIDS,
  checkIns,
  formatInsPath,
  isInsOid,
  parseInsPath,
  type Ins,
  type InsOid,
} from './ins-types.js';
