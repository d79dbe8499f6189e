// The CAs of the test PKI, shaped like the IGC-Santé: one root, two intermediates.
import { caNameAttributes, formatName, type NameAttribute } from './names.js';

export type CaId = 'root' | 'persons' | 'organisations';

export const CA_IDS: readonly CaId[] = ['root', 'persons', 'organisations'];

export interface CaDefinition {
  readonly id: CaId;
  readonly commonName: string;
  /** File and URL name: `/crl/<slug>.crl`, `/ca/<slug>.cer`. */
  readonly slug: string;
  /** The CA that signs this one (the root signs itself). */
  readonly parent: CaId;
  /** What it certifies, for people reading CLI output. */
  readonly descriptionFr: string;
}

export const CA_DEFINITIONS: Readonly<Record<CaId, CaDefinition>> = {
  root: {
    id: 'root',
    commonName: 'TEST AC IGC-SANTE RACINE',
    slug: 'test-ac-igc-sante-racine',
    parent: 'root',
    descriptionFr: 'autorité racine',
  },
  persons: {
    id: 'persons',
    commonName: 'TEST AC IGC-SANTE FORT PERSONNES',
    slug: 'test-ac-igc-sante-fort-personnes',
    parent: 'root',
    descriptionFr: 'cartes des professionnels (CPS)',
  },
  organisations: {
    id: 'organisations',
    commonName: 'TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS',
    slug: 'test-ac-igc-sante-elementaire-organisations',
    parent: 'root',
    descriptionFr: 'établissements et serveurs',
  },
};

export function isCaId(value: string): value is CaId {
  return (CA_IDS as readonly string[]).includes(value);
}

export function caIdFromSlug(slug: string): CaId | undefined {
  return CA_IDS.find((id) => CA_DEFINITIONS[id].slug === slug);
}

export function caSubjectAttributes(ca: CaId): NameAttribute[] {
  return caNameAttributes(CA_DEFINITIONS[ca].commonName);
}

/** `C=FR, O=ASIP-SANTE, OU=IGC-SANTE TEST, CN=TEST AC …` */
export function caSubject(ca: CaId): string {
  return formatName(caSubjectAttributes(ca));
}

/** The CRL URL written in certificates issued by `ca`: `<base>/<slug>.crl`. */
export function crlUrl(crlBaseUrl: string, ca: CaId): string {
  return `${crlBaseUrl.replace(/\/+$/, '')}/${CA_DEFINITIONS[ca].slug}.crl`;
}
