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

export interface TransportErrorOptions {
  cause?: unknown;
  /** The PC/SC return code behind the failure (e.g. 0x80100069), when there was one. */
  pcscCode?: number;
}

export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly pcscCode: number | undefined;
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: TransportErrorOptions,
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.pcscCode = options?.pcscCode;
  }
}
