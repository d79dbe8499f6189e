// The agent protocol's types (agent-protocol.md, version 1) as the client sees them: method
// params and results, notifications. Results are exactly the contract's shapes; params accept
// bytes where the contract wants base64, as a convenience (the client encodes them).

export type Lang = 'fr' | 'en';

export type CallerKind = 'desktop' | 'origin' | 'unpaired' | 'local';

export type Scope = 'cps.read' | 'cps.sign' | 'cps.authenticate' | 'cps.decrypt' | 'vitale.read';

export type AgentEventName = 'readers.changed' | 'card.inserted' | 'card.removed' | 'pcsc.status';

export type CardFamily = 'CPS3' | 'CPS4' | 'VITALE2' | 'VITALE1' | 'UNKNOWN';

export type CpsFamily = 'CPS3' | 'CPS4';

export type PinMethod = 'page' | 'pinpad' | 'value';

// --- agent.* ---------------------------------------------------------------------------------

export interface AgentInfo {
  version: string;
  protocol: 1;
  pcsc: 'ok' | 'unavailable';
  caller: CallerKind;
}

export interface HelloParams {
  /** The local token (desktop software only). */
  token?: string;
  /** Desktop software: names the application; authentication tokens are bound to `app:<appId>`. */
  appId?: string;
  lang?: Lang;
}

export interface HelloResult {
  caller: CallerKind;
}

export interface PairResult {
  /** 6 digits, shown by the page; the agent shows the same code to the user. */
  code: string;
  /** ISO 8601. */
  expiresAt: string;
}

export interface SubscribeResult {
  ok: true;
}

// --- readers ---------------------------------------------------------------------------------

export interface ReaderCard {
  family: CardFamily;
  /** Hex. */
  atr: string;
}

export interface ReaderInfo {
  name: string;
  card: ReaderCard | null;
}

// --- cps.* -----------------------------------------------------------------------------------

export interface ReaderParams {
  /** Optional: the agent uses the only reader holding a card of the needed family. */
  reader?: string;
}

/**
 * Desktop software may pass the PIN with any call that needs it ("desktop callers get
 * PIN_REQUIRED unless they pass pin"); browsers never may (the PIN page or the pinpad asks).
 */
export interface DesktopPinParams {
  pin?: string;
  /** Needed to submit a PIN with one try left (else PIN_LAST_TRY). */
  confirmLastTry?: boolean;
}

export interface ActivitiesParams extends ReaderParams, DesktopPinParams {}

export interface CpsIdentity {
  family: CpsFamily;
  serial: string;
  /** Without the type digit: the 11-digit RPPS or the ADELI number. */
  nationalId: string;
  idType: 'RPPS' | 'ADELI';
  surname: string;
  givenName: string;
  professionCode?: string;
  professionLabel: string;
  specialtyCode?: string;
  /** ISO 8601. */
  notAfter: string;
}

export interface CpsCertificates {
  /** Base64 DER. */
  authentication: string;
  /** Base64 DER. */
  signature: string;
  /** Base64 DER, when the agent knows the chain. */
  chain?: string[];
}

export interface CpsActivity {
  index: number;
  structureId: string;
  structureName: string;
  sector: string;
  role: string;
}

export interface PinStatus {
  triesRemaining: number;
  maxTries: number;
  blocked: boolean;
  /** Verified for this caller (connection). */
  verified: boolean;
}

export interface VerifyPinParams extends ReaderParams, DesktopPinParams {
  /** `page` (browsers' default), `pinpad`, or `value` (desktop, with `pin`). */
  method?: PinMethod;
}

/** Values are for desktop software only; for browsers the PIN page asks for both. */
export interface ChangePinParams extends ReaderParams, DesktopPinParams {
  method?: PinMethod;
  newPin?: string;
}

/** Values are for desktop software only; for browsers the PIN page asks for both. */
export interface UnblockPinParams extends ReaderParams {
  method?: PinMethod;
  puk?: string;
  newPin?: string;
}

export interface AuthenticateParams extends ReaderParams, DesktopPinParams {
  /** Base64 with padding, 44–128 characters (the DMP's challenge as received). */
  challenge: string;
}

/** `cps.authenticate`'s result: the origin-bound authentication token. */
export interface AuthenticationToken {
  format: 'cardbridge-auth:1';
  algorithm: 'RS256';
  origin: string;
  /** Base64 DER of the authentication certificate. */
  unverifiedCertificate: string;
  /** Base64. */
  signature: string;
  appVersion: string;
}

export interface SignParams extends ReaderParams, DesktopPinParams {
  /** The SHA-256 to sign: base64, or the 32 bytes (encoded by the client). */
  hash: string | Uint8Array;
  hashAlgorithm: 'SHA-256';
  /** Default PKCS1; PSS (salt 32 bytes) on CPS4 only. */
  padding?: 'PKCS1' | 'PSS';
}

export interface SignResult {
  /** Base64. */
  signature: string;
  algorithm: 'RS256' | 'PS256';
  /** Base64 DER of the signature certificate. */
  certificate: string;
}

export interface DecryptParams extends ReaderParams, DesktopPinParams {
  /** Base64, or the bytes (encoded by the client). */
  ciphertext: string | Uint8Array;
}

export interface DecryptResult {
  /** Base64. */
  plaintext: string;
}

export interface OkResult {
  ok: true;
}

export interface VerifiedResult {
  verified: true;
}

// --- vitale.read -----------------------------------------------------------------------------

export interface VitaleAmo {
  regime?: string;
  caisse?: string;
  centre?: string;
  start?: string;
  end?: string;
}

export interface VitaleBeneficiary {
  nir: string;
  nirKeyValid: boolean;
  ownNir: string | null;
  surname: string;
  birthSurname?: string;
  givenName: string;
  /** `YYYYMMDD` as on the card (lunar dates included). */
  birthDateRaw: string;
  /** `YYYY-MM-DD`, or null when the raw date is not a calendar date. */
  birthDate: string | null;
  birthRank?: number;
  quality?: number;
  insC: string | null;
  amo?: VitaleAmo;
}

export interface VitaleReadResult {
  family: 'VITALE2' | 'VITALE1';
  serial?: string;
  validFrom?: string;
  beneficiaries: VitaleBeneficiary[];
}

// --- notifications ---------------------------------------------------------------------------

export interface PinPrompt {
  /** The id of the JSON-RPC request that needs the PIN. */
  requestId: string | number;
  /** One-time URL of the agent's PIN page. */
  url: string;
  reader: string;
  origin: string;
  triesRemaining: number;
}

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ConnectionEvent {
  state: ConnectionState;
  /** Why the connection was lost or closed for good, when known. */
  error?: Error;
  /** Reconnecting: the attempt about to be made (1, 2, …) and the delay before it. */
  attempt?: number;
  delayMs?: number;
}

/** What `on()` can listen to: the agent's events, PIN prompts, and the connection's state. */
export interface AgentEventMap {
  'readers.changed': { readers: ReaderInfo[] };
  'card.inserted': { reader: string; family: CardFamily; atr: string };
  'card.removed': { reader: string };
  'pcsc.status': { status: 'ok' | 'unavailable' };
  'pin.prompt': PinPrompt;
  connection: ConnectionEvent;
}
