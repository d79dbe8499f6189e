// Where the test PKI lives on disk: `<stateDir>/pki/`, with a JSON index, keys (PKCS#8 PEM,
// mode 0600), certificates and CRLs (DER and PEM). Every file is written to a temporary name
// and renamed into place, the index last, so a reader sees either the old or the new state;
// writers take the directory's lock file.
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { withFileLock } from './file-lock.js';
import type { CaId } from './hierarchy.js';

export const INDEX_FORMAT = 'cardbridge-test-pki';
export const INDEX_VERSION = 1;

export interface StoredFiles {
  /** Paths relative to the PKI directory. */
  certificateDer: string;
  certificatePem: string;
  privateKeyPem: string;
}

export interface StoredCa extends StoredFiles {
  subject: string;
  serialHex: string;
  notBefore: string;
  notAfter: string;
}

export type CertificateRole = 'authentication' | 'signature' | 'server';

export interface StoredIssuedCertificate extends StoredFiles {
  serialHex: string;
}

export interface StoredIssue {
  kind: 'practitioner' | 'server';
  /** SHA-256 of the request (identity, options, CRL URL): a different request issues anew. */
  requestDigest: string;
  issuedAt: string;
  certificates: Partial<Record<CertificateRole, StoredIssuedCertificate>>;
}

export interface StoredCertificateInfo {
  ca: CaId;
  subject: string;
  notAfter: string;
  /** The issue key, for end-entity certificates. */
  key?: string;
  role?: CertificateRole;
}

export interface StoredRevocation {
  serialHex: string;
  revokedAt: string;
}

export interface StoredCrl {
  number: number;
  thisUpdate: string;
  nextUpdate: string;
  /** The serials this CRL lists, sorted: when they differ from the revocations, it is re-issued. */
  revokedSerials: string[];
  crlDer: string;
  crlPem: string;
}

export interface PkiIndex {
  format: typeof INDEX_FORMAT;
  version: typeof INDEX_VERSION;
  createdAt: string;
  crlBaseUrl: string;
  cas: Record<CaId, StoredCa>;
  crls: Record<CaId, StoredCrl>;
  revocations: Record<CaId, StoredRevocation[]>;
  /** Every certificate issued, by serial (upper-case hex). */
  certificates: Record<string, StoredCertificateInfo>;
  issued: Record<string, StoredIssue>;
}

export class PkiStateStore {
  /** The PKI's own directory: `<stateDir>/pki`. */
  readonly directory: string;

  constructor(readonly stateDir: string) {
    this.directory = join(resolve(stateDir), 'pki');
  }

  async ensureDirectory(): Promise<void> {
    await fs.mkdir(this.directory, { recursive: true, mode: 0o700 });
  }

  /** Absolute path of a file of the PKI; refuses paths that leave the directory. */
  path(relativePath: string): string {
    const absolute = resolve(this.directory, relativePath);
    if (absolute !== this.directory && !absolute.startsWith(this.directory + sep)) {
      throw new Error(`path outside the PKI directory: ${relativePath}`);
    }
    return absolute;
  }

  get indexPath(): string {
    return this.path('index.json');
  }

  /** The index as last written, or null when the PKI was never created here. */
  readIndex(): PkiIndex | null {
    let text: string;
    try {
      text = readFileSync(this.indexPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const index = JSON.parse(text) as Partial<PkiIndex>;
    if (index.format !== INDEX_FORMAT || index.version !== INDEX_VERSION) {
      throw new Error(`${this.indexPath}: not a cardbridge test PKI index (format ${String(index.format)}, version ${String(index.version)})`);
    }
    return index as PkiIndex;
  }

  async writeIndex(index: PkiIndex): Promise<void> {
    await this.writeFile('index.json', `${JSON.stringify(index, null, 2)}\n`, 0o600);
  }

  /** Writes atomically: temporary file in the same directory, flushed, then renamed. */
  async writeFile(relativePath: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
    const target = this.path(relativePath);
    await fs.mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const temporary = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await fs.open(temporary, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.rename(temporary, target);
    } catch (error) {
      await fs.rm(temporary, { force: true });
      throw error;
    }
  }

  async readFile(relativePath: string): Promise<Uint8Array> {
    return new Uint8Array(await fs.readFile(this.path(relativePath)));
  }

  readFileSync(relativePath: string): Uint8Array {
    return new Uint8Array(readFileSync(this.path(relativePath)));
  }

  exists(relativePath: string): boolean {
    return existsSync(this.path(relativePath));
  }

  relative(absolutePath: string): string {
    return relative(this.directory, absolutePath);
  }

  /** Runs `fn` holding the PKI directory's lock (other processes and other instances wait). */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    await this.ensureDirectory();
    return withFileLock(this.path('lock'), fn);
  }
}
