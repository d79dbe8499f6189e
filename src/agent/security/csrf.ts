// CSRF tokens of the console forms: random, issued with each page, accepted once within 30 minutes.
import { randomBytes } from 'node:crypto';
import { secretEquals } from './secret-compare.js';

export class CsrfTokens {
  private readonly tokens = new Map<string, number>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = 30 * 60_000,
    private readonly max = 64,
  ) {}

  issue(): string {
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, this.now() + this.ttlMs);
    while (this.tokens.size > this.max) {
      const oldest = this.tokens.keys().next().value;
      if (oldest === undefined) break;
      this.tokens.delete(oldest);
    }
    return token;
  }

  /** True (and the token is spent) when `candidate` is a live token issued here. */
  consume(candidate: string): boolean {
    const now = this.now();
    let found: string | undefined;
    for (const [token, expires] of this.tokens) {
      if (expires <= now) this.tokens.delete(token);
      else if (secretEquals(candidate, token)) found = token;
    }
    if (found === undefined) return false;
    this.tokens.delete(found);
    return true;
  }
}
