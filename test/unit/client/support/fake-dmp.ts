// A fake DMP service for the client tests (node:http): the routes of dmp-service.md "API shape",
// every request's DPoP proof checked with jose (signature by the embedded key, typ, alg, htm,
// htu = public URL + path, iat, ath with a session token, jti never seen before, the session's
// key), the login's authentication token checked against the challenge it was given for, the
// documents' detached CMS signatures checked with verifyDetachedSignature, RFC 9457 problems.
import { createHash, randomBytes, verify, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import { verifyDetachedSignature } from '../../../../src/pki/cms/verify-detached.js';

export interface VerifiedProof {
  method: string;
  path: string;
  htm: string;
  htu: string;
  iat: number;
  jti: string;
  ath: string | undefined;
  thumbprint: string;
  authorization: string | undefined;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface StoredDocument {
  id: string;
  ins: string;
  metadata: Record<string, unknown>;
  content: Buffer;
  contentType: string;
  signature: Buffer;
  status: string;
  confidentiality: string[];
}

interface Session {
  thumbprint: string;
  practitioner: Record<string, unknown>;
}

class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
  ) {
    super(detail);
  }
}

const b64url = (data: Buffer | string) => createHash('sha256').update(data).digest('base64url');

export class FakeDmp {
  readonly proofs: VerifiedProof[] = [];
  readonly requests: RecordedRequest[] = [];
  readonly documents = new Map<string, StoredDocument>();
  readonly patients = new Map<string, { status: string; authorization: string; traits: unknown }>();
  readonly loginBodies: Record<string, unknown>[] = [];
  readonly issuedChallenges: string[] = [];
  readonly sessions = new Map<string, Session>();
  readonly logouts: string[] = [];
  /** The origin the service expects in authentication tokens. */
  allowedOrigins = new Set<string>();
  /** Answer the next request of this "METHOD path-prefix" with a problem. */
  readonly failures: { match: string; status: number; code: string; title: string; detail: string }[] = [];

  private readonly jtis = new Set<string>();
  private readonly challenges = new Map<string, { thumbprint: string; used: boolean }>();
  private server: Server | undefined;
  private nextId = 0;
  publicUrl = '';

  static async start(allowedOrigins: string[]): Promise<FakeDmp> {
    const dmp = new FakeDmp();
    dmp.allowedOrigins = new Set(allowedOrigins);
    const server = createServer((request, response) => void dmp.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    dmp.server = server;
    dmp.publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return dmp;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  failNext(match: string, status: number, code: string, detail = 'refusé par le test', title = `Titre de ${code}`): void {
    this.failures.push({ match, status, code, title, detail });
  }

  proofsFor(method: string, path: string): VerifiedProof[] {
    return this.proofs.filter((p) => p.method === method && p.path === path);
  }

  requestsTo(method: string, pathPrefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.url.startsWith(pathPrefix));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = request.method ?? 'GET';
    const url = request.url ?? '/';
    this.requests.push({ method, url, headers: request.headers, body });
    const path = url.split('?', 1)[0] ?? '/';
    try {
      const failure = this.failures.findIndex((f) => `${method} ${path}`.startsWith(f.match));
      if (failure >= 0) {
        const f = this.failures.splice(failure, 1)[0]!;
        throw new Problem(f.status, f.code, f.title, f.detail);
      }
      const result = await this.route(method, path, new URL(url, this.publicUrl).searchParams, request, body);
      if (result === undefined) {
        response.writeHead(204).end();
      } else if (result instanceof Raw) {
        response.writeHead(200, result.headers).end(result.body);
      } else {
        const { status, json } = result;
        response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(json));
      }
    } catch (error) {
      const problem = error instanceof Problem ? error : new Problem(500, 'INTERNAL', 'Erreur interne du service', String(error));
      response
        .writeHead(problem.status, { 'Content-Type': 'application/problem+json; charset=utf-8' })
        .end(
          JSON.stringify({
            type: `urn:cardbridge:problem:${problem.code.toLowerCase().replace(/_/g, '-')}`,
            title: problem.title,
            status: problem.status,
            detail: problem.message,
            code: problem.code,
          }),
        );
    }
  }

  /** The DPoP checks of the real service, with jose; returns the key's thumbprint. */
  private async checkProof(request: IncomingMessage, method: string, path: string, accessToken: string | undefined): Promise<string> {
    const proof = request.headers.dpop;
    if (typeof proof !== 'string') throw new Problem(401, 'DPOP_REQUIRED', 'Preuve DPoP requise', 'en-tête DPoP absent');
    let verified;
    try {
      verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
    } catch (error) {
      throw new Problem(401, 'DPOP_INVALID', 'Preuve DPoP invalide', String(error));
    }
    const jwk = verified.protectedHeader.jwk as JWK;
    if ('d' in jwk) throw new Problem(401, 'DPOP_INVALID', 'Preuve DPoP invalide', 'clé privée dans la preuve');
    const claims = verified.payload as Record<string, unknown>;
    if (claims.htm !== method) throw new Problem(401, 'DPOP_HTM_MISMATCH', 'Preuve DPoP émise pour une autre méthode HTTP', String(claims.htm));
    if (claims.htu !== `${this.publicUrl}${path}`) throw new Problem(401, 'DPOP_HTU_MISMATCH', 'Preuve DPoP émise pour une autre adresse', String(claims.htu));
    if (typeof claims.iat !== 'number' || Math.abs(Date.now() / 1000 - claims.iat) > 60) throw new Problem(401, 'DPOP_STALE', 'Preuve DPoP hors délai', 'iat');
    if (typeof claims.jti !== 'string' || claims.jti.length < 16) throw new Problem(401, 'DPOP_INVALID', 'Preuve DPoP invalide', 'jti');
    if (accessToken !== undefined && claims.ath !== b64url(accessToken)) throw new Problem(401, 'DPOP_ATH_MISMATCH', 'Preuve DPoP émise pour un autre jeton de session', 'ath');
    const thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
    if (this.jtis.has(`${thumbprint} ${claims.jti}`)) throw new Problem(401, 'DPOP_REPLAYED', 'Preuve DPoP déjà utilisée', 'jti');
    this.jtis.add(`${thumbprint} ${claims.jti}`);
    this.proofs.push({
      method,
      path,
      htm: claims.htm,
      htu: claims.htu,
      iat: claims.iat,
      jti: claims.jti,
      ath: typeof claims.ath === 'string' ? claims.ath : undefined,
      thumbprint,
      authorization: request.headers.authorization,
    });
    return thumbprint;
  }

  private async session(request: IncomingMessage, method: string, path: string): Promise<Session> {
    const header = request.headers.authorization;
    const match = /^DPoP (\S+)$/.exec(header ?? '');
    if (!match?.[1]) throw new Problem(401, 'SESSION_REQUIRED', 'Session requise', 'Authorization: DPoP attendu');
    const thumbprint = await this.checkProof(request, method, path, match[1]);
    const session = this.sessions.get(match[1]);
    if (!session) throw new Problem(401, 'SESSION_INVALID', 'Session inconnue ou terminée', 'inconnue');
    if (session.thumbprint !== thumbprint) throw new Problem(401, 'DPOP_KEY_MISMATCH', 'Preuve DPoP signée par une autre clé', 'clé');
    return session;
  }

  private async route(method: string, path: string, query: URLSearchParams, request: IncomingMessage, body: Buffer): Promise<{ status: number; json: unknown } | Raw | undefined> {
    const json = () => JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    const ok = (value: unknown, status = 200) => ({ status, json: value });

    if (method === 'POST' && path === '/v1/auth/challenge') {
      const thumbprint = await this.checkProof(request, method, path, undefined);
      const challenge = randomBytes(32).toString('base64');
      this.challenges.set(challenge, { thumbprint, used: false });
      this.issuedChallenges.push(challenge);
      return ok({ challenge, expiresAt: new Date(Date.now() + 300_000).toISOString() });
    }
    if (method === 'POST' && path === '/v1/auth/login') {
      const thumbprint = await this.checkProof(request, method, path, undefined);
      const payload = json();
      this.loginBodies.push(payload);
      const token = payload.token as Record<string, string> | undefined;
      if (!token || token.format !== 'cardbridge-auth:1') throw new Problem(400, 'TOKEN_MALFORMED', "Jeton d'authentification mal formé", 'format');
      const live = [...this.challenges].find(([, c]) => c.thumbprint === thumbprint && !c.used);
      if (!live) throw new Problem(401, 'CHALLENGE_INVALID', 'Défi inconnu', 'aucun défi pour cette clé');
      live[1].used = true;
      if (!this.allowedOrigins.has(token.origin ?? '')) throw new Problem(401, 'ORIGIN_NOT_ALLOWED', 'Origine non autorisée', String(token.origin));
      const certificate = new X509Certificate(Buffer.from(token.unverifiedCertificate ?? '', 'base64'));
      const data = Buffer.concat([createHash('sha256').update(token.origin ?? '', 'utf8').digest(), createHash('sha256').update(live[0], 'utf8').digest()]);
      if (!verify('sha256', data, certificate.publicKey, Buffer.from(token.signature ?? '', 'base64'))) {
        throw new Problem(401, 'SIGNATURE_INVALID', "Signature du jeton d'authentification invalide", 'signature');
      }
      const cn = /CN=(\d+)/.exec(certificate.subject)?.[1] ?? '';
      const practitioner = { nationalId: cn, idType: 'RPPS', surname: 'MARTIN', givenName: 'SOPHIE', professionCode: '10', professionLabel: 'Médecin', specialtyCode: 'SM54', structureId: null, structureName: null };
      const sessionToken = randomBytes(32).toString('base64url');
      this.sessions.set(sessionToken, { thumbprint, practitioner });
      return ok({ sessionToken, expiresAt: new Date(Date.now() + 1_800_000).toISOString(), practitioner });
    }

    // Everything else needs the session.
    const session = await this.session(request, method, path);
    const token = /^DPoP (\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';

    if (method === 'POST' && path === '/v1/auth/logout') {
      this.sessions.delete(token);
      this.logouts.push(token);
      return undefined;
    }
    if (method === 'GET' && path === '/v1/auth/session') return ok({ mode: 'practitioner', establishment: false, practitioner: session.practitioner });

    if (method === 'POST' && path === '/v1/patients') {
      const payload = json() as { ins?: { oid: string; value: string }; consent?: unknown; traits?: unknown };
      if (payload.consent !== true) throw new Problem(400, 'CONSENT_REQUIRED', 'Consentement du patient requis', 'consent: true attendu');
      const key = `${payload.ins?.oid}:${payload.ins?.value}`;
      if (this.patients.has(key)) throw new Problem(409, 'PATIENT_EXISTS', 'DMP déjà créé', key);
      this.patients.set(key, { status: 'active', authorization: 'granted', traits: payload.traits });
      return ok({ ins: payload.ins, status: 'active', authorization: 'granted', medecinTraitant: false, traits: payload.traits, activationCode: 'K7Q2-M9XD-4TPA' }, 201);
    }
    const patient = /^\/v1\/patients\/([^/]+)(\/.*)?$/.exec(path);
    if (patient) {
      const ins = decodeURIComponent(patient[1]!);
      const rest = patient[2] ?? '';
      const record = this.patients.get(ins);
      if (!record) throw new Problem(404, 'PATIENT_NOT_FOUND', 'DMP introuvable', ins);
      if (method === 'GET' && rest === '') return ok({ ins: { oid: ins.split(':')[0], value: ins.split(':')[1] }, status: record.status, authorization: record.authorization, medecinTraitant: false });

      const view = () => ({ ins: { oid: ins.split(':')[0], value: ins.split(':')[1] }, status: record.status, authorization: record.authorization, medecinTraitant: false });
      if (method === 'PUT' && rest === '/authorization') {
        record.authorization = String(json().status);
        return ok(view());
      }
      if (method === 'POST' && rest === '/close') {
        if (!['patient_request', 'deces'].includes(String(json().reason))) throw new Problem(400, 'REQUEST_INVALID', 'Requête invalide', 'reason');
        record.status = 'closed';
        return ok({ status: 'closed', closedAt: new Date().toISOString() });
      }
      if (method === 'GET' && rest === '/traces') {
        return ok({ traces: [{ action: 'login', at: new Date().toISOString() }], nextCursor: null });
      }
      if (method === 'GET' && rest === '/documents') {
        const all = [...this.documents.values()].filter((d) => d.ins === ins && (!query.get('typeCode') || d.metadata.typeCode === query.get('typeCode')));
        const limit = Number(query.get('limit') ?? 50);
        const start = query.get('cursor') ? Number(Buffer.from(query.get('cursor')!, 'base64url').toString()) : 0;
        const page = all.slice(start, start + limit);
        const next = start + limit < all.length ? Buffer.from(String(start + limit)).toString('base64url') : null;
        return ok({ documents: page.map((d) => this.metadataOf(d)), nextCursor: next });
      }
      if (method === 'POST' && rest === '/documents') return ok(await this.receiveDocument(ins, request, body, session), 201);
    }
    const document = /^\/v1\/documents\/([^/]+)(\/content)?$/.exec(path);
    if (document) {
      const stored = this.documents.get(decodeURIComponent(document[1]!));
      if (!stored) throw new Problem(404, 'DOCUMENT_NOT_FOUND', 'Document introuvable', String(document[1]));
      if (method === 'GET' && document[2]) {
        return new Raw(stored.content, {
          'Content-Type': stored.contentType,
          'Content-Disposition': `attachment; filename="document-${stored.id}.xml"; filename*=UTF-8''compte-rendu-%C3%A9t%C3%A9.xml`,
          'X-Content-Type-Options': 'nosniff',
        });
      }
      if (method === 'GET') return ok(this.metadataOf(stored));
      if (method === 'PATCH') {
        const update = json();
        if (typeof update.status === 'string') stored.status = update.status;
        if (Array.isArray(update.confidentiality)) stored.confidentiality = update.confidentiality as string[];
        return ok(this.metadataOf(stored));
      }
      if (method === 'DELETE') {
        stored.status = 'deleted';
        return undefined;
      }
    }
    throw new Problem(404, 'NOT_FOUND', 'Ressource introuvable', `${method} ${path}`);
  }

  private async receiveDocument(ins: string, request: IncomingMessage, body: Buffer, session: Session): Promise<unknown> {
    const contentType = request.headers['content-type'] ?? '';
    if (!contentType.startsWith('multipart/form-data')) throw new Problem(415, 'UNSUPPORTED_MEDIA_TYPE', 'Type de contenu non pris en charge', contentType);
    const form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
    const metadataPart = form.get('metadata');
    const contentPart = form.get('content');
    const signaturePart = form.get('signature');
    if (typeof metadataPart !== 'string' || !(contentPart instanceof Blob) || !(signaturePart instanceof Blob)) {
      throw new Problem(400, 'REQUEST_INVALID', 'Requête invalide', 'parties metadata, content, signature attendues');
    }
    const content = Buffer.from(await contentPart.arrayBuffer());
    const signature = Buffer.from(await signaturePart.arrayBuffer());
    const verification = await verifyDetachedSignature(new Uint8Array(signature), new Uint8Array(content));
    if (!verification.ok) throw new Problem(400, 'DOCUMENT_SIGNATURE_INVALID', 'Signature du document invalide', verification.reason);
    const metadata = JSON.parse(metadataPart) as Record<string, unknown>;
    // as the real service: only these members
    const known = new Set(['classCode', 'typeCode', 'title', 'confidentiality', 'creationTime', 'replaces', 'format']);
    const unknown = Object.keys(metadata).filter((k) => !known.has(k));
    if (unknown.length > 0) throw new Problem(400, 'METADATA_INVALID', 'Métadonnées invalides', `membre inconnu : ${unknown[0]}`);
    const id = `doc-${++this.nextId}`;
    const stored: StoredDocument = {
      id,
      ins,
      metadata,
      content,
      contentType: contentPart.type,
      signature,
      status: 'approved',
      confidentiality: (metadata.confidentiality as string[] | undefined) ?? [],
    };
    this.documents.set(id, stored);
    void session;
    return this.metadataOf(stored);
  }

  private metadataOf(d: StoredDocument): Record<string, unknown> {
    return {
      ...d.metadata,
      id: d.id,
      status: d.status,
      confidentiality: d.confidentiality,
      size: d.content.length,
      hash: createHash('sha256').update(d.content).digest('hex'),
      ins: { oid: d.ins.split(':')[0], value: d.ins.split(':')[1] },
    };
  }
}

class Raw {
  constructor(
    readonly body: Buffer,
    readonly headers: Record<string, string>,
  ) {}
}
