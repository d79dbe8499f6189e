// Verifies the detached CMS signature of a document (service side): one signer, SHA-256,
// RSA PKCS#1 v1.5, signed attributes with contentType = data and messageDigest = SHA-256 of the
// document, the signer's certificate included in the SignedData. What it proves is "the holder
// of this certificate's key signed these bytes"; whether that certificate is trustworthy,
// unrevoked, a signature certificate, and the session's practitioner is for the caller to check
// with the CertificateValidator (purpose 'signature') and the session. Never throws.
import { createHash, createPublicKey, verify } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { parseExactly } from '../validation/x509.js';
import { CMS_OID } from './cms-oids.js';

export type DetachedSignatureVerification =
  | { ok: true; signerCertificate: Uint8Array; signingTime?: Date }
  | { ok: false; reason: string };

/** A signature with a few certificates is a few KB; anything this large is not one of ours. */
export const MAX_SIGNATURE_BYTES = 1024 * 1024;

class Refusal extends Error {}

function refuse(reason: string): never {
  throw new Refusal(reason);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a).equals(Buffer.from(b));
}

/** The single value of a signed attribute that must appear exactly once. */
function singleValue(attributes: readonly pkijs.Attribute[], oid: string, name: string, required: boolean): asn1js.AsnType | undefined {
  const matching = attributes.filter((a) => a.type === oid);
  if (matching.length === 0) {
    if (required) refuse(`signed attribute ${name} missing`);
    return undefined;
  }
  if (matching.length > 1) refuse(`signed attribute ${name} present ${matching.length} times`);
  const values = (matching[0] as pkijs.Attribute).values;
  if (values.length !== 1) refuse(`signed attribute ${name} must have exactly one value`);
  return values[0];
}

function signingTimeOf(value: asn1js.AsnType | undefined): Date | undefined {
  if (value === undefined) return undefined;
  if (value instanceof asn1js.UTCTime || value instanceof asn1js.GeneralizedTime) {
    const date = value.toDate();
    if (Number.isNaN(date.getTime())) refuse('signingTime is not a valid time');
    return date;
  }
  return refuse('signingTime must be UTCTime or GeneralizedTime');
}

function subjectKeyIdentifier(certificate: pkijs.Certificate): Uint8Array | undefined {
  const extension = certificate.extensions?.find((e) => e.extnID === '2.5.29.14');
  if (!extension) return undefined;
  const parsed = asn1js.fromBER(new Uint8Array(extension.extnValue.valueBlock.valueHexView));
  return parsed.result instanceof asn1js.OctetString ? parsed.result.valueBlock.valueHexView : undefined;
}

/** The certificate of the SignedData that the SignerInfo's sid designates. */
function signerCertificateOf(signedData: pkijs.SignedData, signerInfo: pkijs.SignerInfo): pkijs.Certificate {
  const certificates = (signedData.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  const sid = signerInfo.sid as unknown;
  let found: pkijs.Certificate[];
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    found = certificates.filter((c) => c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber));
  } else if (sid instanceof asn1js.Primitive || sid instanceof asn1js.Constructed) {
    const keyId = sid instanceof asn1js.Primitive ? sid.valueBlock.valueHexView : undefined;
    found = keyId === undefined ? [] : certificates.filter((c) => {
      const ski = subjectKeyIdentifier(c);
      return ski !== undefined && bytesEqual(ski, keyId);
    });
  } else {
    found = [];
  }
  if (found.length === 0) refuse('the signer certificate is not included in the SignedData');
  if (found.length > 1) refuse('several included certificates match the signer');
  return found[0] as pkijs.Certificate;
}

/**
 * When the signingCertificateV2 attribute is present, it must name this very certificate:
 * otherwise another certificate for the same key could be swapped in.
 */
function checkSigningCertificate(value: asn1js.AsnType | undefined, signerDer: Uint8Array): void {
  if (value === undefined) return;
  const certs = value instanceof asn1js.Sequence ? value.valueBlock.value[0] : undefined;
  const first = certs instanceof asn1js.Sequence ? certs.valueBlock.value[0] : undefined;
  if (!(first instanceof asn1js.Sequence)) refuse('signingCertificateV2 is malformed');
  const [head, second] = first.valueBlock.value;
  let hashAlgorithm = CMS_OID.sha256 as string;
  let certHash = head;
  if (head instanceof asn1js.Sequence) {
    hashAlgorithm = new pkijs.AlgorithmIdentifier({ schema: head }).algorithmId;
    certHash = second;
  }
  if (hashAlgorithm !== CMS_OID.sha256) refuse('signingCertificateV2 uses a hash other than SHA-256');
  if (!(certHash instanceof asn1js.OctetString)) refuse('signingCertificateV2 certHash is malformed');
  const expected = createHash('sha256').update(signerDer).digest();
  if (!bytesEqual(certHash.valueBlock.valueHexView, expected)) refuse('signingCertificateV2 names another certificate');
}

async function verifyUnsafe(cmsDer: Uint8Array, content: Uint8Array): Promise<DetachedSignatureVerification> {
  if (!(cmsDer instanceof Uint8Array) || !(content instanceof Uint8Array)) refuse('signature and content must be bytes');
  if (cmsDer.byteLength === 0 || cmsDer.byteLength > MAX_SIGNATURE_BYTES) refuse(`signature size ${cmsDer.byteLength} outside 1..${MAX_SIGNATURE_BYTES}`);

  const contentInfo = parseExactly(cmsDer, 'CMS', (schema) => new pkijs.ContentInfo({ schema }));
  if (contentInfo.contentType !== CMS_OID.signedData) refuse(`not a SignedData (content type ${contentInfo.contentType})`);
  const signedData = new pkijs.SignedData({ schema: contentInfo.content });
  const encapsulated = signedData.encapContentInfo;
  if (encapsulated.eContentType !== CMS_OID.data) refuse(`signed content type ${encapsulated.eContentType} is not data`);
  if (encapsulated.eContent !== undefined) refuse('the signature is not detached (content inside)');
  if (signedData.signerInfos.length !== 1) refuse(`exactly one signer expected, found ${signedData.signerInfos.length}`);
  const signerInfo = signedData.signerInfos[0] as pkijs.SignerInfo;

  if (signerInfo.digestAlgorithm.algorithmId !== CMS_OID.sha256) refuse(`digest algorithm ${signerInfo.digestAlgorithm.algorithmId} is not SHA-256`);
  const signatureAlgorithm = signerInfo.signatureAlgorithm.algorithmId;
  if (signatureAlgorithm !== CMS_OID.rsaEncryption && signatureAlgorithm !== CMS_OID.sha256WithRsaEncryption) {
    refuse(`signature algorithm ${signatureAlgorithm} is not RSA PKCS#1 v1.5`);
  }
  const signedAttributes = signerInfo.signedAttrs;
  if (!signedAttributes || signedAttributes.attributes.length === 0) refuse('signed attributes missing');
  const attributes = signedAttributes.attributes;

  const contentType = singleValue(attributes, CMS_OID.contentType, 'contentType', true);
  if (!(contentType instanceof asn1js.ObjectIdentifier) || contentType.valueBlock.toString() !== encapsulated.eContentType) {
    refuse('contentType attribute does not match the signed content type');
  }
  const digest = singleValue(attributes, CMS_OID.messageDigest, 'messageDigest', true);
  if (!(digest instanceof asn1js.OctetString)) refuse('messageDigest is not an OCTET STRING');
  const contentDigest = createHash('sha256').update(content).digest();
  if (!bytesEqual(digest.valueBlock.valueHexView, contentDigest)) refuse('messageDigest does not match the content (document altered?)');
  const signingTime = signingTimeOf(singleValue(attributes, CMS_OID.signingTime, 'signingTime', false));

  const signer = signerCertificateOf(signedData, signerInfo);
  const signerDer = new Uint8Array(signer.toSchema().toBER(false));
  checkSigningCertificate(singleValue(attributes, CMS_OID.signingCertificateV2, 'signingCertificateV2', false), signerDer);

  const spki = new Uint8Array(signer.subjectPublicKeyInfo.toSchema().toBER(false));
  const publicKey = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  if (publicKey.asymmetricKeyType !== 'rsa') refuse('the signer certificate does not hold an RSA key');
  // The signature covers the DER of the signed attributes as sent, with the SET tag (0x31) in
  // place of the [0] IMPLICIT tag (RFC 5652 §5.4); pkijs keeps those original bytes.
  const signedBytes = new Uint8Array(signedAttributes.encodedValue);
  if (signedBytes[0] !== 0x31) refuse('signed attributes encoding unavailable');
  const signature = signerInfo.signature.valueBlock.valueHexView;
  if (!verify('sha256', signedBytes, publicKey, signature)) refuse('the signature does not verify with the signer certificate');

  return signingTime === undefined ? { ok: true, signerCertificate: signerDer } : { ok: true, signerCertificate: signerDer, signingTime };
}

export async function verifyDetachedSignature(cmsDer: Uint8Array, content: Uint8Array): Promise<DetachedSignatureVerification> {
  try {
    return await verifyUnsafe(cmsDer, content);
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, reason: error.message };
    return { ok: false, reason: `malformed signature: ${(error as Error)?.message ?? String(error)}` };
  }
}
