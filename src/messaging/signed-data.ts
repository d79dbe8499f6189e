// The inner layer of a secure message: a CMS SignedData (RFC 5652 §5) that ENCAPSULATES the MIME
// entity, signed by the sender's CPS signature key. Same profile as the detached document
// signatures of src/pki/cms (SHA-256, RSA PKCS#1 v1.5, the same signed attributes built by
// buildSignedAttributes, the signer's certificate included), with the content inside.
// Browser-safe: WebCrypto for hashing and verification; the card signs through the callback.
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CMS_OID } from '../pki/cms/cms-oids.js';
import { buildSignedAttributes, sha256, signedAttributesHash } from '../pki/cms/signed-attributes.js';
import { bytesEqual, concat, isBytes, toArrayBuffer } from './bytes.js';
import { parseExactly, readCertificate, type MessagingCertificate } from './certificates.js';
import { MAX_SIGNED_DATA_BYTES } from './limits.js';
import { algorithmIdentifier, NULL, octetString, sequence, setOf, smallInteger, tlv, objectIdentifier, TAG } from './der.js';

export class SignedDataError extends Error {
  override readonly name = 'SignedDataError';
}

export interface EncapsulatedSignatureRequest {
  content: Uint8Array;
  signer: MessagingCertificate;
  /** Signs SHA-256(DER of the signed attributes), RSA PKCS#1 v1.5: the card's PSO CDS. */
  signHash: (hash: Uint8Array) => Promise<Uint8Array>;
  signingTime: Date;
}

async function rsaVerify(spkiDer: Uint8Array, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  const key = await globalThis.crypto.subtle.importKey('spki', toArrayBuffer(spkiDer), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
  return globalThis.crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, toArrayBuffer(signature), toArrayBuffer(data));
}

/**
 * DER ContentInfo of a SignedData holding `content`. The signature is checked against the signer
 * certificate before it is used (a card that signed with another key is caught here).
 * @throws SignedDataError when the signer returns no signature or one the certificate refutes.
 */
export async function buildEncapsulatedSignedData(request: EncapsulatedSignatureRequest): Promise<Uint8Array> {
  const { content, signer } = request;
  const { der: signedAttributes } = await buildSignedAttributes({
    contentDigest: await sha256(content),
    certificateDer: signer.der,
    signingTime: request.signingTime,
  });
  const returned: unknown = await request.signHash(await signedAttributesHash(signedAttributes));
  if (!isBytes(returned) || returned.byteLength === 0) throw new SignedDataError('the signer returned no signature');
  const signature = new Uint8Array(returned);
  if (!(await rsaVerify(signer.spkiDer, signature, signedAttributes))) {
    throw new SignedDataError('the signature does not verify with the signer certificate (wrong key?)');
  }
  // In the SignerInfo the attributes are [0] IMPLICIT: the signed SET with its tag replaced.
  const implicitAttributes = new Uint8Array(signedAttributes);
  implicitAttributes[0] = TAG.context0Constructed;
  const signerInfo = sequence(
    smallInteger(1), // sid is issuerAndSerialNumber
    sequence(signer.issuerDer, signer.serialDer),
    algorithmIdentifier(CMS_OID.sha256),
    implicitAttributes,
    algorithmIdentifier(CMS_OID.rsaEncryption, NULL),
    octetString(signature),
  );
  const signedData = sequence(
    smallInteger(1), // id-data content, v3 certificates, issuerAndSerialNumber sid (RFC 5652 §5.1)
    setOf([algorithmIdentifier(CMS_OID.sha256)]),
    sequence(objectIdentifier(CMS_OID.data), tlv(TAG.context0Constructed, octetString(content))),
    tlv(TAG.context0Constructed, signer.der),
    setOf([signerInfo]),
  );
  return sequence(objectIdentifier(CMS_OID.signedData), tlv(TAG.context0Constructed, signedData));
}

/** The bytes of an OCTET STRING, primitive or constructed (BER) from another implementation. */
export function octetStringBytes(value: asn1js.AsnType, depth = 0): Uint8Array {
  if (!(value instanceof asn1js.OctetString) && !(value instanceof asn1js.Constructed) && !(value instanceof asn1js.Primitive)) {
    throw new SignedDataError('content is not an OCTET STRING');
  }
  if (!value.idBlock.isConstructed) return new Uint8Array((value as asn1js.OctetString).valueBlock.valueHexView);
  if (depth > 2) throw new SignedDataError('OCTET STRING nested too deep');
  const pieces = (value.valueBlock as unknown as { value: asn1js.AsnType[] }).value;
  return concat(pieces.map((piece) => octetStringBytes(piece, depth + 1)));
}

function singleValue(attributes: readonly pkijs.Attribute[], oid: string, name: string, required: boolean): asn1js.AsnType | undefined {
  const matching = attributes.filter((a) => a.type === oid);
  if (matching.length === 0) {
    if (required) throw new SignedDataError(`signed attribute ${name} missing`);
    return undefined;
  }
  if (matching.length > 1) throw new SignedDataError(`signed attribute ${name} present ${matching.length} times`);
  const values = (matching[0] as pkijs.Attribute).values;
  if (values.length !== 1) throw new SignedDataError(`signed attribute ${name} must have exactly one value`);
  return values[0];
}

function signingTimeOf(value: asn1js.AsnType | undefined): Date | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof asn1js.UTCTime) && !(value instanceof asn1js.GeneralizedTime)) throw new SignedDataError('signingTime is not a time');
  const date = value.toDate();
  if (Number.isNaN(date.getTime())) throw new SignedDataError('signingTime is not a valid time');
  return date;
}

/** ESS signingCertificateV2 (RFC 5035), when present, must name the very certificate that verifies. */
async function checkSigningCertificate(value: asn1js.AsnType | undefined, signerDer: Uint8Array): Promise<void> {
  if (value === undefined) return;
  const certs = value instanceof asn1js.Sequence ? value.valueBlock.value[0] : undefined;
  const first = certs instanceof asn1js.Sequence ? certs.valueBlock.value[0] : undefined;
  if (!(first instanceof asn1js.Sequence)) throw new SignedDataError('signingCertificateV2 is malformed');
  const [head, second] = first.valueBlock.value;
  let algorithm: string = CMS_OID.sha256;
  let certHash = head;
  if (head instanceof asn1js.Sequence) {
    algorithm = new pkijs.AlgorithmIdentifier({ schema: head }).algorithmId;
    certHash = second;
  }
  if (algorithm !== CMS_OID.sha256) throw new SignedDataError('signingCertificateV2 uses a hash other than SHA-256');
  if (!(certHash instanceof asn1js.OctetString)) throw new SignedDataError('signingCertificateV2 certHash is malformed');
  if (!bytesEqual(certHash.valueBlock.valueHexView, await sha256(signerDer))) throw new SignedDataError('signingCertificateV2 names another certificate');
}

function signerCertificateOf(signedData: pkijs.SignedData, signerInfo: pkijs.SignerInfo): MessagingCertificate {
  const included = (signedData.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  if (included.length > 16) throw new SignedDataError('too many certificates');
  const candidates = included.map((c) => readCertificate(new Uint8Array(c.toSchema().toBER(false))));
  const sid = signerInfo.sid as unknown;
  let found: MessagingCertificate[] = [];
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    found = candidates.filter((c) => c.certificate.issuer.isEqual(sid.issuer) && c.certificate.serialNumber.isEqual(sid.serialNumber));
  } else if (sid instanceof asn1js.Primitive) {
    const keyId = sid.valueBlock.valueHexView;
    found = candidates.filter((c) => c.subjectKeyIdentifier !== undefined && bytesEqual(c.subjectKeyIdentifier, keyId));
  }
  if (found.length !== 1) throw new SignedDataError(found.length === 0 ? 'the signer certificate is not included' : 'several certificates match the signer');
  return found[0] as MessagingCertificate;
}

export interface VerifiedSignedData {
  readonly content: Uint8Array;
  readonly signer: MessagingCertificate;
  readonly signingTime: Date | undefined;
}

/**
 * Verifies a SignedData with encapsulated content: one signer, SHA-256, RSA PKCS#1 v1.5, signed
 * attributes (contentType data, messageDigest of the content, signingCertificateV2 when present),
 * the signer's certificate included. Proves "the holder of this certificate's key signed these
 * bytes" — not that the certificate is trustworthy (the caller's checkSigner hook).
 * @throws SignedDataError for anything else, including any verification failure.
 */
export async function verifyEncapsulatedSignedData(der: Uint8Array): Promise<VerifiedSignedData> {
  let signedData: pkijs.SignedData;
  try {
    const contentInfo = new pkijs.ContentInfo({ schema: parseExactly(der, 'SignedData', MAX_SIGNED_DATA_BYTES) });
    if (contentInfo.contentType !== CMS_OID.signedData) throw new SignedDataError(`not a SignedData (${contentInfo.contentType})`);
    signedData = new pkijs.SignedData({ schema: contentInfo.content });
  } catch (error) {
    if (error instanceof SignedDataError) throw error;
    throw new SignedDataError(`not a SignedData: ${(error as Error).message}`);
  }
  const encapsulated = signedData.encapContentInfo;
  if (encapsulated.eContentType !== CMS_OID.data) throw new SignedDataError(`signed content type ${encapsulated.eContentType} is not data`);
  if (encapsulated.eContent === undefined) throw new SignedDataError('no encapsulated content (detached signature)');
  const content = octetStringBytes(encapsulated.eContent);
  if (signedData.signerInfos.length !== 1) throw new SignedDataError(`exactly one signer expected, found ${signedData.signerInfos.length}`);
  const signerInfo = signedData.signerInfos[0] as pkijs.SignerInfo;
  if (signerInfo.digestAlgorithm.algorithmId !== CMS_OID.sha256) throw new SignedDataError('digest algorithm is not SHA-256');
  const signatureAlgorithm = signerInfo.signatureAlgorithm.algorithmId;
  if (signatureAlgorithm !== CMS_OID.rsaEncryption && signatureAlgorithm !== CMS_OID.sha256WithRsaEncryption) {
    throw new SignedDataError(`signature algorithm ${signatureAlgorithm} is not RSA PKCS#1 v1.5`);
  }
  const signedAttributes = signerInfo.signedAttrs;
  if (!signedAttributes || signedAttributes.attributes.length === 0) throw new SignedDataError('signed attributes missing');
  const attributes = signedAttributes.attributes;

  const contentType = singleValue(attributes, CMS_OID.contentType, 'contentType', true);
  if (!(contentType instanceof asn1js.ObjectIdentifier) || contentType.valueBlock.toString() !== CMS_OID.data) {
    throw new SignedDataError('contentType attribute is not data');
  }
  const digest = singleValue(attributes, CMS_OID.messageDigest, 'messageDigest', true);
  if (!(digest instanceof asn1js.OctetString)) throw new SignedDataError('messageDigest is not an OCTET STRING');
  if (!bytesEqual(digest.valueBlock.valueHexView, await sha256(content))) throw new SignedDataError('messageDigest does not match the content');
  const signingTime = signingTimeOf(singleValue(attributes, CMS_OID.signingTime, 'signingTime', false));

  const signer = signerCertificateOf(signedData, signerInfo);
  if (!signer.isRsa) throw new SignedDataError('the signer certificate does not hold an RSA key');
  await checkSigningCertificate(singleValue(attributes, CMS_OID.signingCertificateV2, 'signingCertificateV2', false), signer.der);
  // The signature covers the attributes as sent, SET tag in place of [0] (RFC 5652 §5.4); pkijs
  // keeps those bytes.
  const signedBytes = new Uint8Array(signedAttributes.encodedValue);
  if (signedBytes[0] !== 0x31) throw new SignedDataError('signed attributes encoding unavailable');
  let valid: boolean;
  try {
    valid = await rsaVerify(signer.spkiDer, new Uint8Array(signerInfo.signature.valueBlock.valueHexView), signedBytes);
  } catch (error) {
    throw new SignedDataError(`signature check failed: ${(error as Error).message}`);
  }
  if (!valid) throw new SignedDataError('the signature does not verify with the signer certificate');
  return { content, signer, signingTime };
}
