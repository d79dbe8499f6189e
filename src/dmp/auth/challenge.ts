// `POST /v1/auth/challenge`: 32 random bytes in base64 with padding (44 characters), single use,
// 5 minutes, bound to the DPoP key that asked for it and stored (shared by all nodes). A new
// challenge burns the key's earlier unused ones: a key has at most one live challenge, which is
// how login finds it (the token does not repeat the challenge).
import { randomBytes } from 'node:crypto';
import type { DmpContext } from '../http/context.js';

export const CHALLENGE_BYTES = 32;
export const CHALLENGE_LIFETIME_MS = 5 * 60 * 1000;

export async function issueChallenge(ctx: DmpContext, keyThumbprint: string): Promise<{ challenge: string; expiresAt: Date }> {
  const challenge = randomBytes(CHALLENGE_BYTES).toString('base64');
  const createdAt = ctx.clock().getTime();
  const expiresAt = createdAt + CHALLENGE_LIFETIME_MS;
  await ctx.store.insertChallenge({ challenge, keyThumbprint, createdAt, expiresAt, usedAt: null });
  return { challenge, expiresAt: new Date(expiresAt) };
}
