// Practitioner and establishment authentication of the DMP service: DPoP proofs, challenges,
// CPS login, sessions, and the preHandlers later routes use.
export { requireDpop, requireSession, requirePractitioner, expectedHtu, sessionTokenHashOf, SESSION_TOUCH_INTERVAL_MS } from './guards.js';
export { verifyDpopProof, normalizeHtu, base64urlSha256, DPOP_ALGORITHM, DPOP_IAT_WINDOW_SECONDS, type DpopCheck } from './dpop.js';
export { issueChallenge, CHALLENGE_BYTES, CHALLENGE_LIFETIME_MS } from './challenge.js';
export {
  loginPractitioner,
  loginEstablishment,
  establishmentFromCertificate,
  practitionerChainId,
  establishmentChainId,
  type LoginOutcome,
  type EstablishmentIdentity,
  type EstablishmentPrincipal,
} from './login.js';
export { parseAuthToken, authSignedData, verifyAuthSignature, decodeStrictBase64, AUTH_TOKEN_FORMAT, type AuthToken } from './auth-token.js';
export { newSessionToken, sessionTokenHash } from './session-token.js';
