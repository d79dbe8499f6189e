// Errors of the agent protocol (agent-protocol.md "Errors"): a stable `data.code`, the JSON-RPC
// error code, details, and a message in the caller's language (French by default).
import type { Lang } from './caller.js';

export const AGENT_ERROR_CODES = [
  'ORIGIN_NOT_PAIRED',
  'SCOPE_NOT_GRANTED',
  'UNAUTHORIZED',
  'INVALID_PARAMS',
  'METHOD_NOT_FOUND',
  'PCSC_UNAVAILABLE',
  'READER_NOT_FOUND',
  'CARD_ABSENT',
  'CARD_AMBIGUOUS',
  'CARD_REMOVED',
  'UNSUPPORTED_CARD',
  'UNSUPPORTED_ALGORITHM',
  'PIN_REQUIRED',
  'PIN_INCORRECT',
  'PIN_BLOCKED',
  'PIN_LAST_TRY',
  'PIN_VALUE_NOT_ALLOWED',
  'DECRYPT_FAILED',
  'RATE_LIMITED',
  'USER_CANCELLED',
  'TIMEOUT',
  'BUSY',
  'CARD_ERROR',
  'INTERNAL',
] as const;
export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[number];

/** JSON-RPC 2.0 error codes used by the protocol. */
export const RPC = { PARSE_ERROR: -32700, INVALID_REQUEST: -32600, METHOD_NOT_FOUND: -32601, INVALID_PARAMS: -32602, SERVER_ERROR: -32000 } as const;

const MESSAGES: Record<AgentErrorCode, { fr: string; en: string }> = {
  ORIGIN_NOT_PAIRED: { fr: "Ce site n'est pas autorisé à utiliser la carte : appariez-le d'abord (agent.pair).", en: 'This origin is not paired with the agent: pair it first (agent.pair).' },
  SCOPE_NOT_GRANTED: { fr: "Ce site n'a pas reçu ce droit lors de l'appariement.", en: 'This scope was not granted to this origin at pairing.' },
  UNAUTHORIZED: { fr: "Jeton local absent ou invalide : l'application n'est pas authentifiée.", en: 'Missing or invalid local token: the application is not authenticated.' },
  INVALID_PARAMS: { fr: 'Paramètres invalides.', en: 'Invalid parameters.' },
  METHOD_NOT_FOUND: { fr: 'Méthode inconnue.', en: 'Unknown method.' },
  PCSC_UNAVAILABLE: { fr: 'Le service des cartes à puce (pcscd) est indisponible.', en: 'The smart-card service (pcscd) is unavailable.' },
  READER_NOT_FOUND: { fr: 'Lecteur introuvable.', en: 'Reader not found.' },
  CARD_ABSENT: { fr: 'Aucune carte adaptée dans les lecteurs.', en: 'No suitable card in the readers.' },
  CARD_AMBIGUOUS: { fr: 'Plusieurs cartes conviennent : précisez le lecteur.', en: 'Several cards match: name the reader.' },
  CARD_REMOVED: { fr: "La carte a été retirée pendant l'opération.", en: 'The card was removed during the operation.' },
  UNSUPPORTED_CARD: { fr: "Cette carte n'est pas prise en charge.", en: 'This card is not supported.' },
  UNSUPPORTED_ALGORITHM: { fr: 'Algorithme non pris en charge par cette carte.', en: 'Algorithm not supported by this card.' },
  PIN_REQUIRED: { fr: 'Le code porteur (PIN) doit être saisi.', en: 'The PIN must be entered.' },
  PIN_INCORRECT: { fr: 'Code porteur incorrect.', en: 'Incorrect PIN.' },
  PIN_BLOCKED: { fr: 'Code porteur bloqué : débloquez-le avec le code de déblocage (PUK).', en: 'PIN blocked: unblock it with the PUK.' },
  PIN_LAST_TRY: { fr: 'Dernier essai avant blocage : confirmation requise.', en: 'Last try before the PIN blocks: confirmation required.' },
  PIN_VALUE_NOT_ALLOWED: { fr: "Un site web ne peut pas transmettre le code porteur : il est saisi sur la page de l'agent ou sur le lecteur.", en: 'A web page may not send the PIN: it is entered on the agent page or the pinpad.' },
  DECRYPT_FAILED: { fr: 'Le déchiffrement a échoué.', en: 'Decryption failed.' },
  RATE_LIMITED: { fr: 'Trop de demandes : réessayez plus tard.', en: 'Too many requests: try again later.' },
  USER_CANCELLED: { fr: "Opération annulée par l'utilisateur.", en: 'Cancelled by the user.' },
  TIMEOUT: { fr: 'Délai dépassé.', en: 'Timed out.' },
  BUSY: { fr: "Le lecteur est occupé : trop d'opérations en attente.", en: 'The reader is busy: too many queued operations.' },
  CARD_ERROR: { fr: 'La carte a refusé la commande.', en: 'The card refused the command.' },
  INTERNAL: { fr: "Erreur interne de l'agent.", en: 'Internal agent error.' },
};

export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: AgentErrorCode,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(MESSAGES[code].en, options);
  }

  get rpcCode(): number {
    if (this.code === 'INVALID_PARAMS') return RPC.INVALID_PARAMS;
    if (this.code === 'METHOD_NOT_FOUND') return RPC.METHOD_NOT_FOUND;
    return RPC.SERVER_ERROR;
  }

  /** The JSON-RPC `error` member, in the caller's language. */
  toRpcError(lang: Lang): { code: number; message: string; data: { code: AgentErrorCode } & Record<string, unknown> } {
    return { code: this.rpcCode, message: MESSAGES[this.code][lang], data: { ...this.details, code: this.code } };
  }
}

export function agentMessage(code: AgentErrorCode, lang: Lang): string {
  return MESSAGES[code][lang];
}
