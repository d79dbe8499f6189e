// The phone number or e-mail address the patient gives at activation, where his one-time
// passwords are sent. Numbers are stored in E.164 (`+33612345678`; a French national number
// `06 12 34 56 78` is converted); addresses are kept exactly as typed once they pass a strict
// syntax check (RFC 5322 dot-atom local part, an ASCII or punycode domain with a dot).
import type { PortalContactKind } from '../store/index.js';

export interface Contact {
  readonly kind: PortalContactKind;
  readonly value: string;
}

const E164 = /^\+[1-9]\d{7,14}$/;
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN = /^(?=.{4,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,61}[A-Za-z0-9]$/;

/** The stored form of a contact, or undefined when it is not a phone number / an e-mail address. */
export function normalizeContact(kind: PortalContactKind, value: string): Contact | undefined {
  if (kind === 'sms') {
    const compact = value.replace(/[\s.()-]/g, '');
    const international = /^0[1-9]\d{8}$/.test(compact) ? `+33${compact.slice(1)}` : compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
    return E164.test(international) ? { kind, value: international } : undefined;
  }
  if (value.length > 254) return undefined;
  const at = value.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > 64 || !LOCAL_PART.test(local) || !DOMAIN.test(domain)) return undefined;
  return { kind, value };
}

/** What the portal shows of a contact (`+33•••••••78`, `j•••@exemple.fr`): enough to recognise it, not to reuse it. */
export function maskContact(kind: PortalContactKind, value: string): string {
  if (kind === 'sms') return `${value.slice(0, 3)}${'•'.repeat(Math.max(0, value.length - 5))}${value.slice(-2)}`;
  const at = value.lastIndexOf('@');
  return `${value.slice(0, 1)}•••${value.slice(at)}`;
}
