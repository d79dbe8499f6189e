// Typed transport failures with stable codes (the agent maps them to its protocol errors).

export type TransportErrorCode =
  | 'PCSC_UNAVAILABLE'
  | 'READER_NOT_FOUND'
  | 'CARD_ABSENT'
  | 'CARD_REMOVED'
  /** Another application reset the card: the session must re-select and re-verify. */
  | 'CARD_RESET'
  | 'SHARING_VIOLATION'
  | 'TRANSPORT_ERROR';

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
