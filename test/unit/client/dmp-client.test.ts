// DmpClient against the fake agent (a persona's real keys) and the fake DMP (DPoP proofs checked
// with jose, authentication token and CMS signatures checked): the login flow, the proofs of later
// requests, every endpoint, problem details, and the session's end when the card leaves.
import { createHash } from 'node:crypto';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentClient } from '../../../src/client/agent-client/index.js';
import { DmpClient, DmpError, DpopKey, headerText, type SessionEndedEvent } from '../../../src/client/dmp-client/index.js';
import { verifyDetachedSignature } from '../../../src/pki/cms/verify-detached.js';
import { FAKE_TOKEN, FakeAgent } from './support/fake-agent.js';
import { FakeDmp } from './support/fake-dmp.js';
import { doctorMaterial, tick, type PersonaMaterial } from './support/fixtures.js';
import { child, parseXmlStrict } from './support/xml-tree.js';

const APP_ORIGIN = 'app:logiciel-test';
const INS = { oid: '1.2.250.1.213.1.4.10', value: '180057511234580' };
const INS_PATH = `${INS.oid}:${INS.value}`;

let material: PersonaMaterial;
let fake: FakeAgent;
let agent: AgentClient;
let dmp: FakeDmp;
let client: DmpClient;
let ended: SessionEndedEvent[];

beforeAll(async () => {
  material = await doctorMaterial();
});

beforeEach(async () => {
  fake = await FakeAgent.start({ persona: material.persona, credentials: material.credentials });
  agent = await AgentClient.connect({ url: fake.url, WebSocket, token: FAKE_TOKEN, appId: 'logiciel-test', reconnect: { initialDelayMs: 30, maxDelayMs: 60 } });
  dmp = await FakeDmp.start([APP_ORIGIN]);
  client = new DmpClient({ baseUrl: `${dmp.publicUrl}/`, agent });
  ended = [];
  client.onSessionEnded((e) => ended.push(e));
});

afterEach(async () => {
  await agent.close();
  await fake.stop();
  await dmp.stop();
});

afterAll(async () => {
  await fake?.stop();
});

const sha256url = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64url');

async function loggedIn(): Promise<string> {
  await client.login();
  const token = [...dmp.sessions.keys()][0];
  if (!token) throw new Error('no session');
  return token;
}

describe('login', () => {
  it('challenge (DPoP) -> cps.authenticate with exactly that challenge -> login (DPoP, same key) -> session', async () => {
    const result = await client.login();
    expect(dmp.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /v1/auth/challenge', 'POST /v1/auth/login']);
    const [challengeProof, loginProof] = dmp.proofs;
    expect(challengeProof).toMatchObject({ htm: 'POST', htu: `${dmp.publicUrl}/v1/auth/challenge`, ath: undefined, authorization: undefined });
    expect(loginProof).toMatchObject({ htm: 'POST', htu: `${dmp.publicUrl}/v1/auth/login`, ath: undefined, authorization: undefined });
    expect(loginProof?.thumbprint).toBe(challengeProof?.thumbprint);
    expect(fake.calls('cps.authenticate').map((c) => c.params)).toEqual([{ challenge: dmp.issuedChallenges[0] }]);
    // the token sent is the agent's, untouched (the fake DMP verified its signature over the challenge)
    const token = dmp.loginBodies[0]?.token as Record<string, unknown>;
    expect(token).toMatchObject({ format: 'cardbridge-auth:1', origin: APP_ORIGIN });
    expect(dmp.loginBodies[0]).toEqual({ token });
    expect(result.practitioner).toMatchObject({ surname: 'MARTIN', professionCode: '10' });
    expect(client.loggedIn).toBe(true);
    expect(client.practitioner?.nationalId).toBe(`8${material.persona.rpps}`);
    expect(Date.parse(result.expiresAt)).toBeGreaterThan(Date.now());
  });

  it('watches the card before using it: subscribes to card.removed and finds the CPS reader first', async () => {
    await fake.requests.splice(0);
    await client.login();
    const order = fake.requests.map((r) => r.method);
    expect(order.indexOf('agent.subscribe')).toBeLessThan(order.indexOf('cps.authenticate'));
    expect(order.indexOf('readers.list')).toBeLessThan(order.indexOf('cps.authenticate'));
    expect(fake.calls('agent.subscribe')[0]?.params).toEqual({ events: ['card.removed', 'readers.changed'] });
  });

  it('sends the chosen activity with exactly the fields the service accepts', async () => {
    const [activity] = await agent.cps.getActivities();
    await client.login({ activity: { ...activity!, extra: 'dropped' } as never });
    expect(dmp.loginBodies[0]?.activity).toEqual({ index: 1, ...material.persona.activities[0] });
  });

  it('uses a new key per login, non-extractable', async () => {
    await client.login();
    await client.login();
    const thumbprints = new Set(dmp.proofs.filter((p) => p.path === '/v1/auth/login').map((p) => p.thumbprint));
    expect(thumbprints.size).toBe(2);
    expect(dmp.logouts).toHaveLength(1); // the first session was ended before the second login
    const key = await DpopKey.generate();
    expect(key.extractable).toBe(false);
    expect(Object.keys(key.publicJwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);
  });

  it('turns a refused login into a DmpError and keeps no session', async () => {
    dmp.allowedOrigins.clear();
    const error = (await client.login().catch((e: unknown) => e)) as DmpError;
    expect(error).toBeInstanceOf(DmpError);
    expect(error).toMatchObject({ status: 401, code: 'ORIGIN_NOT_ALLOWED', title: 'Origine non autorisée', detail: APP_ORIGIN });
    expect(client.loggedIn).toBe(false);
    // the login stopped watching the card
    fake.emit('card.removed', { reader: 'Lecteur CPS 0' });
    await tick();
    expect(ended).toEqual([]);
  });

  it('fails the login when the card is removed while it runs', async () => {
    const hold = fake.hold('cps.authenticate');
    const login = client.login().catch((e: unknown) => e);
    await vi.waitFor(() => expect(fake.calls('cps.authenticate')).toHaveLength(1));
    fake.emit('card.removed', { reader: 'Lecteur CPS 0' });
    await tick();
    hold.release();
    const error = (await login) as DmpError;
    expect(error).toBeInstanceOf(DmpError);
    expect(error.code).toBe('CARD_REMOVED');
    expect(client.loggedIn).toBe(false);
    await vi.waitFor(() => expect(dmp.logouts).toHaveLength(1)); // the session the service opened is closed
  });
});

describe('requests of the session', () => {
  it('carry Authorization: DPoP <token> and a fresh proof with ath, htm and htu without the query', async () => {
    const token = await loggedIn();
    await client.createPatient({ ins: INS, traits: { birthSurname: 'DUPONT', firstNames: 'JEAN', birthDate: '1980-05-12', sex: 'M' }, consent: true });
    await client.searchDocuments(INS, { typeCode: '11488-4', limit: 5 });
    const session = dmp.proofs.filter((p) => !p.path.startsWith('/v1/auth/'));
    expect(session).toHaveLength(2);
    for (const proof of session) {
      expect(proof.authorization).toBe(`DPoP ${token}`);
      expect(proof.ath).toBe(sha256url(token));
      expect(proof.thumbprint).toBe(dmp.proofs[0]?.thumbprint);
    }
    expect(session[1]).toMatchObject({ htm: 'GET', htu: `${dmp.publicUrl}/v1/patients/${INS_PATH}/documents` });
    expect(dmp.requestsTo('GET', `/v1/patients/${INS_PATH}/documents`)[0]?.url).toBe(`/v1/patients/${INS_PATH}/documents?typeCode=11488-4&limit=5`);
    const jtis = dmp.proofs.map((p) => p.jti);
    expect(new Set(jtis).size).toBe(jtis.length);
    expect(Math.abs((session[0]?.iat ?? 0) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('SESSION_REQUIRED before login, without any request', async () => {
    const error = (await client.getPatient(INS).catch((e: unknown) => e)) as DmpError;
    expect(error).toMatchObject({ status: 401, code: 'SESSION_REQUIRED' });
    expect(dmp.requests).toEqual([]);
  });

  it('problem details become DmpError { status, code, title, detail } with the whole problem', async () => {
    await loggedIn();
    const missing = (await client.getPatient({ oid: INS.oid, value: '299999999999999' }).catch((e: unknown) => e)) as DmpError;
    expect(missing).toBeInstanceOf(DmpError);
    expect(missing).toMatchObject({ status: 404, code: 'PATIENT_NOT_FOUND', title: 'DMP introuvable', detail: `${INS.oid}:299999999999999` });
    expect(missing.type).toBe('urn:cardbridge:problem:patient-not-found');
    expect(missing.problem.status).toBe(404);
    const noConsent = (await client.createPatient({ ins: INS, traits: {}, consent: false as true }).catch((e: unknown) => e)) as DmpError;
    expect(noConsent).toMatchObject({ status: 400, code: 'CONSENT_REQUIRED' });
    dmp.failNext('GET /v1/patients/', 403, 'PROFESSION_NOT_ALLOWED', 'médecine du travail');
    await client.createPatient({ ins: INS, traits: {}, consent: true });
    expect(await client.getPatient(INS).catch((e: unknown) => e)).toMatchObject({ status: 403, code: 'PROFESSION_NOT_ALLOWED', detail: 'médecine du travail' });
    expect(client.loggedIn).toBe(true);
  });

  it('an answer that is not a problem document, and an unreachable service, are DmpErrors too', async () => {
    await loggedIn();
    const answers = [new Response('<html>Bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } })];
    const stub = new DmpClient({ baseUrl: dmp.publicUrl, agent, fetch: async () => answers.shift() ?? Promise.reject(new TypeError('fetch failed')) });
    await expect(stub.login()).rejects.toMatchObject({ status: 502, code: 'UNEXPECTED_RESPONSE' });
    await expect(stub.login()).rejects.toMatchObject({ status: 0, code: 'NETWORK_ERROR' });
  });

  it('a session the service no longer knows ends here too', async () => {
    await loggedIn();
    dmp.failNext('GET /v1/patients/', 401, 'SESSION_EXPIRED', 'inactive depuis trop longtemps');
    await expect(client.getPatient(INS)).rejects.toMatchObject({ code: 'SESSION_EXPIRED' });
    expect(client.loggedIn).toBe(false);
    expect(ended).toEqual([{ reason: 'expired' }]);
  });

  it('patients: create, get, authorization, close', async () => {
    await loggedIn();
    const created = await client.createPatient({ ins: INS, traits: { birthSurname: 'DUPONT', firstNames: 'JEAN' }, consent: true });
    expect(created.activationCode).toBe('K7Q2-M9XD-4TPA');
    expect(JSON.parse(dmp.requestsTo('POST', '/v1/patients')[0]!.body.toString())).toEqual({ ins: INS, traits: { birthSurname: 'DUPONT', firstNames: 'JEAN' }, consent: true });
    expect(await client.getPatient(INS_PATH)).toMatchObject({ status: 'active', authorization: 'granted', medecinTraitant: false });
    expect(await client.setAuthorization(INS, { status: 'denied' })).toMatchObject({ authorization: 'denied' });
    expect(JSON.parse(dmp.requestsTo('PUT', `/v1/patients/${INS_PATH}/authorization`)[0]!.body.toString())).toEqual({ status: 'denied' });
    expect(await client.closePatient(INS, { reason: 'patient_request' })).toMatchObject({ status: 'closed' });
    expect(JSON.parse(dmp.requestsTo('POST', `/v1/patients/${INS_PATH}/close`)[0]!.body.toString())).toEqual({ reason: 'patient_request' });
    expect(dmp.patients.get(INS_PATH)?.status).toBe('closed');
  });

  it('traces, current session, logout', async () => {
    const token = await loggedIn();
    await client.createPatient({ ins: INS, traits: {}, consent: true });
    expect((await client.getTraces(INS, { limit: 10 })).traces[0]).toMatchObject({ action: 'login' });
    expect(dmp.requestsTo('GET', `/v1/patients/${INS_PATH}/traces`)[0]?.url).toBe(`/v1/patients/${INS_PATH}/traces?limit=10`);
    expect(await client.currentSession()).toMatchObject({ mode: 'practitioner' });
    await client.logout();
    expect(dmp.logouts).toEqual([token]);
    expect(dmp.proofsFor('POST', '/v1/auth/logout')[0]?.ath).toBe(sha256url(token));
    expect(client.loggedIn).toBe(false);
    expect(ended).toEqual([{ reason: 'logout' }]);
    await expect(client.getTraces(INS)).rejects.toMatchObject({ code: 'SESSION_REQUIRED' });
  });
});

describe('access mode headers', () => {
  it('sends X-Access-Mode and X-Access-Reason (percent-encoded UTF-8 where needed) only when asked', async () => {
    await loggedIn();
    await client.createPatient({ ins: INS, traits: {}, consent: true });
    await client.searchDocuments(INS);
    const reason = 'Patient inconscient, allergie ? 100% urgent — « SAMU »';
    await client.searchDocuments(INS, {}, { mode: 'bris_de_glace', reason });
    await client.searchDocuments(INS, {}, { mode: 'centre_15' });
    const [plain, breakGlass, centre15] = dmp.requestsTo('GET', `/v1/patients/${INS_PATH}/documents`);
    expect(plain?.headers['x-access-mode']).toBeUndefined();
    expect(breakGlass?.headers['x-access-mode']).toBe('bris_de_glace');
    expect(decodeURIComponent(String(breakGlass?.headers['x-access-reason']))).toBe(reason);
    expect(centre15?.headers['x-access-mode']).toBe('centre_15');
    expect(centre15?.headers['x-access-reason']).toBeUndefined();
    await expect(client.searchDocuments(INS, {}, { mode: 'bris_de_glace' })).rejects.toThrow(TypeError);
  });

  it('headerText keeps plain ASCII and always round-trips through decodeURIComponent', () => {
    expect(headerText('urgence vitale')).toBe('urgence vitale');
    for (const text of ['50% sûr', 'é', '’', '%41', 'ligne\nsuivante', '😀']) expect(decodeURIComponent(headerText(text))).toBe(text);
    expect(headerText('é')).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('session end with the card', () => {
  it('ends the session when the agent reports the CPS reader emptied, not for another reader', async () => {
    const token = await loggedIn();
    fake.emit('card.removed', { reader: 'Lecteur Vitale 1' });
    await tick(50);
    expect(client.loggedIn).toBe(true);
    fake.emit('card.removed', { reader: 'Lecteur CPS 0' });
    await vi.waitFor(() => expect(client.loggedIn).toBe(false));
    expect(ended).toEqual([{ reason: 'card-removed' }]);
    await vi.waitFor(() => expect(dmp.logouts).toEqual([token]));
    await expect(client.getPatient(INS)).rejects.toMatchObject({ code: 'SESSION_REQUIRED' });
  });

  it('ends it on readers.changed without the CPS card', async () => {
    await loggedIn();
    fake.emit('readers.changed', { readers: [{ name: 'Lecteur CPS 0', card: { family: 'CPS3', atr: '3B' } }] });
    await tick(50);
    expect(client.loggedIn).toBe(true);
    fake.emit('readers.changed', { readers: [{ name: 'Lecteur CPS 0', card: null }] });
    await vi.waitFor(() => expect(ended).toEqual([{ reason: 'card-removed' }]));
  });

  it('ends it on any card removal when the CPS reader could not be known', async () => {
    fake.failNext('readers.list', (await import('./support/fake-agent.js')).rpcError('SCOPE_NOT_GRANTED'));
    await loggedIn();
    fake.emit('card.removed', { reader: 'Lecteur Vitale 1' });
    await vi.waitFor(() => expect(ended).toEqual([{ reason: 'card-removed' }]));
  });

  it('ends it when the card left while the agent was away', async () => {
    await loggedIn();
    await fake.stop();
    fake.readers = [{ name: 'Lecteur CPS 0', card: null }];
    await fake.restart();
    await vi.waitFor(() => expect(ended).toEqual([{ reason: 'card-removed' }]), { timeout: 3000 });
  });

  it('keeps it when the agent comes back with the card still there', async () => {
    await loggedIn();
    await fake.stop();
    await fake.restart();
    await vi.waitFor(() => expect(agent.state).toBe('open'), { timeout: 3000 });
    await vi.waitFor(() => expect(fake.calls('readers.list').length).toBeGreaterThanOrEqual(2));
    await tick(50);
    expect(client.loggedIn).toBe(true);
  });

  it('ends it when the agent connection closes for good', async () => {
    await loggedIn();
    await agent.close();
    await vi.waitFor(() => expect(ended).toEqual([{ reason: 'agent-closed' }]));
  });
});

describe('documents', () => {
  const letter = new TextEncoder().encode('<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3"/>\n');

  it('sendDocument: multipart metadata/content/signature, the CMS signed by the card through cps.sign', async () => {
    await loggedIn();
    await client.createPatient({ ins: INS, traits: {}, consent: true });
    const metadata = { classCode: '11', typeCode: '11488-4', title: 'Compte rendu de consultation', confidentiality: ['MASQUE_PS'] };
    const sent = await client.sendDocument({ ins: INS, metadata, content: letter });
    expect(sent).toMatchObject({ id: 'doc-1', status: 'approved', ...metadata, size: letter.length });
    const signs = fake.calls('cps.sign');
    expect(signs).toHaveLength(1);
    expect(Object.keys(signs[0]?.params as object).sort()).toEqual(['hash', 'hashAlgorithm']);
    expect(signs[0]?.params).toMatchObject({ hashAlgorithm: 'SHA-256' });
    const stored = dmp.documents.get('doc-1')!;
    expect(stored.content.equals(Buffer.from(letter))).toBe(true);
    expect(stored.contentType).toBe('text/xml');
    expect(stored.metadata).toEqual(metadata);
    const verification = await verifyDetachedSignature(new Uint8Array(stored.signature), letter);
    expect(verification.ok).toBe(true);
    if (verification.ok) expect(Buffer.from(verification.signerCertificate).equals(Buffer.from(material.credentials.signature.certificateDer))).toBe(true);
    // the request carried the session like any other
    expect(dmp.proofsFor('POST', `/v1/patients/${INS_PATH}/documents`)[0]?.ath).toBeDefined();
  });

  it('sendDocument refuses to send what the card did not sign with the signature key', async () => {
    await loggedIn();
    const authentication = await agent.cps.getCertificates();
    fake.handlers.set('cps.getCertificates', () => ({ ...authentication, signature: authentication.authentication }));
    await expect(client.sendDocument({ ins: INS, metadata: { classCode: '11', typeCode: '11488-4', title: 't' }, content: letter })).rejects.toThrow(/does not verify/);
    expect(dmp.requestsTo('POST', `/v1/patients/${INS_PATH}/documents`)).toEqual([]);
  });

  it('search pages with the cursor, iterate, get metadata and content, patch, delete', async () => {
    await loggedIn();
    await client.createPatient({ ins: INS, traits: {}, consent: true });
    for (let i = 0; i < 5; i++) await client.sendDocument({ ins: INS, metadata: { classCode: '11', typeCode: '11488-4', title: `n°${i}` }, content: letter });
    const first = await client.searchDocuments(INS, { limit: 2 });
    expect(first.documents.map((d) => d.title)).toEqual(['n°0', 'n°1']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await client.searchDocuments(INS, { limit: 2, cursor: first.nextCursor! });
    expect(second.documents.map((d) => d.title)).toEqual(['n°2', 'n°3']);
    const all: string[] = [];
    for await (const d of client.iterateDocuments(INS, { limit: 2 })) all.push(String(d.title));
    expect(all).toEqual(['n°0', 'n°1', 'n°2', 'n°3', 'n°4']);

    expect(await client.getDocument('doc-3')).toMatchObject({ id: 'doc-3', title: 'n°2' });
    const content = await client.getDocumentContent('doc-3');
    expect(Buffer.from(content.bytes).equals(Buffer.from(letter))).toBe(true);
    expect(content.mediaType).toBe('text/xml');
    expect(content.filename).toBe('compte-rendu-été.xml');
    expect(await client.updateDocument('doc-3', { confidentiality: ['INVISIBLE_PATIENT'] })).toMatchObject({ confidentiality: ['INVISIBLE_PATIENT'] });
    expect(JSON.parse(dmp.requestsTo('PATCH', '/v1/documents/doc-3')[0]!.body.toString())).toEqual({ confidentiality: ['INVISIBLE_PATIENT'] });
    await client.deleteDocument('doc-3');
    expect(dmp.documents.get('doc-3')?.status).toBe('deleted');
    expect(dmp.proofsFor('DELETE', '/v1/documents/doc-3')).toHaveLength(1);
  });

  it('sendPdf: a well-formed CDA R2 N1 with the INS, the author RPPS and the PDF in base64, signed', async () => {
    await loggedIn();
    await client.createPatient({ ins: INS, traits: {}, consent: true });
    const pdf = new Uint8Array(Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256)), Buffer.from('\n%%EOF\n')]));
    const title = 'Lettre <urgente> & "suite" d\'hospitalisation — été';
    const sent = await client.sendPdf({
      ins: INS,
      pdf,
      title,
      typeCode: '11490-0',
      classCode: '10',
      patient: { birthSurname: 'DUPONT & FILS', firstNames: 'JEAN', birthDate: '1980-05-12', sex: 'M' },
    });
    expect(sent.format).toBe('urn:ihe:iti:xds-sd:pdf:2008');
    const stored = dmp.documents.get(String(sent.id))!;
    expect(stored.metadata).toMatchObject({ classCode: '10', typeCode: '11490-0', title, format: 'urn:ihe:iti:xds-sd:pdf:2008' });
    expect((await verifyDetachedSignature(new Uint8Array(stored.signature), new Uint8Array(stored.content))).ok).toBe(true);

    const cda = parseXmlStrict(stored.content.toString('utf8'));
    expect(cda.name).toBe('ClinicalDocument');
    expect(cda.uri).toBe('urn:hl7-org:v3');
    expect(child(cda, 'recordTarget', 'patientRole', 'id').attributes).toEqual({ root: INS.oid, extension: INS.value });
    expect(child(cda, 'recordTarget', 'patientRole', 'patient', 'name', 'family').text).toBe('DUPONT & FILS');
    expect(child(cda, 'author', 'assignedAuthor', 'id').attributes).toEqual({ root: '1.2.250.1.71.4.2.1', extension: `8${material.persona.rpps}` });
    expect(child(cda, 'author', 'assignedAuthor', 'assignedPerson', 'name', 'family').text).toBe(material.persona.surname);
    expect(child(cda, 'title').text).toBe(title);
    expect(child(cda, 'code').attributes).toMatchObject({ code: '11490-0', codeSystem: '2.16.840.1.113883.6.1', displayName: title });
    expect(child(cda, 'code', 'translation').attributes).toMatchObject({ code: '10' });
    const text = child(cda, 'component', 'nonXMLBody', 'text');
    expect(text.attributes).toEqual({ mediaType: 'application/pdf', representation: 'B64' });
    expect(Buffer.from(text.text, 'base64').equals(Buffer.from(pdf))).toBe(true);
    expect(fake.calls('cps.getIdentity')).toHaveLength(1);
  });

  it('sendPdf refuses bytes that are not a PDF', async () => {
    await loggedIn();
    await expect(client.sendPdf({ ins: INS, pdf: letter, title: 't', typeCode: '11490-0', classCode: '10' })).rejects.toThrow(/PDF/);
    expect(fake.calls('cps.sign')).toEqual([]);
  });
});
