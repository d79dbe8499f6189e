// Reading documents through the API, on SQLite and PostgreSQL: every rule of "Patients and
// access" with its refusal beside the allowed case — authorisation, blocking, the matrix,
// masking, break-glass, regulation centre, establishments — then downloads, author-only changes,
// cursor paging, and the traces (every read and refusal, tamper-evident).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStoredTraces } from '../../../src/dmp/store/index.js';
import type { PractitionerCredentials } from '../../../src/pki/test-pki.js';
import { dmpStoreKinds, expectProblem, openDmpTestPki, TEST_ORIGIN, type DmpTestPki, type TestDmpService } from '../../support/dmp/index.js';
import {
  call,
  cdaDocument,
  createDmp,
  freshIns,
  grant,
  patientTraces,
  sendDocument,
  sessionOf,
  setBlocked,
  setPatientState,
  sql,
  startRecordsService,
  type Json,
  type Session,
  type TestIns,
} from './support.js';

const STORES = await dmpStoreKinds();

let pki: DmpTestPki;
let medecinKeys: PractitionerCredentials;
beforeAll(async () => {
  pki = await openDmpTestPki();
  medecinKeys = await pki.persona('cps:medecin');
});

type Page = { documents: Json[]; nextCursor: string | null };
const BDG = (reason?: string): { headers: Record<string, string> } => ({
  headers: { 'X-Access-Mode': 'bris_de_glace', ...(reason === undefined ? {} : { 'X-Access-Reason': reason }) },
});
const C15 = { headers: { 'X-Access-Mode': 'centre_15' } };

describe.each(STORES)('DMP document reading on %s', (kind) => {
  let service: TestDmpService;
  let medecin: Session; // creates the DMPs and writes the documents
  let autreMedecin: Session;
  let infirmier: Session;
  let podologue: Session;

  beforeAll(async () => {
    service = await startRecordsService(pki, kind);
    medecin = await sessionOf(service, pki, 'cps:medecin');
    autreMedecin = await sessionOf(service, pki, 'cps:medecin-cps4');
    infirmier = await sessionOf(service, pki, 'cps:infirmier');
    podologue = await sessionOf(service, pki, 'cps:podologue');
  });
  afterAll(async () => {
    await service?.close();
  });

  /** A DMP with one document of this type; returns its id. */
  async function dmpWith(typeCode: string, options: { confidentiality?: string[] } = {}): Promise<{ ins: TestIns; id: string }> {
    const ins = freshIns();
    await createDmp(medecin, ins);
    const sent = await sendDocument(medecin, medecinKeys.signature, ins, { typeCode, ...options });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    return { ins, id: String(sent.body.id) };
  }

  const search = (session: Session, ins: TestIns, query = '', options: { headers?: Record<string, string> } = {}) =>
    call<Page>(session, 'GET', `/v1/patients/${ins.path}/documents${query}`, options);

  it('no authorisation: 403 AUTHORIZATION_REQUIRED on the index, the metadata and the content; once granted, 200', async () => {
    const { ins, id } = await dmpWith('11488-4');
    expectProblem(await search(autreMedecin, ins), 403, 'AUTHORIZATION_REQUIRED');
    expectProblem(await call(autreMedecin, 'GET', `/v1/documents/${id}`), 403, 'AUTHORIZATION_REQUIRED');
    expectProblem(await call(autreMedecin, 'GET', `/v1/documents/${id}/content`), 403, 'AUTHORIZATION_REQUIRED');
    await grant(autreMedecin, ins, { status: 'expired' });
    expectProblem(await search(autreMedecin, ins), 403, 'AUTHORIZATION_REQUIRED');
    await grant(autreMedecin, ins);
    expect((await search(autreMedecin, ins)).body.documents.map((d) => d.id)).toEqual([id]);
    expect((await call(autreMedecin, 'GET', `/v1/documents/${id}`)).status).toBe(200);
    expect((await call(autreMedecin, 'GET', `/v1/documents/${id}/content`)).status).toBe(200);
  });

  it('a blocked practitioner reads nothing, granted or not, even in break-glass or as médecin traitant; unblocked, he reads', async () => {
    const { ins, id } = await dmpWith('11488-4');
    await grant(autreMedecin, ins, { status: 'granted', sameRightsAsMedecinTraitant: true });
    await setPatientState(service.db, ins, { medecinTraitantId: autreMedecin.nationalId });
    await setBlocked(service.db, ins, autreMedecin.nationalId, true);
    expectProblem(await search(autreMedecin, ins), 403, 'BLOCKED_BY_PATIENT');
    expectProblem(await search(autreMedecin, ins, '', BDG('urgence vitale')), 403, 'BLOCKED_BY_PATIENT');
    expectProblem(await search(autreMedecin, ins, '', C15), 403, 'BLOCKED_BY_PATIENT');
    expectProblem(await call(autreMedecin, 'GET', `/v1/documents/${id}/content`), 403, 'BLOCKED_BY_PATIENT');
    await setBlocked(service.db, ins, autreMedecin.nationalId, false);
    await grant(autreMedecin, ins);
    expect((await search(autreMedecin, ins)).status).toBe(200);
  });

  it('matrix: a podologue neither lists nor reads a discharge letter (11490-0) but sees his podiatry note; a doctor reads both', async () => {
    const { ins, id: letter } = await dmpWith('11490-0');
    const podiatry = String((await sendDocument(medecin, medecinKeys.signature, ins, { typeCode: '34829-2' })).body.id);
    await grant(podologue, ins);
    await grant(autreMedecin, ins);
    expect((await search(podologue, ins)).body.documents.map((d) => d.id)).toEqual([podiatry]);
    expect((await search(podologue, ins, '?typeCode=11490-0')).body.documents).toEqual([]);
    expectProblem(await call(podologue, 'GET', `/v1/documents/${letter}`), 403, 'MATRIX_DENIED');
    expectProblem(await call(podologue, 'GET', `/v1/documents/${letter}/content`), 403, 'MATRIX_DENIED');
    expect((await call(podologue, 'GET', `/v1/documents/${podiatry}/content`)).status).toBe(200);
    expect(new Set((await search(autreMedecin, ins)).body.documents.map((d) => d.id))).toEqual(new Set([letter, podiatry]));
    expect((await call(autreMedecin, 'GET', `/v1/documents/${letter}/content`)).status).toBe(200);
    expect((await patientTraces(service, ins)).find((t) => t.result === 'refused' && t.action === 'document.read')).toMatchObject({
      actor: { id: podologue.nationalId, role: '80' },
      target: `document:${letter}`,
      detail: { code: 'MATRIX_DENIED' },
    });
  });

  it('matrix: a nurse does not read a psychiatric summary (59259-2) but reads a nurse note; a doctor reads it', async () => {
    const { ins, id: psy } = await dmpWith('59259-2');
    const note = String((await sendDocument(medecin, medecinKeys.signature, ins, { typeCode: '34746-8' })).body.id);
    await grant(infirmier, ins);
    await grant(autreMedecin, ins);
    expect((await search(infirmier, ins)).body.documents.map((d) => d.id)).toEqual([note]);
    expectProblem(await call(infirmier, 'GET', `/v1/documents/${psy}`), 403, 'MATRIX_DENIED');
    expect((await call(infirmier, 'GET', `/v1/documents/${note}`)).status).toBe(200);
    expect((await call(autreMedecin, 'GET', `/v1/documents/${psy}`)).status).toBe(200);
  });

  it('MASQUE_PS: hidden from another authorised doctor (absent from the index, 404), seen by its author, the médecin traitant and a same-rights practitioner', async () => {
    const { ins, id } = await dmpWith('11488-4', { confidentiality: ['MASQUE_PS'] });
    await grant(autreMedecin, ins);
    expect((await search(autreMedecin, ins)).body.documents).toEqual([]);
    expectProblem(await call(autreMedecin, 'GET', `/v1/documents/${id}`), 404, 'DOCUMENT_NOT_FOUND');
    expect((await search(medecin, ins)).body.documents.map((d) => d.id)).toEqual([id]);
    expect((await call(medecin, 'GET', `/v1/documents/${id}`)).body).toMatchObject({ confidentiality: ['MASQUE_PS'] });
    // declared médecin traitant by the patient (portal)
    await setPatientState(service.db, ins, { medecinTraitantId: autreMedecin.nationalId });
    expect((await search(autreMedecin, ins)).body.documents.map((d) => d.id)).toEqual([id]);
    expect((await call(autreMedecin, 'GET', `/v1/documents/${id}/content`)).status).toBe(200);
    await setPatientState(service.db, ins, { medecinTraitantId: null });
    expectProblem(await call(autreMedecin, 'GET', `/v1/documents/${id}`), 404, 'DOCUMENT_NOT_FOUND');
    // same rights as the médecin traitant, recorded with the patient's agreement
    await grant(autreMedecin, ins, { status: 'granted', sameRightsAsMedecinTraitant: true });
    expect((await call(autreMedecin, 'GET', `/v1/documents/${id}`)).status).toBe(200);
  });

  it('break-glass: 400 REASON_REQUIRED without a reason; allowed with one, flagged in the traces, the patient and médecin traitant notified', async () => {
    const { ins, id } = await dmpWith('11488-4');
    await setPatientState(service.db, ins, { medecinTraitantId: medecin.nationalId });
    expectProblem(await search(autreMedecin, ins, '', BDG()), 400, 'REASON_REQUIRED');
    expectProblem(await search(autreMedecin, ins, '', BDG('   ')), 400, 'REASON_REQUIRED');
    const reason = 'Patient inconscient aux urgences – arrêt cardiaque';
    const page = await search(autreMedecin, ins, '', BDG(encodeURIComponent(reason)));
    expect(page.status).toBe(200);
    expect(page.body.documents.map((d) => d.id)).toEqual([id]);
    const content = await call(autreMedecin, 'GET', `/v1/documents/${id}/content`, BDG(encodeURIComponent(reason)));
    expect(content.status).toBe(200);
    const traces = await patientTraces(service, ins);
    const refused = traces.filter((t) => t.result === 'refused' && t.action === 'document.search');
    expect(refused.map((t) => [t.mode, (t.detail as Json).code])).toEqual([
      ['bris_de_glace', 'REASON_REQUIRED'],
      ['bris_de_glace', 'REASON_REQUIRED'],
    ]);
    expect(traces.filter((t) => t.result === 'ok' && t.mode === 'bris_de_glace').map((t) => [t.action, (t.detail as Json).reason, (t.detail as Json).emergency])).toEqual([
      ['document.search', reason, true],
      ['document.read', reason, true],
    ]);
    const [patient] = await sql<{ id: string }>(service.db, 'SELECT id FROM patients WHERE ins_value = ?', [ins.value]);
    const outbox = await sql<{ recipient: string; payload: string }>(service.db, 'SELECT recipient, payload FROM outbox WHERE recipient IN (?, ?) ORDER BY recipient', [
      `patient:${patient?.id}`,
      `practitioner:${medecin.nationalId}`,
    ]);
    // one notification per recipient for this emergency (the search and the read of the same hour)
    expect(outbox.map((m) => m.recipient)).toEqual([`patient:${patient?.id}`, `practitioner:${medecin.nationalId}`]);
    for (const message of outbox) {
      expect(JSON.parse(message.payload)).toMatchObject({ event: 'dmp.emergency_access', mode: 'bris_de_glace', reason, practitioner: { id: autreMedecin.nationalId } });
    }
    // a normal, authorised read notifies nobody
    const { ins: quiet } = await dmpWith('11488-4');
    await search(medecin, quiet);
    const [quietPatient] = await sql<{ id: string }>(service.db, 'SELECT id FROM patients WHERE ins_value = ?', [quiet.value]);
    expect(await sql(service.db, 'SELECT id FROM outbox WHERE recipient = ?', [`patient:${quietPatient?.id}`])).toEqual([]);
  });

  it('break-glass after the patient’s opposition: 403 BRIS_DE_GLACE_OPPOSED, traced; without opposition, allowed', async () => {
    const { ins } = await dmpWith('11488-4');
    await setPatientState(service.db, ins, { opposesBrisDeGlace: true });
    expectProblem(await search(autreMedecin, ins, '', BDG('urgence')), 403, 'BRIS_DE_GLACE_OPPOSED');
    expect((await patientTraces(service, ins)).at(-1)).toMatchObject({ mode: 'bris_de_glace', result: 'refused', detail: { code: 'BRIS_DE_GLACE_OPPOSED' } });
    await setPatientState(service.db, ins, { opposesBrisDeGlace: false });
    expect((await search(autreMedecin, ins, '', BDG('urgence'))).status).toBe(200);
  });

  it('centre 15: a doctor reads without authorisation (flagged, notified); a nurse cannot; refused after the patient’s opposition', async () => {
    const { ins, id } = await dmpWith('11488-4');
    expectProblem(await search(infirmier, ins, '', C15), 403, 'CENTRE_15_NOT_ALLOWED');
    const page = await search(autreMedecin, ins, '', C15);
    expect(page.status).toBe(200);
    expect(page.body.documents.map((d) => d.id)).toEqual([id]);
    expect((await patientTraces(service, ins)).at(-1)).toMatchObject({ action: 'document.search', mode: 'centre_15', result: 'ok', detail: { emergency: true } });
    const [patient] = await sql<{ id: string }>(service.db, 'SELECT id FROM patients WHERE ins_value = ?', [ins.value]);
    expect(await sql(service.db, 'SELECT id FROM outbox WHERE recipient = ?', [`patient:${patient?.id}`])).toHaveLength(1);
    await setPatientState(service.db, ins, { opposesCentre15: true });
    expectProblem(await search(autreMedecin, ins, '', C15), 403, 'CENTRE_15_OPPOSED');
    expectProblem(await search(autreMedecin, ins, '', { headers: { 'X-Access-Mode': 'superuser' } }), 400, 'ACCESS_MODE_INVALID');
  });

  it('a CDA carrying <script> is served as a download only: attachment, nosniff, CSP sandbox, original type, no caching', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    const hostile = new TextDecoder()
      .decode(cdaDocument(ins, 'x'))
      .replace('<title>Compte rendu</title>', '<title>Compte rendu</title><script xmlns="http://www.w3.org/1999/xhtml">alert(document.cookie)</script>');
    const content = new TextEncoder().encode(hostile);
    const sent = await sendDocument(medecin, medecinKeys.signature, ins, { content });
    expect(sent.status).toBe(201);
    const response = await call(medecin, 'GET', `/v1/documents/${String(sent.body.id)}/content`, { headers: { Origin: TEST_ORIGIN } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="document-${String(sent.body.id)}.xml"`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toBe('sandbox');
    expect(response.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    expect(response.headers.get('cache-control')).toContain('no-store');
    expect(response.body).toBe(hostile);
  });

  it('deletion by a non-author: 403 NOT_AUTHOR; by the author: gone from the index and from reads', async () => {
    const { ins, id } = await dmpWith('11488-4');
    await grant(autreMedecin, ins);
    expectProblem(await call(autreMedecin, 'DELETE', `/v1/documents/${id}`), 403, 'NOT_AUTHOR');
    expect((await call(autreMedecin, 'GET', `/v1/documents/${id}`)).status).toBe(200);
    const deleted = await call(medecin, 'DELETE', `/v1/documents/${id}`);
    expect(deleted.status).toBe(204);
    expectProblem(await call(autreMedecin, 'GET', `/v1/documents/${id}`), 404, 'DOCUMENT_NOT_FOUND');
    expectProblem(await call(medecin, 'GET', `/v1/documents/${id}/content`), 404, 'DOCUMENT_NOT_FOUND');
    expect((await search(medecin, ins, '?status=approved,archived,deprecated')).body.documents).toEqual([]);
    const [row] = await sql<{ status: string; deleted_at: unknown }>(service.db, 'SELECT status, deleted_at FROM documents WHERE id = ?', [id]);
    expect(row?.status).toBe('deleted');
    expect(row?.deleted_at).not.toBeNull();
  });

  it('PATCH by the author only: archive and back, confidentiality; masking is lifted by the patient only', async () => {
    const { ins, id } = await dmpWith('11488-4');
    await grant(autreMedecin, ins);
    expectProblem(await call(autreMedecin, 'PATCH', `/v1/documents/${id}`, { body: { status: 'archived' } }), 403, 'NOT_AUTHOR');
    const archived = await call(medecin, 'PATCH', `/v1/documents/${id}`, { body: { status: 'archived' } });
    expect(archived.body).toMatchObject({ status: 'archived' });
    expect((await search(medecin, ins)).body.documents).toEqual([]);
    expect((await search(medecin, ins, '?status=archived')).body.documents.map((d) => d.id)).toEqual([id]);
    expect((await call(medecin, 'PATCH', `/v1/documents/${id}`, { body: { status: 'approved', confidentiality: ['MASQUE_PS', 'INVISIBLE_PATIENT'] } })).body).toMatchObject({
      status: 'approved',
      confidentiality: ['INVISIBLE_PATIENT', 'MASQUE_PS'],
    });
    expectProblem(await call(autreMedecin, 'GET', `/v1/documents/${id}`), 404, 'DOCUMENT_NOT_FOUND');
    expectProblem(await call(medecin, 'PATCH', `/v1/documents/${id}`, { body: { confidentiality: ['INVISIBLE_PATIENT'] } }), 403, 'UNMASK_PATIENT_ONLY');
    expect((await call(medecin, 'PATCH', `/v1/documents/${id}`, { body: { confidentiality: ['MASQUE_PS'] } })).body).toMatchObject({ confidentiality: ['MASQUE_PS'] });
    expectProblem(await call(medecin, 'PATCH', `/v1/documents/${id}`, { body: { status: 'deleted' } }), 400, 'REQUEST_INVALID');
    expect((await patientTraces(service, ins)).filter((t) => t.action === 'document.update').map((t) => t.result)).toEqual(['refused', 'ok', 'ok', 'refused', 'ok']);
  });

  it('cursor paging over 25 documents: pages of 10, 10 and 5, newest first, each once — stable while documents are added', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    const base = Date.parse('2025-01-01T08:00:00Z');
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      // pairs share a creation time: ties are broken by id
      const creationTime = new Date(base + Math.floor(i / 2) * 3_600_000).toISOString();
      const sent = await sendDocument(medecin, medecinKeys.signature, ins, { title: `n°${i}`, creationTime });
      ids.push(String(sent.body.id));
    }
    const seen: Json[] = [];
    let cursor: string | null = null;
    const sizes: number[] = [];
    do {
      const query: string = `?limit=10${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await search(medecin, ins, query);
      expect(page.status).toBe(200);
      sizes.push(page.body.documents.length);
      seen.push(...page.body.documents);
      cursor = page.body.nextCursor;
      if (sizes.length === 1) {
        // a newer document arrives between pages: it does not shift the following pages
        await sendDocument(medecin, medecinKeys.signature, ins, { title: 'nouveau', creationTime: new Date().toISOString() });
      }
    } while (cursor !== null);
    expect(sizes).toEqual([10, 10, 5]);
    expect(new Set(seen.map((d) => d.id))).toEqual(new Set(ids));
    const order = seen.map((d) => [Date.parse(String(d.creationTime)), String(d.id)] as const);
    const sorted = [...order].sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? 1 : -1));
    expect(order).toEqual(sorted);
    expectProblem(await search(medecin, ins, '?cursor=Zm9yZ2Vk'), 400, 'CURSOR_INVALID');
    // filters: type, class (repeatable), creation dates
    const between = async (from: number, to: number) =>
      (await search(medecin, ins, `?from=${new Date(base + from * 3_600_000).toISOString()}&to=${new Date(base + to * 3_600_000).toISOString()}`)).body.documents.map((d) => d.title);
    expect(await between(12, 13)).toEqual(['n°24']);
    expect(new Set(await between(11, 12))).toEqual(new Set(['n°22', 'n°23']));
    expect((await search(medecin, ins, '?classCode=SEJOUR&classCode=SOINS')).body.documents).toEqual([]);
    expect((await search(medecin, ins, '?typeCode=11488-4&limit=100')).body.documents).toHaveLength(26);
    // every search is traced, with what it returned
    const searches = (await patientTraces(service, ins)).filter((t) => t.action === 'document.search');
    expect(searches[0]).toMatchObject({ result: 'ok', detail: { count: 10 } });
  });

  it('CORS: a break-glass search from an allowed origin may send X-Access-Mode and X-Access-Reason', async () => {
    const preflight = await fetch(`${service.url}/v1/patients/x/documents`, {
      method: 'OPTIONS',
      headers: { Origin: TEST_ORIGIN, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization, dpop, x-access-mode, x-access-reason' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('X-Access-Reason');
    const other = await fetch(`${service.url}/v1/patients/x/documents`, {
      method: 'OPTIONS',
      headers: { Origin: TEST_ORIGIN, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-forwarded-for' },
    });
    expect(other.status).toBe(403);
  });

  it('traces: an altered trace row is found by verifyStoredTraces (it passed before)', async () => {
    const { ins } = await dmpWith('11488-4');
    await search(medecin, ins);
    expect(await verifyStoredTraces(service.store)).toMatchObject({ ok: true });
    const chain = `patient:${ins.oid}:${ins.value}`;
    const drop = kind === 'sqlite' ? ['DROP TRIGGER traces_no_update'] : ['DROP TRIGGER traces_no_update_or_delete ON traces'];
    for (const statement of drop) await sql(service.db, statement);
    // someone with database access hides who searched
    await sql(service.db, `UPDATE traces SET entry = replace(entry, ?, ?) WHERE chain_id = ? AND action = 'document.search'`, [
      `"id":"${medecin.nationalId}"`,
      `"id":"${autreMedecin.nationalId}"`,
      chain,
    ]);
    const result = await verifyStoredTraces(service.store);
    expect(result).toMatchObject({ ok: false, chain, reason: expect.stringMatching(/altered/) });
  });
});
