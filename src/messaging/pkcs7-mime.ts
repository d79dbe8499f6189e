// The S/MIME entity that the envelope encrypts (RFC 8551 §3.4: sign, then encrypt the signed
// MIME entity): application/pkcs7-mime with smime-type=signed-data, the SignedData in base64.
// After `openssl cms -decrypt`, `openssl cms -verify -inform SMIME` reads it as it is.
import { checkBase64Lines, decodeBase64Lines, encodeBase64Lines } from './base64-lines.js';
import { concat } from './bytes.js';
import { asciiBytes, asciiText, CRLF, field, parseEntity } from './mime-entity.js';

const CONTENT_TYPE = 'application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"';
const DISPOSITION = 'attachment; filename="smime.p7m"';
const FIELDS = ['content-type', 'content-transfer-encoding', 'content-disposition'];

export class Pkcs7MimeError extends Error {
  override readonly name = 'Pkcs7MimeError';
}

export function wrapSignedData(signedDataDer: Uint8Array): Uint8Array {
  const header = [`Content-Type: ${CONTENT_TYPE}`, 'Content-Transfer-Encoding: base64', `Content-Disposition: ${DISPOSITION}`].join(CRLF);
  return concat([asciiBytes(header + CRLF + CRLF), encodeBase64Lines(signedDataDer), asciiBytes(CRLF)]);
}

/** The SignedData DER inside an entity written by wrapSignedData; throws anything else. */
export function unwrapSignedData(entity: Uint8Array, maxSignedDataBytes: number): Uint8Array {
  try {
    const text = asciiText(entity, 'S/MIME entity');
    const parsed = parseEntity(text, 'S/MIME entity', FIELDS, FIELDS, 1024);
    if (field(parsed, 'content-type') !== CONTENT_TYPE || field(parsed, 'content-transfer-encoding') !== 'base64' || field(parsed, 'content-disposition') !== DISPOSITION) {
      throw new Pkcs7MimeError('not an application/pkcs7-mime signed-data entity in base64');
    }
    if (!parsed.body.endsWith(CRLF)) throw new Pkcs7MimeError('the base64 does not end with CRLF');
    const base64 = parsed.body.slice(0, -CRLF.length);
    if (checkBase64Lines(base64).decodedLength > maxSignedDataBytes) throw new Pkcs7MimeError('the SignedData is too large');
    return decodeBase64Lines(base64);
  } catch (error) {
    if (error instanceof Pkcs7MimeError) throw error;
    throw new Pkcs7MimeError((error as Error).message, { cause: error });
  }
}
