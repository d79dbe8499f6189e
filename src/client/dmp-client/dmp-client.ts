// The client of the DMP service (dmp-service.md) for a practitioner: login with the CPS card
// through the agent, a DPoP proof by a non-extractable session key on every request, typed
// methods for the API, document signatures by the card, PDFs wrapped as CDA R2 N1. The session
// ends when the agent reports the CPS card removed. Browser-safe: WebCrypto, fetch, FormData.
import type { AgentClient } from '../agent-client/agent-client.js';
import type { AgentEventMap, AuthenticationToken, CpsActivity, ReaderInfo } from '../agent-client/types.js';
import { buildDetachedSignedData } from '../../pki/cms/build-detached.js';
import { asBytes, fromBase64, toBase64, utf8 } from '../shared/bytes.js';
import { buildCdaN1, CDA_N1_PDF_FORMAT, type CdaOrganization, type CdaPatient } from './cda.js';
import { DpopKey } from './dpop.js';
import { DmpError, errorFromResponse, localDmpError } from './errors.js';
import type {
  AccessContext,
  AuthorizationUpdate,
  CloseRequest,
  CloseResult,
  CreatePatientRequest,
  DocumentContent,
  DocumentMetadata,
  DocumentMetadataInput,
  DocumentPage,
  DocumentSearch,
  DocumentUpdate,
  Ins,
  InsRef,
  LoginResult,
  PatientCreated,
  PatientStatus,
  Practitioner,
  TracePage,
  TraceQuery,
} from './types.js';

/** What the DMP client uses of the agent client (an AgentClient fits). */
export type DmpAgent = Pick<AgentClient, 'cps' | 'readers' | 'subscribe' | 'on'>;

export interface DmpClientOptions {
  /** The service's public URL (the one it was configured with: proofs name it in `htu`), e.g. `https://dmp.example`. */
  baseUrl: string;
  agent: DmpAgent;
  /** Default the global fetch. */
  fetch?: typeof fetch;
  /** The reader of the CPS card, when the agent cannot pick it alone. */
  reader?: string;
}

export interface LoginOptions {
  /** The activity (from `agent.cps.getActivities()`) the practitioner works in for this session. */
  activity?: CpsActivity;
  /** Overrides the client's `reader`. */
  reader?: string;
}

export type SessionEndReason = 'logout' | 'card-removed' | 'expired' | 'agent-closed';

export interface SessionEndedEvent {
  reason: SessionEndReason;
}

export interface SendDocumentRequest {
  ins: InsRef;
  metadata: DocumentMetadataInput;
  content: Uint8Array;
  /** Content-Type of the `content` part; default from the bytes (`application/pdf` for %PDF, `text/xml` for XML). */
  mediaType?: string;
}

export interface SendPdfRequest {
  ins: InsRef;
  pdf: Uint8Array;
  title: string;
  /** LOINC document type (XDS typeCode). */
  typeCode: string;
  /** XDS classCode (the service derives the class from the typeCode when absent). */
  classCode?: string;
  confidentiality?: DocumentMetadataInput['confidentiality'];
  /** ISO 8601; default now. */
  creationTime?: string;
  /** Identity traits written in the CDA recordTarget beside the INS. */
  patient?: CdaPatient;
  /** The author's organisation (default: the session's activity, if one was given at login). */
  organization?: CdaOrganization;
  /** More metadata (e.g. `replaces`, `format`). */
  metadata?: Partial<DocumentMetadataInput>;
}

interface Session {
  key: DpopKey;
  token: string;
  expiresAt: string;
  practitioner: Practitioner;
  activity: CpsActivity | undefined;
  /** The reader of the CPS card, when known (else any card removal ends the session). */
  reader: string | undefined;
  /** The reader the application named (then every card call names it too). */
  namedReader: string | undefined;
  stopWatching: () => void;
}

interface RequestOptions {
  query?: Record<string, string | number | boolean | readonly string[] | undefined>;
  json?: unknown;
  form?: FormData;
  access?: AccessContext | undefined;
  /** What to read from a 2xx answer. */
  read?: 'json' | 'bytes' | 'none';
}

interface Answer {
  status: number;
  headers: Headers;
  json?: unknown;
  bytes?: Uint8Array;
}

const CPS_FAMILIES: ReadonlySet<string> = new Set(['CPS3', 'CPS4']);

/** `<oid>:<value>`, each part percent-encoded where needed (INS values and OIDs need nothing). */
export function insPath(ins: InsRef): string {
  if (typeof ins === 'string') {
    const colon = ins.indexOf(':');
    if (colon <= 0 || colon === ins.length - 1) throw new TypeError('an INS path is <oid>:<value>');
    return `${encodeURIComponent(ins.slice(0, colon))}:${encodeURIComponent(ins.slice(colon + 1))}`;
  }
  if (typeof ins?.oid !== 'string' || typeof ins.value !== 'string' || ins.oid === '' || ins.value === '') throw new TypeError('ins must be { oid, value }');
  return `${encodeURIComponent(ins.oid)}:${encodeURIComponent(ins.value)}`;
}

function insObject(ins: InsRef): Ins {
  if (typeof ins !== 'string') return ins;
  const colon = ins.indexOf(':');
  return { oid: ins.slice(0, colon), value: ins.slice(colon + 1) };
}

/**
 * HTTP header values are bytes: text with characters outside printable ASCII (accents, curly
 * quotes) is sent percent-encoded as UTF-8, and so is `%` itself, so that the service's
 * `decodeURIComponent` always gives back the text; plain ASCII text goes as it is.
 */
export function headerText(value: string): string {
  return value.replace(/[^\x20-\x24\x26-\x7e]+/g, (run) => encodeURIComponent(run));
}

function accessHeaders(access: AccessContext | undefined): Record<string, string> {
  if (!access) return {};
  if (access.mode === 'bris_de_glace' && !access.reason?.trim()) throw new TypeError('break-glass access needs a reason');
  return { 'X-Access-Mode': access.mode, ...(access.reason === undefined ? {} : { 'X-Access-Reason': headerText(access.reason) }) };
}

function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(name, String(item));
    else params.append(name, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function sniffMediaType(content: Uint8Array): string {
  const head = new TextDecoder('latin1').decode(content.subarray(0, 64)).replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart();
  if (head.startsWith('%PDF-')) return 'application/pdf';
  if (head.startsWith('<')) return 'text/xml';
  return 'application/octet-stream';
}

function filenameFor(mediaType: string): string {
  if (mediaType === 'application/pdf') return 'document.pdf';
  if (/xml/.test(mediaType)) return 'document.xml';
  return 'document.bin';
}

function filenameOf(disposition: string | null): string | undefined {
  if (!disposition) return undefined;
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(disposition);
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // fall back to the plain parameter
    }
  }
  const plain = /filename\s*=\s*(?:"([^"]*)"|([^;\s]+))/.exec(disposition);
  return plain?.[1] ?? plain?.[2];
}

function activityBody(activity: CpsActivity): CpsActivity {
  // Exactly the fields the service's schema allows, whatever else the agent added.
  const { index, structureId, structureName, sector, role } = activity;
  return { index, structureId, structureName, sector, role };
}

export class DmpClient {
  readonly baseUrl: string;
  private readonly agent: DmpAgent;
  private readonly fetchFn: (input: string, init: RequestInit) => Promise<Response>;
  private readonly reader: string | undefined;
  private session: Session | undefined;
  private readonly endListeners = new Set<(event: SessionEndedEvent) => void>();

  constructor(options: DmpClientOptions) {
    if (typeof options?.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) throw new TypeError('baseUrl must be an http(s) URL');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.agent = options.agent;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new TypeError('no fetch available: pass { fetch }');
    // Called as a plain function: the browser's fetch refuses another `this`.
    this.fetchFn = (input, init) => fetchImpl(input, init);
    this.reader = options.reader;
  }

  /** True between a successful login() and the end of the session. */
  get loggedIn(): boolean {
    return this.session !== undefined;
  }

  /** The logged-in practitioner as the service identified them. */
  get practitioner(): Practitioner | undefined {
    return this.session?.practitioner;
  }

  /** The session's expiry as the service gave it at login (it also ends after 30 minutes idle). */
  get expiresAt(): string | undefined {
    return this.session?.expiresAt;
  }

  /** Called when the session ends (logout, CPS card removed, expired, agent closed). Returns the unsubscribe function. */
  onSessionEnded(listener: (event: SessionEndedEvent) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  // --- authentication -------------------------------------------------------------------------

  /**
   * Logs the practitioner in with the CPS card: a new session key, a challenge from the service,
   * the card's authentication token for it (through the agent; the PIN may be asked), then the
   * login. In a browser, call `agent.preparePinWindow()` in the click handler before this.
   */
  async login(options: LoginOptions = {}): Promise<LoginResult> {
    if (this.session) await this.logout().catch(() => undefined);
    const reader = options.reader ?? this.reader;
    // Watch the card before using it: a removal during the login must not leave a session behind.
    const attempt: { removed: boolean; reader: string | undefined; session?: Session } = { removed: false, reader };
    const stopWatching = this.watchCard(
      () => attempt.reader,
      (reason) => {
        if (attempt.session && this.session === attempt.session) this.endSession(reason);
        else if (!attempt.session) attempt.removed = true;
      },
    );
    try {
      await this.agent.subscribe(['card.removed', 'readers.changed']);
      attempt.reader ??= await this.findCpsReader();
      const key = await DpopKey.generate();
      const challenge = (await this.send(key, undefined, 'POST', '/v1/auth/challenge')).json as { challenge?: unknown };
      if (typeof challenge?.challenge !== 'string') throw localDmpError('UNEXPECTED_RESPONSE', 'réponse sans défi', 200);
      const token: AuthenticationToken = await this.agent.cps.authenticate(
        reader === undefined ? { challenge: challenge.challenge } : { challenge: challenge.challenge, reader },
      );
      const body = { token, ...(options.activity ? { activity: activityBody(options.activity) } : {}) };
      const login = (await this.send(key, undefined, 'POST', '/v1/auth/login', { json: body })).json as {
        sessionToken?: unknown;
        expiresAt?: unknown;
        practitioner?: unknown;
      };
      if (typeof login?.sessionToken !== 'string') throw localDmpError('UNEXPECTED_RESPONSE', 'réponse sans jeton de session', 200);
      const session: Session = {
        key,
        token: login.sessionToken,
        expiresAt: typeof login.expiresAt === 'string' ? login.expiresAt : '',
        practitioner: (login.practitioner ?? {}) as Practitioner,
        activity: options.activity,
        reader: attempt.reader,
        namedReader: reader,
        stopWatching,
      };
      if (attempt.removed) {
        void this.serverLogout(session);
        throw localDmpError('CARD_REMOVED', 'la carte CPS a été retirée pendant la connexion');
      }
      attempt.session = session;
      this.session = session;
      return { expiresAt: session.expiresAt, practitioner: session.practitioner };
    } catch (error) {
      stopWatching();
      throw error;
    }
  }

  /** Ends the session at the service and here (the session key is dropped). */
  async logout(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.endSession('logout');
    await this.serverLogout(session, true);
  }

  /** The current session as the service sees it (`GET /v1/auth/session`). */
  async currentSession(): Promise<Record<string, unknown>> {
    return (await this.request('GET', '/v1/auth/session')).json as Record<string, unknown>;
  }

  // --- patients -------------------------------------------------------------------------------

  /** `POST /v1/patients`: creates the patient's DMP (consent required); returns the one-time activation code. */
  async createPatient(request: CreatePatientRequest): Promise<PatientCreated> {
    return (await this.request('POST', '/v1/patients', { json: request })).json as PatientCreated;
  }

  /** `GET /v1/patients/{ins}`: status, the caller's authorisation, médecin traitant flag. */
  async getPatient(ins: InsRef, access?: AccessContext): Promise<PatientStatus> {
    return (await this.request('GET', `/v1/patients/${insPath(ins)}`, { access })).json as PatientStatus;
  }

  /** `PUT /v1/patients/{ins}/authorization`: records the patient's authorisation given during the consultation. */
  async setAuthorization(ins: InsRef, update: AuthorizationUpdate): Promise<PatientStatus> {
    return (await this.request('PUT', `/v1/patients/${insPath(ins)}/authorization`, { json: update })).json as PatientStatus;
  }

  /** `POST /v1/patients/{ins}/close`: at the patient's request, or death. */
  async closePatient(ins: InsRef, request: CloseRequest): Promise<CloseResult> {
    return (await this.request('POST', `/v1/patients/${insPath(ins)}/close`, { json: request })).json as CloseResult;
  }

  // --- documents ------------------------------------------------------------------------------

  /**
   * `GET /v1/patients/{ins}/documents`: one page. `access` sets `X-Access-Mode` (and
   * `X-Access-Reason`, required for break-glass); without it the service applies `normal`.
   */
  async searchDocuments(ins: InsRef, search: DocumentSearch = {}, access?: AccessContext): Promise<DocumentPage> {
    const page = (await this.request('GET', `/v1/patients/${insPath(ins)}/documents`, { query: search, access })).json as DocumentPage;
    return { ...page, documents: Array.isArray(page?.documents) ? page.documents : [] };
  }

  /** Every matching document, following `nextCursor` page after page. */
  async *iterateDocuments(ins: InsRef, search: Omit<DocumentSearch, 'cursor'> = {}, access?: AccessContext): AsyncGenerator<DocumentMetadata> {
    let cursor: string | undefined;
    for (;;) {
      const page = await this.searchDocuments(ins, cursor === undefined ? search : { ...search, cursor }, access);
      yield* page.documents;
      if (typeof page.nextCursor !== 'string' || page.nextCursor === '' || page.nextCursor === cursor) return;
      cursor = page.nextCursor;
    }
  }

  /**
   * `POST /v1/patients/{ins}/documents`: the document with its detached CMS signature, made by
   * the CPS signature key through the agent (`cps.sign` over SHA-256 of the signed attributes).
   */
  async sendDocument(request: SendDocumentRequest): Promise<DocumentMetadata> {
    const session = this.requireSession();
    const content = asBytes(request.content, 'content');
    const readerParams = session.namedReader === undefined ? {} : { reader: session.namedReader };
    const certificates = await this.agent.cps.getCertificates(readerParams);
    const signature = await buildDetachedSignedData({
      content,
      certificate: fromBase64(certificates.signature),
      signSignedAttributesHash: async (hash) => {
        const signed = await this.agent.cps.sign({ ...readerParams, hash: toBase64(hash), hashAlgorithm: 'SHA-256' });
        return fromBase64(signed.signature);
      },
    });
    const mediaType = request.mediaType ?? sniffMediaType(content);
    const form = new FormData();
    form.append('metadata', JSON.stringify(request.metadata));
    form.append('content', new Blob([content as Uint8Array<ArrayBuffer>], { type: mediaType }), filenameFor(mediaType));
    form.append('signature', new Blob([signature as Uint8Array<ArrayBuffer>], { type: 'application/pkcs7-signature' }), 'signature.p7s');
    return (await this.request('POST', `/v1/patients/${insPath(request.ins)}/documents`, { form })).json as DocumentMetadata;
  }

  /** A PDF wrapped in a CDA R2 N1 document (author: the card's holder), signed and sent. */
  async sendPdf(request: SendPdfRequest): Promise<DocumentMetadata> {
    const session = this.requireSession();
    const pdf = asBytes(request.pdf, 'pdf');
    if (sniffMediaType(pdf) !== 'application/pdf') throw new TypeError('pdf must be the bytes of a PDF file (%PDF-)');
    const readerParams = session.namedReader === undefined ? {} : { reader: session.namedReader };
    const identity = await this.agent.cps.getIdentity(readerParams);
    const creationTime = request.creationTime ?? new Date().toISOString();
    const activity = session.activity;
    const organization =
      request.organization ?? (activity ? { id: activity.structureId, name: activity.structureName } : undefined);
    const cda = buildCdaN1({
      ins: insObject(request.ins),
      pdf,
      title: request.title,
      typeCode: request.typeCode,
      ...(request.classCode === undefined ? {} : { classCode: request.classCode }),
      author: identity,
      ...(request.patient ? { patient: request.patient } : {}),
      ...(organization ? { organization } : {}),
      effectiveTime: new Date(creationTime),
    });
    const metadata: DocumentMetadataInput = {
      ...request.metadata,
      ...(request.classCode === undefined ? {} : { classCode: request.classCode }),
      typeCode: request.typeCode,
      title: request.title,
      format: request.metadata?.format ?? CDA_N1_PDF_FORMAT,
      creationTime,
      ...(request.confidentiality ? { confidentiality: request.confidentiality } : {}),
    };
    return this.sendDocument({ ins: request.ins, metadata, content: utf8(cda), mediaType: 'text/xml' });
  }

  /** `GET /v1/documents/{id}`: the metadata. */
  async getDocument(id: string, access?: AccessContext): Promise<DocumentMetadata> {
    return (await this.request('GET', `/v1/documents/${encodeURIComponent(id)}`, { access })).json as DocumentMetadata;
  }

  /** `GET /v1/documents/{id}/content`: the bytes (served as a download; never render them in your origin). */
  async getDocumentContent(id: string, access?: AccessContext): Promise<DocumentContent> {
    const answer = await this.request('GET', `/v1/documents/${encodeURIComponent(id)}/content`, { access, read: 'bytes' });
    const filename = filenameOf(answer.headers.get('content-disposition'));
    return {
      bytes: answer.bytes ?? new Uint8Array(),
      mediaType: answer.headers.get('content-type') ?? 'application/octet-stream',
      ...(filename === undefined ? {} : { filename }),
    };
  }

  /** `PATCH /v1/documents/{id}`: status, confidentiality (masking). */
  async updateDocument(id: string, update: DocumentUpdate): Promise<DocumentMetadata> {
    return (await this.request('PATCH', `/v1/documents/${encodeURIComponent(id)}`, { json: update })).json as DocumentMetadata;
  }

  /** `DELETE /v1/documents/{id}` (logical deletion, by its author only). */
  async deleteDocument(id: string): Promise<void> {
    await this.request('DELETE', `/v1/documents/${encodeURIComponent(id)}`, { read: 'none' });
  }

  // --- traces ---------------------------------------------------------------------------------

  /** `GET /v1/patients/{ins}/traces` (the service may keep traces to the patient's portal: then a DmpError 403). */
  async getTraces(ins: InsRef, query: TraceQuery = {}): Promise<TracePage> {
    const page = (await this.request('GET', `/v1/patients/${insPath(ins)}/traces`, { query })).json as TracePage;
    return { ...page, traces: Array.isArray(page?.traces) ? page.traces : [] };
  }

  // --- HTTP -----------------------------------------------------------------------------------

  /** A request of the session: `Authorization: DPoP <token>` and a fresh proof with `ath`. */
  private async request(method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
    const session = this.requireSession();
    try {
      return await this.send(session.key, session.token, method, path, options);
    } catch (error) {
      if (error instanceof DmpError && (error.code === 'SESSION_EXPIRED' || error.code === 'SESSION_INVALID') && this.session === session) {
        this.endSession('expired');
      }
      throw error;
    }
  }

  private async send(key: DpopKey, token: string | undefined, method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
    const htu = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = {
      Accept: 'application/json, application/problem+json;q=0.9, */*;q=0.1',
      DPoP: await key.proof({ htm: method, htu, ...(token === undefined ? {} : { accessToken: token }) }),
      ...accessHeaders(options.access),
    };
    if (token !== undefined) headers.Authorization = `DPoP ${token}`;
    let body: BodyInit | undefined;
    if (options.form) body = options.form;
    else if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['Content-Type'] = 'application/json';
    }
    let response: Response;
    try {
      response = await this.fetchFn(`${htu}${queryString(options.query)}`, { method, headers, ...(body === undefined ? {} : { body }) });
    } catch (error) {
      throw localDmpError('NETWORK_ERROR', `${method} ${path} : ${(error as Error)?.message ?? String(error)}`, 0, error);
    }
    const contentType = response.headers.get('content-type') ?? '';
    if (!response.ok) throw errorFromResponse(response.status, contentType, await response.text().catch(() => ''));
    const read = options.read ?? 'json';
    if (read === 'bytes') return { status: response.status, headers: response.headers, bytes: new Uint8Array(await response.arrayBuffer()) };
    const text = await response.text();
    if (read === 'none' || response.status === 204 || text === '') return { status: response.status, headers: response.headers };
    try {
      return { status: response.status, headers: response.headers, json: JSON.parse(text) as unknown };
    } catch (error) {
      throw localDmpError('UNEXPECTED_RESPONSE', `${method} ${path} : JSON illisible`, response.status, error);
    }
  }

  private requireSession(): Session {
    if (!this.session) throw localDmpError('SESSION_REQUIRED', 'aucune session : appelez login() d’abord', 401);
    return this.session;
  }

  // --- the card's presence ------------------------------------------------------------------

  private async findCpsReader(): Promise<string | undefined> {
    try {
      const cps = (await this.agent.readers()).filter((r) => r.card !== null && CPS_FAMILIES.has(r.card.family));
      return cps.length === 1 ? cps[0]?.name : undefined;
    } catch {
      return undefined; // not allowed to list readers: every card removal will end the session
    }
  }

  /**
   * Watches the CPS card: `gone` is called when it leaves its reader (any card removal when the
   * reader is unknown), when the agent connection comes back without it (a removal meanwhile
   * went unreported), and when the agent connection closes for good.
   */
  private watchCard(reader: () => string | undefined, gone: (reason: SessionEndReason) => void): () => void {
    const stillThere = (readers: ReaderInfo[]): boolean => {
      const name = reader();
      if (name === undefined) return readers.some((r) => r.card !== null && CPS_FAMILIES.has(r.card.family));
      const entry = readers.find((r) => r.name === name);
      return entry?.card != null && CPS_FAMILIES.has(entry.card.family);
    };
    const offs = [
      this.agent.on('card.removed', (event: AgentEventMap['card.removed']) => {
        const name = reader();
        if (name === undefined || event.reader === name) gone('card-removed');
      }),
      this.agent.on('readers.changed', (event: AgentEventMap['readers.changed']) => {
        if (reader() !== undefined && Array.isArray(event.readers) && !stillThere(event.readers)) gone('card-removed');
      }),
      this.agent.on('connection', (event: AgentEventMap['connection']) => {
        if (event.state === 'closed') gone('agent-closed');
        else if (event.state === 'open') {
          this.agent.readers().then(
            (readers) => {
              if (!stillThere(readers)) gone('card-removed');
            },
            () => undefined,
          );
        }
      }),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  private endSession(reason: SessionEndReason): void {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    session.stopWatching();
    if (reason === 'card-removed' || reason === 'agent-closed') void this.serverLogout(session);
    for (const listener of [...this.endListeners]) {
      try {
        listener({ reason });
      } catch (error) {
        console.error('cardbridge dmp-client: session-ended listener failed', error);
      }
    }
  }

  /** `POST /v1/auth/logout` with a session that is no longer the client's; errors only when asked. */
  private async serverLogout(session: Session, rethrow = false): Promise<void> {
    try {
      await this.send(session.key, session.token, 'POST', '/v1/auth/logout', { read: 'none' });
    } catch (error) {
      const gone = error instanceof DmpError && (error.code === 'SESSION_EXPIRED' || error.code === 'SESSION_INVALID');
      if (rethrow && !gone) throw error;
    }
  }
}
