// Append-only, hash-chained traces of the DMP (one chain per patient, one per practitioner for logins).
export { canonicalJson, CanonicalJsonError } from './canonical-json.js';
export {
  GENESIS_HASH,
  TRACE_ACTOR_KINDS,
  TRACE_MODES,
  TRACE_RESULTS,
  traceShapeProblem,
  type TraceActor,
  type TraceActorKind,
  type TraceEntry,
  type TraceMode,
  type TraceResult,
} from './trace-entry.js';
export { computeTraceHash, nextTrace, TraceError, verifyChain, type ChainHead, type ChainVerification, type TraceFields } from './trace-chain.js';
