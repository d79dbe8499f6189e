// Errors of the ISO 7816 layer. Two kinds, because callers react differently:
// - Iso7816ParseError: bytes (from a card, a reader or a caller) do not follow the format. Every
//   parser in this folder throws this and nothing else for bad input, so a fuzzer, the agent and
//   the simulator can tell "malformed input" from a bug with one instanceof check.
// - Iso7816ProtocolError: each message was well formed but the card broke the exchange rules
//   (e.g. answers 61xx forever). The transport layer maps it to a card error, never to a retry.
// Caller mistakes (an out-of-range byte passed to an encoder) are RangeError: they are bugs in
// the calling code, not bad input, and must not be swallowed by a catch of the two above.

export class Iso7816ParseError extends Error {
  readonly code = 'ISO7816_PARSE';

  /** @param offset where in the input the problem was detected (byte index, or character index for hex text). */
  constructor(
    message: string,
    readonly offset?: number,
  ) {
    super(offset === undefined ? message : `${message} (offset ${offset})`);
    this.name = 'Iso7816ParseError';
  }
}

export class Iso7816ProtocolError extends Error {
  readonly code = 'ISO7816_PROTOCOL';

  constructor(message: string) {
    super(message);
    this.name = 'Iso7816ProtocolError';
  }
}
