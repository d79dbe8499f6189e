// Builds and signs one X.509 v3 certificate (SHA-256 with RSA). The profile's extensions come
// from the caller; the key identifiers (subject and authority) are added here, since every
// certificate of the test PKI carries both.
import * as pkijs from 'pkijs';
import { toArrayBuffer } from './bytes.js';
import { pkiCryptoEngine } from './crypto-engine.js';
import { keyIdentifier } from './keys.js';
import { authorityKeyIdentifier, subjectKeyIdentifier } from './standard-extensions.js';
import { x509Time, wholeSeconds } from './x509-time.js';
import * as asn1js from 'asn1js';

/** The CA that signs: its name, its key identifier and its private key. */
export interface CertificateSigner {
  readonly name: pkijs.RelativeDistinguishedNames;
  readonly keyIdentifier: Uint8Array;
  readonly signingKey: CryptoKey;
}

export interface CertificateTemplate {
  /** DER INTEGER content of the serial number (positive). */
  readonly serial: Uint8Array;
  readonly subject: pkijs.RelativeDistinguishedNames;
  readonly subjectPublicKeySpkiDer: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Profile extensions (key usage, EKU, basic constraints, CRL DP, …). */
  readonly extensions: readonly pkijs.Extension[];
}

/** Key identifier of a public key given as SubjectPublicKeyInfo DER. */
export function keyIdentifierOfSpki(spkiDer: Uint8Array): Uint8Array {
  const info = pkijs.PublicKeyInfo.fromBER(toArrayBuffer(spkiDer));
  return keyIdentifier(info.subjectPublicKey.valueBlock.valueHexView);
}

/**
 * Signs the certificate. For a self-signed certificate, pass a signer whose name is the
 * subject and whose key identifier is the subject's.
 */
export async function buildCertificate(template: CertificateTemplate, signer: CertificateSigner): Promise<Uint8Array> {
  const notBefore = wholeSeconds(template.notBefore);
  const notAfter = wholeSeconds(template.notAfter);
  if (notAfter.getTime() <= notBefore.getTime()) throw new RangeError('notAfter must come after notBefore');
  const firstSerialByte = template.serial[0];
  if (firstSerialByte === undefined || firstSerialByte >= 0x80) throw new RangeError('serial must be a positive INTEGER');

  const certificate = new pkijs.Certificate();
  certificate.version = 2; // v3
  certificate.serialNumber = new asn1js.Integer({ valueHex: toArrayBuffer(template.serial) });
  certificate.issuer = signer.name;
  certificate.subject = template.subject;
  certificate.notBefore = x509Time(notBefore);
  certificate.notAfter = x509Time(notAfter);
  certificate.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(toArrayBuffer(template.subjectPublicKeySpkiDer));
  certificate.extensions = [
    ...template.extensions,
    subjectKeyIdentifier(keyIdentifierOfSpki(template.subjectPublicKeySpkiDer)),
    authorityKeyIdentifier(signer.keyIdentifier),
  ];
  await certificate.sign(signer.signingKey, 'SHA-256', pkiCryptoEngine);
  return new Uint8Array(certificate.toSchema().toBER(false));
}
