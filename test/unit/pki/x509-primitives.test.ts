import * as pkijs from 'pkijs';
import { describe, expect, it } from 'vitest';
import { ipAddressBytes } from '../../../src/pki/ip-address.js';
import { fromPem, toPem } from '../../../src/pki/pem.js';
import { normalizeSerialHex, randomSerial, serialFromHex, serialToHex } from '../../../src/pki/serial.js';
import { encodeKeyUsageBits } from '../../../src/pki/standard-extensions.js';
import { x509Time } from '../../../src/pki/x509-time.js';

const hex = (bytes: Uint8Array | null) => (bytes ? Buffer.from(bytes).toString('hex') : null);

describe('keyUsage bit strings (DER: trailing zero bits dropped)', () => {
  it('encodes the usages of each profile', () => {
    expect(encodeKeyUsageBits(['keyCertSign', 'cRLSign'])).toEqual({ bytes: Uint8Array.of(0x06), unusedBits: 1 });
    expect(encodeKeyUsageBits(['digitalSignature', 'keyEncipherment'])).toEqual({ bytes: Uint8Array.of(0xa0), unusedBits: 5 });
    expect(encodeKeyUsageBits(['nonRepudiation'])).toEqual({ bytes: Uint8Array.of(0x40), unusedBits: 6 });
    expect(encodeKeyUsageBits(['digitalSignature', 'decipherOnly'])).toEqual({ bytes: Uint8Array.of(0x80, 0x80), unusedBits: 7 });
    expect(() => encodeKeyUsageBits([])).toThrow(RangeError);
  });
});

describe('IP addresses for subjectAltName', () => {
  it('gives 4 bytes for IPv4 and 16 for IPv6, null for host names', () => {
    expect(hex(ipAddressBytes('127.0.0.1'))).toBe('7f000001');
    expect(hex(ipAddressBytes('::1'))).toBe('00000000000000000000000000000001');
    expect(hex(ipAddressBytes('[::1]'))).toBe('00000000000000000000000000000001');
    expect(hex(ipAddressBytes('::'))).toBe('00000000000000000000000000000000');
    expect(hex(ipAddressBytes('fe80::1:2'))).toBe('fe800000000000000000000000010002');
    expect(hex(ipAddressBytes('2001:db8:0:0:1:0:0:1'))).toBe('20010db8000000000001000000000001');
    expect(hex(ipAddressBytes('::ffff:127.0.0.1'))).toBe('00000000000000000000ffff7f000001');
    expect(ipAddressBytes('localhost')).toBeNull();
    expect(ipAddressBytes('127.0.0.256')).toBeNull();
    expect(ipAddressBytes('1.2.3')).toBeNull();
  });
});

describe('serial numbers', () => {
  it('are 16 positive bytes whose hex has no leading zero', () => {
    for (let i = 0; i < 200; i++) {
      const serial = randomSerial();
      expect(serial).toHaveLength(16);
      expect(serial[0]).toBeGreaterThanOrEqual(0x10);
      expect(serial[0]).toBeLessThan(0x80);
      expect(serialToHex(serial)).toMatch(/^[1-7][0-9A-F]{31}$/);
      expect(normalizeSerialHex(serialToHex(serial).toLowerCase())).toBe(serialToHex(serial));
    }
  });

  it('normalise the ways tools write a serial', () => {
    expect(normalizeSerialHex('0a:0b:0c')).toBe('0A0B0C');
    expect(normalizeSerialHex('00 ab cd')).toBe('ABCD');
    expect(normalizeSerialHex('0xABC')).toBe('0ABC');
    expect(normalizeSerialHex('00')).toBe('00');
    expect(() => normalizeSerialHex('xyz')).toThrow(RangeError);
    expect(() => normalizeSerialHex('')).toThrow(RangeError);
    expect(hex(serialFromHex('ABCD'))).toBe('00abcd'); // top bit set: DER INTEGER needs a 00 byte
    expect(hex(serialFromHex('7F'))).toBe('7f');
  });
});

describe('PEM', () => {
  it('round-trips and wraps at 64 characters', () => {
    const der = Uint8Array.from({ length: 100 }, (_, i) => i);
    const pem = toPem('CERTIFICATE', der);
    expect(pem.split('\n').every((line) => line.length <= 64)).toBe(true);
    expect(hex(fromPem('CERTIFICATE', pem))).toBe(hex(der));
    expect(() => fromPem('PRIVATE KEY', pem)).toThrow(/PRIVATE KEY/);
  });
});

describe('X.509 times', () => {
  it('use UTCTime through 2049, GeneralizedTime from 2050, whole seconds', () => {
    expect(x509Time(new Date('2049-12-31T23:59:59.900Z')).type).toBe(pkijs.TimeType.UTCTime);
    expect(x509Time(new Date('2050-01-01T00:00:00Z')).type).toBe(pkijs.TimeType.GeneralizedTime);
    expect(x509Time(new Date('2030-01-01T00:00:00.750Z')).value.toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });
});
