// The patient of a new DMP: INS, identity traits and recorded consent (dmp-service.md, "Patients
// and access"). For the NIR family (INS-NIR, test, demonstration) the five INS traits are
// required — birth surname, first names, birth date, sex, birthplace code — and must agree with
// what the NIR itself says (sex, year and, when known, month of birth). For a legacy INS-C they
// are optional but checked the same way when given.
import { parseNir, type Ins } from '../../ins/index.js';
import { DmpError } from '../errors.js';
import { insFromBody, isNirFamily } from './patient-ins.js';

export interface IdentityTraits {
  readonly birthSurname: string;
  /** The birth first names, in order, separated by spaces. */
  readonly firstNames: string;
  /** YYYY-MM-DD. */
  readonly birthDate: string;
  readonly sex: 'M' | 'F';
  /** INSEE code of the birthplace: commune (5 characters, 2A/2B for Corsica) or 99xxx abroad. */
  readonly birthplaceCode: string;
  readonly usedSurname?: string;
  readonly usedFirstName?: string;
}

export interface NewPatient {
  readonly ins: Ins;
  readonly traits: IdentityTraits | null;
}

const TRAIT_KEYS = new Set(['birthSurname', 'firstNames', 'birthDate', 'sex', 'birthplaceCode', 'usedSurname', 'usedFirstName']);
/** Letters (any script), spaces, apostrophes and hyphens: what the INS traits hold. */
const NAME = /^[\p{L}][\p{L}\p{M}' -]{0,99}$/u;
const BIRTHPLACE = /^(?:\d{5}|2[AB]\d{3})$/;

function traitsError(detail: string): DmpError {
  return new DmpError('TRAITS_INVALID', detail);
}

function name(value: unknown, what: string, required: boolean): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || !NAME.test(value.trim())) throw traitsError(`${what} : lettres, espaces, apostrophes et tirets attendus (100 caractères au plus)`);
  return value.trim();
}

function birthDate(value: unknown, now: Date): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw traitsError('date de naissance AAAA-MM-JJ attendue');
  const date = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) throw traitsError('date de naissance inexistante');
  if (date.getTime() > now.getTime() || date.getUTCFullYear() < 1880) throw traitsError('date de naissance hors des limites');
  return value;
}

function checkAgainstNir(traits: IdentityTraits, nirValue: string): void {
  const nir = parseNir(nirValue);
  if (nir.sex !== traits.sex) throw traitsError("le sexe ne correspond pas à celui de l'INS");
  const [year, month] = traits.birthDate.split('-').map(Number) as [number, number];
  if (year % 100 !== nir.birthYear) throw traitsError("l'année de naissance ne correspond pas à celle de l'INS");
  if (nir.birthMonthKnown && month !== nir.birthMonth) throw traitsError("le mois de naissance ne correspond pas à celui de l'INS");
}

/** Checks the traits object (strict: unknown members refused). */
export function parseTraits(value: unknown, now: Date): IdentityTraits {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw traitsError("traits d'identité attendus (objet)");
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) if (!TRAIT_KEYS.has(key)) throw traitsError(`trait inconnu : ${key.slice(0, 40)}`);
  const sex = input.sex;
  if (sex !== 'M' && sex !== 'F') throw traitsError('sexe M ou F attendu');
  const place = input.birthplaceCode;
  if (typeof place !== 'string' || !BIRTHPLACE.test(place)) throw traitsError('code INSEE du lieu de naissance attendu (5 caractères)');
  const usedSurname = name(input.usedSurname, "nom d'usage", false);
  const usedFirstName = name(input.usedFirstName, "prénom d'usage", false);
  return {
    birthSurname: name(input.birthSurname, 'nom de naissance', true) as string,
    firstNames: name(input.firstNames, 'prénoms de naissance', true) as string,
    birthDate: birthDate(input.birthDate, now),
    sex,
    birthplaceCode: place,
    ...(usedSurname === undefined ? {} : { usedSurname }),
    ...(usedFirstName === undefined ? {} : { usedFirstName }),
  };
}

/**
 * The patient of `POST /v1/patients`, checked in this order: consent (400 CONSENT_REQUIRED unless
 * exactly `true`), INS (400 INS_INVALID), traits (400 TRAITS_INVALID).
 */
export function parseNewPatient(body: { ins?: unknown; traits?: unknown; consent?: unknown }, now: Date): NewPatient {
  if (body.consent !== true) {
    throw new DmpError('CONSENT_REQUIRED', 'le consentement du patient à la création de son DMP doit être recueilli (consent: true)');
  }
  const ins = insFromBody(body.ins as { oid?: unknown; value?: unknown } | undefined);
  if (body.traits === undefined || body.traits === null) {
    if (isNirFamily(ins.oid)) throw traitsError("les traits d'identité sont obligatoires pour un INS-NIR");
    return { ins, traits: null };
  }
  const traits = parseTraits(body.traits, now);
  if (isNirFamily(ins.oid)) checkAgainstNir(traits, ins.value);
  return { ins, traits };
}
