// Detached CMS signatures of documents: built on the client (the card signs), verified by the
// service. The builder half is browser-safe; verify-detached uses node:crypto.
export { buildDetachedSignedData, CmsBuildError, type DetachedSignatureRequest } from './build-detached.js';
export { buildSignedAttributes, compareDerForSet, signedAttributesHash, type SignedAttributesInput } from './signed-attributes.js';
export { verifyDetachedSignature, MAX_SIGNATURE_BYTES, type DetachedSignatureVerification } from './verify-detached.js';
export { CMS_OID } from './cms-oids.js';
