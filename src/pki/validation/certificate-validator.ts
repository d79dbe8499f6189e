// Validation of a practitioner's or an establishment's certificate for the DMP service
// (dmp-service.md, login step 3 and document signatures): chain up to a configured trust anchor,
// validity dates of every certificate, key usage / EKU and issuing CA per purpose, revocation of
// the end-entity certificate against a current CRL of its issuer (no current CRL = refusal, never
// a pass) and of the intermediates whenever their CRL can be had.
//
// Results are cached per certificate fingerprint until the CRLs they relied on change or reach
// their nextUpdate (P4: a login must not redo RSA verifications and CRL look-ups every time).
// validate() never throws: every outcome is a typed result.
import * as pkijs from 'pkijs';
import { pkiCryptoEngine } from '../crypto-engine.js';
import { checkCrlForIssuer } from './crl.js';
import { DEFAULT_CRL_CLOCK_SKEW_MS, type CrlSource } from './crl-source.js';
import { isValidationPurpose, issuerMatchesPurposeByName, purposeViolation, type ValidationPurpose } from './purposes.js';
import {
  ACCEPTED_SIGNATURE_ALGORITHMS,
  basicConstraintsOf,
  parseCertificate,
  serialHexOf,
  sha256Hex,
  unknownCriticalExtension,
  type ParsedCertificate,
} from './x509.js';

export type { ValidationPurpose } from './purposes.js';

export type ValidationFailureCode = 'CERTIFICATE_INVALID' | 'CERTIFICATE_REVOKED' | 'REVOCATION_UNKNOWN';

export type ValidationResult =
  | {
      ok: true;
      /** DER, end-entity certificate first, trust anchor last. */
      chain: Uint8Array[];
      /** Lower-case hex SHA-256 of the end-entity certificate. */
      fingerprint: string;
      /** The end-entity certificate's notAfter. */
      notAfter: Date;
    }
  | { ok: false; code: ValidationFailureCode; reason: string };

export interface CertificateValidatorOptions {
  /** DER of the trusted CA certificates (the IGC-Santé root, or test intermediates). */
  trustAnchors: Uint8Array[];
  /** DER of CA certificates that may complete a chain (not trusted by themselves). */
  intermediates?: Uint8Array[];
  crls: CrlSource;
  clock?: () => Date;
  /**
   * For each purpose, the CA certificates (DER) allowed to issue its end-entity certificates. A
   * purpose left out uses the IGC-Santé naming rule (see purposes.ts).
   */
  issuersByPurpose?: Partial<Record<ValidationPurpose, Uint8Array[]>>;
  /** A CRL may be dated this far in the future (CA clock ahead). Default 5 minutes. */
  crlClockSkewMs?: number;
  /** Most results kept in the cache (oldest dropped first). Default 10,000. */
  maxCacheEntries?: number;
}

export interface ValidatorCacheStats {
  hits: number;
  misses: number;
  entries: number;
}

/** One CRL a cached result relied on: which pair was checked, and what CRL the source gave. */
interface CrlDependency {
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  /** Digest of the CRL used, or null when none was available (allowed for intermediates only). */
  readonly digest: string | null;
}

interface CacheEntry {
  readonly result: ValidationResult;
  readonly expiresAt: number;
  readonly dependencies: readonly CrlDependency[];
}

type RevocationStatus =
  | { kind: 'good'; digest: string; nextUpdate: number }
  | { kind: 'revoked'; digest: string; nextUpdate: number; revokedAt: Date }
  | { kind: 'unknown'; reason: string };

const invalid = (reason: string): ValidationResult => ({ ok: false, code: 'CERTIFICATE_INVALID', reason });

/**
 * Most certificates a client may add to help build the chain: path building tries candidate
 * issuers with signature checks, so an unbounded list would be a cheap way to burn CPU.
 */
export const MAX_EXTRA_CHAIN = 8;

/** Callers get their own copy: a caller changing its result must not change the cache. */
function copyResult(result: ValidationResult): ValidationResult {
  return result.ok ? { ...result, chain: result.chain.map((c) => new Uint8Array(c)), notAfter: new Date(result.notAfter) } : { ...result };
}

function checkTime(certificate: pkijs.Certificate, now: Date, label: string): string | undefined {
  const notBefore = certificate.notBefore.value;
  const notAfter = certificate.notAfter.value;
  if (now.getTime() < notBefore.getTime()) return `${label} not valid before ${notBefore.toISOString()}`;
  if (now.getTime() > notAfter.getTime()) return `${label} expired on ${notAfter.toISOString()}`;
  return undefined;
}

export class CertificateValidator {
  private readonly anchors: readonly ParsedCertificate[];
  private readonly intermediates: readonly ParsedCertificate[];
  private readonly crls: CrlSource;
  private readonly clock: () => Date;
  private readonly crlClockSkewMs: number;
  private readonly maxCacheEntries: number;
  private readonly issuersByPurpose: Partial<Record<ValidationPurpose, ReadonlySet<string>>>;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<ValidationResult>>();
  private hits = 0;
  private misses = 0;

  /** Throws on a configuration error (no anchor, a CA certificate that does not parse). */
  constructor(options: CertificateValidatorOptions) {
    if (!options || !Array.isArray(options.trustAnchors) || options.trustAnchors.length === 0) {
      throw new TypeError('CertificateValidator needs at least one trust anchor');
    }
    if (!options.crls || typeof options.crls.currentCrl !== 'function') throw new TypeError('CertificateValidator needs a CRL source');
    this.anchors = options.trustAnchors.map((der) => parseCertificate(der));
    const anchorPrints = new Set(this.anchors.map((a) => a.fingerprint));
    this.intermediates = (options.intermediates ?? []).map((der) => parseCertificate(der)).filter((c) => !anchorPrints.has(c.fingerprint));
    this.crls = options.crls;
    this.clock = options.clock ?? (() => new Date());
    this.crlClockSkewMs = options.crlClockSkewMs ?? DEFAULT_CRL_CLOCK_SKEW_MS;
    this.maxCacheEntries = options.maxCacheEntries ?? 10_000;
    this.issuersByPurpose = {};
    for (const [purpose, issuers] of Object.entries(options.issuersByPurpose ?? {}) as [ValidationPurpose, Uint8Array[]][]) {
      this.issuersByPurpose[purpose] = new Set(issuers.map((der) => parseCertificate(der).fingerprint));
    }
  }

  cacheStats(): ValidatorCacheStats {
    return { hits: this.hits, misses: this.misses, entries: this.cache.size };
  }

  clearCache(): void {
    this.cache.clear();
  }

  async validate(leaf: Uint8Array, purpose: ValidationPurpose, extraChain: Uint8Array[] = []): Promise<ValidationResult> {
    try {
      if (!isValidationPurpose(purpose)) return invalid(`unknown purpose ${String(purpose)}`);
      if (!(leaf instanceof Uint8Array)) return invalid('certificate: bytes expected');
      const extras = Array.isArray(extraChain) ? extraChain.filter((c): c is Uint8Array => c instanceof Uint8Array) : [];
      if (extras.length > MAX_EXTRA_CHAIN) return invalid(`more than ${MAX_EXTRA_CHAIN} extra chain certificates`);
      const fingerprint = sha256Hex(leaf);
      const cacheKey = `${fingerprint} ${purpose}`;

      const cached = await this.cachedResult(cacheKey);
      if (cached) {
        this.hits++;
        return copyResult(cached);
      }
      this.misses++;
      // Concurrent logins with one card share one validation.
      const flightKey = `${cacheKey} ${extras.map((c) => sha256Hex(c)).join(',')}`;
      const running = this.inFlight.get(flightKey);
      if (running) return copyResult(await running);
      const attempt = this.validateAndCache(leaf, purpose, extras, cacheKey).finally(() => this.inFlight.delete(flightKey));
      this.inFlight.set(flightKey, attempt);
      return copyResult(await attempt);
    } catch (error) {
      // Fail closed on anything unforeseen.
      return invalid(`validation failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  /** A cached result, if every CRL it relied on is still the source's current one. */
  private async cachedResult(cacheKey: string): Promise<ValidationResult | undefined> {
    const entry = this.cache.get(cacheKey);
    if (!entry) return undefined;
    if (this.clock().getTime() >= entry.expiresAt) {
      this.cache.delete(cacheKey);
      return undefined;
    }
    for (const dependency of entry.dependencies) {
      let current: Uint8Array | undefined;
      try {
        current = await this.crls.currentCrl(dependency.issuer, dependency.subject);
      } catch {
        current = undefined;
      }
      const digest = current === undefined ? null : digestOf(current);
      if (digest !== dependency.digest) {
        this.cache.delete(cacheKey);
        return undefined;
      }
    }
    return entry.result;
  }

  private async validateAndCache(leafDer: Uint8Array, purpose: ValidationPurpose, extras: Uint8Array[], cacheKey: string): Promise<ValidationResult> {
    const outcome = await this.validateUncached(leafDer, purpose, extras);
    if (outcome.cacheable) {
      if (this.cache.size >= this.maxCacheEntries) {
        const oldest = this.cache.keys().next();
        if (!oldest.done) this.cache.delete(oldest.value);
      }
      this.cache.set(cacheKey, { result: outcome.result, expiresAt: outcome.expiresAt, dependencies: outcome.dependencies });
    }
    return outcome.result;
  }

  private async validateUncached(
    leafDer: Uint8Array,
    purpose: ValidationPurpose,
    extras: Uint8Array[],
  ): Promise<
    | { result: ValidationResult; cacheable: false }
    | { result: ValidationResult; cacheable: true; expiresAt: number; dependencies: CrlDependency[] }
  > {
    const now = this.clock();
    const fail = (result: ValidationResult) => ({ result, cacheable: false as const });

    let leaf: ParsedCertificate;
    try {
      leaf = parseCertificate(leafDer);
    } catch (error) {
      return fail(invalid((error as Error).message));
    }

    // End-entity checks first: they are cheap and give the clearest reasons.
    if (basicConstraintsOf(leaf.certificate)?.ca === true) return fail(invalid('a CA certificate cannot be used as an end-entity certificate'));
    const leafTime = checkTime(leaf.certificate, now, 'certificate');
    if (leafTime) return fail(invalid(leafTime));
    const violation = purposeViolation(leaf.certificate, purpose);
    if (violation) return fail(invalid(violation));

    // Path building and signatures (pkijs). pkijs validates the LAST certificate of
    // trustedCerts + certs, so the leaf goes last; copies of the leaf are kept out of the
    // candidates so that pkijs's de-duplication cannot make it validate another certificate.
    const candidates: ParsedCertificate[] = [...this.intermediates];
    for (const der of extras) {
      try {
        const parsed = parseCertificate(der);
        if (parsed.fingerprint !== leaf.fingerprint && !candidates.some((c) => c.fingerprint === parsed.fingerprint)) candidates.push(parsed);
      } catch {
        // an unparseable extra certificate is simply not a candidate
      }
    }
    const candidatesWithoutLeaf = candidates.filter((c) => c.fingerprint !== leaf.fingerprint && !this.anchors.some((a) => a.fingerprint === c.fingerprint));
    const byObject = new Map<pkijs.Certificate, ParsedCertificate>();
    for (const c of [...this.anchors, ...candidatesWithoutLeaf, leaf]) byObject.set(c.certificate, c);
    const engine = new pkijs.CertificateChainValidationEngine({
      trustedCerts: this.anchors.map((a) => a.certificate),
      certs: [...candidatesWithoutLeaf.map((c) => c.certificate), leaf.certificate],
      checkDate: now,
    });
    const built = await engine.verify({}, pkiCryptoEngine);
    if (!built.result || !built.certificatePath) return fail(invalid(`no trusted chain: ${built.resultMessage || 'path validation failed'}`));
    const path = built.certificatePath.map((c) => byObject.get(c));
    if (path.some((c) => c === undefined)) return fail(invalid('chain holds an unknown certificate'));
    const chain = path as ParsedCertificate[];
    if (chain[0] !== leaf || chain.length < 2) return fail(invalid('chain does not start with the certificate'));
    const anchor = chain[chain.length - 1] as ParsedCertificate;
    if (!this.anchors.includes(anchor)) return fail(invalid('chain does not end at a trust anchor'));

    // Our own checks on the whole path, beyond what pkijs does.
    const pathProblem = this.pathProblem(chain, now);
    if (pathProblem) return fail(invalid(pathProblem));
    const issuer = chain[1] as ParsedCertificate;
    if (!this.issuerAllowed(issuer, purpose)) {
      return fail(invalid(`certificates for ${purpose} are not issued by this CA`));
    }

    // Revocation: required for the end-entity certificate, checked for intermediates when their
    // CRL is available. Only after the chain holds do we ask sources, so a distribution point
    // URL is only ever followed when a trusted CA wrote it.
    const dependencies: CrlDependency[] = [];
    let expiresAt = Math.min(...chain.map((c) => c.certificate.notAfter.value.getTime()));
    for (let i = 0; i < chain.length - 1; i++) {
      const subject = chain[i] as ParsedCertificate;
      const subjectIssuer = chain[i + 1] as ParsedCertificate;
      const status = await this.revocationStatus(subject, subjectIssuer, now);
      const label = i === 0 ? 'certificate' : `CA certificate "${subjectLabel(subject)}"`;
      if (status.kind === 'unknown') {
        if (i === 0) {
          return fail({ ok: false, code: 'REVOCATION_UNKNOWN', reason: `no usable current CRL for the ${label}: ${status.reason}` });
        }
        dependencies.push({ issuer: subjectIssuer.der, subject: subject.der, digest: null });
        continue;
      }
      dependencies.push({ issuer: subjectIssuer.der, subject: subject.der, digest: status.digest });
      expiresAt = Math.min(expiresAt, status.nextUpdate);
      if (status.kind === 'revoked') {
        const result: ValidationResult = {
          ok: false,
          code: 'CERTIFICATE_REVOKED',
          reason: `${label} revoked on ${status.revokedAt.toISOString()}`,
        };
        // A revocation stands until the CRL changes; cache it like a success.
        return { result, cacheable: true, expiresAt, dependencies };
      }
    }

    const result: ValidationResult = {
      ok: true,
      chain: chain.map((c) => new Uint8Array(c.der)),
      fingerprint: leaf.fingerprint,
      notAfter: leaf.certificate.notAfter.value,
    };
    return { result, cacheable: true, expiresAt, dependencies };
  }

  /** RFC 5280 checks pkijs leaves out: dates of every CA, critical extensions, algorithms, pathLen. */
  private pathProblem(chain: readonly ParsedCertificate[], now: Date): string | undefined {
    for (const [index, item] of chain.entries()) {
      const certificate = item.certificate;
      const label = index === 0 ? 'certificate' : `CA certificate "${subjectLabel(item)}"`;
      const time = checkTime(certificate, now, label);
      if (time) return time;
      const isAnchor = index === chain.length - 1;
      const critical = unknownCriticalExtension(certificate);
      if (critical) return `${label} has an unsupported critical extension ${critical}`;
      // The anchor's own self-signature is not relied on (it is trusted as configured).
      if (!isAnchor && !ACCEPTED_SIGNATURE_ALGORITHMS.has(certificate.signatureAlgorithm.algorithmId)) {
        return `${label} is signed with an unaccepted algorithm ${certificate.signatureAlgorithm.algorithmId}`;
      }
      if (index > 0) {
        const constraints = basicConstraintsOf(certificate);
        if (constraints?.ca !== true) return `${label} is not a CA`;
        // Intermediate CA certificates between this CA and the end entity: index - 1.
        if (constraints.pathLength !== undefined && index - 1 > constraints.pathLength) {
          return `${label} allows ${constraints.pathLength} intermediate CA(s) below it, the chain has ${index - 1}`;
        }
      }
    }
    return undefined;
  }

  private issuerAllowed(issuer: ParsedCertificate, purpose: ValidationPurpose): boolean {
    const configured = this.issuersByPurpose[purpose];
    if (configured) return configured.has(issuer.fingerprint);
    return issuerMatchesPurposeByName(issuer.certificate, purpose);
  }

  private async revocationStatus(subject: ParsedCertificate, issuer: ParsedCertificate, now: Date): Promise<RevocationStatus> {
    let der: Uint8Array | undefined;
    try {
      der = await this.crls.currentCrl(issuer.der, subject.der);
    } catch (error) {
      return { kind: 'unknown', reason: `CRL source failed: ${(error as Error)?.message ?? String(error)}` };
    }
    if (!(der instanceof Uint8Array)) return { kind: 'unknown', reason: 'no CRL available' };
    const check = await checkCrlForIssuer(der, issuer, now, this.crlClockSkewMs);
    if (!check.ok) return { kind: 'unknown', reason: check.reason };
    const nextUpdate = (check.crl.nextUpdate as Date).getTime(); // a current CRL has one
    const revokedAt = check.crl.revoked.get(serialHexOf(subject.certificate));
    if (revokedAt) return { kind: 'revoked', digest: check.crl.digest, nextUpdate, revokedAt };
    return { kind: 'good', digest: check.crl.digest, nextUpdate };
  }
}

/** Digest of a CRL's bytes (parse-cache backed; falls back to hashing what cannot be parsed). */
function digestOf(der: Uint8Array): string {
  return digestCache.get(der) ?? remember(der);
}

const digestCache = new WeakMap<Uint8Array, string>();
function remember(der: Uint8Array): string {
  const digest = sha256Hex(der);
  digestCache.set(der, digest);
  return digest;
}

function subjectLabel(certificate: ParsedCertificate): string {
  const cn = certificate.certificate.subject.typesAndValues.find((tv) => tv.type === '2.5.4.3');
  const value = (cn?.value as { valueBlock?: { value?: unknown } } | undefined)?.valueBlock?.value;
  return typeof value === 'string' ? value : certificate.fingerprint.slice(0, 16);
}
