// cardbridge/dmp-client: logs a practitioner into the DMP service with the CPS card (through
// cardbridge/agent-client) and signs every request with DPoP. Browser-safe: WebCrypto, fetch,
// FormData, pkijs; nothing here imports Node built-ins.
export { DmpClient, headerText, insPath } from './dmp-client.js';
export type {
  DmpAgent,
  DmpClientOptions,
  LoginOptions,
  SendDocumentRequest,
  SendPdfRequest,
  SessionEndedEvent,
  SessionEndReason,
} from './dmp-client.js';
export { DmpError } from './errors.js';
export type { DmpClientErrorCode, DmpErrorInit } from './errors.js';
export { accessTokenHash, DpopKey } from './dpop.js';
export type { EcPublicJwk, ProofClaims } from './dpop.js';
export { buildCdaN1, CDA_N1_PDF_FORMAT, hl7Time, idNatPs, OID as CDA_OID } from './cda.js';
export type { CdaAuthor, CdaN1Input, CdaOrganization, CdaPatient } from './cda.js';
export type * from './types.js';
