// Configuration of the DMP service: what buildDmpApp() takes (DmpConfig, values in memory), and
// how the command line's options become one (loadDmpConfig reads the files they name).
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import type { DestinationStream } from 'pino';
import { isLoopbackHost } from '../pki/publication-server.js';
import type { CrlSource } from '../pki/validation/index.js';
import type { KeyProvider } from './crypto/index.js';
import type { DmpStore } from './store/index.js';

export const DEFAULT_PORT = 8443;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_SESSION_IDLE_MINUTES = 30;
export const DEFAULT_SESSION_MAX_HOURS = 12;
export const DEFAULT_CRL_FETCH_TIMEOUT_MS = 5_000;

export interface DmpConfig {
  /** `sqlite:<file>` or `postgres://…`; ignored when `store` is given. */
  readonly db: string;
  /** An already opened store (tests, embedding). The app then leaves closing it to the caller. */
  readonly store?: DmpStore;
  /** Interface the server listens on (server.ts); plain HTTP only on loopback. Default 127.0.0.1. */
  readonly host?: string;
  /** Default 8443; 0 = any free port. */
  readonly port?: number;
  /**
   * The URL clients call, e.g. `https://dmp.example`: DPoP `htu` are compared with it + path,
   * never with the Host header. Default: the scheme, host and port the server listens on.
   */
  readonly publicUrl?: string;
  /** Origins accepted in authentication tokens and for CORS (`https://app.example:8443`, `app:<id>`). */
  readonly allowedOrigins: readonly string[];
  /** DER of the trust anchors (IGC-Santé root, or the test intermediates). */
  readonly trustAnchors: readonly Uint8Array[];
  /** DER of CA certificates that may complete chains (not trusted by themselves). */
  readonly intermediates?: readonly Uint8Array[];
  /** CRL files (DER or PEM), re-read when they change. */
  readonly crlFiles?: readonly string[];
  /** Also fetch CRLs from the certificates' distribution points (default true). */
  readonly crlDistributionPoints?: boolean;
  /** Replaces crlFiles / crlDistributionPoints (tests). */
  readonly crlSource?: CrlSource;
  /** TLS certificate chain and private key (PEM). Without them, plain HTTP on loopback only. */
  readonly tls?: { readonly cert: string | Uint8Array; readonly key: string | Uint8Array };
  /**
   * Wraps the per-document keys of documents at rest (src/dmp/crypto), for the document routes:
   * a KeyProvider (KMS…), or the path of a local master key file (created 0600 on first use).
   */
  readonly keyProvider?: KeyProvider;
  readonly masterKeyFile?: string;
  /** Sessions end after this long without a request (default 30). */
  readonly sessionIdleMinutes?: number;
  /** …and at the latest this long after login (default 12). */
  readonly sessionMaxHours?: number;
  /** Current time (tests); default the system clock. */
  readonly clock?: () => Date;
  /** pino logs: false for none; default JSON lines on stdout at level info. */
  readonly logger?: false | { readonly level?: string; readonly stream?: DestinationStream };
  /** How often expired challenges, jtis and sessions are purged (ms, default 60 s; 0 = never). */
  readonly purgeIntervalMs?: number;
}

export class DmpConfigError extends Error {
  override readonly name = 'DmpConfigError';
}

/** The ASCII serialisation of an origin (RFC 6454), as in tokens: `https://host[:port]` or `app:<id>`. */
export function normalizeOrigin(value: string): string {
  if (/^app:[A-Za-z0-9._-]{1,128}$/.test(value)) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DmpConfigError(`origine invalide : ${value}`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin === 'null') {
    throw new DmpConfigError(`origine invalide (http(s)://hôte[:port] ou app:<id> attendu) : ${value}`);
  }
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    throw new DmpConfigError(`une origine n'a ni chemin, ni paramètres, ni identifiants : ${value}`);
  }
  if (value.endsWith('/')) throw new DmpConfigError(`une origine ne se termine pas par « / » : ${value}`);
  return url.origin;
}

/** `https://dmp.example/base/` -> `https://dmp.example/base` (no query, no fragment). */
export function normalizePublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DmpConfigError(`URL publique invalide : ${value}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new DmpConfigError(`URL publique http(s) attendue : ${value}`);
  if (url.search || url.hash || url.username || url.password) throw new DmpConfigError(`URL publique sans paramètres ni identifiants attendue : ${value}`);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname.replace(/^\[|\]$/g, ''))) {
    throw new DmpConfigError(`URL publique en http seulement sur la boucle locale : ${value}`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function checkListenAddress(host: string, tls: boolean): void {
  if (!tls && !isLoopbackHost(host)) {
    throw new DmpConfigError(
      `sans --tls-cert/--tls-key, le service n'écoute qu'en HTTP sur la boucle locale (127.0.0.1, ::1), pas sur ${host}`,
    );
  }
}

/** The URL a server listening at host:port is reached at. */
export function listenUrl(host: string, port: number, tls: boolean): string {
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : isIPv6(host) ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${shownHost}:${port}`;
}

// --- from the command line ----------------------------------------------------------------

export interface DmpCommandOptions {
  db: string;
  port?: number;
  host?: string;
  publicUrl?: string;
  trustAnchors: string[];
  intermediates?: string[];
  crl?: string[];
  /** commander's `--no-crl-fetch`. */
  crlFetch?: boolean;
  allowedOrigins?: string[];
  masterKey?: string;
  tlsCert?: string;
  tlsKey?: string;
  sessionIdleMinutes?: number;
}

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new DmpConfigError(`lecture impossible de ${what} ${path} : ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Every certificate of a file: DER, or any number of PEM `CERTIFICATE` blocks. */
export function certificatesFromFile(path: string): Uint8Array[] {
  const bytes = readFile(path, 'certificat');
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN')) {
    const blocks = [...text.matchAll(/-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g)];
    if (blocks.length === 0) throw new DmpConfigError(`aucun bloc PEM CERTIFICATE dans ${path}`);
    return blocks.map((m) => new Uint8Array(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64')));
  }
  if (bytes[0] !== 0x30) throw new DmpConfigError(`${path} n'est ni un certificat DER ni un fichier PEM`);
  return [new Uint8Array(bytes)];
}

export function loadDmpConfig(options: DmpCommandOptions, extra: Partial<DmpConfig> = {}): DmpConfig {
  if (options.trustAnchors.length === 0) throw new DmpConfigError('au moins une ancre de confiance est requise (--trust-anchors)');
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new DmpConfigError('--tls-cert et --tls-key vont ensemble');
  }
  const tls =
    options.tlsCert !== undefined && options.tlsKey !== undefined
      ? { cert: readFile(options.tlsCert, 'le certificat TLS'), key: readFile(options.tlsKey, 'la clé TLS') }
      : undefined;
  const host = options.host ?? DEFAULT_HOST;
  checkListenAddress(host, tls !== undefined);
  const idle = options.sessionIdleMinutes ?? DEFAULT_SESSION_IDLE_MINUTES;
  if (!Number.isFinite(idle) || idle <= 0) throw new DmpConfigError('--session-idle-minutes : nombre de minutes positif attendu');
  return {
    db: options.db,
    host,
    port: options.port ?? DEFAULT_PORT,
    ...(options.publicUrl === undefined ? {} : { publicUrl: normalizePublicUrl(options.publicUrl) }),
    allowedOrigins: (options.allowedOrigins ?? []).map(normalizeOrigin),
    trustAnchors: options.trustAnchors.flatMap(certificatesFromFile),
    intermediates: (options.intermediates ?? []).flatMap(certificatesFromFile),
    crlFiles: options.crl ?? [],
    crlDistributionPoints: options.crlFetch !== false,
    ...(tls ? { tls } : {}),
    ...(options.masterKey === undefined ? {} : { masterKeyFile: options.masterKey }),
    sessionIdleMinutes: idle,
    ...extra,
  };
}
