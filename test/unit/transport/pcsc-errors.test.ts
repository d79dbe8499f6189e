// pcsclite's bare Errors (texts as the package builds them) to TransportError codes.
import { describe, expect, it } from 'vitest';
import { pcscError, SCARD_E } from '../../../native-mocks/pcsclite/index.js';
import { TransportError } from '../../../src/transport/errors.js';
import { pcscCodeOf, toTransportError, transportCodeOf } from '../../../src/transport/pcsc-errors.js';

describe('pcsclite errors', () => {
  it('reads the PC/SC code from the message', () => {
    expect(pcscCodeOf(pcscError('SCardTransmit', SCARD_E.REMOVED_CARD))).toBe(0x80100069);
    expect(pcscCodeOf(new Error('SCardConnect error: Sharing violation.(0x8010000b)'))).toBe(0x8010000b);
    expect(pcscCodeOf(new Error('Card Reader not connected'))).toBeNull();
    expect(pcscCodeOf(undefined)).toBeNull();
  });

  it.each([
    [SCARD_E.REMOVED_CARD, 'exchange', 'CARD_REMOVED'],
    [SCARD_E.NO_SMARTCARD, 'exchange', 'CARD_REMOVED'],
    [SCARD_E.NO_SMARTCARD, 'connect', 'CARD_ABSENT'],
    [SCARD_E.RESET_CARD, 'exchange', 'CARD_RESET'],
    [SCARD_E.UNPOWERED_CARD, 'exchange', 'CARD_RESET'],
    [SCARD_E.UNKNOWN_READER, 'connect', 'READER_NOT_FOUND'],
    [SCARD_E.READER_UNAVAILABLE, 'exchange', 'READER_NOT_FOUND'],
    [SCARD_E.NO_SERVICE, 'connect', 'PCSC_UNAVAILABLE'],
    [SCARD_E.SERVICE_STOPPED, 'exchange', 'PCSC_UNAVAILABLE'],
    [SCARD_E.COMM_ERROR, 'exchange', 'PCSC_UNAVAILABLE'],
    [SCARD_E.SHARING_VIOLATION, 'connect', 'SHARING_VIOLATION'],
    [SCARD_E.NOT_TRANSACTED, 'exchange', 'TRANSPORT_ERROR'],
  ] as const)('code %d during %s -> %s', (code, during, expected) => {
    expect(transportCodeOf(code, during)).toBe(expected);
    const e = toTransportError(pcscError('SCardTransmit', code), 'Lecteur', during);
    expect(e).toBeInstanceOf(TransportError);
    expect(e.code).toBe(expected);
    expect(e.pcscCode).toBe(code);
    expect(e.message).toMatch(/^Lecteur: /);
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('keeps an error without a code as TRANSPORT_ERROR and passes TransportErrors through', () => {
    const e = toTransportError(new Error('Card Reader not connected'), 'R', 'exchange');
    expect(e.code).toBe('TRANSPORT_ERROR');
    expect(e.pcscCode).toBeUndefined();
    const original = new TransportError('CARD_RESET', 'x');
    expect(toTransportError(original, 'R', 'exchange')).toBe(original);
  });
});
