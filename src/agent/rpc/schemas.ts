// The params of every method (agent-protocol.md "Methods"), checked before anything runs. Objects
// are strict: a misspelt or unknown member is an INVALID_PARAMS naming it, not silently dropped.
// Desktop callers may add `pin` (and `confirmLastTry`) to the calls that need the PIN
// ("desktop callers get PIN_REQUIRED unless they pass pin"); browser callers never get that far.
import { z, type ZodError, type ZodIssue } from 'zod';
import { SCOPES } from '../caller.js';

export const AGENT_EVENTS = ['readers.changed', 'card.inserted', 'card.removed', 'pcsc.status'] as const;
export type AgentEventName = (typeof AGENT_EVENTS)[number];

const BASE64_PADDED = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Base64 with padding (RFC 4648 §4) whose decoded length is within bounds. */
function base64(minBytes: number, maxBytes: number) {
  return z.string().superRefine((value, ctx) => {
    if (value.length === 0 || value.length > Math.ceil(maxBytes / 3) * 4 + 4 || !BASE64_PADDED.test(value)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, params: { reason: 'NOT_BASE64' } });
      return;
    }
    const bytes = (value.length / 4) * 3 - (value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0);
    if (bytes < minBytes || bytes > maxBytes) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, params: { reason: 'WRONG_LENGTH', minBytes, maxBytes } });
    }
  });
}

const reader = z.string().min(1).max(256);
const secret = z.string().min(1).max(32);
const pinMethod = z.enum(['page', 'pinpad', 'value']);
const none = z.object({}).strict().optional();
const readerOnly = z.object({ reader: reader.optional() }).strict().optional();
const withDesktopPin = { pin: secret.optional(), confirmLastTry: z.boolean().optional() };

export const APP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const PAIRING_CODE = /^\d{6}$/;

export const PARAMS = {
  'agent.info': none,
  'agent.hello': z
    .object({
      token: z.string().min(1).max(256).optional(),
      appId: z.string().regex(APP_ID).optional(),
      lang: z.enum(['fr', 'en']).optional(),
    })
    .strict()
    .optional(),
  'agent.pair': z
    .object({ scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length).refine((s) => new Set(s).size === s.length, { params: { reason: 'DUPLICATE_SCOPE' } }) })
    .strict(),
  'agent.subscribe': z
    .object({ events: z.array(z.enum(AGENT_EVENTS)).max(AGENT_EVENTS.length).optional() })
    .strict()
    .optional(),
  'agent.approvePairing': z.object({ code: z.string().regex(PAIRING_CODE) }).strict(),
  'agent.denyPairing': z.object({ code: z.string().regex(PAIRING_CODE) }).strict(),
  'agent.listPairings': none,
  'agent.revokePairing': z.object({ origin: z.string().min(1).max(300) }).strict(),

  'readers.list': none,
  'cps.getIdentity': readerOnly,
  'cps.getCertificates': readerOnly,
  'cps.getActivities': z.object({ reader: reader.optional(), ...withDesktopPin }).strict().optional(),
  'cps.pinStatus': readerOnly,
  'cps.verifyPin': z
    .object({ reader: reader.optional(), method: pinMethod.optional(), pin: secret.optional(), confirmLastTry: z.boolean().optional() })
    .strict()
    .optional(),
  'cps.changePin': z
    .object({ reader: reader.optional(), method: pinMethod.optional(), pin: secret.optional(), newPin: secret.optional(), confirmLastTry: z.boolean().optional() })
    .strict()
    .optional(),
  'cps.unblockPin': z
    .object({ reader: reader.optional(), method: pinMethod.optional(), puk: secret.optional(), newPin: secret.optional() })
    .strict()
    .optional(),
  'cps.logout': readerOnly,
  'cps.authenticate': z
    .object({
      reader: reader.optional(),
      challenge: z.string().min(44).max(128).pipe(base64(1, 96)),
      ...withDesktopPin,
    })
    .strict(),
  'cps.sign': z
    .object({
      reader: reader.optional(),
      hash: base64(32, 32),
      hashAlgorithm: z.string().min(1).max(32),
      padding: z.enum(['PKCS1', 'PSS']).optional(),
      ...withDesktopPin,
    })
    .strict(),
  'cps.decrypt': z.object({ reader: reader.optional(), ciphertext: base64(64, 512), ...withDesktopPin }).strict(),
  'vitale.read': readerOnly,
} as const;

export type MethodName = keyof typeof PARAMS;

export interface IssueSummary {
  readonly path: string;
  readonly problem: string;
  readonly expected?: string;
  readonly options?: readonly string[];
  readonly keys?: readonly string[];
  readonly reason?: string;
  readonly minimum?: number;
  readonly maximum?: number;
}

/**
 * What INVALID_PARAMS says about a validation failure: where, and what kind of problem. Never the
 * received value and never zod's message (both may quote what was sent, e.g. a PIN).
 */
export function summariseIssues(error: ZodError): { path: string; issues: IssueSummary[] } {
  const issues = error.issues.slice(0, 10).map(summariseIssue);
  return { path: issues[0]?.path ?? '', issues };
}

function summariseIssue(issue: ZodIssue): IssueSummary {
  const path = issue.path.map(String).join('.');
  const base = { path, problem: issue.code };
  switch (issue.code) {
    case 'invalid_type':
      return { ...base, expected: String(issue.expected) };
    case 'invalid_enum_value':
      return { ...base, options: issue.options.map(String) };
    case 'unrecognized_keys':
      return { ...base, keys: issue.keys.slice(0, 5).map((k) => k.slice(0, 32)) };
    case 'too_small':
      return { ...base, minimum: Number(issue.minimum) };
    case 'too_big':
      return { ...base, maximum: Number(issue.maximum) };
    case 'custom': {
      const reason = (issue.params as { reason?: unknown } | undefined)?.reason;
      return typeof reason === 'string' ? { ...base, reason } : base;
    }
    default:
      return base;
  }
}
