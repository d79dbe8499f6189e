// Constant-time comparison of secrets (local token, console key, CSRF tokens): both sides are
// hashed first, so neither the content nor the length of the expected value leaks through timing.
import { createHash, timingSafeEqual } from 'node:crypto';

export function secretEquals(candidate: string, expected: string): boolean {
  const a = createHash('sha256').update(candidate, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
