// What the patient's decisions on the portal change for practitioners, through the
// practitioner-side routes (POST /v1/patients, document search and reads): masking, blocking,
// oppositions, closing; and the practitioners' accesses in the patient's readable traces. Same
// suite on SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INS_NIR_TEST_OID } from '../../../src/ins/index.js';
import { dmpStoreKinds, loginAs, openDmpTestPki, type DmpTestPki, type LoggedIn, type TestDmpService } from '../../support/dmp/index.js';
import { activate, expectPortalProblem, insertPractitionerDocument, loginWithOtp, newTestNir, PatientClient, startPortalService, type TestPatient } from './portal-support.js';

const STORES = await dmpStoreKinds();

let pki: DmpTestPki;
beforeAll(async () => {
  pki = await openDmpTestPki();
});

const AUTHOR = '899900000102'; // cps:medecin-cps4, creates the DMPs and writes the documents
const READER = '899900000101'; // cps:medecin, reads them

describe.each(STORES)('portal decisions seen by practitioners on %s', (kind) => {
  let service: TestDmpService;
  let patientClient: PatientClient;
  let author: LoggedIn;
  let reader: LoggedIn;

  beforeAll(async () => {
    service = await startPortalService(pki, kind);
    patientClient = new PatientClient(service.url);
    author = await loginAs(service, pki, 'cps:medecin-cps4');
    reader = await loginAs(service, pki, 'cps:medecin');
  });
  afterAll(async () => {
    await service?.close();
  });

  /** A DMP created by AUTHOR through POST /v1/patients, activated on the portal, and a patient session. */
  async function dmpWithPatient(): Promise<{ patient: TestPatient; token: string }> {
    const nir = newTestNir();
    const ins = { oid: INS_NIR_TEST_OID, value: nir };
    const traits = { birthSurname: 'DUPONT', firstNames: 'JEAN', birthDate: `19${nir.slice(1, 3)}-${nir.slice(3, 5)}-15`, sex: 'M', birthplaceCode: '75056' };
    const created = await author.client.call<{ activationCode: string }>('POST', '/v1/patients', { sessionToken: author.sessionToken, body: { ins, traits, consent: true } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const row = await service.store.portal.findPatientByIns(ins.oid, ins.value);
    const patient: TestPatient = { id: row!.id, ins, insPath: `${ins.oid}:${ins.value}`, activationCode: created.body.activationCode };
    const email = `pv.${nir}@exemple.fr`;
    await activate(patientClient, patient, { kind: 'email', value: email });
    return { patient, token: await loginWithOtp(service, patientClient, patient, email) };
  }

  function search(who: LoggedIn, patient: TestPatient, headers: Record<string, string> = {}) {
    return who.client.call<{ documents: { id: string }[] }>('GET', `/v1/patients/${patient.insPath}/documents`, { sessionToken: who.sessionToken, headers });
  }

  it('MASQUE_PS hides a document from a non-author practitioner, not from its author nor the médecin traitant; unmasking shows it again', async () => {
    const { patient, token } = await dmpWithPatient();
    const doc = await insertPractitionerDocument(service, patient, { authorId: AUTHOR });
    await patientClient.call('PUT', '/v1/portal/authorizations', { token, body: { practitionerId: READER, status: 'granted' } });

    expect((await search(reader, patient)).body.documents.map((d) => d.id)).toEqual([doc.id]);
    expect((await patientClient.call('POST', `/v1/portal/documents/${doc.id}/mask`, { token })).status).toBe(200);
    const hidden = await search(reader, patient);
    expect(hidden.status, JSON.stringify(hidden.body)).toBe(200);
    expect(hidden.body.documents).toEqual([]);
    const direct = await reader.client.call('GET', `/v1/documents/${doc.id}`, { sessionToken: reader.sessionToken });
    expect(direct.status).toBe(404);
    expect((await search(author, patient)).body.documents.map((d) => d.id)).toEqual([doc.id]);
    // the patient still sees it, masked
    const own = await patientClient.call<{ documents: { id: string; masquePs: boolean }[] }>('GET', '/v1/portal/documents', { token });
    expect(own.body.documents).toMatchObject([{ id: doc.id, masquePs: true }]);

    await patientClient.call('PUT', '/v1/portal/medecin-traitant', { token, body: { practitionerId: READER } });
    expect((await search(reader, patient)).body.documents.map((d) => d.id)).toEqual([doc.id]);
    await patientClient.call('PUT', '/v1/portal/medecin-traitant', { token, body: { practitionerId: null } });
    expect((await search(reader, patient)).body.documents).toEqual([]);

    expect((await patientClient.call('POST', `/v1/portal/documents/${doc.id}/unmask`, { token })).status).toBe(200);
    expect((await search(reader, patient)).body.documents.map((d) => d.id)).toEqual([doc.id]);
  });

  it('a blocked practitioner reads nothing, even the DMP’s creator, even in break-glass, and cannot grant himself again', async () => {
    const { patient, token } = await dmpWithPatient();
    await insertPractitionerDocument(service, patient, { authorId: AUTHOR });
    expect((await search(author, patient)).status).toBe(200);
    await patientClient.call('PUT', '/v1/portal/authorizations', { token, body: { practitionerId: AUTHOR, status: 'denied', blocked: true } });

    const blocked = await search(author, patient);
    expect(blocked.status).toBe(403);
    expect((blocked.body as unknown as { code: string }).code).toBe('BLOCKED_BY_PATIENT');
    const urgent = await search(author, patient, { 'X-Access-Mode': 'bris_de_glace', 'X-Access-Reason': 'urgence vitale' });
    expect((urgent.body as unknown as { code: string }).code).toBe('BLOCKED_BY_PATIENT');
    const regrant = await author.client.call('PUT', `/v1/patients/${patient.insPath}/authorization`, { sessionToken: author.sessionToken, body: { status: 'granted' } });
    expect(regrant.status).toBe(403);
    expect((await service.store.records.getAuthorization(patient.id, AUTHOR))?.blocked).toBe(true);

    await patientClient.call('PUT', '/v1/portal/authorizations', { token, body: { practitionerId: AUTHOR, status: 'granted' } });
    expect((await search(author, patient)).status).toBe(200);
  });

  it('oppositions refuse break-glass and regulation-centre access from then on', async () => {
    const { patient, token } = await dmpWithPatient();
    await insertPractitionerDocument(service, patient, { authorId: AUTHOR });
    const breakGlass = { 'X-Access-Mode': 'bris_de_glace', 'X-Access-Reason': 'patient inconscient' };
    const centre15 = { 'X-Access-Mode': 'centre_15' };
    expect((await search(reader, patient)).status).toBe(403); // no authorisation: normal mode refused
    expect((await search(reader, patient, breakGlass)).status).toBe(200);
    expect((await search(reader, patient, centre15)).status).toBe(200);

    await patientClient.call('PUT', '/v1/portal/oppositions', { token, body: { brisDeGlace: true, centre15: true } });
    const refusedGlass = await search(reader, patient, breakGlass);
    const refused15 = await search(reader, patient, centre15);
    expect([refusedGlass.status, (refusedGlass.body as unknown as { code: string }).code]).toEqual([403, 'BRIS_DE_GLACE_OPPOSED']);
    expect([refused15.status, (refused15.body as unknown as { code: string }).code]).toEqual([403, 'CENTRE_15_OPPOSED']);

    await patientClient.call('PUT', '/v1/portal/oppositions', { token, body: { brisDeGlace: false, centre15: true } });
    expect((await search(reader, patient, breakGlass)).status).toBe(200);
  });

  it('the patient’s traces show the practitioners’ accesses, by name and mode, refusals included', async () => {
    const { patient, token } = await dmpWithPatient();
    await insertPractitionerDocument(service, patient, { authorId: AUTHOR });
    await search(reader, patient); // refused: no authorisation
    await search(reader, patient, { 'X-Access-Mode': 'bris_de_glace', 'X-Access-Reason': 'malaise' });

    const traces = await patientClient.call<{ traces: { action: string; actionLabel: string; mode: string; modeLabel: string; result: string; actor: { kind: string; id: string; label: string } }[] }>(
      'GET',
      '/v1/portal/traces',
      { token },
    );
    expect(traces.status).toBe(200);
    const byReader = traces.body.traces.filter((t) => t.actor.id === READER);
    expect(byReader.map((t) => [t.action, t.mode, t.result])).toEqual([
      ['document.search', 'bris_de_glace', 'ok'],
      ['document.search', 'normal', 'refused'],
    ]);
    expect(byReader[0]).toMatchObject({
      actionLabel: 'rechercher dans vos documents',
      modeLabel: 'accès en urgence (bris de glace)',
      actor: { kind: 'practitioner', label: 'SOPHIE MARTIN (Médecin)' },
    });
    const creation = traces.body.traces.find((t) => t.action === 'patient.create');
    expect(creation?.actor.id).toBe(AUTHOR);
  });

  it('a DMP the patient closed is closed for practitioners too', async () => {
    const { patient, token } = await dmpWithPatient();
    expect((await search(author, patient)).status).toBe(200);
    expect((await patientClient.call('POST', '/v1/portal/close', { token, body: { confirm: true } })).status).toBe(200);
    const closed = await search(author, patient);
    expect([closed.status, (closed.body as unknown as { code: string }).code]).toEqual([403, 'DMP_CLOSED']);
    expectPortalProblem(await patientClient.call('GET', '/v1/portal/documents', { token }), 401, 'SESSION_INVALID');
  });
});
