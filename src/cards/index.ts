// Card sessions (one per card application, in the spirit of yubikit's PivSession) and the card
// family detection. Only the public API is re-exported; parsers stay importable from their modules.
export { cardFamilyFromAtr, type CardFamily } from './atr.js';
export { CardError, type CardErrorCode, type CardErrorMessages, type Lang } from './errors.js';
export { AUTH_TOKEN_FORMAT, authenticationSignedData, isTokenOrigin, type AuthenticationToken } from './auth-token.js';
export {
  CpsSession,
  type CpsActivity,
  type CpsCertificates,
  type CpsIdentity,
  type LogoutResult,
  type PinStatus,
  type SignOptions,
} from './cps-session.js';
export type { CpsFamily } from './cps-profile.js';
export { VitaleSession, type VitaleReadResult } from './vitale-session.js';
export type { VitaleAmo, VitaleBeneficiary } from './vitale-parser.js';
