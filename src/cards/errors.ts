// Errors of the card sessions, with the stable codes of agent-protocol.md so the agent passes them
// on unchanged (`data.code`), and a French and an English message for the two protocol languages.
// Transport failures (card removed, reader gone) are TransportErrors and are not wrapped here.
import { describeStatusWord } from '../iso7816/status-words.js';

export type CardErrorCode =
  | 'UNSUPPORTED_CARD'
  | 'UNSUPPORTED_ALGORITHM'
  | 'INVALID_PARAMS'
  | 'PIN_REQUIRED'
  | 'PIN_INCORRECT'
  | 'PIN_BLOCKED'
  | 'DECRYPT_FAILED'
  | 'CARD_ERROR';

export type Lang = 'fr' | 'en';

export interface CardErrorMessages {
  readonly fr: string;
  readonly en: string;
}

export interface CardErrorDetails {
  /** PIN_INCORRECT: tries left on the code that was presented (PIN or PUK). */
  readonly triesRemaining?: number;
  /** CARD_ERROR: the status word the card answered, when the failure was one. */
  readonly sw?: number;
  readonly cause?: unknown;
}

export class CardError extends Error {
  override readonly name = 'CardError';
  readonly triesRemaining: number | undefined;
  readonly sw: number | undefined;

  constructor(
    readonly code: CardErrorCode,
    readonly messages: CardErrorMessages,
    details: CardErrorDetails = {},
  ) {
    // The default message is French, as the protocol's default language.
    super(messages.fr, details.cause === undefined ? undefined : { cause: details.cause });
    this.triesRemaining = details.triesRemaining;
    this.sw = details.sw;
  }

  messageIn(lang: Lang): string {
    return this.messages[lang];
  }

  /** The protocol's `error.data` (`code` and its details; `sw` as 4 upper-case hex digits). */
  toData(): { code: CardErrorCode; triesRemaining?: number; sw?: string } {
    return {
      code: this.code,
      ...(this.triesRemaining === undefined ? {} : { triesRemaining: this.triesRemaining }),
      ...(this.sw === undefined ? {} : { sw: swHex(this.sw) }),
    };
  }
}

export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

// ---- the errors the sessions raise, with their wording --------------------------------------

export function unsupportedCard(family: string): CardError {
  return new CardError('UNSUPPORTED_CARD', {
    fr: `Carte non prise en charge (${family})`,
    en: `Unsupported card (${family})`,
  });
}

export function unsupportedAlgorithm(fr: string, en: string): CardError {
  return new CardError('UNSUPPORTED_ALGORITHM', { fr: `Algorithme non pris en charge : ${fr}`, en: `Unsupported algorithm: ${en}` });
}

export function invalidParams(fr: string, en: string): CardError {
  return new CardError('INVALID_PARAMS', { fr, en });
}

export function pinRequired(): CardError {
  return new CardError('PIN_REQUIRED', {
    fr: 'Le code porteur doit être saisi avant cette opération',
    en: 'The card PIN must be verified before this operation',
  });
}

export type SecretKind = 'PIN' | 'PUK';

export function pinIncorrect(kind: SecretKind, triesRemaining: number): CardError {
  const s = triesRemaining > 1 ? 's' : '';
  const what = kind === 'PIN' ? { fr: 'Code porteur incorrect', en: 'Incorrect PIN' } : { fr: 'Code de déblocage incorrect', en: 'Incorrect unblocking code (PUK)' };
  return new CardError(
    'PIN_INCORRECT',
    {
      fr: `${what.fr} : ${triesRemaining} essai${s} restant${s}`,
      en: `${what.en}: ${triesRemaining} ${triesRemaining > 1 ? 'tries' : 'try'} left`,
    },
    { triesRemaining },
  );
}

export function pinBlocked(kind: SecretKind): CardError {
  return new CardError(
    'PIN_BLOCKED',
    kind === 'PIN'
      ? { fr: 'Code porteur bloqué : débloquez-le avec le code de déblocage (PUK)', en: 'PIN blocked: unblock it with the unblocking code (PUK)' }
      : { fr: 'Code de déblocage (PUK) bloqué : la carte doit être remplacée', en: 'Unblocking code (PUK) blocked: the card must be replaced' },
  );
}

/** The one error of `decrypt`, whatever failed: no padding or card oracle. */
export function decryptFailed(cause?: unknown): CardError {
  return new CardError('DECRYPT_FAILED', { fr: 'Déchiffrement impossible', en: 'Decryption failed' }, cause === undefined ? {} : { cause });
}

/** The card answered a status word the operation cannot go on with. */
export function cardStatusError(operation: CardErrorMessages, sw: number): CardError {
  const d = describeStatusWord(sw);
  return new CardError(
    'CARD_ERROR',
    { fr: `${operation.fr} : la carte a répondu ${swHex(sw)} (${d.fr})`, en: `${operation.en}: the card answered ${swHex(sw)} (${d.en})` },
    { sw },
  );
}

/** The card's data does not have the expected structure. */
export function cardDataError(fr: string, en: string, cause?: unknown): CardError {
  return new CardError('CARD_ERROR', { fr: `Données de la carte illisibles : ${fr}`, en: `Unreadable card data: ${en}` }, cause === undefined ? {} : { cause });
}
