// CRLs as the validator uses them: parsed once per byte array (a real IGC-Santé CRL can hold tens
// of thousands of entries), checked against the issuing CA certificate (name, signature, cRLSign,
// no critical extension we would have to honour and cannot), and "current" only between
// thisUpdate and nextUpdate. A CRL without nextUpdate is never current: nothing says until when
// it may be trusted.
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { pkiCryptoEngine } from '../crypto-engine.js';
import { normalizeSerialHex } from '../serial.js';
import {
  ACCEPTED_SIGNATURE_ALGORITHMS,
  keyUsagesOf,
  parseExactly,
  sha256Hex,
  type ParsedCertificate,
} from './x509.js';

/** CRLs larger than this are refused (the largest IGC-Santé CRLs are a few MB). */
export const MAX_CRL_BYTES = 32 * 1024 * 1024;

export interface ParsedCrl {
  readonly der: Uint8Array;
  readonly crl: pkijs.CertificateRevocationList;
  /** Lower-case hex SHA-256 of the DER: tells two CRLs apart in the validator's cache. */
  readonly digest: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** The cRLNumber extension (monotonically increasing per CA), when present. */
  readonly number: bigint | undefined;
  /** Revocation date by canonical serial hex. */
  readonly revoked: ReadonlyMap<string, Date>;
  /** Why the CRL cannot be used at all (critical extension, weak algorithm), if so. */
  readonly unusable: string | undefined;
}

export type CrlCheck = { ok: true; crl: ParsedCrl } | { ok: false; reason: string };

const ID_CRL_NUMBER = '2.5.29.20';
const ID_AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';

// Keyed by the byte array object: sources hand back the same array while a CRL is unchanged, so
// a validation after the first costs a map lookup instead of a parse and a signature check.
const parsedByBytes = new WeakMap<Uint8Array, ParsedCrl | Error>();
const signatureChecks = new WeakMap<ParsedCrl, Map<string, boolean>>();

function parseUncached(der: Uint8Array): ParsedCrl {
  if (der.byteLength === 0 || der.byteLength > MAX_CRL_BYTES) throw new Error(`CRL size ${der.byteLength} outside 1..${MAX_CRL_BYTES}`);
  const crl = parseExactly(der, 'CRL', (schema) => new pkijs.CertificateRevocationList({ schema }));
  const revoked = new Map<string, Date>();
  let unusable: string | undefined;
  for (const entry of crl.revokedCertificates ?? []) {
    const hex = Buffer.from(entry.userCertificate.valueBlock.valueHexView).toString('hex') || '00';
    revoked.set(normalizeSerialHex(hex), entry.revocationDate.value);
    // certificateIssuer (indirect CRL) and any other critical entry extension change what the
    // entry means; we do not implement them, so such a CRL is unusable rather than misread.
    if (entry.crlEntryExtensions?.extensions.some((e) => e.critical)) unusable = 'CRL entry with a critical extension';
  }
  for (const extension of crl.crlExtensions?.extensions ?? []) {
    // Only the CRL number and AKI are understood; issuingDistributionPoint (a partitioned CRL)
    // and deltaCRLIndicator are critical and would narrow what the CRL covers.
    if (extension.critical && extension.extnID !== ID_CRL_NUMBER && extension.extnID !== ID_AUTHORITY_KEY_IDENTIFIER) {
      unusable = `CRL has an unsupported critical extension ${extension.extnID}`;
    }
  }
  let number: bigint | undefined;
  const numberExtension = crl.crlExtensions?.extensions.find((e) => e.extnID === ID_CRL_NUMBER);
  if (numberExtension) {
    const value = parseExactly(numberExtension.extnValue.valueBlock.valueHexView, 'cRLNumber', (schema) => {
      if (!(schema instanceof asn1js.Integer)) throw new Error('INTEGER expected');
      return schema.valueBlock.valueHexView;
    });
    number = BigInt(`0x${Buffer.from(value).toString('hex') || '0'}`);
  }
  if (!ACCEPTED_SIGNATURE_ALGORITHMS.has(crl.signatureAlgorithm.algorithmId)) {
    unusable = `CRL signed with an unaccepted algorithm ${crl.signatureAlgorithm.algorithmId}`;
  }
  return {
    der,
    crl,
    digest: sha256Hex(der),
    thisUpdate: crl.thisUpdate.value,
    nextUpdate: crl.nextUpdate?.value,
    number,
    revoked,
    unusable,
  };
}

/**
 * Parses a DER CRL (cached per byte array; callers must not modify the array afterwards).
 * Throws on malformed input.
 */
export function parseCrl(der: Uint8Array): ParsedCrl {
  const cached = parsedByBytes.get(der);
  if (cached instanceof Error) throw cached;
  if (cached) return cached;
  try {
    const parsed = parseUncached(der);
    parsedByBytes.set(der, parsed);
    return parsed;
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    parsedByBytes.set(der, failure);
    throw failure;
  }
}

/** Whether the CRL is current at `now`: thisUpdate not later than now + skew, now before nextUpdate. */
export function crlCurrency(crl: ParsedCrl, now: Date, clockSkewMs: number): { current: true } | { current: false; reason: string } {
  if (crl.nextUpdate === undefined) return { current: false, reason: 'CRL has no nextUpdate' };
  if (crl.thisUpdate.getTime() > now.getTime() + clockSkewMs) {
    return { current: false, reason: `CRL thisUpdate ${crl.thisUpdate.toISOString()} is in the future` };
  }
  if (now.getTime() >= crl.nextUpdate.getTime()) {
    return { current: false, reason: `CRL expired at ${crl.nextUpdate.toISOString()} (nextUpdate)` };
  }
  return { current: true };
}

/** Signature of the CRL by the issuer's key, remembered per CRL and issuer. */
async function signedBy(crl: ParsedCrl, issuer: ParsedCertificate): Promise<boolean> {
  let checks = signatureChecks.get(crl);
  if (!checks) signatureChecks.set(crl, (checks = new Map()));
  const known = checks.get(issuer.fingerprint);
  if (known !== undefined) return known;
  let verified: boolean;
  try {
    verified = await crl.crl.verify({ issuerCertificate: issuer.certificate }, pkiCryptoEngine);
  } catch {
    verified = false;
  }
  checks.set(issuer.fingerprint, verified);
  return verified;
}

/**
 * Everything that makes a CRL usable for certificates of `issuer` at `now`: parseable, issued
 * under the issuer's name, signed by its key, the issuer allowed to sign CRLs, no unsupported
 * critical extension, current.
 */
export async function checkCrlForIssuer(der: Uint8Array, issuer: ParsedCertificate, now: Date, clockSkewMs: number): Promise<CrlCheck> {
  let crl: ParsedCrl;
  try {
    crl = parseCrl(der);
  } catch (error) {
    return { ok: false, reason: `malformed CRL: ${(error as Error).message}` };
  }
  if (crl.unusable) return { ok: false, reason: crl.unusable };
  if (!crl.crl.issuer.isEqual(issuer.certificate.subject)) return { ok: false, reason: 'CRL issuer name is not the CA subject' };
  let usages;
  try {
    usages = keyUsagesOf(issuer.certificate);
  } catch (error) {
    return { ok: false, reason: `CA keyUsage unreadable: ${(error as Error).message}` };
  }
  if (usages && !usages.has('cRLSign')) return { ok: false, reason: 'CA certificate lacks the cRLSign key usage' };
  if (!(await signedBy(crl, issuer))) return { ok: false, reason: 'CRL signature does not verify with the CA key' };
  const currency = crlCurrency(crl, now, clockSkewMs);
  if (!currency.current) return { ok: false, reason: currency.reason };
  return { ok: true, crl };
}

/** Splits PEM text into the DER of each `X509 CRL` block (a file may hold several). */
export function crlsFromPem(text: string): Uint8Array[] {
  const blocks = text.matchAll(/-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]*)-----END X509 CRL-----/g);
  return [...blocks].map((match) => new Uint8Array(Buffer.from((match[1] ?? '').replace(/\s+/g, ''), 'base64')));
}

/** DER as given (a DER CRL starts with a SEQUENCE tag), or the CRLs of PEM text. */
export function crlsFromFileBytes(bytes: Uint8Array): Uint8Array[] {
  if (bytes[0] === 0x30) return [new Uint8Array(bytes)];
  return crlsFromPem(Buffer.from(bytes).toString('latin1'));
}

/**
 * Whether `a` supersedes `b` (both of one CA): later thisUpdate, or the same second and a higher
 * CRL number (a CA may issue two CRLs within one second, e.g. two revocations in a row).
 */
export function isNewerCrl(a: ParsedCrl, b: ParsedCrl): boolean {
  const at = a.thisUpdate.getTime();
  const bt = b.thisUpdate.getTime();
  if (at !== bt) return at > bt;
  return a.number !== undefined && b.number !== undefined && a.number > b.number;
}
