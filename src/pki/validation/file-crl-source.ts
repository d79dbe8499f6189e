// CRLs from files (the DMP service's `--crl` option). Files are re-read when they change (size,
// mtime or inode differ), so an operator or a cron job can drop a new CRL in place without a
// restart. A file may hold one DER CRL or any number of PEM CRLs. A missing or unreadable file is
// skipped: the validator then finds no current CRL and refuses (REVOCATION_UNKNOWN), which is
// the safe outcome while a file is being replaced.
import { readFile, stat } from 'node:fs/promises';
import { checkCrlForIssuer, crlsFromFileBytes, isNewerCrl, type ParsedCrl } from './crl.js';
import { DEFAULT_CRL_CLOCK_SKEW_MS, type CrlSource, type CrlSourceClockOptions } from './crl-source.js';
import { parseCertificateCached } from './x509.js';

interface FileState {
  /** size:mtime:inode of the version read. */
  readonly stamp: string;
  readonly crls: readonly Uint8Array[];
}

export class FileCrlSource implements CrlSource {
  private readonly paths: readonly string[];
  private readonly clock: () => Date;
  private readonly clockSkewMs: number;
  private readonly files = new Map<string, FileState>();

  constructor(paths: string[], options: CrlSourceClockOptions = {}) {
    if (!Array.isArray(paths) || paths.some((p) => typeof p !== 'string' || p.length === 0)) {
      throw new TypeError('FileCrlSource needs an array of file paths');
    }
    this.paths = [...paths];
    this.clock = options.clock ?? (() => new Date());
    this.clockSkewMs = options.clockSkewMs ?? DEFAULT_CRL_CLOCK_SKEW_MS;
  }

  async currentCrl(issuer: Uint8Array, _subject?: Uint8Array): Promise<Uint8Array | undefined> {
    let issuerCertificate;
    try {
      issuerCertificate = parseCertificateCached(issuer);
    } catch {
      return undefined;
    }
    const now = this.clock();
    let best: ParsedCrl | undefined;
    for (const path of this.paths) {
      for (const der of await this.crlsOf(path)) {
        const check = await checkCrlForIssuer(der, issuerCertificate, now, this.clockSkewMs);
        if (!check.ok) continue;
        // Several current CRLs of one CA (an old file left beside a new one): the newest wins.
        if (!best || isNewerCrl(check.crl, best)) best = check.crl;
      }
    }
    return best?.der;
  }

  /** The CRLs of a file, re-read only when the file changed. */
  private async crlsOf(path: string): Promise<readonly Uint8Array[]> {
    let stamp: string;
    try {
      const info = await stat(path, { bigint: true });
      if (!info.isFile()) return [];
      stamp = `${info.size}:${info.mtimeNs}:${info.ino}`;
    } catch {
      this.files.delete(path);
      return [];
    }
    const known = this.files.get(path);
    if (known?.stamp === stamp) return known.crls;
    let crls: Uint8Array[];
    try {
      crls = crlsFromFileBytes(new Uint8Array(await readFile(path)));
    } catch {
      return [];
    }
    this.files.set(path, { stamp, crls });
    return crls;
  }
}
