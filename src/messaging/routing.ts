// What the messaging service may know of a sealed message: who can open it (the recipient
// identifiers of the envelope, which the service maps to mailboxes through its directory) and how
// big it is. Read from the envelope's clear structure only: nothing here decrypts, so subject,
// body, attachments, sender and even the addressee list of the MIME header stay sealed.
import type * as pkijs from 'pkijs';
import { serialHex } from './certificates.js';
import { EnvelopeError, parseEnvelope } from './enveloped-data.js';
import { inputBytes, MessageError } from './errors.js';
import { MAX_ENVELOPE_BYTES } from './limits.js';

export type RoutingRecipient =
  /** `issuer`: the issuer's name (`C=FR, O=…, CN=…`, in certificate order); `serialNumber`: upper-case hex. */
  | { readonly issuer: string; readonly serialNumber: string }
  /** Lower-case hex of the subjectKeyIdentifier (envelopes written by other S/MIME clients). */
  | { readonly subjectKeyIdentifier: string };

export interface RoutingMetadata {
  /** Bytes of the DER envelope. */
  readonly size: number;
  readonly recipients: readonly RoutingRecipient[];
}

const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** RFC 4514 escaping of an attribute value. */
function escapeValue(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, (c) => `\\${c}`).replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}

export function formatName(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => {
      const label = SHORT_NAMES[tv.type] ?? tv.type;
      const value = (tv.value as { valueBlock?: { value?: unknown } }).valueBlock?.value;
      return `${label}=${typeof value === 'string' ? escapeValue(value) : `#${hex(new Uint8Array(tv.value.toBER(false)))}`}`;
    })
    .join(', ');
}

/**
 * @throws MessageError MALFORMED (not an envelope, or a recipient the service cannot route:
 *   key agreement, KEK or password recipients), MESSAGE_TOO_LARGE, INVALID_INPUT.
 */
export function routingMetadata(input: Uint8Array): RoutingMetadata {
  const envelopedDer = inputBytes(input, 'envelopedDer');
  if (envelopedDer.byteLength > MAX_ENVELOPE_BYTES) throw new MessageError('MESSAGE_TOO_LARGE', `the envelope is larger than ${MAX_ENVELOPE_BYTES} bytes`);
  let envelope;
  try {
    envelope = parseEnvelope(envelopedDer);
  } catch (error) {
    if (error instanceof EnvelopeError) throw new MessageError('MALFORMED', error.message, { cause: error });
    throw error;
  }
  if (envelope.otherRecipientInfos > 0) throw new MessageError('MALFORMED', 'the envelope has recipients that are not key transport recipients');
  return {
    size: envelopedDer.byteLength,
    recipients: envelope.recipients.map(({ id }) =>
      id.kind === 'issuerAndSerialNumber' ? { issuer: formatName(id.issuer), serialNumber: serialHex(id.serialNumber) } : { subjectKeyIdentifier: hex(id.keyIdentifier) },
    ),
  };
}
