// The card methods' params, checked with zod before anything else happens (INVALID_PARAMS). Error
// details name the offending fields and zod's issue codes only: never a value (a PIN could be one).
import { z } from 'zod';
import { AgentError } from '../errors.js';

/** Base64 with padding (RFC 4648 §4), nothing else: no URL alphabet, no whitespace. */
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const reader = z.string().min(1).max(256);
/** A PIN or PUK value (desktop callers only); its digits and length are the card's to check. */
const secret = z.string().max(64);
const base64 = (max: number) => z.string().min(1).max(max).regex(BASE64);

const withReader = { reader: reader.optional() };
/** Any method that needs the PIN: desktop callers may pass it (agent-protocol.md "PIN rules"). */
const withPin = { pin: secret.optional(), confirmLastTry: z.boolean().optional() };

export const PARAMS = {
  'readers.list': z.object({}).strict(),
  'cps.getIdentity': z.object(withReader).strict(),
  'cps.getCertificates': z.object(withReader).strict(),
  'cps.getActivities': z.object({ ...withReader, ...withPin }).strict(),
  'cps.pinStatus': z.object(withReader).strict(),
  'cps.verifyPin': z.object({ ...withReader, method: z.enum(['page', 'pinpad', 'value']).optional(), pin: secret.optional(), confirmLastTry: z.boolean().optional() }).strict(),
  'cps.changePin': z
    .object({ ...withReader, method: z.enum(['page', 'pinpad', 'value']).optional(), pin: secret.optional(), newPin: secret.optional(), confirmLastTry: z.boolean().optional() })
    .strict(),
  'cps.unblockPin': z.object({ ...withReader, method: z.enum(['page', 'pinpad', 'value']).optional(), puk: secret.optional(), newPin: secret.optional() }).strict(),
  'cps.logout': z.object(withReader).strict(),
  // 44–128 characters of padded base64 (the DMP sends 32 bytes); CpsSession checks it again.
  'cps.authenticate': z.object({ ...withReader, ...withPin, challenge: z.string().min(44).max(128).regex(BASE64) }).strict(),
  'cps.sign': z
    .object({ ...withReader, ...withPin, hash: base64(4096), hashAlgorithm: z.string().min(1).max(32), padding: z.enum(['PKCS1', 'PSS']).optional() })
    .strict(),
  // A 4096-bit cryptogram is 684 characters; leave room for larger keys, not for floods.
  'cps.decrypt': z.object({ ...withReader, ...withPin, ciphertext: base64(4096) }).strict(),
  'vitale.read': z.object(withReader).strict(),
} as const;

export type CardMethod = keyof typeof PARAMS;
export type ParamsOf<M extends CardMethod> = z.infer<(typeof PARAMS)[M]>;

export function isCardMethod(method: string): method is CardMethod {
  return Object.hasOwn(PARAMS, method);
}

/**
 * The method's params, validated. Absent params (undefined, null) are `{}`; positional params
 * (an array) are refused.
 * @throws AgentError INVALID_PARAMS with `issues: [{ path, code }]`.
 */
export function parseParams<M extends CardMethod>(method: M, params: unknown): ParamsOf<M> {
  const input = params === undefined || params === null ? {} : params;
  const result = PARAMS[method].safeParse(input);
  if (result.success) return result.data as ParamsOf<M>;
  const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), code: i.code }));
  throw new AgentError('INVALID_PARAMS', { issues });
}
