// Builds the detached CMS SignedData that travels with every document a practitioner sends
// (dmp-service.md, "Documents"): SHA-256, RSA PKCS#1 v1.5, signed attributes (contentType,
// signingTime, messageDigest, signingCertificateV2), the signer's certificate included, no
// content inside. The private key never comes here: the caller's callback signs the hash of the
// signed attributes — on a workstation by the CPS card through the agent (`cps.sign`, PSO CDS
// with algorithm 42: the card adds the DigestInfo and the padding). Browser-safe (WebCrypto).
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CMS_OID } from './cms-oids.js';
import { buildSignedAttributes, sha256, signedAttributesHash } from './signed-attributes.js';

export interface DetachedSignatureRequest {
  /** The document bytes (not embedded in the result). */
  content: Uint8Array;
  /** DER of the signer's certificate (the CPS signature certificate). */
  certificate: Uint8Array;
  /**
   * Signs SHA-256(DER of the signed attributes) with RSA PKCS#1 v1.5 (DigestInfo SHA-256) and
   * returns the signature, as `cps.sign` does with the card's signature key.
   */
  signSignedAttributesHash: (hash: Uint8Array) => Promise<Uint8Array>;
  /** Written in the signingTime attribute; default now. */
  signingTime?: Date;
}

export class CmsBuildError extends Error {
  override readonly name = 'CmsBuildError';
}

function buffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return copy;
}

/**
 * Checks the signature against the certificate before it leaves the workstation: a card that
 * signed with the wrong key (authentication instead of signature) is caught here, not as a
 * refusal by the service.
 */
async function signatureMatchesCertificate(certificate: pkijs.Certificate, signedAttributesDer: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const spki = certificate.subjectPublicKeyInfo.toSchema().toBER(false);
  const key = await globalThis.crypto.subtle.importKey('spki', spki, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
  return globalThis.crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, buffer(signature), buffer(signedAttributesDer));
}

/** DER of a ContentInfo holding the detached SignedData. */
export async function buildDetachedSignedData(request: DetachedSignatureRequest): Promise<Uint8Array> {
  const { content, certificate: certificateDer, signSignedAttributesHash } = request;
  if (!(content instanceof Uint8Array)) throw new CmsBuildError('content must be bytes');
  let certificate: pkijs.Certificate;
  try {
    certificate = pkijs.Certificate.fromBER(buffer(certificateDer));
  } catch (error) {
    throw new CmsBuildError(`signer certificate: ${(error as Error).message}`);
  }
  if (certificate.subjectPublicKeyInfo.algorithm.algorithmId !== CMS_OID.rsaEncryption) {
    throw new CmsBuildError('signer certificate must hold an RSA key');
  }

  const { attributes, der: signedAttributesDer } = await buildSignedAttributes({
    contentDigest: await sha256(content),
    certificateDer,
    signingTime: request.signingTime ?? new Date(),
  });
  const signature = await signSignedAttributesHash(await signedAttributesHash(signedAttributesDer));
  if (!(signature instanceof Uint8Array) || signature.byteLength === 0) throw new CmsBuildError('the signer returned no signature');
  if (!(await signatureMatchesCertificate(certificate, signedAttributesDer, signature))) {
    throw new CmsBuildError('the signature does not verify with the certificate (wrong key?)');
  }

  const signerInfo = new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({ issuer: certificate.issuer, serialNumber: certificate.serialNumber }),
    digestAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: CMS_OID.sha256 }),
    signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes }),
    signatureAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: CMS_OID.rsaEncryption, algorithmParams: new asn1js.Null() }),
    signature: new asn1js.OctetString({ valueHex: buffer(signature) }),
  });
  const signedData = new pkijs.SignedData({
    version: 1,
    digestAlgorithms: [new pkijs.AlgorithmIdentifier({ algorithmId: CMS_OID.sha256 })],
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: CMS_OID.data }), // detached: no eContent
    certificates: [certificate],
    signerInfos: [signerInfo],
  });
  const contentInfo = new pkijs.ContentInfo({ contentType: CMS_OID.signedData, content: signedData.toSchema(true) });
  return new Uint8Array(contentInfo.toSchema().toBER(false));
}
