// CRLs fetched from the distribution-point URLs written in the certificates. Plain http only:
// a CRL is signed by its CA, so transport security adds nothing to its integrity, and an https
// fetch would need a certificate validation of its own (RFC 5280 §4.2.1.13 uses http/ldap).
//
// Each CRL is cached until shortly before its nextUpdate; from then on a request still gets the
// cached CRL while one background fetch replaces it, so validations never wait for a refresh
// that can happen early. A CRL past its nextUpdate is dropped and never served. The URLs come
// from certificates that already chained up to a trust anchor (the validator asks for CRLs only
// then), which is what keeps this from being a way to make the service fetch arbitrary URLs.
import { checkCrlForIssuer, crlsFromFileBytes, isNewerCrl, MAX_CRL_BYTES, type ParsedCrl } from './crl.js';
import { DEFAULT_CRL_CLOCK_SKEW_MS, type CrlSource, type CrlSourceClockOptions } from './crl-source.js';
import { crlDistributionUrls, parseCertificateCached, type ParsedCertificate } from './x509.js';

export interface HttpCrlSourceOptions extends CrlSourceClockOptions {
  /** Whole fetch (connect + body) time limit. */
  fetchTimeoutMs: number;
  /**
   * Refresh this long before nextUpdate (capped at a quarter of the CRL's lifetime, so short-lived
   * CRLs are still used for most of their life). Default 5 minutes.
   */
  refreshMarginMs?: number;
  /** After a failed fetch, wait this long before trying the same URL again. Default 5 s. */
  failureBackoffMs?: number;
  /** Largest response accepted. Default MAX_CRL_BYTES. */
  maxCrlBytes?: number;
  /** The fetch implementation (tests); default the global fetch. */
  fetch?: typeof fetch;
}

export interface HttpCrlSourceStats {
  /** HTTP requests made. */
  fetches: number;
  /** Requests that gave no usable CRL (network error, HTTP error, bad or stale CRL). */
  failures: number;
}

interface CachedCrl {
  readonly der: Uint8Array;
  readonly crl: ParsedCrl;
  readonly thisUpdate: number;
  readonly nextUpdate: number;
  /** From this time on, a background fetch replaces the CRL. */
  readonly refreshAt: number;
}

export const DEFAULT_REFRESH_MARGIN_MS = 5 * 60 * 1000;
export const DEFAULT_FAILURE_BACKOFF_MS = 5_000;

class CrlFetchError extends Error {
  override readonly name = 'CrlFetchError';
}

/** Only absolute http URLs without credentials are followed. */
export function isFetchableCrlUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' && parsed.username === '' && parsed.password === '' && parsed.hostname !== '';
  } catch {
    return false;
  }
}

export class HttpCrlSource implements CrlSource {
  private readonly options: Required<Omit<HttpCrlSourceOptions, 'fetch' | 'clock'>>;
  private readonly fetchImpl: typeof fetch;
  private readonly clock: () => Date;
  private readonly cache = new Map<string, CachedCrl>();
  private readonly inFlight = new Map<string, Promise<CachedCrl | undefined>>();
  private readonly retryNotBefore = new Map<string, number>();
  private readonly counters: HttpCrlSourceStats = { fetches: 0, failures: 0 };

  constructor(options: HttpCrlSourceOptions) {
    if (!Number.isFinite(options.fetchTimeoutMs) || options.fetchTimeoutMs <= 0) {
      throw new RangeError('HttpCrlSource needs a positive fetchTimeoutMs');
    }
    this.options = {
      fetchTimeoutMs: options.fetchTimeoutMs,
      refreshMarginMs: options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS,
      failureBackoffMs: options.failureBackoffMs ?? DEFAULT_FAILURE_BACKOFF_MS,
      maxCrlBytes: options.maxCrlBytes ?? MAX_CRL_BYTES,
      clockSkewMs: options.clockSkewMs ?? DEFAULT_CRL_CLOCK_SKEW_MS,
    };
    this.fetchImpl = options.fetch ?? fetch;
    this.clock = options.clock ?? (() => new Date());
  }

  stats(): HttpCrlSourceStats {
    return { ...this.counters };
  }

  async currentCrl(issuer: Uint8Array, subject?: Uint8Array): Promise<Uint8Array | undefined> {
    if (subject === undefined) return undefined; // the URL is in the subject certificate
    let issuerCertificate: ParsedCertificate;
    let urls: string[];
    try {
      issuerCertificate = parseCertificateCached(issuer);
      urls = crlDistributionUrls(parseCertificateCached(subject).certificate).filter(isFetchableCrlUrl);
    } catch {
      return undefined;
    }
    for (const url of urls) {
      const der = await this.crlAt(url, issuerCertificate);
      if (der) return der;
    }
    return undefined;
  }

  private async crlAt(url: string, issuer: ParsedCertificate): Promise<Uint8Array | undefined> {
    const key = `${issuer.fingerprint} ${url}`;
    const now = this.clock().getTime();
    const cached = this.cache.get(key);
    if (cached && now < cached.nextUpdate) {
      if (now >= cached.refreshAt) void this.refresh(key, url, issuer);
      return cached.der;
    }
    if (cached) this.cache.delete(key); // past nextUpdate: never served again
    return (await this.refresh(key, url, issuer))?.der;
  }

  /** One fetch per URL and issuer at a time; callers arriving meanwhile share it. Never rejects. */
  private refresh(key: string, url: string, issuer: ParsedCertificate): Promise<CachedCrl | undefined> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const retryAt = this.retryNotBefore.get(key);
    if (retryAt !== undefined && this.clock().getTime() < retryAt) return Promise.resolve(this.usable(key));
    const attempt = this.fetchCrl(url, issuer)
      .then((fetched) => {
        this.retryNotBefore.delete(key);
        const previous = this.cache.get(key);
        // A lagging mirror may serve an older CRL than the one we hold: keep the newer.
        if (!previous || !isNewerCrl(previous.crl, fetched.crl)) this.cache.set(key, fetched);
        return this.usable(key);
      })
      .catch(() => {
        this.counters.failures++;
        this.retryNotBefore.set(key, this.clock().getTime() + this.options.failureBackoffMs);
        return this.usable(key);
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, attempt);
    return attempt;
  }

  /** The cached CRL when still before its nextUpdate. */
  private usable(key: string): CachedCrl | undefined {
    const cached = this.cache.get(key);
    return cached && this.clock().getTime() < cached.nextUpdate ? cached : undefined;
  }

  private async fetchCrl(url: string, issuer: ParsedCertificate): Promise<CachedCrl> {
    this.counters.fetches++;
    const response = await this.fetchImpl(url, {
      redirect: 'error', // a redirect could point anywhere; CRL URLs are published as they are
      signal: AbortSignal.timeout(this.options.fetchTimeoutMs),
      headers: { accept: 'application/pkix-crl' },
    });
    if (response.status !== 200) throw new CrlFetchError(`${url}: HTTP ${response.status}`);
    const body = await readLimited(response, this.options.maxCrlBytes);
    const now = this.clock();
    for (const der of crlsFromFileBytes(body)) {
      const check = await checkCrlForIssuer(der, issuer, now, this.options.clockSkewMs);
      if (!check.ok) continue;
      const thisUpdate = check.crl.thisUpdate.getTime();
      const nextUpdate = (check.crl.nextUpdate as Date).getTime(); // current => has nextUpdate
      const margin = Math.min(this.options.refreshMarginMs, (nextUpdate - thisUpdate) / 4);
      return { der, crl: check.crl, thisUpdate, nextUpdate, refreshAt: nextUpdate - margin };
    }
    throw new CrlFetchError(`${url}: no current CRL of the issuer in the response`);
  }
}

/** The response body, refusing more than `limit` bytes (announced or actual). */
async function readLimited(response: Response, limit: number): Promise<Uint8Array> {
  const announced = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(announced) && announced > limit) throw new CrlFetchError(`CRL response of ${announced} bytes exceeds ${limit}`);
  if (!response.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new CrlFetchError(`CRL response exceeds ${limit} bytes`);
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
