// The callback API of a `pcsclite` CardReader as promises. Errors are the package's own (bare
// Errors with the PC/SC code in the text); callers map them with pcsc-errors.ts.
import type { PcscReader } from './pcsc-types.js';

/** Connects the reader object in SHARED mode (never the package's EXCLUSIVE default); resolves with the active protocol. */
export function connectShared(reader: PcscReader, protocols: number = reader.SCARD_PROTOCOL_T0 | reader.SCARD_PROTOCOL_T1): Promise<number> {
  return new Promise((resolve, reject) => {
    reader.connect({ share_mode: reader.SCARD_SHARE_SHARED, protocol: protocols }, (err, protocol) => {
      if (err) reject(err);
      else if (typeof protocol !== 'number') reject(new Error(`${reader.name}: reader object already connected`));
      else resolve(protocol);
    });
  });
}

/** Disconnects with an explicit disposition (the package's default would UNPOWER the card). */
export function disconnectWith(reader: PcscReader, disposition: number): Promise<void> {
  return new Promise((resolve, reject) => {
    reader.disconnect(disposition, (err) => (err ? reject(err) : resolve()));
  });
}

export function transmitBytes(reader: PcscReader, data: Uint8Array, resLen: number, protocol: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    reader.transmit(Buffer.from(data), resLen, protocol, (err, response) => {
      if (err) reject(err);
      else resolve(new Uint8Array(response ?? Buffer.alloc(0)));
    });
  });
}

export function controlBytes(reader: PcscReader, controlCode: number, data: Uint8Array, resLen: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    reader.control(Buffer.from(data), controlCode, resLen, (err, response) => {
      if (err) reject(err);
      else resolve(new Uint8Array(response ?? Buffer.alloc(0)));
    });
  });
}
