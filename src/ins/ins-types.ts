// The INS (identifiant national de santé) as exchanged between systems: an OID naming the kind of
// identifier and its value, written `<oid>:<value>` in paths and logs. OIDs from cards.md / FHIR
// FR Core. An NIR read from a Vitale card is not a qualified INS by itself (no identity traits).
import { InsError, requireString } from './ins-error.js';
import { isValidInsC } from './ins-c.js';
import { parseNir } from './nir.js';

export const INS_C_OID = '1.2.250.1.213.1.4.2';
export const INS_NIR_OID = '1.2.250.1.213.1.4.8';
export const INS_NIA_OID = '1.2.250.1.213.1.4.9';
export const INS_NIR_TEST_OID = '1.2.250.1.213.1.4.10';
export const INS_NIR_DEMO_OID = '1.2.250.1.213.1.4.11';

export const INS_OIDS = [INS_C_OID, INS_NIR_OID, INS_NIA_OID, INS_NIR_TEST_OID, INS_NIR_DEMO_OID] as const;

export type InsOid = (typeof INS_OIDS)[number];

export interface Ins {
  readonly oid: InsOid;
  readonly value: string;
}

export function isInsOid(value: string): value is InsOid {
  return (INS_OIDS as readonly string[]).includes(value);
}

/** Checks an INS value against its OID: 22 digits with key for INS-C, a valid 15-char NIR otherwise. */
export function checkIns(ins: Ins): Ins {
  const oid = requireString(ins?.oid, 'INS OID');
  const value = requireString(ins.value, 'INS value');
  if (!isInsOid(oid)) throw new InsError('INS_OID_UNKNOWN', 'not one of the five INS OIDs');
  if (oid === INS_C_OID) {
    if (!isValidInsC(value)) throw new InsError('INSC_FORMAT', 'an INS-C is 22 digits whose last two are its key');
  } else {
    parseNir(value); // an INS of the NIR family is a valid 15-character NIR (precise error codes)
  }
  return { oid, value };
}

/** `<oid>:<value>`, after checking the value against its OID. */
export function formatInsPath(ins: Ins): string {
  const checked = checkIns(ins);
  return `${checked.oid}:${checked.value}`;
}

/** The inverse of `formatInsPath`; throws InsError for anything that is not a valid INS path. */
export function parseInsPath(path: string): Ins {
  const text = requireString(path, 'INS path');
  const colon = text.indexOf(':');
  if (colon < 0 || text.indexOf(':', colon + 1) >= 0) {
    throw new InsError('INS_PATH_FORMAT', 'an INS path is <oid>:<value>');
  }
  const oid = text.slice(0, colon);
  if (!isInsOid(oid)) throw new InsError('INS_OID_UNKNOWN', 'not one of the five INS OIDs');
  return checkIns({ oid, value: text.slice(colon + 1) });
}
