// TRE_G15 "ProfessionSante" (ANS nomenclature): profession code <-> French label.
// Certificates carry the label in the subject `title`; the DMP needs the code. Real CPS
// certificates have no profession extension, so host code maps the label back to the code here.

export interface Profession {
  /** TRE_G15 code, two digits, as written in the nomenclature. */
  readonly code: string;
  /** French label, as written in a certificate's `title` attribute. */
  readonly label: string;
}

/** The health professions of TRE_G15, in code order. */
export const TRE_G15_PROFESSIONS: readonly Profession[] = Object.freeze([
  { code: '10', label: 'Médecin' },
  { code: '21', label: 'Pharmacien' },
  { code: '26', label: 'Audioprothésiste' },
  { code: '28', label: 'Opticien-lunetier' },
  { code: '31', label: 'Assistant dentaire' },
  { code: '32', label: 'Physicien médical' },
  { code: '35', label: 'Aide-soignant' },
  { code: '36', label: 'Ambulancier' },
  { code: '37', label: 'Auxiliaire de puériculture' },
  { code: '38', label: 'Préparateur en pharmacie hospitalière' },
  { code: '39', label: 'Préparateur en pharmacie (officine)' },
  { code: '40', label: 'Chirurgien-dentiste' },
  { code: '50', label: 'Sage-femme' },
  { code: '60', label: 'Infirmier' },
  { code: '69', label: 'Infirmier psychiatrique' },
  { code: '70', label: 'Masseur-kinésithérapeute' },
  { code: '80', label: 'Pédicure-podologue' },
  { code: '81', label: 'Orthoprothésiste' },
  { code: '82', label: 'Podo-orthésiste' },
  { code: '83', label: 'Orthopédiste-orthésiste' },
  { code: '84', label: 'Oculariste' },
  { code: '85', label: 'Épithésiste' },
  { code: '86', label: 'Technicien de laboratoire médical' },
  { code: '91', label: 'Orthophoniste' },
  { code: '92', label: 'Orthoptiste' },
  { code: '94', label: 'Ergothérapeute' },
  { code: '95', label: 'Diététicien' },
  { code: '96', label: 'Psychomotricien' },
  { code: '98', label: "Manipulateur d'électroradiologie médicale" },
].map((p) => Object.freeze(p)));

/** Other spellings met in titles (feminine forms, short forms); each maps to one code. */
const ALIASES: readonly (readonly [string, string])[] = [
  ['Pharmacienne', '21'],
  ['Opticienne-lunetière', '28'],
  ['Assistante dentaire', '31'],
  ['Aide-soignante', '35'],
  ['Ambulancière', '36'],
  ['Préparateur en pharmacie', '39'],
  ['Préparatrice en pharmacie', '39'],
  ['Chirurgienne-dentiste', '40'],
  ['Maïeuticien', '50'],
  ['Infirmière', '60'],
  ['Infirmière psychiatrique', '69'],
  ['Masseuse-kinésithérapeute', '70'],
  ['Technicienne de laboratoire médical', '86'],
  ['Diététicienne', '95'],
  ['Psychomotricienne', '96'],
  ['Manipulateur ERM', '98'],
  ['Manipulatrice ERM', '98'],
  ["Manipulatrice d'électroradiologie médicale", '98'],
];

/**
 * Folds a label for comparison: accents removed, case folded, every run of punctuation or
 * spaces (hyphen, apostrophe, parentheses) turned into one space.
 */
export function normalizeProfessionLabel(label: string): string {
  return label
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

const LABEL_BY_CODE = new Map(TRE_G15_PROFESSIONS.map((p) => [p.code, p.label]));
const CODE_BY_FOLDED_LABEL = new Map<string, string>([
  ...TRE_G15_PROFESSIONS.map((p) => [normalizeProfessionLabel(p.label), p.code] as const),
  ...ALIASES.map(([label, code]) => [normalizeProfessionLabel(label), code] as const),
]);

/** The French label of a TRE_G15 code, or undefined for a code outside the table. */
export function professionLabel(code: string): string | undefined {
  return LABEL_BY_CODE.get(code.trim());
}

/**
 * The TRE_G15 code of a label (e.g. a certificate's `title`), tolerant of case, accents,
 * hyphens and the usual feminine forms; undefined when the label names no known profession.
 */
export function professionCodeFromLabel(label: string): string | undefined {
  const folded = normalizeProfessionLabel(label);
  return folded === '' ? undefined : CODE_BY_FOLDED_LABEL.get(folded);
}

export function isKnownProfessionCode(code: string): boolean {
  return LABEL_BY_CODE.has(code);
}
