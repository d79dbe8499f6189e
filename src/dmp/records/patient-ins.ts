// Which INS identify a DMP, and the `{ins}` of the API paths (`<oid>:<value>`). A DMP is created
// for an INS-NIR (or its test / demonstration OIDs) with a valid key, or for a legacy INS-C
// (dmp-service.md); an NIA (temporary number) is not an INS a DMP is opened for.
import { INS_C_OID, INS_NIR_DEMO_OID, INS_NIR_OID, INS_NIR_TEST_OID, InsError, checkIns, parseInsPath, type Ins, type InsOid } from '../../ins/index.js';
import { DmpError } from '../errors.js';

export const DMP_INS_OIDS: readonly InsOid[] = [INS_NIR_OID, INS_NIR_TEST_OID, INS_NIR_DEMO_OID, INS_C_OID];

/** INS-NIR and its test / demonstration variants: identity traits are required for them. */
export function isNirFamily(oid: string): boolean {
  return oid === INS_NIR_OID || oid === INS_NIR_TEST_OID || oid === INS_NIR_DEMO_OID;
}

function acceptedForDmp(ins: Ins): Ins {
  if (!DMP_INS_OIDS.includes(ins.oid)) {
    throw new DmpError('INS_INVALID', 'un DMP est ouvert pour un INS-NIR (ou ses OID de test et de démonstration) ou un INS-C');
  }
  return ins;
}

/** The INS of a request body; 400 INS_INVALID with the INS module's reason (never the value itself). */
export function insFromBody(value: { oid?: unknown; value?: unknown } | undefined): Ins {
  try {
    return acceptedForDmp(checkIns({ oid: value?.oid as InsOid, value: value?.value as string }));
  } catch (error) {
    if (error instanceof InsError) throw new DmpError('INS_INVALID', `INS refusé (${error.code})`);
    throw error;
  }
}

/** The INS of a `{ins}` path segment (`<oid>:<value>`). */
export function insFromPath(segment: string): Ins {
  try {
    return acceptedForDmp(parseInsPath(segment));
  } catch (error) {
    if (error instanceof InsError) throw new DmpError('INS_INVALID', `INS du chemin refusé (${error.code}) : <oid>:<valeur> attendu`);
    throw error;
  }
}

export function insPath(ins: { oid: string; value: string }): string {
  return `${ins.oid}:${ins.value}`;
}

/** The patient's trace chain (one per DMP). */
export function patientChainId(ins: { oid: string; value: string }): string {
  return `patient:${insPath(ins)}`;
}
