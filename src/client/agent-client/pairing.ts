// Pairing of a browser origin with the agent (agent-protocol.md "Who may call what"): the page
// asks `agent.pair`, shows the 6-digit code, the user checks that the agent shows the same code
// and approves it there; the page learns of the approval by polling `agent.info` until its
// `caller` is `origin`.
import { ConnectionLostError, TimeoutError } from './errors.js';
import type { AgentInfo, PairResult, Scope } from './types.js';

export interface PairAndWaitOptions {
  /** Shows the code to the user (the agent shows the same one beside the origin and the scopes). */
  onCode: (code: string, pairing: PairResult) => void;
  /** Delay between two `agent.info`. Default 1.5 s. */
  pollIntervalMs?: number;
  /** Stops waiting (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** What pairAndWait needs of the client (kept structural to avoid an import cycle). */
export interface PairingClient {
  pair(scopes: readonly Scope[]): Promise<PairResult>;
  info(): Promise<AgentInfo>;
}

/** Without a readable expiry, the agent's pending requests are assumed to last this long. */
const FALLBACK_VALIDITY_MS = 5 * 60 * 1000;

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function pairAndWait(client: PairingClient, scopes: readonly Scope[], options: PairAndWaitOptions): Promise<AgentInfo> {
  const pollIntervalMs = options.pollIntervalMs ?? 1500;
  const pairing = await client.pair(scopes);
  const expiry = Date.parse(pairing.expiresAt);
  const deadline = Number.isFinite(expiry) ? expiry : Date.now() + FALLBACK_VALIDITY_MS;
  options.onCode(pairing.code, pairing);
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason;
    try {
      const info = await client.info();
      if (info.caller === 'origin') return info;
    } catch (error) {
      // The agent restarting meanwhile is not a refusal: keep polling until the code expires.
      if (!(error instanceof ConnectionLostError)) throw error;
    }
    if (Date.now() >= deadline) {
      throw new TimeoutError('pairing not approved before the code expired', {
        data: { source: 'client', method: 'agent.pair', expiresAt: pairing.expiresAt },
      });
    }
    await sleep(Math.min(pollIntervalMs, Math.max(0, deadline - Date.now())), options.signal);
  }
}
