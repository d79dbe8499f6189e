// cardbridge/agent-client: the client of the cardbridge agent, for browser pages and Node
// desktop software (inject `ws` in Node). Browser-safe: nothing here imports Node built-ins.
export { AgentClient, DEFAULT_AGENT_URL } from './agent-client.js';
export type { AgentClientOptions, CallOptions, CpsApi, ReconnectOptions, VitaleApi } from './agent-client.js';
export type { PairAndWaitOptions } from './pairing.js';
export type { OpenWindow, PinWindow, PreparedPinWindow } from './pin-window.js';
export type { WebSocketConstructor, WebSocketLike } from './rpc-channel.js';
export { MAX_FRAME_BYTES } from './rpc-channel.js';
export {
  AGENT_ERROR_CODES,
  AgentClientError,
  AgentUnreachableError,
  BusyError,
  CardAbsentError,
  CardAmbiguousError,
  CardError,
  CardRemovedError,
  ConnectionLostError,
  DecryptFailedError,
  errorClassOf,
  errorFromRpc,
  InternalError,
  InvalidParamsError,
  KnownAgentError,
  MethodNotFoundError,
  OriginNotPairedError,
  PcscUnavailableError,
  PinBlockedError,
  PinIncorrectError,
  PinLastTryError,
  PinRequiredError,
  PinValueNotAllowedError,
  RateLimitedError,
  ReaderNotFoundError,
  ScopeNotGrantedError,
  TimeoutError,
  UnauthorizedError,
  UnsupportedAlgorithmError,
  UnsupportedCardError,
  UserCancelledError,
} from './errors.js';
export type { AgentClientErrorInit, AgentErrorCode, ClientErrorCode } from './errors.js';
export type * from './types.js';
