// From the lower layers' failures to the protocol's AgentError: TransportError and CardError codes
// are already close to the protocol's; anything unexpected becomes INTERNAL without its message
// (a bug's text may carry data that must not reach a web page).
import { CardError } from '../../cards/errors.js';
import { TransportError } from '../../transport/errors.js';
import { AgentError } from '../errors.js';

/** The protocol error for any failure of a card operation. */
export function toAgentError(error: unknown): AgentError {
  if (error instanceof AgentError) return error;
  if (error instanceof CardError) {
    const { code, ...details } = error.toData();
    return new AgentError(code, details, { cause: error });
  }
  if (error instanceof TransportError) {
    switch (error.code) {
      case 'PCSC_UNAVAILABLE':
      case 'READER_NOT_FOUND':
      case 'CARD_ABSENT':
      case 'CARD_REMOVED':
        return new AgentError(error.code, {}, { cause: error });
      default:
        // CARD_RESET (another application reset the card and a retry was not safe),
        // SHARING_VIOLATION (another application holds the card exclusively), TRANSPORT_ERROR.
        return new AgentError('CARD_ERROR', { reason: error.code }, { cause: error });
    }
  }
  return new AgentError('INTERNAL', {}, { cause: error });
}

export function isTransportCode(error: unknown, code: TransportError['code']): boolean {
  return error instanceof TransportError && error.code === code;
}

export function isCardCode(error: unknown, code: CardError['code']): error is CardError {
  return error instanceof CardError && error.code === code;
}
