// Delay before the next attempt after `failures` failed ones: doubling from `minMs`, capped at `maxMs`.
export function backoffDelay(failures: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(Math.max(failures, 0), 30));
}
