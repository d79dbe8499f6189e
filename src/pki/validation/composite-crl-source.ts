// Several CRL sources asked together (files given with --crl and the distribution points): the
// newest CRL that is current and verifies against the issuer wins, so a revocation published on
// one source is seen even when another still holds an older, still-current CRL, and a source
// serving junk cannot shadow a good one. A source that throws counts as having none.
import { checkCrlForIssuer, isNewerCrl, type ParsedCrl } from './crl.js';
import { DEFAULT_CRL_CLOCK_SKEW_MS, type CrlSource, type CrlSourceClockOptions } from './crl-source.js';
import { parseCertificateCached, type ParsedCertificate } from './x509.js';

export class CompositeCrlSource implements CrlSource {
  private readonly sources: readonly CrlSource[];
  private readonly clock: () => Date;
  private readonly clockSkewMs: number;

  constructor(sources: CrlSource[], options: CrlSourceClockOptions = {}) {
    if (!Array.isArray(sources) || sources.length === 0) throw new TypeError('CompositeCrlSource needs at least one source');
    this.sources = [...sources];
    this.clock = options.clock ?? (() => new Date());
    this.clockSkewMs = options.clockSkewMs ?? DEFAULT_CRL_CLOCK_SKEW_MS;
  }

  async currentCrl(issuer: Uint8Array, subject?: Uint8Array): Promise<Uint8Array | undefined> {
    let issuerCertificate: ParsedCertificate;
    try {
      issuerCertificate = parseCertificateCached(issuer);
    } catch {
      return undefined;
    }
    const answers = await Promise.all(
      this.sources.map(async (source) => {
        try {
          return await source.currentCrl(issuer, subject);
        } catch {
          return undefined;
        }
      }),
    );
    const now = this.clock();
    let best: ParsedCrl | undefined;
    for (const der of answers) {
      if (!(der instanceof Uint8Array)) continue;
      const check = await checkCrlForIssuer(der, issuerCertificate, now, this.clockSkewMs);
      if (!check.ok) continue;
      if (!best || isNewerCrl(check.crl, best)) best = check.crl;
    }
    return best?.der;
  }
}
