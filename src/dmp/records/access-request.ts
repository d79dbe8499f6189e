// The access mode a reading request asks for: `X-Access-Mode: normal | bris_de_glace | centre_15`
// (absent: normal) and, for break-glass, the free-text reason in `X-Access-Reason`. Header values
// are bytes: a client sends a reason outside ISO-8859-1 percent-encoded as UTF-8
// (encodeURIComponent), which is decoded here; a value that is not valid percent-encoding is kept
// as sent. Whether a reason is required is for the access decision to say.
import { DmpError } from '../errors.js';
import { ACCESS_MODES, type AccessMode, type AccessRequest } from './access-decision.js';

export const ACCESS_MODE_HEADER = 'x-access-mode';
export const ACCESS_REASON_HEADER = 'x-access-reason';
/** Longer reasons are cut (they go into traces and notifications). */
export const MAX_REASON_LENGTH = 500;

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function decodeReason(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export function accessRequestFromHeaders(headers: Record<string, string | string[] | undefined>): AccessRequest {
  const modeValue = single(headers[ACCESS_MODE_HEADER])?.trim();
  let mode: AccessMode = 'normal';
  if (modeValue !== undefined && modeValue !== '') {
    if (!(ACCESS_MODES as readonly string[]).includes(modeValue)) {
      throw new DmpError('ACCESS_MODE_INVALID', "X-Access-Mode : normal, bris_de_glace ou centre_15 attendu");
    }
    mode = modeValue as AccessMode;
  }
  const rawReason = single(headers[ACCESS_REASON_HEADER]);
  // control characters (other than the spaces they stand for) are not part of a reason
  const reason = rawReason === undefined ? '' : decodeReason(rawReason).replace(/[\p{Cc}\p{Cf}]+/gu, ' ').trim();
  return { mode, reason: reason === '' ? null : reason.slice(0, MAX_REASON_LENGTH) };
}
