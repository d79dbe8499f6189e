// The outer layer of a secure message: a CMS EnvelopedData (RFC 5652 §6) with one
// KeyTransRecipientInfo per recipient certificate — issuerAndSerialNumber, rsaEncryption
// (RSAES-PKCS1-v1_5, the only decryption a CPS3 does; never OAEP) — and the content encrypted
// with AES-256-CBC (RFC 3565). Written as DER by hand (der.ts): the AES part is WebCrypto's, the
// key transport node-forge's. Read with pkijs.
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CMS_OID } from '../pki/cms/cms-oids.js';
import { bytesEqual, toArrayBuffer } from './bytes.js';
import { parseExactly, type MessagingCertificate } from './certificates.js';
import { algorithmIdentifier, NULL, objectIdentifier, octetString, sequence, setOf, smallInteger, tlv, TAG } from './der.js';
import { encryptKeyPkcs1v15 } from './key-transport.js';
import { MAX_ENVELOPE_BYTES, MAX_RECIPIENT_INFOS } from './limits.js';
import { octetStringBytes } from './signed-data.js';

export const ENVELOPED_DATA_OID = '1.2.840.113549.1.7.3';
export const AES256_CBC_OID = '2.16.840.1.101.3.4.1.42';
const AES_KEY_BYTES = 32;
const AES_BLOCK_BYTES = 16;

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
}

/**
 * DER ContentInfo of an EnvelopedData carrying `content` to every certificate of `recipients`
 * (each already checked: RSA key, keyEncipherment). The content key lives only inside this call.
 */
export async function buildEnvelopedData(content: Uint8Array, recipients: readonly MessagingCertificate[]): Promise<Uint8Array> {
  const contentKey = globalThis.crypto.getRandomValues(new Uint8Array(AES_KEY_BYTES));
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(AES_BLOCK_BYTES));
  try {
    const key = await globalThis.crypto.subtle.importKey('raw', toArrayBuffer(contentKey), { name: 'AES-CBC' }, false, ['encrypt']);
    // WebCrypto's AES-CBC pads with PKCS#7, as CMS wants (RFC 5652 §6.3).
    const ciphertext = new Uint8Array(await globalThis.crypto.subtle.encrypt({ name: 'AES-CBC', iv: toArrayBuffer(iv) }, key, toArrayBuffer(content)));
    const recipientInfos = recipients.map((r) =>
      sequence(
        smallInteger(0), // rid is issuerAndSerialNumber
        sequence(r.issuerDer, r.serialDer),
        algorithmIdentifier(CMS_OID.rsaEncryption, NULL),
        octetString(encryptKeyPkcs1v15(r.spkiDer, contentKey)),
      ),
    );
    const encryptedContentInfo = sequence(
      objectIdentifier(CMS_OID.data),
      algorithmIdentifier(AES256_CBC_OID, octetString(iv)),
      tlv(TAG.context0Primitive, ciphertext), // [0] IMPLICIT OCTET STRING
    );
    // version 0: only KeyTransRecipientInfo v0, no originatorInfo, no unprotectedAttrs (§6.1).
    const envelopedData = sequence(smallInteger(0), setOf(recipientInfos), encryptedContentInfo);
    return sequence(objectIdentifier(ENVELOPED_DATA_OID), tlv(TAG.context0Constructed, envelopedData));
  } finally {
    contentKey.fill(0);
  }
}

export type RecipientIdentifier =
  | { readonly kind: 'issuerAndSerialNumber'; readonly issuer: pkijs.RelativeDistinguishedNames; readonly serialNumber: asn1js.Integer }
  | { readonly kind: 'subjectKeyIdentifier'; readonly keyIdentifier: Uint8Array };

export interface KeyTransportRecipient {
  readonly id: RecipientIdentifier;
  readonly keyEncryptionAlgorithm: string;
  readonly encryptedKey: Uint8Array;
}

export interface ParsedEnvelope {
  readonly recipients: readonly KeyTransportRecipient[];
  /** RecipientInfos of other kinds (key agreement, KEK, password): never ours. */
  readonly otherRecipientInfos: number;
  readonly encryptedContentInfo: pkijs.EncryptedContentInfo;
}

/** @throws EnvelopeError when `der` is not a ContentInfo holding an EnvelopedData. */
export function parseEnvelope(der: Uint8Array): ParsedEnvelope {
  let envelopedData: pkijs.EnvelopedData;
  try {
    const contentInfo = new pkijs.ContentInfo({ schema: parseExactly(der, 'envelope', MAX_ENVELOPE_BYTES) });
    if (contentInfo.contentType !== ENVELOPED_DATA_OID) throw new EnvelopeError(`not an EnvelopedData (content type ${contentInfo.contentType})`);
    envelopedData = new pkijs.EnvelopedData({ schema: contentInfo.content });
  } catch (error) {
    if (error instanceof EnvelopeError) throw error;
    throw new EnvelopeError(`not an EnvelopedData: ${(error as Error).message}`);
  }
  if (envelopedData.recipientInfos.length === 0 || envelopedData.recipientInfos.length > MAX_RECIPIENT_INFOS) {
    throw new EnvelopeError(`${envelopedData.recipientInfos.length} recipients, outside 1..${MAX_RECIPIENT_INFOS}`);
  }
  const recipients: KeyTransportRecipient[] = [];
  let other = 0;
  for (const info of envelopedData.recipientInfos) {
    if (info.variant !== 1 || !(info.value instanceof pkijs.KeyTransRecipientInfo)) {
      other++;
      continue;
    }
    const ktri = info.value;
    const rid = ktri.rid as unknown;
    let id: RecipientIdentifier;
    if (rid instanceof pkijs.IssuerAndSerialNumber) {
      id = { kind: 'issuerAndSerialNumber', issuer: rid.issuer, serialNumber: rid.serialNumber };
    } else if (rid instanceof asn1js.OctetString) {
      id = { kind: 'subjectKeyIdentifier', keyIdentifier: new Uint8Array(rid.valueBlock.valueHexView) };
    } else {
      throw new EnvelopeError('recipient identifier of an unknown kind');
    }
    recipients.push({ id, keyEncryptionAlgorithm: ktri.keyEncryptionAlgorithm.algorithmId, encryptedKey: new Uint8Array(ktri.encryptedKey.valueBlock.valueHexView) });
  }
  return { recipients, otherRecipientInfos: other, encryptedContentInfo: envelopedData.encryptedContentInfo };
}

/** Whether `id` designates `certificate` (issuer compared as X.500 names, serial as integers). */
export function identifies(id: RecipientIdentifier, certificate: MessagingCertificate): boolean {
  if (id.kind === 'issuerAndSerialNumber') {
    return certificate.certificate.serialNumber.isEqual(id.serialNumber) && certificate.certificate.issuer.isEqual(id.issuer);
  }
  return certificate.subjectKeyIdentifier !== undefined && bytesEqual(certificate.subjectKeyIdentifier, id.keyIdentifier);
}

export interface ContentEncryption {
  readonly iv: Uint8Array;
  readonly ciphertext: Uint8Array;
}

/** The AES-256-CBC parameters and ciphertext. @throws EnvelopeError for another algorithm or a missing content. */
export function contentEncryptionOf(info: pkijs.EncryptedContentInfo): ContentEncryption {
  if (info.contentType !== CMS_OID.data) throw new EnvelopeError(`encrypted content type ${info.contentType} is not data`);
  const algorithm = info.contentEncryptionAlgorithm;
  if (algorithm.algorithmId !== AES256_CBC_OID) throw new EnvelopeError(`content encryption ${algorithm.algorithmId} is not AES-256-CBC`);
  const params = algorithm.algorithmParams as unknown;
  if (!(params instanceof asn1js.OctetString) || params.valueBlock.valueHexView.byteLength !== AES_BLOCK_BYTES) {
    throw new EnvelopeError('AES-256-CBC parameters are not a 16-byte IV');
  }
  if (info.encryptedContent === undefined) throw new EnvelopeError('no encrypted content (detached)');
  return { iv: new Uint8Array(params.valueBlock.valueHexView), ciphertext: octetStringBytes(info.encryptedContent) };
}

/** AES-256-CBC decryption with PKCS#7 padding; throws (WebCrypto OperationError) when the padding is wrong. */
export async function decryptContent(encryption: ContentEncryption, contentKey: Uint8Array): Promise<Uint8Array> {
  if (contentKey.byteLength !== AES_KEY_BYTES) throw new EnvelopeError(`content key of ${contentKey.byteLength} bytes, not ${AES_KEY_BYTES}`);
  const key = await globalThis.crypto.subtle.importKey('raw', toArrayBuffer(contentKey), { name: 'AES-CBC' }, false, ['decrypt']);
  return new Uint8Array(
    await globalThis.crypto.subtle.decrypt({ name: 'AES-CBC', iv: toArrayBuffer(encryption.iv) }, key, toArrayBuffer(encryption.ciphertext)),
  );
}
