// From the bare Errors `pcsclite` hands out ("SCardTransmit error: Card was removed.(0x80100069)")
// to TransportErrors with stable codes. The PC/SC return code is only in the message text.
import { TransportError, type TransportErrorCode } from './errors.js';

/** PC/SC return codes (winscard.h / pcsclite.h) the transport acts on. */
export const PCSC_CODE = {
  INVALID_HANDLE: 0x80100003,
  UNKNOWN_READER: 0x80100009,
  SHARING_VIOLATION: 0x8010000b,
  NO_SMARTCARD: 0x8010000c,
  COMM_ERROR: 0x80100013, // SCARD_F_COMM_ERROR: the socket to pcscd broke
  READER_UNAVAILABLE: 0x80100017,
  NO_SERVICE: 0x8010001d,
  SERVICE_STOPPED: 0x8010001e,
  NO_READERS_AVAILABLE: 0x8010002e,
  UNPOWERED_CARD: 0x80100067,
  RESET_CARD: 0x80100068,
  REMOVED_CARD: 0x80100069,
} as const;

const CODE_IN_MESSAGE = /\(0x([0-9a-fA-F]{8})\)\s*$/;

/** The PC/SC return code in a `pcsclite` error message, or null (e.g. "Card Reader not connected"). */
export function pcscCodeOf(err: unknown): number | null {
  if (err instanceof TransportError) return err.pcscCode ?? null;
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  const m = CODE_IN_MESSAGE.exec(message);
  return m?.[1] ? Number.parseInt(m[1], 16) : null;
}

/** pcscd is not there (not running, stopped, or the socket to it broke). */
export function isServiceLoss(code: number | null): boolean {
  return code === PCSC_CODE.NO_SERVICE || code === PCSC_CODE.SERVICE_STOPPED || code === PCSC_CODE.COMM_ERROR;
}

/** The card lost its volatile state under us (another application reset or unpowered it). */
export function isCardReset(code: number | null): boolean {
  return code === PCSC_CODE.RESET_CARD || code === PCSC_CODE.UNPOWERED_CARD;
}

/**
 * What a failure means for the caller. `during` tells a connection attempt (no card yet: absent)
 * from an exchange (the card was there: removed).
 */
export function transportCodeOf(code: number | null, during: 'connect' | 'exchange'): TransportErrorCode {
  if (code === null) return 'TRANSPORT_ERROR';
  if (isServiceLoss(code)) return 'PCSC_UNAVAILABLE';
  if (isCardReset(code)) return 'CARD_RESET';
  switch (code) {
    case PCSC_CODE.REMOVED_CARD:
      return 'CARD_REMOVED';
    case PCSC_CODE.NO_SMARTCARD:
      return during === 'connect' ? 'CARD_ABSENT' : 'CARD_REMOVED';
    case PCSC_CODE.UNKNOWN_READER:
    case PCSC_CODE.READER_UNAVAILABLE:
    case PCSC_CODE.NO_READERS_AVAILABLE:
      return 'READER_NOT_FOUND';
    case PCSC_CODE.SHARING_VIOLATION:
      return 'SHARING_VIOLATION';
    default:
      return 'TRANSPORT_ERROR';
  }
}

const DESCRIPTION: Readonly<Record<TransportErrorCode, string>> = {
  PCSC_UNAVAILABLE: 'the PC/SC service (pcscd) is not available',
  READER_NOT_FOUND: 'the reader is not connected',
  CARD_ABSENT: 'no card in the reader',
  CARD_REMOVED: 'the card was removed',
  CARD_RESET: 'the card was reset by another application',
  SHARING_VIOLATION: 'another application holds the card exclusively',
  TRANSPORT_ERROR: 'PC/SC call failed',
};

/** A TransportError for a `pcsclite` failure on `readerName`, keeping the original as cause. */
export function toTransportError(err: unknown, readerName: string, during: 'connect' | 'exchange'): TransportError {
  if (err instanceof TransportError) return err;
  const pcscCode = pcscCodeOf(err);
  const code = transportCodeOf(pcscCode, during);
  const detail = err instanceof Error ? err.message : String(err);
  return new TransportError(code, `${readerName}: ${DESCRIPTION[code]} (${detail})`, {
    cause: err,
    ...(pcscCode !== null ? { pcscCode } : {}),
  });
}
