// PC/SC numbers exactly as pcsc-lite 1.9 (Linux) and the `pcsclite` package expose them, and the
// error texts the package builds: `${fn} error: ${pcsc_stringify_error(code)}(0x${code hex 8})`.

/** The SCARD_* values the `pcsclite` package puts on every CardReader. */
export const SCARD = {
  SCARD_SHARE_SHARED: 2,
  SCARD_SHARE_EXCLUSIVE: 1,
  SCARD_SHARE_DIRECT: 3,

  SCARD_PROTOCOL_T0: 1,
  SCARD_PROTOCOL_T1: 2,
  SCARD_PROTOCOL_RAW: 4,

  SCARD_STATE_UNAWARE: 0x0000,
  SCARD_STATE_IGNORE: 0x0001,
  SCARD_STATE_CHANGED: 0x0002,
  SCARD_STATE_UNKNOWN: 0x0004,
  SCARD_STATE_UNAVAILABLE: 0x0008,
  SCARD_STATE_EMPTY: 0x0010,
  SCARD_STATE_PRESENT: 0x0020,
  SCARD_STATE_ATRMATCH: 0x0040,
  SCARD_STATE_EXCLUSIVE: 0x0080,
  SCARD_STATE_INUSE: 0x0100,
  SCARD_STATE_MUTE: 0x0200,

  SCARD_LEAVE_CARD: 0,
  SCARD_RESET_CARD: 1,
  SCARD_UNPOWER_CARD: 2,
  SCARD_EJECT_CARD: 3,
} as const;

export type ScardConstants = typeof SCARD;

/** PC/SC return codes used by the mock (winscard.h / pcsclite.h). */
export const SCARD_E = {
  INVALID_HANDLE: 0x80100003,
  INVALID_PARAMETER: 0x80100004,
  INSUFFICIENT_BUFFER: 0x80100008,
  UNKNOWN_READER: 0x80100009,
  SHARING_VIOLATION: 0x8010000b,
  NO_SMARTCARD: 0x8010000c,
  PROTO_MISMATCH: 0x8010000f,
  INVALID_VALUE: 0x80100011,
  COMM_ERROR: 0x80100013, // SCARD_F_COMM_ERROR
  NOT_TRANSACTED: 0x80100016,
  READER_UNAVAILABLE: 0x80100017,
  NO_SERVICE: 0x8010001d,
  SERVICE_STOPPED: 0x8010001e,
  UNSUPPORTED_FEATURE: 0x8010001f,
  UNRESPONSIVE_CARD: 0x80100066, // SCARD_W_*
  UNPOWERED_CARD: 0x80100067,
  RESET_CARD: 0x80100068,
  REMOVED_CARD: 0x80100069,
} as const;

// pcsc_stringify_error() of libpcsclite 1.9.9, read from the library itself.
const MESSAGES: Readonly<Record<number, string>> = {
  0x80100001: 'Internal error.',
  0x80100002: 'Command cancelled.',
  0x80100003: 'Invalid handle.',
  0x80100004: 'Invalid parameter given.',
  0x80100005: 'Invalid target given.',
  0x80100006: 'Not enough memory.',
  0x80100007: 'Waited too long.',
  0x80100008: 'Insufficient buffer.',
  0x80100009: 'Unknown reader specified.',
  0x8010000a: 'Command timeout.',
  0x8010000b: 'Sharing violation.',
  0x8010000c: 'No smart card inserted.',
  0x8010000d: 'Unknown card.',
  0x8010000e: 'Cannot dispose handle.',
  0x8010000f: 'Card protocol mismatch.',
  0x80100010: 'Subsystem not ready.',
  0x80100011: 'Invalid value given.',
  0x80100012: 'System cancelled.',
  0x80100013: 'RPC transport error.',
  0x80100014: 'Unknown error.',
  0x80100015: 'Invalid ATR.',
  0x80100016: 'Transaction failed.',
  0x80100017: 'Reader is unavailable.',
  0x80100019: 'PCI struct too small.',
  0x8010001a: 'Reader is unsupported.',
  0x8010001b: 'Reader already exists.',
  0x8010001c: 'Card is unsupported.',
  0x8010001d: 'Service not available.',
  0x8010001e: 'Service was stopped.',
  0x8010001f: 'Feature not supported.',
  0x8010002e: 'Cannot find a smart card reader.',
  0x80100065: 'Card is not supported.',
  0x80100066: 'Card is unresponsive.',
  0x80100067: 'Card is unpowered.',
  0x80100068: 'Card was reset.',
  0x80100069: 'Card was removed.',
};

export function pcscErrorText(code: number): string {
  const hex = (code >>> 0).toString(16).padStart(8, '0');
  return MESSAGES[code] ?? `Unknown error: 0x${hex}`;
}

/** The PC/SC function names whose failures the package reports. */
export type PcscFunction =
  | 'SCardEstablishContext'
  | 'SCardGetStatusChange'
  | 'SCardConnect'
  | 'SCardDisconnect'
  | 'SCardTransmit'
  | 'SCardControl';

/** The exact Error the `pcsclite` package hands to callbacks and 'error' listeners (a bare Error). */
export function pcscError(fn: PcscFunction, code: number): Error {
  const hex = (code >>> 0).toString(16).padStart(8, '0');
  return new Error(`${fn} error: ${pcscErrorText(code)}(0x${hex})`);
}

export { CM_IOCTL_GET_FEATURE_REQUEST, scardCtlCode } from '../../src/iso7816/part10.js';
