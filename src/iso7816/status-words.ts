// Status words (ISO 7816-4 §5.6): names for the ones this project meets, and bilingual
// descriptions for logs and error messages. French first: the product's users are French
// practitioners; English is for the developers and for peer tools' traces.

export const SW = {
  SUCCESS: 0x9000,
  // 61xx / 6Cxx: T=0 procedure hints, resolved by t0.ts; listed here by their base value.
  BYTES_AVAILABLE: 0x6100,
  WRONG_LE: 0x6c00,
  // Warnings, state unchanged (62xx) and changed (63xx).
  WARNING_NO_INFO: 0x6200,
  DATA_CORRUPTED: 0x6281,
  END_OF_FILE: 0x6282,
  FILE_DEACTIVATED: 0x6283,
  FCI_NOT_FORMATTED: 0x6284,
  FILE_TERMINATED: 0x6285,
  VERIFY_FAILED: 0x6300,
  /** 63Cx: verification failed, x tries left; use retriesFromSw(). */
  VERIFY_FAILED_RETRIES: 0x63c0,
  // Errors.
  EXECUTION_ERROR: 0x6400,
  MEMORY_FAILURE: 0x6581,
  WRONG_LENGTH: 0x6700,
  CLA_FUNCTION_NOT_SUPPORTED: 0x6800,
  LOGICAL_CHANNEL_NOT_SUPPORTED: 0x6881,
  SECURE_MESSAGING_NOT_SUPPORTED: 0x6882,
  LAST_COMMAND_OF_CHAIN_EXPECTED: 0x6883,
  CHAINING_NOT_SUPPORTED: 0x6884,
  COMMAND_NOT_ALLOWED: 0x6900,
  COMMAND_INCOMPATIBLE_WITH_FILE: 0x6981,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTH_METHOD_BLOCKED: 0x6983,
  REFERENCE_DATA_NOT_USABLE: 0x6984,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  COMMAND_NOT_ALLOWED_NO_EF: 0x6986,
  SM_DATA_MISSING: 0x6987,
  SM_DATA_INCORRECT: 0x6988,
  WRONG_PARAMETERS: 0x6a00,
  INCORRECT_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  RECORD_NOT_FOUND: 0x6a83,
  NOT_ENOUGH_MEMORY: 0x6a84,
  NC_INCONSISTENT_WITH_TLV: 0x6a85,
  INCORRECT_P1P2: 0x6a86,
  NC_INCONSISTENT_WITH_P1P2: 0x6a87,
  REFERENCE_NOT_FOUND: 0x6a88,
  FILE_ALREADY_EXISTS: 0x6a89,
  DF_NAME_ALREADY_EXISTS: 0x6a8a,
  WRONG_P1P2: 0x6b00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  UNKNOWN: 0x6f00,
} as const;

export type SwName = keyof typeof SW;

export interface SwDescription {
  fr: string;
  en: string;
}

export function isSuccess(sw: number): boolean {
  return sw === SW.SUCCESS;
}

/** 61xx: the card holds response bytes for a GET RESPONSE (T=0). */
export function isBytesAvailable(sw: number): boolean {
  return (sw & 0xff00) === 0x6100;
}

/** 6Cxx: wrong Le; SW2 gives the exact length to ask for (T=0). */
export function isWrongLe(sw: number): boolean {
  return (sw & 0xff00) === 0x6c00;
}

/**
 * Tries left after a failed or empty VERIFY: 63Cx -> x. Undefined for anything else, including
 * 6983 (blocked), which callers must test for themselves: it also answers commands other than
 * VERIFY, so reading it as "0 tries" here would hide that.
 */
export function retriesFromSw(sw: number): number | undefined {
  return (sw & 0xfff0) === 0x63c0 ? sw & 0x0f : undefined;
}

const EXACT: ReadonlyMap<number, SwDescription> = new Map<number, SwDescription>([
  [SW.SUCCESS, { fr: 'Succès', en: 'Success' }],
  [SW.WARNING_NO_INFO, { fr: 'Avertissement : état de la mémoire non modifié', en: 'Warning: non-volatile memory unchanged' }],
  [SW.DATA_CORRUPTED, { fr: 'Une partie des données renvoyées peut être altérée', en: 'Part of returned data may be corrupted' }],
  [SW.END_OF_FILE, { fr: 'Fin de fichier ou d\u2019enregistrement atteinte avant la longueur demandée', en: 'End of file or record reached before reading Ne bytes' }],
  [SW.FILE_DEACTIVATED, { fr: 'Le fichier sélectionné est désactivé', en: 'Selected file deactivated' }],
  [SW.FCI_NOT_FORMATTED, { fr: 'Informations de contrôle du fichier mal formatées', en: 'File control information not formatted according to ISO 7816-4' }],
  [SW.FILE_TERMINATED, { fr: 'Le fichier sélectionné est en fin de vie', en: 'Selected file in termination state' }],
  [SW.VERIFY_FAILED, { fr: 'Vérification échouée', en: 'Verification failed' }],
  [SW.EXECUTION_ERROR, { fr: 'Erreur d\u2019exécution, mémoire non modifiée', en: 'Execution error, non-volatile memory unchanged' }],
  [SW.MEMORY_FAILURE, { fr: 'Défaillance de la mémoire', en: 'Memory failure' }],
  [SW.WRONG_LENGTH, { fr: 'Longueur incorrecte', en: 'Wrong length' }],
  [SW.CLA_FUNCTION_NOT_SUPPORTED, { fr: 'Fonction de la classe (CLA) non supportée', en: 'Functions in CLA not supported' }],
  [SW.LOGICAL_CHANNEL_NOT_SUPPORTED, { fr: 'Canal logique non supporté', en: 'Logical channel not supported' }],
  [SW.SECURE_MESSAGING_NOT_SUPPORTED, { fr: 'Messagerie sécurisée non supportée', en: 'Secure messaging not supported' }],
  [SW.LAST_COMMAND_OF_CHAIN_EXPECTED, { fr: 'Dernière commande du chaînage attendue', en: 'Last command of the chain expected' }],
  [SW.CHAINING_NOT_SUPPORTED, { fr: 'Chaînage de commandes non supporté', en: 'Command chaining not supported' }],
  [SW.COMMAND_NOT_ALLOWED, { fr: 'Commande non autorisée', en: 'Command not allowed' }],
  [SW.COMMAND_INCOMPATIBLE_WITH_FILE, { fr: 'Commande incompatible avec la structure du fichier', en: 'Command incompatible with file structure' }],
  [SW.SECURITY_STATUS_NOT_SATISFIED, { fr: 'Conditions de sécurité non satisfaites (code porteur non vérifié ?)', en: 'Security status not satisfied' }],
  [SW.AUTH_METHOD_BLOCKED, { fr: 'Méthode d\u2019authentification bloquée (code porteur bloqué)', en: 'Authentication method blocked' }],
  [SW.REFERENCE_DATA_NOT_USABLE, { fr: 'Données de référence inutilisables', en: 'Reference data not usable' }],
  [SW.CONDITIONS_NOT_SATISFIED, { fr: 'Conditions d\u2019utilisation non satisfaites', en: 'Conditions of use not satisfied' }],
  [SW.COMMAND_NOT_ALLOWED_NO_EF, { fr: 'Commande non autorisée : aucun fichier élémentaire courant', en: 'Command not allowed: no current EF' }],
  [SW.SM_DATA_MISSING, { fr: 'Objets de messagerie sécurisée attendus absents', en: 'Expected secure messaging data objects missing' }],
  [SW.SM_DATA_INCORRECT, { fr: 'Objets de messagerie sécurisée incorrects', en: 'Incorrect secure messaging data objects' }],
  [SW.WRONG_PARAMETERS, { fr: 'Paramètres P1-P2 incorrects', en: 'Wrong parameters P1-P2' }],
  [SW.INCORRECT_DATA, { fr: 'Paramètres incorrects dans le champ de données', en: 'Incorrect parameters in the command data field' }],
  [SW.FUNCTION_NOT_SUPPORTED, { fr: 'Fonction non supportée', en: 'Function not supported' }],
  [SW.FILE_NOT_FOUND, { fr: 'Fichier ou application introuvable', en: 'File or application not found' }],
  [SW.RECORD_NOT_FOUND, { fr: 'Enregistrement introuvable', en: 'Record not found' }],
  [SW.NOT_ENOUGH_MEMORY, { fr: 'Mémoire insuffisante dans le fichier', en: 'Not enough memory space in the file' }],
  [SW.NC_INCONSISTENT_WITH_TLV, { fr: 'Longueur des données incohérente avec la structure TLV', en: 'Nc inconsistent with TLV structure' }],
  [SW.INCORRECT_P1P2, { fr: 'Paramètres P1-P2 incorrects', en: 'Incorrect parameters P1-P2' }],
  [SW.NC_INCONSISTENT_WITH_P1P2, { fr: 'Longueur des données incohérente avec P1-P2', en: 'Nc inconsistent with parameters P1-P2' }],
  [SW.REFERENCE_NOT_FOUND, { fr: 'Données référencées introuvables', en: 'Referenced data or reference data not found' }],
  [SW.FILE_ALREADY_EXISTS, { fr: 'Le fichier existe déjà', en: 'File already exists' }],
  [SW.DF_NAME_ALREADY_EXISTS, { fr: 'Le nom de DF existe déjà', en: 'DF name already exists' }],
  [SW.WRONG_P1P2, { fr: 'Paramètres P1-P2 erronés', en: 'Wrong parameters P1-P2' }],
  [SW.INS_NOT_SUPPORTED, { fr: 'Instruction (INS) non supportée', en: 'Instruction code not supported or invalid' }],
  [SW.CLA_NOT_SUPPORTED, { fr: 'Classe (CLA) non supportée', en: 'Class not supported' }],
  [SW.UNKNOWN, { fr: 'Erreur inconnue, sans diagnostic précis', en: 'No precise diagnosis' }],
]);

/** Coarse meaning of each SW1 (ISO 7816-4 table 5), for values without an exact entry. */
const BY_SW1: ReadonlyMap<number, SwDescription> = new Map<number, SwDescription>([
  [0x62, { fr: 'Avertissement, mémoire non modifiée', en: 'Warning, non-volatile memory unchanged' }],
  [0x63, { fr: 'Avertissement, mémoire modifiée', en: 'Warning, non-volatile memory changed' }],
  [0x64, { fr: 'Erreur d\u2019exécution, mémoire non modifiée', en: 'Execution error, non-volatile memory unchanged' }],
  [0x65, { fr: 'Erreur d\u2019exécution, mémoire modifiée', en: 'Execution error, non-volatile memory changed' }],
  [0x66, { fr: 'Erreur d\u2019exécution liée à la sécurité', en: 'Security-related execution error' }],
  [0x67, { fr: 'Longueur incorrecte', en: 'Wrong length' }],
  [0x68, { fr: 'Fonction de la classe (CLA) non supportée', en: 'Functions in CLA not supported' }],
  [0x69, { fr: 'Commande non autorisée', en: 'Command not allowed' }],
  [0x6a, { fr: 'Paramètres P1-P2 incorrects', en: 'Wrong parameters P1-P2' }],
]);

function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/** 00 in SW2 stands for 256 in both 61xx and 6Cxx, as in the T=0 handling of t0.ts. */
function lengthFromSw2(sw2: number): number {
  return sw2 === 0 ? 256 : sw2;
}

/**
 * Bilingual description of a status word: exact values first, then the 61xx / 6Cxx / 63Cx
 * families with their counts, then the SW1 class; anything else is described as unknown
 * (this function never throws, it is used while reporting other errors).
 */
export function describeStatusWord(sw: number): SwDescription {
  if (!Number.isInteger(sw) || sw < 0 || sw > 0xffff) {
    return { fr: `Code d\u2019état invalide (${String(sw)})`, en: `Invalid status word (${String(sw)})` };
  }
  const exact = EXACT.get(sw);
  if (exact) return exact;

  const sw1 = sw >> 8;
  const sw2 = sw & 0xff;
  if (sw1 === 0x61) {
    const n = lengthFromSw2(sw2);
    return { fr: `${n} octets de réponse disponibles (GET RESPONSE)`, en: `${n} response bytes available (GET RESPONSE)` };
  }
  if (sw1 === 0x6c) {
    const n = lengthFromSw2(sw2);
    return { fr: `Longueur attendue (Le) incorrecte : ${n} octets disponibles`, en: `Wrong Le: ${n} bytes available` };
  }
  const retries = retriesFromSw(sw);
  if (retries !== undefined) {
    if (retries === 0) {
      return { fr: 'Vérification échouée, plus aucun essai restant', en: 'Verification failed, no tries left' };
    }
    const s = retries > 1 ? 's' : '';
    return {
      fr: `Vérification échouée, ${retries} essai${s} restant${s}`,
      en: `Verification failed, ${retries} ${retries > 1 ? 'tries' : 'try'} left`,
    };
  }
  const coarse = BY_SW1.get(sw1);
  if (coarse) return { fr: `${coarse.fr} (${swHex(sw)})`, en: `${coarse.en} (${swHex(sw)})` };
  return { fr: `Code d\u2019état inconnu ou propriétaire (${swHex(sw)})`, en: `Unknown or proprietary status word (${swHex(sw)})` };
}
