// The detached CMS signature every sent document carries (dmp-service.md, "Documents"): the
// SignedData must verify over the exact content bytes, its signer certificate must be valid now
// for its purpose — revocation fail-closed: no current CRL is a refusal — and the signer must be
// the session's user:
//   practitioner session   a CPS signature certificate (purpose `signature`) naming the session's
//                          practitioner (same national id)
//   establishment session  the establishment certificate the session logged in with (purpose
//                          `establishment`, same SHA-256 fingerprint): in indirect mode the
//                          establishment signs what it sends
import { verifyDetachedSignature } from '../../pki/cms/index.js';
import { practitionerFromCertificate, type CertificateValidator, type ValidationFailureCode } from '../../pki/validation/index.js';
import { DmpError, type ProblemCode } from '../errors.js';
import type { Caller } from './caller.js';

const VALIDATION_CODES: Record<ValidationFailureCode, ProblemCode> = {
  CERTIFICATE_INVALID: 'SIGNER_CERTIFICATE_INVALID',
  CERTIFICATE_REVOKED: 'SIGNER_CERTIFICATE_REVOKED',
  REVOCATION_UNKNOWN: 'SIGNER_REVOCATION_UNKNOWN',
};

export interface CheckedSignature {
  readonly signerCertificate: Uint8Array;
  readonly signerFingerprint: string;
}

export async function checkDocumentSignature(validator: CertificateValidator, cms: Uint8Array, content: Uint8Array, caller: Caller): Promise<CheckedSignature> {
  const verified = await verifyDetachedSignature(cms, content);
  if (!verified.ok) throw new DmpError('DOCUMENT_SIGNATURE_INVALID', `signature refusée : ${verified.reason}`);
  const signer = verified.signerCertificate;

  const validation = await validator.validate(signer, caller.kind === 'practitioner' ? 'signature' : 'establishment');
  if (!validation.ok) throw new DmpError(VALIDATION_CODES[validation.code], `certificat du signataire refusé : ${validation.reason}`);

  if (caller.kind === 'practitioner') {
    let nationalId: string;
    try {
      nationalId = practitionerFromCertificate(signer).nationalId;
    } catch {
      throw new DmpError('SIGNER_MISMATCH', 'le certificat du signataire ne désigne pas un professionnel de santé');
    }
    if (nationalId !== caller.nationalId) throw new DmpError('SIGNER_MISMATCH', 'document signé par la carte d’un autre professionnel que celui de la session');
  } else if (validation.fingerprint !== caller.certificateFingerprint) {
    throw new DmpError('SIGNER_MISMATCH', 'document signé par un autre certificat que celui de l’établissement connecté');
  }
  return { signerCertificate: signer, signerFingerprint: validation.fingerprint };
}
