// The test PKI, shaped like the IGC-Santé and clearly marked TEST (cards.md, "Test PKI"): a root
// and two intermediates created once in a state directory, practitioner (CPS) and server
// certificates issued on demand and cached by key, revocation, and CRLs that are re-issued
// before they go stale.
import { createHash } from 'node:crypto';
import * as pkijs from 'pkijs';
import { toArrayBuffer } from './bytes.js';
import { buildCertificate, keyIdentifierOfSpki, type CertificateSigner } from './certificate-builder.js';
import { buildCrl } from './crl-builder.js';
import { CA_DEFINITIONS, CA_IDS, caSubject, caSubjectAttributes, crlUrl, type CaId } from './hierarchy.js';
import { generateRsaKeyPair, importSigningKey, type RsaKeyPair } from './keys.js';
import {
  buildName,
  formatName,
  practitionerNameAttributes,
  serverNameAttributes,
  type NameAttribute,
} from './names.js';
import { fromPem, toPem } from './pem.js';
import {
  INTERMEDIATE_VALIDITY_YEARS,
  ROOT_VALIDITY_YEARS,
  caValidity,
  endEntityValidity,
  intermediateCaExtensions,
  practitionerAuthenticationExtensions,
  practitionerSignatureExtensions,
  rootCaExtensions,
  serverExtensions,
  type Validity,
} from './profiles.js';
import { normalizeSerialHex, randomSerial, serialFromHex, serialToHex } from './serial.js';
import { wholeSeconds } from './x509-time.js';
import {
  PkiStateStore,
  INDEX_FORMAT,
  INDEX_VERSION,
  type CertificateRole,
  type PkiIndex,
  type StoredCa,
  type StoredCrl,
  type StoredIssue,
  type StoredIssuedCertificate,
} from './state-store.js';

export type { CaId } from './hierarchy.js';

export interface PractitionerIdentity {
  /** 11 digits; test values start with 99. */
  rpps: string;
  surname: string;
  givenName: string;
  /** TRE_G15 code, e.g. "10". */
  professionCode: string;
  /** Written in the subject `title`, e.g. "Médecin". */
  professionLabel: string;
  specialtyCode?: string;
  structureId: string;
  structureName: string;
}

export interface IssuedCertificate {
  certificateDer: Uint8Array;
  privateKeyPkcs8Der: Uint8Array;
  /** Upper-case hex, as Node's X509Certificate.serialNumber prints it. */
  serialHex: string;
}

export interface PractitionerCredentials {
  authentication: IssuedCertificate;
  signature: IssuedCertificate;
}

export interface TestPkiOptions {
  /** Base of the CRL distribution points; default http://127.0.0.1:35990/crl. Fixed when the PKI is created. */
  crlBaseUrl?: string;
  /** Current time (tests of CRL renewal); default the system clock. */
  clock?: () => Date;
}

export interface PractitionerIssueOptions {
  /** notBefore and notAfter in the past. */
  expired?: boolean;
  /** Default true; false gives a certificate shaped like a real CPS one (profession only in `title`). */
  includeProfessionExtension?: boolean;
}

export interface ServerIssueOptions {
  /** Also EKU clientAuth (establishment login). */
  clientAuth?: boolean;
  expired?: boolean;
  /** Subject O (default "ETABLISSEMENT DE TEST"). */
  organisationName?: string;
  /** Subject OU, e.g. a FINESS number. */
  organisationId?: string;
}

export interface CaDescription {
  id: CaId;
  slug: string;
  subject: string;
  serialHex: string;
  notBefore: string;
  notAfter: string;
  crlUrl: string;
  /** Absolute paths. */
  files: { certificateDer: string; certificatePem: string; privateKeyPem: string; crlDer: string; crlPem: string };
}

export interface IssuedFiles {
  serialHex: string;
  /** Absolute paths. */
  certificateDer: string;
  certificatePem: string;
  privateKeyPem: string;
}

export const DEFAULT_CRL_BASE_URL = 'http://127.0.0.1:35990/crl';

const DAY_MS = 24 * 60 * 60 * 1000;
/** A CRL is valid seven days… */
export const CRL_VALIDITY_MS = 7 * DAY_MS;
/** …and re-issued when less than a day is left (or when its list of revocations changed). */
export const CRL_RENEWAL_MARGIN_MS = DAY_MS;

interface CaMaterial {
  readonly certificateDer: Uint8Array;
  readonly certificate: pkijs.Certificate;
  readonly privateKeyPkcs8Der: Uint8Array;
  signer?: Promise<CertificateSigner>;
}

function normalizeCrlBaseUrl(url: string): string {
  const parsed = new URL(url); // throws on a malformed URL
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new RangeError(`CRL base URL must be http(s): ${url}`);
  return url.replace(/\/+$/, '');
}

/** Certificates hold whole seconds; so does the index. */
function wholeSecondsValidity(validity: Validity): Validity {
  return { notBefore: wholeSeconds(validity.notBefore), notAfter: wholeSeconds(validity.notAfter) };
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Directory name of an issue key: readable part + hash (two keys never share a directory). */
function issueDirectory(key: string): string {
  const readable = key.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 48);
  return `issued/${readable}-${sha256Hex(key).slice(0, 12)}`;
}

function fileSet(base: string): { certificateDer: string; certificatePem: string; privateKeyPem: string } {
  return { certificateDer: `${base}.cer`, certificatePem: `${base}.pem`, privateKeyPem: `${base}.key.pem` };
}

function checkIssueKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 200) {
    throw new RangeError('issue key must be a non-empty string of at most 200 characters');
  }
}

export class TestPki {
  readonly stateDir: string;
  /** The CRL base URL written in this PKI's certificates. */
  readonly crlBaseUrl: string;
  /** True when this open() created the CAs (first use of the state directory). */
  readonly created: boolean;

  private index: PkiIndex;
  private readonly store: PkiStateStore;
  private readonly cas: Record<CaId, CaMaterial>;
  private readonly clock: () => Date;

  private constructor(store: PkiStateStore, index: PkiIndex, cas: Record<CaId, CaMaterial>, created: boolean, clock: () => Date) {
    this.store = store;
    this.stateDir = store.stateDir;
    this.index = index;
    this.cas = cas;
    this.created = created;
    this.crlBaseUrl = index.crlBaseUrl;
    this.clock = clock;
  }

  /** Opens the PKI of `stateDir`, creating the root and the two intermediates on first use. */
  static async open(stateDir: string, options: TestPkiOptions = {}): Promise<TestPki> {
    const clock = options.clock ?? (() => new Date());
    const requestedBaseUrl = options.crlBaseUrl === undefined ? undefined : normalizeCrlBaseUrl(options.crlBaseUrl);
    const store = new PkiStateStore(stateDir);
    await store.ensureDirectory();

    let created = false;
    let index = store.readIndex();
    if (index === null) {
      index = await store.withLock(async () => {
        const existing = store.readIndex();
        if (existing) return existing;
        created = true;
        return createHierarchy(store, requestedBaseUrl ?? DEFAULT_CRL_BASE_URL, clock());
      });
    }
    if (requestedBaseUrl !== undefined && requestedBaseUrl !== index.crlBaseUrl) {
      throw new Error(
        `the test PKI in ${store.directory} was created with CRL base URL ${index.crlBaseUrl}, not ${requestedBaseUrl}; use another state directory`,
      );
    }

    const cas = {} as Record<CaId, CaMaterial>;
    for (const ca of CA_IDS) {
      const stored = index.cas[ca];
      const certificateDer = await store.readFile(stored.certificateDer);
      cas[ca] = {
        certificateDer,
        certificate: pkijs.Certificate.fromBER(toArrayBuffer(certificateDer)),
        privateKeyPkcs8Der: fromPem('PRIVATE KEY', new TextDecoder().decode(await store.readFile(stored.privateKeyPem))),
      };
    }
    return new TestPki(store, index, cas, created, clock);
  }

  /** The PKI's own directory (`<stateDir>/pki`). */
  get directory(): string {
    return this.store.directory;
  }

  /** DER of a CA certificate. */
  caCertificate(ca: CaId): Uint8Array {
    return new Uint8Array(this.cas[ca].certificateDer);
  }

  /** The CA certificate and its issuers up to the root (DER, CA first). */
  caChain(ca: CaId): Uint8Array[] {
    return ca === 'root' ? [this.caCertificate('root')] : [this.caCertificate(ca), this.caCertificate('root')];
  }

  caSubject(ca: CaId): string {
    return caSubject(ca);
  }

  crlUrl(ca: CaId): string {
    return crlUrl(this.crlBaseUrl, ca);
  }

  describeCas(): CaDescription[] {
    return CA_IDS.map((ca) => {
      const stored = this.index.cas[ca];
      const crl = this.index.crls[ca];
      return {
        id: ca,
        slug: CA_DEFINITIONS[ca].slug,
        subject: stored.subject,
        serialHex: stored.serialHex,
        notBefore: stored.notBefore,
        notAfter: stored.notAfter,
        crlUrl: this.crlUrl(ca),
        files: {
          certificateDer: this.store.path(stored.certificateDer),
          certificatePem: this.store.path(stored.certificatePem),
          privateKeyPem: this.store.path(stored.privateKeyPem),
          crlDer: this.store.path(crl.crlDer),
          crlPem: this.store.path(crl.crlPem),
        },
      };
    });
  }

  /**
   * The authentication and signature certificates of a practitioner card, issued by the FORT
   * PERSONNES CA. Cached by key in the state directory: the same key and request give the same
   * certificates and keys across runs (a different identity or option issues new ones).
   */
  async issuePractitioner(
    key: string,
    identity: PractitionerIdentity,
    opts: PractitionerIssueOptions = {},
  ): Promise<PractitionerCredentials> {
    checkIssueKey(key);
    const subjectAttributes = practitionerNameAttributes(identity); // validates before any key is made
    const expired = opts.expired === true;
    const includeProfession = opts.includeProfessionExtension ?? true;
    const request = {
      kind: 'practitioner',
      identity: {
        rpps: identity.rpps,
        surname: identity.surname,
        givenName: identity.givenName,
        professionCode: identity.professionCode,
        professionLabel: identity.professionLabel,
        specialtyCode: identity.specialtyCode ?? null,
        structureId: identity.structureId,
        structureName: identity.structureName,
      },
      expired,
      includeProfession,
      crlBaseUrl: this.crlBaseUrl,
    };
    const digest = sha256Hex(JSON.stringify(request));
    const profession = includeProfession
      ? identity.specialtyCode === undefined
        ? { professionCode: identity.professionCode }
        : { professionCode: identity.professionCode, specialtyCode: identity.specialtyCode }
      : undefined;
    const profileOptions = { crlUrl: this.crlUrl('persons'), profession };

    const certificates = await this.issueCached(key, 'practitioner', digest, async (now) => {
      const validity = wholeSecondsValidity(endEntityValidity(now, expired));
      const [authentication, signature] = await Promise.all([
        this.issueEndEntity('persons', subjectAttributes, validity, practitionerAuthenticationExtensions(profileOptions)),
        this.issueEndEntity('persons', subjectAttributes, validity, practitionerSignatureExtensions(profileOptions)),
      ]);
      return { authentication, signature };
    });
    const { authentication, signature } = certificates;
    if (!authentication || !signature) throw new Error(`issue ${key}: stored entry lacks a certificate`);
    return { authentication, signature };
  }

  /** A TLS server (or establishment) certificate from the ELEMENTAIRE ORGANISATIONS CA; CN = first host name. */
  async issueServer(key: string, hostnames: string[], opts: ServerIssueOptions = {}): Promise<IssuedCertificate> {
    checkIssueKey(key);
    const [firstHost] = hostnames;
    if (firstHost === undefined) throw new RangeError('issueServer needs at least one host name');
    const subjectAttributes = serverNameAttributes({
      hostname: firstHost,
      ...(opts.organisationName === undefined ? {} : { organisationName: opts.organisationName }),
      ...(opts.organisationId === undefined ? {} : { organisationId: opts.organisationId }),
    });
    const clientAuth = opts.clientAuth === true;
    const expired = opts.expired === true;
    const extensions = serverExtensions({ crlUrl: this.crlUrl('organisations'), hostnames, clientAuth }); // validates names
    const request = {
      kind: 'server',
      hostnames,
      clientAuth,
      expired,
      organisationName: opts.organisationName ?? null,
      organisationId: opts.organisationId ?? null,
      crlBaseUrl: this.crlBaseUrl,
    };
    const digest = sha256Hex(JSON.stringify(request));
    const { server } = await this.issueCached(key, 'server', digest, async (now) => {
      const validity = wholeSecondsValidity(endEntityValidity(now, expired));
      return { server: await this.issueEndEntity('organisations', subjectAttributes, validity, extensions) };
    });
    if (!server) throw new Error(`issue ${key}: stored entry lacks its certificate`);
    return server;
  }

  /** Paths of the files of an issued key, by role; undefined when the key was never issued. */
  issuedFiles(key: string): Partial<Record<CertificateRole, IssuedFiles>> | undefined {
    this.refreshIndex();
    const issue = this.index.issued[key];
    if (!issue) return undefined;
    const files: Partial<Record<CertificateRole, IssuedFiles>> = {};
    for (const [role, stored] of Object.entries(issue.certificates) as [CertificateRole, StoredIssuedCertificate][]) {
      files[role] = {
        serialHex: stored.serialHex,
        certificateDer: this.store.path(stored.certificateDer),
        certificatePem: this.store.path(stored.certificatePem),
        privateKeyPem: this.store.path(stored.privateKeyPem),
      };
    }
    return files;
  }

  /**
   * Revokes a certificate and re-issues its CA's CRL. Without `ca`, the serial must be one this
   * PKI issued; with it, any serial can be listed. Revoking twice keeps the first date.
   */
  async revoke(serialHex: string, ca?: CaId): Promise<void> {
    const serial = normalizeSerialHex(serialHex);
    await this.store.withLock(async () => {
      this.refreshIndex();
      const known = this.index.certificates[serial];
      const issuer = ca ?? known?.ca;
      if (issuer === undefined) throw new Error(`unknown certificate serial ${serial}: say which CA revokes it`);
      if (known && known.ca !== issuer) throw new Error(`certificate ${serial} was issued by ${known.ca}, not ${issuer}`);
      if (serial === this.index.cas.root.serialHex) throw new Error('the root certificate cannot be revoked');
      const revocations = this.index.revocations[issuer];
      if (!revocations.some((r) => r.serialHex === serial)) {
        revocations.push({ serialHex: serial, revokedAt: wholeSeconds(this.clock()).toISOString() });
      }
      await this.reissueCrlIfNeeded(issuer, this.clock());
      await this.store.writeIndex(this.index);
    });
  }

  /** Whether a serial is revoked by any CA of this PKI (as recorded in the state directory). */
  isRevoked(serialHex: string): boolean {
    const serial = normalizeSerialHex(serialHex);
    this.refreshIndex();
    return CA_IDS.some((ca) => this.index.revocations[ca].some((r) => r.serialHex === serial));
  }

  /** DER of the CA's current CRL, re-issued first when it is near expiry or out of date. */
  async crl(ca: CaId): Promise<Uint8Array> {
    this.refreshIndex();
    if (this.crlIsCurrent(ca, this.clock())) {
      const current = this.index.crls[ca];
      if (this.store.exists(current.crlDer)) return this.store.readFile(current.crlDer);
    }
    return this.store.withLock(async () => {
      this.refreshIndex();
      if (await this.reissueCrlIfNeeded(ca, this.clock())) await this.store.writeIndex(this.index);
      return this.store.readFile(this.index.crls[ca].crlDer);
    });
  }

  /** PEM of the CA's current CRL. */
  async crlPem(ca: CaId): Promise<string> {
    return toPem('X509 CRL', await this.crl(ca));
  }

  // --- internals ---------------------------------------------------------------------------

  private refreshIndex(): void {
    this.index = this.store.readIndex() ?? this.index;
  }

  private crlIsCurrent(ca: CaId, now: Date): boolean {
    const stored = this.index.crls[ca];
    const listed = [...this.index.revocations[ca].map((r) => r.serialHex)].sort();
    return (
      Date.parse(stored.thisUpdate) <= now.getTime() &&
      Date.parse(stored.nextUpdate) - now.getTime() > CRL_RENEWAL_MARGIN_MS &&
      JSON.stringify(listed) === JSON.stringify(stored.revokedSerials)
    );
  }

  /** Call with the lock held; updates this.index (the caller writes it). */
  private async reissueCrlIfNeeded(ca: CaId, now: Date): Promise<boolean> {
    if (this.crlIsCurrent(ca, now) && this.store.exists(this.index.crls[ca].crlDer)) return false;
    this.index.crls[ca] = await writeCrl(this.store, ca, await this.signer(ca), this.index, now);
    return true;
  }

  private signer(ca: CaId): Promise<CertificateSigner> {
    const material = this.cas[ca];
    material.signer ??= signerOf(material.certificateDer, material.privateKeyPkcs8Der);
    return material.signer;
  }

  private async issueEndEntity(
    ca: CaId,
    subjectAttributes: NameAttribute[],
    validity: Validity,
    extensions: pkijs.Extension[],
  ): Promise<{ keys: RsaKeyPair; serial: Uint8Array; certificateDer: Uint8Array; subject: string; notAfter: Date }> {
    const keys = await generateRsaKeyPair();
    const serial = randomSerial();
    const certificateDer = await buildCertificate(
      {
        serial,
        subject: buildName(subjectAttributes),
        subjectPublicKeySpkiDer: keys.publicKeySpkiDer,
        notBefore: validity.notBefore,
        notAfter: validity.notAfter,
        extensions,
      },
      await this.signer(ca),
    );
    return { keys, serial, certificateDer, subject: formatName(subjectAttributes), notAfter: validity.notAfter };
  }

  /**
   * Returns the stored certificates of `key` when they answer the same request; otherwise,
   * holding the lock, issues them with `issue`, stores them and records them in the index.
   */
  private async issueCached(
    key: string,
    kind: StoredIssue['kind'],
    digest: string,
    issue: (now: Date) => Promise<Partial<Record<CertificateRole, Awaited<ReturnType<TestPki['issueEndEntity']>>>>>,
  ): Promise<Partial<Record<CertificateRole, IssuedCertificate>>> {
    this.refreshIndex();
    const cached = await this.loadIssue(key, digest);
    if (cached) return cached;
    return this.store.withLock(async () => {
      this.refreshIndex();
      const issuedMeanwhile = await this.loadIssue(key, digest);
      if (issuedMeanwhile) return issuedMeanwhile;

      const now = this.clock();
      const made = await issue(now);
      const directory = issueDirectory(key);
      const entry: StoredIssue = { kind, requestDigest: digest, issuedAt: now.toISOString(), certificates: {} };
      const result: Partial<Record<CertificateRole, IssuedCertificate>> = {};
      const issuer: CaId = kind === 'practitioner' ? 'persons' : 'organisations';
      for (const [role, item] of Object.entries(made) as [CertificateRole, NonNullable<(typeof made)[CertificateRole]>][]) {
        const files = fileSet(`${directory}/${role}`);
        await this.store.writeFile(files.privateKeyPem, toPem('PRIVATE KEY', item.keys.privateKeyPkcs8Der), 0o600);
        await this.store.writeFile(files.certificateDer, item.certificateDer);
        await this.store.writeFile(files.certificatePem, toPem('CERTIFICATE', item.certificateDer));
        const serialHex = serialToHex(item.serial);
        entry.certificates[role] = { serialHex, ...files };
        this.index.certificates[serialHex] = { ca: issuer, subject: item.subject, notAfter: item.notAfter.toISOString(), key, role };
        result[role] = { certificateDer: item.certificateDer, privateKeyPkcs8Der: item.keys.privateKeyPkcs8Der, serialHex };
      }
      this.index.issued[key] = entry;
      await this.store.writeIndex(this.index);
      return result;
    });
  }

  private async loadIssue(key: string, digest: string): Promise<Partial<Record<CertificateRole, IssuedCertificate>> | null> {
    const entry = this.index.issued[key];
    if (!entry || entry.requestDigest !== digest) return null;
    const result: Partial<Record<CertificateRole, IssuedCertificate>> = {};
    for (const [role, stored] of Object.entries(entry.certificates) as [CertificateRole, StoredIssuedCertificate][]) {
      const pem = new TextDecoder().decode(await this.store.readFile(stored.privateKeyPem));
      result[role] = {
        certificateDer: await this.store.readFile(stored.certificateDer),
        privateKeyPkcs8Der: fromPem('PRIVATE KEY', pem),
        serialHex: stored.serialHex,
      };
    }
    return result;
  }
}

async function signerOf(certificateDer: Uint8Array, privateKeyPkcs8Der: Uint8Array): Promise<CertificateSigner> {
  const certificate = pkijs.Certificate.fromBER(toArrayBuffer(certificateDer));
  const spki = new Uint8Array(certificate.subjectPublicKeyInfo.toSchema().toBER(false));
  return {
    name: certificate.subject,
    keyIdentifier: keyIdentifierOfSpki(spki),
    signingKey: await importSigningKey(privateKeyPkcs8Der),
  };
}

async function writeCrl(store: PkiStateStore, ca: CaId, signer: CertificateSigner, index: PkiIndex, now: Date): Promise<StoredCrl> {
  const previous = index.crls[ca] as StoredCrl | undefined;
  const revocations = [...index.revocations[ca]].sort((a, b) => a.serialHex.localeCompare(b.serialHex));
  const thisUpdate = wholeSeconds(now);
  const nextUpdate = new Date(thisUpdate.getTime() + CRL_VALIDITY_MS);
  const number = (previous?.number ?? 0) + 1;
  const der = await buildCrl(
    {
      number,
      thisUpdate,
      nextUpdate,
      revoked: revocations.map((r) => ({ serial: serialFromHex(r.serialHex), revokedAt: new Date(r.revokedAt) })),
    },
    signer,
  );
  const slug = CA_DEFINITIONS[ca].slug;
  const crlDer = `crl/${slug}.crl`;
  const crlPem = `crl/${slug}.crl.pem`;
  await store.writeFile(crlDer, der);
  await store.writeFile(crlPem, toPem('X509 CRL', der));
  return {
    number,
    thisUpdate: thisUpdate.toISOString(),
    nextUpdate: nextUpdate.toISOString(),
    revokedSerials: revocations.map((r) => r.serialHex),
    crlDer,
    crlPem,
  };
}

/** First use of a state directory: three CA key pairs, certificates, first CRLs, index. Lock held. */
async function createHierarchy(store: PkiStateStore, crlBaseUrl: string, now: Date): Promise<PkiIndex> {
  const keys = Object.fromEntries(
    await Promise.all(CA_IDS.map(async (ca) => [ca, await generateRsaKeyPair()] as const)),
  ) as Record<CaId, RsaKeyPair>;

  const index: PkiIndex = {
    format: INDEX_FORMAT,
    version: INDEX_VERSION,
    createdAt: now.toISOString(),
    crlBaseUrl,
    cas: {} as Record<CaId, StoredCa>,
    crls: {} as Record<CaId, StoredCrl>,
    revocations: { root: [], persons: [], organisations: [] },
    certificates: {},
    issued: {},
  };

  const rootName = buildName(caSubjectAttributes('root'));
  const rootSigner: CertificateSigner = {
    name: rootName,
    keyIdentifier: keyIdentifierOfSpki(keys.root.publicKeySpkiDer),
    signingKey: await importSigningKey(keys.root.privateKeyPkcs8Der),
  };
  const signers = {} as Record<CaId, CertificateSigner>;

  for (const ca of CA_IDS) {
    const isRoot = ca === 'root';
    const validity = wholeSecondsValidity(caValidity(now, isRoot ? ROOT_VALIDITY_YEARS : INTERMEDIATE_VALIDITY_YEARS));
    const serial = randomSerial();
    const subjectAttributes = caSubjectAttributes(ca);
    const certificateDer = await buildCertificate(
      {
        serial,
        subject: buildName(subjectAttributes),
        subjectPublicKeySpkiDer: keys[ca].publicKeySpkiDer,
        notBefore: validity.notBefore,
        notAfter: validity.notAfter,
        extensions: isRoot ? rootCaExtensions() : intermediateCaExtensions(crlUrl(crlBaseUrl, 'root')),
      },
      rootSigner,
    );
    const files = fileSet(`ca/${CA_DEFINITIONS[ca].slug}`);
    await store.writeFile(files.privateKeyPem, toPem('PRIVATE KEY', keys[ca].privateKeyPkcs8Der), 0o600);
    await store.writeFile(files.certificateDer, certificateDer);
    await store.writeFile(files.certificatePem, toPem('CERTIFICATE', certificateDer));
    const serialHex = serialToHex(serial);
    const subject = formatName(subjectAttributes);
    index.cas[ca] = {
      subject,
      serialHex,
      notBefore: validity.notBefore.toISOString(),
      notAfter: validity.notAfter.toISOString(),
      ...files,
    };
    index.certificates[serialHex] = { ca: CA_DEFINITIONS[ca].parent, subject, notAfter: validity.notAfter.toISOString() };
    signers[ca] = isRoot ? rootSigner : await signerOf(certificateDer, keys[ca].privateKeyPkcs8Der);
  }
  for (const ca of CA_IDS) {
    index.crls[ca] = await writeCrl(store, ca, signers[ca], index, now);
  }
  await store.writeIndex(index);
  return index;
}
