// Who may use the DMP at all (dmp-service.md, login step 3, 403 PROFESSION_NOT_ALLOWED): the law
// keeps occupational medicine, insurers and mutual funds out of a patient's shared record,
// whatever their profession. Decided from the profession and specialty the certificate carries
// and the sector of the activity the practitioner declares.
//
// Codes (this project's test data; a deployment maps its real nomenclature codes here):
//   specialty SM43  occupational medicine (médecine du travail), as in the personas
//   sector    SA33  occupational health service (service de santé au travail), as in the personas
//   sector    SA90  insurer (organisme d'assurance) — project test code, not taken from TRE_R02
//   sector    SA91  mutual fund (mutuelle)          — project test code, not taken from TRE_R02
import { isKnownProfessionCode } from '../../pki/professions.js';

export type DmpExclusionReason = 'OCCUPATIONAL_MEDICINE' | 'INSURER' | 'MUTUAL_FUND';

export interface DmpProfessionContext {
  /** TRE_G15 code from the certificate; undefined when it names none. */
  professionCode: string | undefined;
  specialtyCode?: string | undefined;
  /** Sector of the declared activity (CPS_ACTIVITY_xx_PS sector). */
  sector?: string | undefined;
}

export type DmpProfessionDecision =
  | { allowed: true }
  | { allowed: false; reason: 'PROFESSION_UNKNOWN' | DmpExclusionReason; detail: string };

export const EXCLUDED_SPECIALTIES: Readonly<Record<string, DmpExclusionReason>> = Object.freeze({
  SM43: 'OCCUPATIONAL_MEDICINE',
});

export const EXCLUDED_SECTORS: Readonly<Record<string, DmpExclusionReason>> = Object.freeze({
  SA33: 'OCCUPATIONAL_MEDICINE',
  SA90: 'INSURER',
  SA91: 'MUTUAL_FUND',
});

const normalise = (code: string | undefined): string | undefined => (typeof code === 'string' ? code.trim().toUpperCase() : undefined);

export function dmpProfessionDecision(context: DmpProfessionContext): DmpProfessionDecision {
  const profession = typeof context?.professionCode === 'string' ? context.professionCode.trim() : undefined;
  if (profession === undefined || !isKnownProfessionCode(profession)) {
    return { allowed: false, reason: 'PROFESSION_UNKNOWN', detail: `no TRE_G15 profession (${String(context?.professionCode)})` };
  }
  const specialty = normalise(context.specialtyCode);
  const bySpecialty = specialty === undefined ? undefined : EXCLUDED_SPECIALTIES[specialty];
  if (bySpecialty) return { allowed: false, reason: bySpecialty, detail: `specialty ${specialty} is excluded from the DMP` };
  // A nurse or a doctor of another specialty working in an occupational health service is
  // excluded by the sector too: what counts is the capacity in which the record is reached.
  const sector = normalise(context.sector);
  const bySector = sector === undefined ? undefined : EXCLUDED_SECTORS[sector];
  if (bySector) return { allowed: false, reason: bySector, detail: `sector ${sector} is excluded from the DMP` };
  return { allowed: true };
}

export function isProfessionAllowedInDmp(context: DmpProfessionContext): boolean {
  return dmpProfessionDecision(context).allowed;
}
