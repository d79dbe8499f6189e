// Builds and signs one CRL (v2, SHA-256 with RSA) with a CRL number and the issuer's
// authorityKeyIdentifier (RFC 5280 §5.2.1, §5.2.3).
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toArrayBuffer } from './bytes.js';
import type { CertificateSigner } from './certificate-builder.js';
import { pkiCryptoEngine } from './crypto-engine.js';
import { authorityKeyIdentifier, crlNumber } from './standard-extensions.js';
import { wholeSeconds, x509Time } from './x509-time.js';

export interface RevokedEntry {
  /** DER INTEGER content of the revoked certificate's serial. */
  readonly serial: Uint8Array;
  readonly revokedAt: Date;
}

export interface CrlTemplate {
  readonly number: number;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly revoked: readonly RevokedEntry[];
}

export async function buildCrl(template: CrlTemplate, signer: CertificateSigner): Promise<Uint8Array> {
  const thisUpdate = wholeSeconds(template.thisUpdate);
  const nextUpdate = wholeSeconds(template.nextUpdate);
  if (nextUpdate.getTime() <= thisUpdate.getTime()) throw new RangeError('nextUpdate must come after thisUpdate');

  const crl = new pkijs.CertificateRevocationList();
  crl.version = 1; // v2
  crl.issuer = signer.name;
  crl.thisUpdate = x509Time(thisUpdate);
  crl.nextUpdate = x509Time(nextUpdate);
  if (template.revoked.length > 0) {
    // the field is absent, not empty, when nothing is revoked (RFC 5280 §5.1.2.6)
    crl.revokedCertificates = template.revoked.map(
      (entry) =>
        new pkijs.RevokedCertificate({
          userCertificate: new asn1js.Integer({ valueHex: toArrayBuffer(entry.serial) }),
          revocationDate: x509Time(entry.revokedAt),
        }),
    );
  }
  crl.crlExtensions = new pkijs.Extensions({
    extensions: [authorityKeyIdentifier(signer.keyIdentifier), crlNumber(template.number)],
  });
  await crl.sign(signer.signingKey, 'SHA-256', pkiCryptoEngine);
  return new Uint8Array(crl.toSchema().toBER(false));
}
