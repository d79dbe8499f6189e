// The signed attributes of a document signature and the hash the card signs. In CMS the
// signature is not over the document but over the DER of the signed attributes (RFC 5652 §5.4),
// which carry the document's SHA-256 (messageDigest). On a workstation the CPS card signs
// SHA-256(signedAttrs DER) through the agent (`cps.sign`), so that hash is what this module hands
// out. Browser-safe: WebCrypto and asn1js/pkijs only, no node:crypto, no Buffer.
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { x509Time } from '../x509-time.js';
import { CMS_OID } from './cms-oids.js';

export interface SignedAttributesInput {
  /** SHA-256 of the document bytes. */
  contentDigest: Uint8Array;
  /** DER of the signer's certificate (for the ESS signing-certificate-v2 attribute). */
  certificateDer: Uint8Array;
  signingTime: Date;
}

function buffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return copy;
}

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', buffer(bytes)));
}

/** X.690 §11.6: SET OF components in ascending order of their encodings, shorter ones zero-padded. */
export function compareDerForSet(a: Uint8Array, b: Uint8Array): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

/**
 * SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 } with one ESSCertIDv2
 * { certHash OCTET STRING } (hashAlgorithm left at its DEFAULT, SHA-256).
 */
function signingCertificateV2(certificateHash: Uint8Array): asn1js.Sequence {
  const essCertId = new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: buffer(certificateHash) })] });
  return new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertId] })] });
}

/** The attributes, each with its DER, already in DER SET OF order. */
export async function buildSignedAttributes(input: SignedAttributesInput): Promise<{ attributes: pkijs.Attribute[]; der: Uint8Array }> {
  if (input.contentDigest.byteLength !== 32) throw new RangeError('contentDigest must be a SHA-256 (32 bytes)');
  const attributes = [
    new pkijs.Attribute({ type: CMS_OID.contentType, values: [new asn1js.ObjectIdentifier({ value: CMS_OID.data })] }),
    new pkijs.Attribute({ type: CMS_OID.signingTime, values: [x509Time(input.signingTime).toSchema()] }),
    new pkijs.Attribute({ type: CMS_OID.messageDigest, values: [new asn1js.OctetString({ valueHex: buffer(input.contentDigest) })] }),
    new pkijs.Attribute({ type: CMS_OID.signingCertificateV2, values: [signingCertificateV2(await sha256(input.certificateDer))] }),
  ];
  const encoded = attributes
    .map((attribute) => ({ attribute, der: new Uint8Array(attribute.toSchema().toBER(false)) }))
    .sort((a, b) => compareDerForSet(a.der, b.der));
  const set = new Uint8Array(new asn1js.Set({ value: encoded.map((e) => e.attribute.toSchema()) }).toBER(false));
  return { attributes: encoded.map((e) => e.attribute), der: set };
}

/** SHA-256 of the DER of the signed attributes (SET OF, tag 0x31): what the card signs. */
export async function signedAttributesHash(signedAttributesDer: Uint8Array): Promise<Uint8Array> {
  if (signedAttributesDer[0] !== 0x31) throw new RangeError('signed attributes must be DER with the SET tag (0x31)');
  return sha256(signedAttributesDer);
}
