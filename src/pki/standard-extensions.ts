// The RFC 5280 extensions the test PKI writes, each built with the criticality the IGC-Santé
// profiles use: basicConstraints and keyUsage critical, the rest not.
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toArrayBuffer } from './bytes.js';
import { ipAddressBytes } from './ip-address.js';
import { EXTENSION_OID } from './oids.js';

function extension(extnID: string, critical: boolean, value: asn1js.AsnType | { toSchema(): asn1js.AsnType }): pkijs.Extension {
  const schema = 'toSchema' in value ? value.toSchema() : value;
  return new pkijs.Extension({ extnID, critical, extnValue: schema.toBER(false) });
}

export function basicConstraints(options: { ca: boolean; pathLength?: number }): pkijs.Extension {
  const constraints = new pkijs.BasicConstraints(
    options.pathLength === undefined ? { cA: options.ca } : { cA: options.ca, pathLenConstraint: options.pathLength },
  );
  return extension(EXTENSION_OID.basicConstraints, true, constraints);
}

/** KeyUsage bit positions (RFC 5280 §4.2.1.3). */
export const KEY_USAGE_BITS = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
} as const;

export type KeyUsageName = keyof typeof KEY_USAGE_BITS;

/** DER BIT STRING contents of a key usage: trailing zero bits dropped (X.690 §11.2.2). */
export function encodeKeyUsageBits(usages: readonly KeyUsageName[]): { bytes: Uint8Array; unusedBits: number } {
  if (usages.length === 0) throw new RangeError('keyUsage needs at least one usage');
  const highest = Math.max(...usages.map((u) => KEY_USAGE_BITS[u]));
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const usage of usages) {
    const bit = KEY_USAGE_BITS[usage];
    bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
  }
  return { bytes, unusedBits: 7 - (highest % 8) };
}

export function keyUsage(usages: readonly KeyUsageName[]): pkijs.Extension {
  const { bytes, unusedBits } = encodeKeyUsageBits(usages);
  return extension(EXTENSION_OID.keyUsage, true, new asn1js.BitString({ valueHex: toArrayBuffer(bytes), unusedBits }));
}

export function extendedKeyUsage(keyPurposes: readonly string[]): pkijs.Extension {
  return extension(EXTENSION_OID.extKeyUsage, false, new pkijs.ExtKeyUsage({ keyPurposes: [...keyPurposes] }));
}

export function subjectKeyIdentifier(keyId: Uint8Array): pkijs.Extension {
  return extension(EXTENSION_OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: toArrayBuffer(keyId) }));
}

export function authorityKeyIdentifier(keyId: Uint8Array): pkijs.Extension {
  const aki = new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: toArrayBuffer(keyId) }) });
  return extension(EXTENSION_OID.authorityKeyIdentifier, false, aki);
}

/** One distribution point with a full name: the CRL's URL. */
export function crlDistributionPoint(url: string): pkijs.Extension {
  const points = new pkijs.CRLDistributionPoints({
    distributionPoints: [
      new pkijs.DistributionPoint({
        distributionPoint: [new pkijs.GeneralName({ type: 6, value: url })],
      }),
    ],
  });
  return extension(EXTENSION_OID.crlDistributionPoints, false, points);
}

/** dNSName for host names, iPAddress for IPv4/IPv6 literals. */
export function subjectAltName(hostnames: readonly string[]): pkijs.Extension {
  if (hostnames.length === 0) throw new RangeError('subjectAltName needs at least one name');
  const altNames = hostnames.map((host) => {
    const ip = ipAddressBytes(host);
    if (ip) return new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: toArrayBuffer(ip) }) });
    if (!/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host)) {
      throw new RangeError(`not a DNS name or IP address: ${JSON.stringify(host)}`);
    }
    return new pkijs.GeneralName({ type: 2, value: host.toLowerCase() });
  });
  return extension(EXTENSION_OID.subjectAltName, false, new pkijs.AltName({ altNames }));
}

export function crlNumber(value: number): pkijs.Extension {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError('CRL number must be a non-negative integer');
  return extension(EXTENSION_OID.crlNumber, false, new asn1js.Integer({ value }));
}
