// Failed portal logins and activations limited per INS and per client address (dmp-service.md,
// "Patient portal"), in the store's `rate_limits` table so that every service node counts the same
// failures. A sliding window of one-minute slots: a bucket holds (slot start, count) rows and its
// count is the sum of the slots younger than the window.
//
// An attempt first *reserves* one failure in each of its buckets (an atomic increment), then looks
// at the sums: over the limit, it gives its reservations back and is refused (429, Retry-After)
// before any credential is checked — so the right code is refused too, and concurrent attempts on
// several nodes cannot all slip under the limit. A failed attempt keeps its reservations; a
// successful one gives them back. Must run outside the request's transaction (a rollback would
// erase the failure it counts).
import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { DmpError } from '../errors.js';
import type { PortalRepository } from '../store/index.js';

export interface RateLimitRule {
  /** Failures allowed in the window; the next attempt is refused. */
  readonly limit: number;
  readonly windowMs: number;
}

export const SLOT_MS = 60_000;
export const FAILURE_WINDOW_MS = 15 * 60_000;
/** Per INS: a patient's code cannot be guessed. */
export const FAILURES_PER_INS: RateLimitRule = { limit: 5, windowMs: FAILURE_WINDOW_MS };
/** Per client address: one address cannot try codes across many INS (higher: a NAT or a hospital shares one). */
export const FAILURES_PER_ADDRESS: RateLimitRule = { limit: 20, windowMs: FAILURE_WINDOW_MS };

/** `otp-send` counts the one-time passwords sent (every send, not failures). */
export type RateLimitScope = 'login' | 'activation' | 'otp-send';

export interface LimitedKey {
  readonly bucket: string;
  readonly rule: RateLimitRule;
}

/** The INS is not written in clear in the counters: a domain-separated SHA-256 of `<oid>:<value>`. */
export function insBucket(scope: RateLimitScope, insPath: string): string {
  return `portal-${scope}:ins:${createHash('sha256').update(`cardbridge-portal-ins:${insPath}`, 'utf8').digest('base64url')}`;
}

/** IPv4 as is (IPv4-mapped IPv6 included); IPv6 by its /64, what one subscriber usually holds. */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1] && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return ip.slice(0, 64);
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = ip.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export function addressBucket(scope: RateLimitScope, ip: string): string {
  return `portal-${scope}:ip:${addressKey(ip)}`;
}

export function limitedKeys(scope: RateLimitScope, insPath: string, ip: string): LimitedKey[] {
  return [
    { bucket: insBucket(scope, insPath), rule: FAILURES_PER_INS },
    { bucket: addressBucket(scope, ip), rule: FAILURES_PER_ADDRESS },
  ];
}

/** When the oldest counted failures will have left the window enough for one more attempt. */
export function retryAfterMs(slots: readonly { windowStart: number; count: number }[], rule: RateLimitRule, now: number): number {
  let remaining = slots.reduce((sum, slot) => sum + slot.count, 0);
  let at = now;
  for (const slot of slots) {
    if (remaining < rule.limit) break;
    remaining -= slot.count;
    at = slot.windowStart + rule.windowMs;
  }
  return Math.max(1000, at - now);
}

export interface Reservation {
  /** The attempt succeeded: its reserved failures are given back. */
  release(): Promise<void>;
}

/** Reserves one failure in each bucket, or throws 429 TOO_MANY_ATTEMPTS (with Retry-After) when one is full. */
export async function reserveAttempt(repo: PortalRepository, keys: readonly LimitedKey[], now: number): Promise<Reservation> {
  const slot = Math.floor(now / SLOT_MS) * SLOT_MS;
  for (const key of keys) await repo.addRateLimitHits(key.bucket, slot, 1);
  const giveBack = async (): Promise<void> => {
    for (const key of keys) await repo.addRateLimitHits(key.bucket, slot, -1);
  };
  let waitMs = 0;
  for (const key of keys) {
    const slots = await repo.rateLimitSlots(key.bucket, now - key.rule.windowMs);
    const total = slots.reduce((sum, s) => sum + s.count, 0);
    if (total > key.rule.limit) {
      const withoutThisAttempt = slots.map((s) => (s.windowStart === slot ? { ...s, count: s.count - 1 } : s));
      waitMs = Math.max(waitMs, retryAfterMs(withoutThisAttempt, key.rule, now));
    }
  }
  if (waitMs > 0) {
    await giveBack();
    const seconds = Math.ceil(waitMs / 1000);
    throw new DmpError('TOO_MANY_ATTEMPTS', `trop de tentatives infructueuses ; réessayez dans ${Math.ceil(seconds / 60)} minute(s)`, {
      headers: { 'Retry-After': String(seconds) },
      extensions: { retryAfter: seconds },
    });
  }
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await giveBack();
    },
  };
}
