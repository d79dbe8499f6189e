// Certificate serial numbers: 16 random bytes, positive, never starting with a zero nibble, so
// the hex form is the same whichever tool prints it (Node's X509Certificate.serialNumber,
// OpenSSL, pkijs): upper case, no leading zeros, even length.
import { randomBytes } from 'node:crypto';

export const SERIAL_LENGTH = 16;

export function randomSerial(): Uint8Array {
  const serial = new Uint8Array(randomBytes(SERIAL_LENGTH));
  serial[0] = 0x10 + ((serial[0] ?? 0) % 0x70); // 0x10..0x7f: positive, first nibble non-zero
  return serial;
}

export function serialToHex(serial: Uint8Array): string {
  return Buffer.from(serial).toString('hex').toUpperCase();
}

/**
 * Canonical form of a serial written in hex by any tool: separators (`:` and spaces) dropped,
 * upper case, leading zero bytes removed. Throws on anything that is not hex.
 */
export function normalizeSerialHex(serialHex: string): string {
  let hex = serialHex.replace(/[\s:]/g, '').toUpperCase();
  if (hex.startsWith('0X')) hex = hex.slice(2);
  if (!/^[0-9A-F]+$/.test(hex)) throw new RangeError(`not a hexadecimal serial number: ${JSON.stringify(serialHex)}`);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  while (hex.length > 2 && hex.startsWith('00')) hex = hex.slice(2);
  return hex;
}

/** The DER INTEGER content of a serial (a 00 byte added when the top bit is set). */
export function serialFromHex(serialHex: string): Uint8Array {
  const hex = normalizeSerialHex(serialHex);
  const bytes = Buffer.from(hex, 'hex');
  return new Uint8Array((bytes[0] ?? 0) >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}
