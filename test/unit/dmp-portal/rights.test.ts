// The patient's rights on the portal (dmp-service.md "Patient portal"): his documents without the
// INVISIBLE_PATIENT ones, downloads, MASQUE_PS, his own PDFs, authorisations and blocks, médecin
// traitant, oppositions, his traces, deletion requests, closing — each traced in his chain in
// mode portal — and SQL-looking text kept verbatim. What these decisions change for practitioners
// is in practitioner-view.test.ts. Same suite on SQLite and PostgreSQL.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientSessionTokenHash } from '../../../src/dmp/portal/session.js';
import { traceEntryOf } from '../../../src/dmp/store/index.js';
import { dmpStoreKinds, loginAs, openDmpTestPki, type DmpTestPki, type TestDmpService } from '../../support/dmp/index.js';
import {
  activate,
  createPatient,
  expectPortalProblem,
  insertPractitionerDocument,
  loginWithOtp,
  PatientClient,
  patientWithSession,
  pdfBytes,
  SECRET_CODE,
  startPortalService,
  storedDocument,
  type TestPatient,
} from './portal-support.js';

const STORES = await dmpStoreKinds();

let pki: DmpTestPki;
beforeAll(async () => {
  pki = await openDmpTestPki();
});

const SQL_TEXTS = ["'; DROP TABLE documents; --", "1' OR '1'='1", 'Robert"); DELETE FROM patients; --', "x'); TRUNCATE traces; SELECT ('"];

interface PortalDocumentBody {
  id: string;
  title: string;
  masquePs: boolean;
  ownDocument: boolean;
  status: string;
  author: { kind: string; id: string };
  deletionRequestedAt: string | null;
}

function uploadForm(metadata: unknown, content: Uint8Array, type = 'application/pdf'): FormData {
  const form = new FormData();
  form.append('metadata', typeof metadata === 'string' ? metadata : JSON.stringify(metadata));
  form.append('content', new Blob([content.slice()], { type }), 'document.pdf');
  return form;
}

describe.each(STORES)('patient portal rights on %s', (kind) => {
  let service: TestDmpService;
  let client: PatientClient;

  beforeAll(async () => {
    service = await startPortalService(pki, kind);
    client = new PatientClient(service.url);
  });
  afterAll(async () => {
    await service?.close();
  });

  async function chain(patient: TestPatient): Promise<{ action: string; mode: string; actor: string; target?: string; detail?: Record<string, unknown> }[]> {
    return (await service.store.listTraces(`patient:${patient.insPath}`)).map((row) => {
      const e = traceEntryOf(row);
      return { action: e.action, mode: e.mode, actor: e.actor.kind, ...(e.target ? { target: e.target } : {}), ...(e.detail ? { detail: e.detail } : {}) };
    });
  }

  describe('documents', () => {
    it('lists every document of his DMP except INVISIBLE_PATIENT ones, masked ones included, and traces the listing', async () => {
      const { patient, token } = await patientWithSession(service, client);
      const normal = await insertPractitionerDocument(service, patient, { title: 'Compte rendu', creationTime: Date.now() - 3000 });
      const invisible = await insertPractitionerDocument(service, patient, { title: 'Résultat à annoncer', invisiblePatient: true, creationTime: Date.now() - 2000 });
      const masked = await insertPractitionerDocument(service, patient, { title: 'Masqué', creationTime: Date.now() - 1000 });
      await service.store.records.setDocumentConfidentiality(masked.id, { json: '["MASQUE_PS"]', maskedPs: true, invisiblePatient: false, invisibleRepresentants: false }, Date.now());
      const deleted = await insertPractitionerDocument(service, patient, { title: 'Supprimé' });
      await service.store.records.deleteDocumentLogically(deleted.id, Date.now());
      const otherPatient = await createPatient(service);
      await insertPractitionerDocument(service, otherPatient, { title: 'Pas à lui' });

      const list = await client.call<{ documents: PortalDocumentBody[]; nextCursor: string | null }>('GET', '/v1/portal/documents', { token });
      expect(list.status, JSON.stringify(list.body)).toBe(200);
      expect(list.body.documents.map((d) => d.id)).toEqual([masked.id, normal.id]);
      expect(list.body.documents.map((d) => d.masquePs)).toEqual([true, false]);
      expect(list.body.nextCursor).toBeNull();
      expect(JSON.stringify(list.body)).not.toContain(invisible.id);

      // paging
      const first = await client.call<{ documents: PortalDocumentBody[]; nextCursor: string }>('GET', '/v1/portal/documents?limit=1', { token });
      expect(first.body.documents.map((d) => d.id)).toEqual([masked.id]);
      const second = await client.call<{ documents: PortalDocumentBody[]; nextCursor: string | null }>('GET', `/v1/portal/documents?limit=1&cursor=${first.body.nextCursor}`, { token });
      expect(second.body.documents.map((d) => d.id)).toEqual([normal.id]);
      expect(second.body.nextCursor).toBeNull();
      expectPortalProblem(await client.call('GET', '/v1/portal/documents?cursor=bm9wZQ', { token }), 400, 'CURSOR_INVALID');

      expect((await chain(patient)).filter((e) => e.action === 'list_documents')).toHaveLength(3);
    });

    it('downloads a visible document decrypted, as an attachment in a sandbox; an INVISIBLE_PATIENT one answers like a missing one', async () => {
      const { patient, token } = await patientWithSession(service, client);
      const normal = await insertPractitionerDocument(service, patient, { title: 'Compte rendu "opératoire" / 2024' });
      const invisible = await insertPractitionerDocument(service, patient, { invisiblePatient: true });

      const download = await client.call('GET', `/v1/portal/documents/${normal.id}/content`, { token });
      expect(download.status).toBe(200);
      expect(Buffer.from(download.bytes).equals(Buffer.from(normal.content))).toBe(true);
      expect(download.headers.get('content-type')).toBe('application/pdf');
      expect(download.headers.get('content-disposition')).toBe(
        `attachment; filename="Compte rendu _operatoire_ _ 2024.pdf"; filename*=UTF-8''Compte%20rendu%20_op%C3%A9ratoire_%20_%202024.pdf`,
      );
      expect(download.headers.get('x-content-type-options')).toBe('nosniff');
      expect(download.headers.get('content-security-policy')).toBe('sandbox');
      expect(download.headers.get('cache-control')).toBe('no-store');

      const hidden = await client.call('GET', `/v1/portal/documents/${invisible.id}/content`, { token });
      const missing = await client.call('GET', '/v1/portal/documents/0b6f1d0e-0000-4000-8000-000000000000/content', { token });
      expectPortalProblem(hidden, 404, 'DOCUMENT_NOT_FOUND');
      expectPortalProblem(missing, 404, 'DOCUMENT_NOT_FOUND');
      expect(hidden.body).toEqual(missing.body);
      for (const action of ['mask', 'unmask', 'deletion-request']) {
        expectPortalProblem(await client.call('POST', `/v1/portal/documents/${invisible.id}/${action}`, { token }), 404, 'DOCUMENT_NOT_FOUND');
      }
      expect((await storedDocument(service, invisible.id))?.maskedPs).toBe(false);

      // another patient's document is not his either
      const other = await createPatient(service);
      const foreign = await insertPractitionerDocument(service, other);
      expectPortalProblem(await client.call('GET', `/v1/portal/documents/${foreign.id}/content`, { token }), 404, 'DOCUMENT_NOT_FOUND');

      const entries = await chain(patient);
      expect(entries.filter((e) => e.action === 'read_document').map((e) => e.target)).toEqual([`document:${normal.id}`]);
      expect(JSON.stringify(entries)).not.toContain(invisible.id);
    });

    it('masks a document from professionals (MASQUE_PS) and unmasks it, keeping its other confidentiality codes', async () => {
      const { patient, token } = await patientWithSession(service, client);
      const doc = await insertPractitionerDocument(service, patient);
      const mask = await client.call<PortalDocumentBody>('POST', `/v1/portal/documents/${doc.id}/mask`, { token });
      expect(mask.status, JSON.stringify(mask.body)).toBe(200);
      expect(mask.body.masquePs).toBe(true);
      let stored = await storedDocument(service, doc.id);
      expect({ maskedPs: stored?.maskedPs, confidentiality: stored?.confidentiality }).toEqual({ maskedPs: true, confidentiality: '["MASQUE_PS"]' });

      const unmask = await client.call<PortalDocumentBody>('POST', `/v1/portal/documents/${doc.id}/unmask`, { token });
      expect(unmask.body.masquePs).toBe(false);
      stored = await storedDocument(service, doc.id);
      expect({ maskedPs: stored?.maskedPs, confidentiality: stored?.confidentiality }).toEqual({ maskedPs: false, confidentiality: '[]' });
      expect((await chain(patient)).filter((e) => e.action.endsWith('mask_document')).map((e) => e.action)).toEqual(['mask_document', 'unmask_document']);
    });

    it('adds his own PDF, encrypted at rest, author the patient; refuses other formats, more than 10 MiB and unknown types', async () => {
      const { patient, token } = await patientWithSession(service, client);
      const sentence = `Mes directives anticipées ${patient.ins.value}`;
      const content = pdfBytes(sentence);
      const upload = await client.call<PortalDocumentBody>('POST', '/v1/portal/documents', {
        token,
        form: uploadForm({ title: 'Mes directives anticipées', typeCode: '60591-5' }, content),
      });
      expect(upload.status, JSON.stringify(upload.body)).toBe(201);
      expect(upload.body).toMatchObject({ title: 'Mes directives anticipées', ownDocument: true, status: 'approved', author: { kind: 'patient', id: patient.insPath } });
      expect(upload.headers.get('location')).toBe(`/v1/portal/documents/${upload.body.id}/content`);

      const stored = await storedDocument(service, upload.body.id);
      expect(stored).toMatchObject({ authorKind: 'patient', authorId: patient.insPath, format: 'pdf', mimeType: 'application/pdf', classCode: 'SYNTHESE', contentSize: content.byteLength });
      const encrypted = await service.store.records.getDocumentContent(upload.body.id);
      expect(Buffer.from(encrypted!.ciphertext).toString('latin1')).not.toContain('directives');
      if (kind === 'sqlite') expect(readFileSync(service.db.slice('sqlite:'.length)).toString('latin1')).not.toContain(sentence);
      const back = await client.call('GET', `/v1/portal/documents/${upload.body.id}/content`, { token });
      expect(Buffer.from(back.bytes).equals(Buffer.from(content))).toBe(true);
      expect((await chain(patient)).at(-2)).toMatchObject({ action: 'send_document', mode: 'portal', actor: 'patient', target: `document:${upload.body.id}` });

      const html = await client.call('POST', '/v1/portal/documents', { token, form: uploadForm({ title: 'Page', typeCode: '60591-5' }, new TextEncoder().encode('<html><script>alert(1)</script></html>'), 'application/pdf') });
      expectPortalProblem(html, 415, 'UNSUPPORTED_MEDIA_TYPE');
      const big = new Uint8Array(10 * 1024 * 1024 + 1).fill(0x20);
      big.set(new TextEncoder().encode('%PDF-1.4\n'));
      const tooBig = await client.call('POST', '/v1/portal/documents', { token, form: uploadForm({ title: 'Gros', typeCode: '60591-5' }, big) });
      expectPortalProblem(tooBig, 413, 'PAYLOAD_TOO_LARGE');
      const unknownType = await client.call('POST', '/v1/portal/documents', { token, form: uploadForm({ title: 'X', typeCode: '99999-9' }, content) });
      expectPortalProblem(unknownType, 400, 'METADATA_INVALID');
      // confidentiality codes are the practitioners' (INVISIBLE_PATIENT on his own document would hide it from him)
      const codes = await client.call('POST', '/v1/portal/documents', { token, form: uploadForm({ title: 'X', typeCode: '60591-5', confidentiality: ['INVISIBLE_PATIENT'] }, content) });
      expectPortalProblem(codes, 400, 'METADATA_INVALID');
      const cda = new TextEncoder().encode(`<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"/>`);
      expectPortalProblem(await client.call('POST', '/v1/portal/documents', { token, form: uploadForm({ title: 'X', typeCode: '60591-5' }, cda, 'text/xml') }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      const json = await client.call('POST', '/v1/portal/documents', { token, body: { title: 'X' } });
      expectPortalProblem(json, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('records a deletion request for a practitioner’s document and tells its author; deletes his own document at once', async () => {
      const { patient, token } = await patientWithSession(service, client);
      const doc = await insertPractitionerDocument(service, patient, { authorId: '899900000102' });
      const request = await client.call<{ status: string; requestedAt: string }>('POST', `/v1/portal/documents/${doc.id}/deletion-request`, {
        token,
        body: { reason: 'Erreur de patient' },
      });
      expect(request.status, JSON.stringify(request.body)).toBe(200);
      expect(request.body.status).toBe('requested');
      const stored = await storedDocument(service, doc.id);
      expect(stored?.deletionRequestedAt).toBe(Date.parse(request.body.requestedAt));
      expect(stored?.status).toBe('approved');
      const [notice] = await service.store.portal.listOutbox('practitioner:899900000102');
      expect(JSON.parse(notice!.payload)).toMatchObject({ event: 'dmp.deletion_request', document: { id: doc.id }, reason: 'Erreur de patient' });
      const again = await client.call<{ requestedAt: string }>('POST', `/v1/portal/documents/${doc.id}/deletion-request`, { token });
      expect(again.body.requestedAt).toBe(request.body.requestedAt);
      expect(await service.store.portal.listOutbox('practitioner:899900000102')).toHaveLength(1);
      expect((await chain(patient)).filter((e) => e.action === 'request_deletion')).toEqual([
        { action: 'request_deletion', mode: 'portal', actor: 'patient', target: `document:${doc.id}`, detail: { reason: 'Erreur de patient' } },
      ]);

      const own = await client.call<PortalDocumentBody>('POST', '/v1/portal/documents', { token, form: uploadForm({ title: 'Le mien', typeCode: '60591-5' }, pdfBytes('mien')) });
      const deleted = await client.call<{ status: string }>('POST', `/v1/portal/documents/${own.body.id}/deletion-request`, { token });
      expect(deleted.body.status).toBe('deleted');
      expect((await storedDocument(service, own.body.id))?.status).toBe('deleted');
      const list = await client.call<{ documents: PortalDocumentBody[] }>('GET', '/v1/portal/documents', { token });
      expect(list.body.documents.map((d) => d.id)).toEqual([doc.id]);
    });
  });

  describe('authorisations, médecin traitant, oppositions', () => {
    it('grants, revokes and blocks practitioners by national id; a block cannot be a grant', async () => {
      const { patient, token } = await patientWithSession(service, client);
      await loginAs(service, pki, 'cps:medecin'); // in the directory: names shown
      const put = (body: unknown) => client.call<Record<string, unknown>>('PUT', '/v1/portal/authorizations', { token, body });

      const grant = await put({ practitionerId: '899900000101', status: 'granted', sameRightsAsMedecinTraitant: true });
      expect(grant.status, JSON.stringify(grant.body)).toBe(200);
      expect(grant.body).toMatchObject({ status: 'granted', blocked: false, sameRightsAsMedecinTraitant: true, recordedBy: 'patient', practitioner: { surname: 'MARTIN' } });
      const revoke = await put({ practitionerId: '899900000101', status: 'denied' });
      expect(revoke.body).toMatchObject({ status: 'denied', blocked: false, sameRightsAsMedecinTraitant: false });
      const block = await put({ practitionerId: '899900000104', status: 'denied', blocked: true });
      expect(block.body).toMatchObject({ practitionerId: '899900000104', status: 'denied', blocked: true, practitioner: null });
      expect(await service.store.records.getAuthorization(patient.id, '899900000104')).toMatchObject({ blocked: true, status: 'denied', recordedBy: 'patient' });

      expectPortalProblem(await put({ practitionerId: '899900000104', status: 'granted', blocked: true }), 400, 'REQUEST_INVALID');
      expectPortalProblem(await put({ practitionerId: '899900000104', status: 'denied', sameRightsAsMedecinTraitant: true }), 400, 'REQUEST_INVALID');
      expectPortalProblem(await put({ practitionerId: "8'; DROP TABLE authorizations; --", status: 'granted' }), 400, 'REQUEST_INVALID');
      expect((await service.store.records.getAuthorization(patient.id, '899900000104'))?.blocked).toBe(true);

      const list = await client.call<{ authorizations: { practitionerId: string; blocked: boolean }[] }>('GET', '/v1/portal/authorizations', { token });
      expect(list.body.authorizations.map((a) => [a.practitionerId, a.blocked]).sort()).toEqual([
        ['899900000101', false],
        ['899900000104', true],
      ]);
      expect((await chain(patient)).filter((e) => e.action === 'authorization').map((e) => [e.target, e.detail?.blocked])).toEqual([
        ['practitioner:899900000101', false],
        ['practitioner:899900000101', false],
        ['practitioner:899900000104', true],
      ]);
    });

    it('declares a médecin (known, not blocked) as médecin traitant, authorising him; blocking him removes him', async () => {
      const { patient, token } = await patientWithSession(service, client);
      await loginAs(service, pki, 'cps:medecin');
      await loginAs(service, pki, 'cps:infirmier');
      const declare = (practitionerId: string | null) => client.call<{ medecinTraitantId: string | null }>('PUT', '/v1/portal/medecin-traitant', { token, body: { practitionerId } });

      expectPortalProblem(await declare('899900000199'), 422, 'MEDECIN_TRAITANT_INVALID'); // never logged in
      expectPortalProblem(await declare('899900000103'), 422, 'MEDECIN_TRAITANT_INVALID'); // a nurse
      await client.call('PUT', '/v1/portal/authorizations', { token, body: { practitionerId: '899900000101', status: 'denied', blocked: true } });
      expectPortalProblem(await declare('899900000101'), 409, 'PRACTITIONER_BLOCKED');
      await client.call('PUT', '/v1/portal/authorizations', { token, body: { practitionerId: '899900000101', status: 'denied' } });

      const ok = await declare('899900000101');
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect((await service.store.portal.getPatient(patient.id))?.medecinTraitantId).toBe('899900000101');
      expect(await service.store.records.getAuthorization(patient.id, '899900000101')).toMatchObject({ status: 'granted', blocked: false });
      expect((await client.call<{ medecinTraitantId: string }>('GET', '/v1/portal/me', { token })).body.medecinTraitantId).toBe('899900000101');

      await client.call('PUT', '/v1/portal/authorizations', { token, body: { practitionerId: '899900000101', status: 'denied', blocked: true } });
      expect((await service.store.portal.getPatient(patient.id))?.medecinTraitantId).toBeNull();
      await client.call('PUT', '/v1/portal/authorizations', { token, body: { practitionerId: '899900000101', status: 'granted' } });
      expect((await declare('899900000101')).status).toBe(200);
      expect((await declare(null)).body).toEqual({ medecinTraitantId: null });
      expect((await service.store.portal.getPatient(patient.id))?.medecinTraitantId).toBeNull();
      expect((await chain(patient)).filter((e) => e.action === 'medecin_traitant')).toHaveLength(3);
    });

    it('stores his oppositions to break-glass and regulation-centre access', async () => {
      const { patient, token } = await patientWithSession(service, client);
      const put = await client.call('PUT', '/v1/portal/oppositions', { token, body: { brisDeGlace: true, centre15: false } });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      expect(put.body).toEqual({ brisDeGlace: true, centre15: false });
      expect(await service.store.records.getPatientById(patient.id)).toMatchObject({ opposesBrisDeGlace: true, opposesCentre15: false });
      await client.call('PUT', '/v1/portal/oppositions', { token, body: { brisDeGlace: false, centre15: true } });
      expect(await service.store.records.getPatientById(patient.id)).toMatchObject({ opposesBrisDeGlace: false, opposesCentre15: true });
      expect((await client.call('GET', '/v1/portal/me', { token })).body).toMatchObject({ oppositions: { brisDeGlace: false, centre15: true } });
      expectPortalProblem(await client.call('PUT', '/v1/portal/oppositions', { token, body: { brisDeGlace: 'yes', centre15: true } }), 400, 'REQUEST_INVALID');
      expect((await chain(patient)).filter((e) => e.action === 'oppositions').map((e) => e.detail)).toEqual([
        { brisDeGlace: true, centre15: false },
        { brisDeGlace: false, centre15: true },
      ]);
    });
  });

  describe('traces and closing', () => {
    it('shows his chain newest first with readable labels, paged', async () => {
      const { token } = await patientWithSession(service, client);
      await client.call('PUT', '/v1/portal/oppositions', { token, body: { brisDeGlace: true, centre15: true } });
      const page1 = await client.call<{ traces: { seq: number; action: string; actionLabel: string; modeLabel: string; actor: { label: string }; summary: string }[]; nextCursor: string }>(
        'GET',
        '/v1/portal/traces?limit=2',
        { token },
      );
      expect(page1.status, JSON.stringify(page1.body)).toBe(200);
      expect(page1.body.traces.map((t) => t.action)).toEqual(['read_traces', 'oppositions']);
      expect(page1.body.traces[1]).toMatchObject({ actionLabel: 'modifier ses oppositions (bris de glace, centre 15)', modeLabel: 'portail patient', actor: { label: 'vous-même' } });
      expect(page1.body.traces[1]?.summary).toContain('modifier ses oppositions');
      const page2 = await client.call<{ traces: { seq: number; action: string }[]; nextCursor: string | null }>('GET', `/v1/portal/traces?limit=10&cursor=${page1.body.nextCursor}`, { token });
      expect(page2.body.traces.map((t) => t.action)).toEqual(['login', 'activate']);
      expect(page2.body.traces.map((t) => t.seq)).toEqual([2, 1]);
      expect(page2.body.nextCursor).toBeNull();
      // another patient's chain is not his
      const other = await patientWithSession(service, client);
      const theirs = await client.call<{ traces: { action: string }[] }>('GET', '/v1/portal/traces', { token: other.token });
      expect(theirs.body.traces.map((t) => t.action)).toEqual(['read_traces', 'login', 'activate']);
    });

    it('closes his DMP: sessions end, login is refused, the médecin traitant is told', async () => {
      const { patient, token, email } = await patientWithSession(service, client);
      await loginAs(service, pki, 'cps:medecin');
      await client.call('PUT', '/v1/portal/medecin-traitant', { token, body: { practitionerId: '899900000101' } });
      const second = await loginWithOtp(service, client, patient, email);

      expectPortalProblem(await client.call('POST', '/v1/portal/close', { token, body: {} }), 400, 'REQUEST_INVALID');
      const close = await client.call<{ status: string; closedAt: string }>('POST', '/v1/portal/close', { token, body: { confirm: true, reason: 'Je n’en veux plus' } });
      expect(close.status, JSON.stringify(close.body)).toBe(200);
      expect(close.body.status).toBe('closed');
      expect(await service.store.records.getPatientById(patient.id)).toMatchObject({ status: 'closed', closedAt: Date.parse(close.body.closedAt) });
      // every session of the DMP is gone from the store, not only refused
      expect(await service.store.getSession(patientSessionTokenHash(second))).toBeNull();
      expectPortalProblem(await client.call('GET', '/v1/portal/me', { token }), 401, 'SESSION_INVALID');
      expectPortalProblem(await client.call('GET', '/v1/portal/me', { token: second }), 401, 'SESSION_INVALID');
      expectPortalProblem(await client.call('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode: SECRET_CODE } }), 403, 'DMP_CLOSED');
      const notices = await service.store.portal.listOutbox('practitioner:899900000101');
      expect(notices.map((n) => JSON.parse(n.payload).event)).toEqual(['dmp.closed']);
      expect((await chain(patient)).at(-1)).toMatchObject({ action: 'close', mode: 'portal', actor: 'patient', detail: { reason: 'Je n’en veux plus' } });
    });
  });

  it('stores SQL-looking text verbatim: contact, secret code, titles, reasons', async () => {
    for (const text of SQL_TEXTS) {
      const patient = await createPatient(service);
      const email = `${text.replace(/[^A-Za-z0-9'=-]/g, '')}'--@exemple.fr`;
      await activate(client, patient, { kind: 'email', value: email }, `${text}Zz9`);
      expect((await service.store.portal.getPatient(patient.id))?.portalContact).toBe(email);
      const token = await loginWithOtp(service, client, patient, email, `${text}Zz9`);

      const upload = await client.call<PortalDocumentBody>('POST', '/v1/portal/documents', { token, form: uploadForm({ title: text, typeCode: '60591-5' }, pdfBytes(text)) });
      expect(upload.status, JSON.stringify(upload.body)).toBe(201);
      expect((await storedDocument(service, upload.body.id))?.title).toBe(text);
      const list = await client.call<{ documents: PortalDocumentBody[] }>('GET', '/v1/portal/documents', { token });
      expect(list.body.documents[0]?.title).toBe(text);

      const doc = await insertPractitionerDocument(service, patient);
      await client.call('POST', `/v1/portal/documents/${doc.id}/deletion-request`, { token, body: { reason: text } });
      const [notice] = await service.store.portal.listOutbox('practitioner:899900000101').then((all) => all.filter((m) => m.payload.includes(doc.id)));
      expect(JSON.parse(notice!.payload).reason).toBe(text);
      await client.call('POST', '/v1/portal/close', { token, body: { confirm: true, reason: text } });
      expect((await chain(patient)).at(-1)?.detail).toEqual({ reason: text });
    }
    // fields that are not stored answer with their refusal, never a server error
    const patient = await createPatient(service);
    for (const text of SQL_TEXTS) {
      const contact = { kind: 'email', value: 'sql@exemple.fr' };
      expectPortalProblem(await client.call('POST', '/v1/portal/activate', { body: { ins: patient.ins, activationCode: text, secretCode: SECRET_CODE, contact } }), 401, 'ACTIVATION_INVALID');
      expectPortalProblem(await client.call('POST', '/v1/portal/login', { body: { ins: { oid: patient.ins.oid, value: text }, secretCode: text } }), 400, 'INS_INVALID');
      expectPortalProblem(await client.call('GET', `/v1/portal/documents?cursor=${encodeURIComponent(text)}`, { token: (await patientWithSession(service, client)).token }), 400, 'CURSOR_INVALID');
    }
    // every table still there and answering
    expect(await service.store.records.getPatientById('nobody')).toBeNull();
    expect(await service.store.portal.findPatientByIns(patient.ins.oid, patient.ins.value)).toMatchObject({ id: patient.id });
  });
});
