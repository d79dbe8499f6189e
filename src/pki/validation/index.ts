// Certificate validation for relying parties (the DMP service): CRL sources, the validator, and
// the practitioner identity a CPS certificate carries.
export type { CrlSource, CrlSourceClockOptions } from './crl-source.js';
export { FileCrlSource } from './file-crl-source.js';
export { HttpCrlSource, type HttpCrlSourceOptions, type HttpCrlSourceStats } from './http-crl-source.js';
export { CompositeCrlSource } from './composite-crl-source.js';
export {
  CertificateValidator,
  type CertificateValidatorOptions,
  type ValidationFailureCode,
  type ValidationPurpose,
  type ValidationResult,
  type ValidatorCacheStats,
} from './certificate-validator.js';
export {
  practitionerFromCertificate,
  PractitionerCertificateError,
  type PractitionerIdentityFromCertificate,
} from './practitioner.js';
export {
  CertificateParseError,
  crlDistributionUrls,
  nameValues,
  parseCertificate,
  sha256Hex,
  type ParsedCertificate,
} from './x509.js';
export { isFetchableCrlUrl } from './http-crl-source.js';
export { MAX_EXTRA_CHAIN } from './certificate-validator.js';
