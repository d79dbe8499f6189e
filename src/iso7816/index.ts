// The ISO 7816 layer: bytes of APDUs, status words, BER-TLV, T=0 rules, command chaining and
// PC/SC part 10. No I/O of its own: transports hand it a RawTransmit.

export * from './errors.js';
export * from './hex.js';
export * from './cla.js';
export * from './apdu.js';
export * from './status-words.js';
export * from './tlv.js';
export * from './t0.js';
export * from './chaining.js';
export * from './part10.js';
export * from './pin-block.js';
