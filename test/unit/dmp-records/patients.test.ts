// The DMPs themselves through the API, on SQLite and PostgreSQL: creation (consent, INS, traits,
// one-time activation code stored as a hash), the status a practitioner sees, authorisations
// recorded by practitioners (never lifting a patient's block), the médecin traitant and the
// traces reserved to the patient, closing — each refusal beside the case that is allowed, and
// every step traced in the patient's chain.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INS_C_OID, computeInsC } from '../../../src/ins/index.js';
import { verifyActivationCode } from '../../../src/dmp/portal/activation.js';
import { verifyStoredTraces } from '../../../src/dmp/store/index.js';
import { attemptLogin, dmpStoreKinds, expectProblem, openDmpTestPki, type DmpTestPki, type TestDmpService } from '../../support/dmp/index.js';
import {
  call,
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
} from './support.js';

const STORES = await dmpStoreKinds();

let pki: DmpTestPki;
beforeAll(async () => {
  pki = await openDmpTestPki();
});

describe.each(STORES)('DMP patients on %s', (kind) => {
  let service: TestDmpService;
  let medecin: Session;
  let autreMedecin: Session;

  beforeAll(async () => {
    service = await startRecordsService(pki, kind);
    medecin = await sessionOf(service, pki, 'cps:medecin');
    autreMedecin = await sessionOf(service, pki, 'cps:medecin-cps4');
  });
  afterAll(async () => {
    await service?.close();
  });

  it('CONSENT_REQUIRED without consent: true (nothing created); with it, 201 and a one-time activation code of which only a hash is kept', async () => {
    const ins = freshIns();
    const body = { ins: { oid: ins.oid, value: ins.value }, traits: ins.traits };
    expectProblem(await call(medecin, 'POST', '/v1/patients', { body }), 400, 'CONSENT_REQUIRED');
    expectProblem(await call(medecin, 'POST', '/v1/patients', { body: { ...body, consent: 'true' } }), 400, 'CONSENT_REQUIRED');
    expect(await sql(service.db, 'SELECT id FROM patients WHERE ins_value = ?', [ins.value])).toEqual([]);

    const created = await call(medecin, 'POST', '/v1/patients', { body: { ...body, consent: true } });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/patients/${encodeURIComponent(ins.path)}`);
    expect(created.body).toMatchObject({
      ins: { oid: ins.oid, value: ins.value },
      status: 'active',
      authorization: 'granted',
      medecinTraitant: false,
      traits: ins.traits,
      activationCode: expect.stringMatching(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/),
    });
    const code = String(created.body.activationCode);
    expect(Date.parse(String(created.body.activationExpiresAt)) - Date.now()).toBeGreaterThan(80 * 86_400_000);
    const [row] = await sql<{ activation_code_hash: string; consent_at: unknown; created_by: string }>(
      service.db,
      'SELECT activation_code_hash, consent_at, created_by FROM patients WHERE ins_value = ?',
      [ins.value],
    );
    expect(row?.created_by).toBe(medecin.nationalId);
    expect(row?.activation_code_hash).not.toContain(code.replace(/-/g, ''));
    expect(await verifyActivationCode(code, row?.activation_code_hash ?? null)).toBe(true);
    expect(await verifyActivationCode('ABCD-EFGH-JKMN', row?.activation_code_hash ?? null)).toBe(false);
    // the code appears nowhere else: not in the traces
    expect(JSON.stringify(await patientTraces(service, ins))).not.toContain(code);
  });

  it('INS_INVALID / TRAITS_INVALID for a bad INS key or traits that disagree with the NIR; an INS-C needs no traits', async () => {
    const ins = freshIns();
    const bad = await call(medecin, 'POST', '/v1/patients', { body: { ins: { oid: ins.oid, value: `${ins.value.slice(0, 13)}00` }, traits: ins.traits, consent: true } });
    expectProblem(bad, 400, 'INS_INVALID');
    const mismatch = await call(medecin, 'POST', '/v1/patients', { body: { ins: { oid: ins.oid, value: ins.value }, traits: { ...ins.traits, sex: 'F' }, consent: true } });
    expectProblem(mismatch, 400, 'TRAITS_INVALID');
    const noTraits = await call(medecin, 'POST', '/v1/patients', { body: { ins: { oid: ins.oid, value: ins.value }, consent: true } });
    expectProblem(noTraits, 400, 'TRAITS_INVALID');
    const insc = computeInsC('MARIE', '750101', `2750175${String(Math.floor(Math.random() * 899) + 100)}123`);
    const legacy = await call(medecin, 'POST', '/v1/patients', { body: { ins: { oid: INS_C_OID, value: insc }, consent: true } });
    expect(legacy.status).toBe(201);
    expect(legacy.body).toMatchObject({ ins: { oid: INS_C_OID, value: insc }, traits: null });
  });

  it('409 PATIENT_EXISTS for a second creation, traced as refused in the existing chain', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    const again = await call(autreMedecin, 'POST', '/v1/patients', { body: { ins: { oid: ins.oid, value: ins.value }, traits: ins.traits, consent: true } });
    expectProblem(again, 409, 'PATIENT_EXISTS');
    const traces = await patientTraces(service, ins);
    expect(traces.map((t) => [t.action, t.result])).toEqual([
      ['patient.create', 'ok'],
      ['patient.create', 'refused'],
    ]);
    expect(traces[0]).toMatchObject({ actor: { kind: 'practitioner', id: medecin.nationalId, role: '10' }, mode: 'normal', detail: { consent: true } });
    expect(traces[1]).toMatchObject({ actor: { id: autreMedecin.nationalId }, detail: { code: 'PATIENT_EXISTS' } });
  });

  it('GET /v1/patients/{ins}: status, the caller’s authorisation, the médecin traitant flag; 404 for an unknown INS', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    const other = await call(autreMedecin, 'GET', `/v1/patients/${ins.path}`);
    expect(other.status).toBe(200);
    expect(other.body).toMatchObject({ status: 'active', authorization: 'none', blocked: false, medecinTraitant: false, hasMedecinTraitant: false });
    await setPatientState(service.db, ins, { medecinTraitantId: medecin.nationalId });
    const creator = await call(medecin, 'GET', `/v1/patients/${ins.path}`);
    expect(creator.body).toMatchObject({ status: 'active', authorization: 'granted', authorizationRecordedBy: 'practitioner', medecinTraitant: true, hasMedecinTraitant: true });
    expectProblem(await call(medecin, 'GET', `/v1/patients/${freshIns().path}`), 404, 'PATIENT_NOT_FOUND');
    expectProblem(await call(medecin, 'GET', '/v1/patients/1.2.3:456'), 400, 'INS_INVALID');
    expect((await patientTraces(service, ins)).filter((t) => t.action === 'patient.read').map((t) => t.actor)).toEqual([
      { kind: 'practitioner', id: autreMedecin.nationalId, role: '10' },
      { kind: 'practitioner', id: medecin.nationalId, role: '10' },
    ]);
  });

  it('PUT authorization records the patient’s agreement for the caller; a practitioner the patient blocked cannot un-block himself', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    const granted = await grant(autreMedecin, ins, { status: 'granted', sameRightsAsMedecinTraitant: true });
    expect(granted.status).toBe(200);
    expect(granted.body).toMatchObject({ authorization: 'granted', blocked: false, sameRightsAsMedecinTraitant: true, authorizationRecordedBy: 'practitioner' });
    const denied = await grant(autreMedecin, ins, { status: 'denied', sameRightsAsMedecinTraitant: true });
    expect(denied.body).toMatchObject({ authorization: 'denied', sameRightsAsMedecinTraitant: false });

    await setBlocked(service.db, ins, autreMedecin.nationalId, true);
    expectProblem(await grant(autreMedecin, ins), 403, 'BLOCKED_BY_PATIENT');
    const [row] = await sql<{ blocked: unknown; status: string }>(service.db, 'SELECT blocked, status FROM authorizations WHERE practitioner_id = ?', [autreMedecin.nationalId]);
    expect({ blocked: Boolean(row?.blocked), status: row?.status }).toEqual({ blocked: true, status: 'denied' });
    expect((await call(autreMedecin, 'GET', `/v1/patients/${ins.path}`)).body).toMatchObject({ blocked: true });
    // once the patient lifts the block (portal), the practitioner records again
    await setBlocked(service.db, ins, autreMedecin.nationalId, false);
    expect((await grant(autreMedecin, ins)).body).toMatchObject({ authorization: 'granted', blocked: false });
    expect((await patientTraces(service, ins)).filter((t) => t.action === 'authorization.update').map((t) => t.result)).toEqual(['ok', 'ok', 'refused', 'ok']);
  });

  it('the médecin traitant is declared by the patient only: 403 for practitioners, traced', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    expectProblem(await call(medecin, 'PUT', `/v1/patients/${ins.path}/medecin-traitant`, { body: { nationalId: medecin.nationalId } }), 403, 'MEDECIN_TRAITANT_PATIENT_ONLY');
    expect((await call(medecin, 'GET', `/v1/patients/${ins.path}`)).body).toMatchObject({ medecinTraitant: false, hasMedecinTraitant: false });
    expect((await patientTraces(service, ins)).find((t) => t.action === 'medecin-traitant.declare')).toMatchObject({ result: 'refused', detail: { code: 'MEDECIN_TRAITANT_PATIENT_ONLY' } });
  });

  it('traces are the patient’s: 403 TRACES_PATIENT_ONLY for practitioners, the attempt itself traced', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    expectProblem(await call(medecin, 'GET', `/v1/patients/${ins.path}/traces`), 403, 'TRACES_PATIENT_ONLY');
    expect((await patientTraces(service, ins)).at(-1)).toMatchObject({ action: 'traces.read', result: 'refused', actor: { id: medecin.nationalId } });
  });

  it('closing: a reason and the patient’s authorisation are required; then reads and sends are refused (DMP_CLOSED) and the patient is notified', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    const credentials = await pki.persona('cps:medecin');
    expectProblem(await call(medecin, 'POST', `/v1/patients/${ins.path}/close`, { body: {} }), 400, 'REQUEST_INVALID');
    expectProblem(await call(autreMedecin, 'POST', `/v1/patients/${ins.path}/close`, { body: { reason: 'patient_request' } }), 403, 'AUTHORIZATION_REQUIRED');
    const closed = await call(medecin, 'POST', `/v1/patients/${ins.path}/close`, { body: { reason: 'patient_request' } });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ status: 'closed', closedAt: expect.any(String) });
    expect((await call(medecin, 'GET', `/v1/patients/${ins.path}`)).body).toMatchObject({ status: 'closed' });
    expectProblem(await call(medecin, 'GET', `/v1/patients/${ins.path}/documents`), 403, 'DMP_CLOSED');
    expectProblem(await sendDocument(medecin, credentials.signature, ins), 403, 'DMP_CLOSED');
    expectProblem(await call(medecin, 'POST', `/v1/patients/${ins.path}/close`, { body: { reason: 'deces' } }), 403, 'DMP_CLOSED');
    const [row] = await sql<{ activation_code_hash: unknown; id: string }>(service.db, 'SELECT id, activation_code_hash FROM patients WHERE ins_value = ?', [ins.value]);
    expect(row?.activation_code_hash).toBeNull();
    const outbox = await sql<{ payload: string }>(service.db, 'SELECT payload FROM outbox WHERE recipient = ?', [`patient:${row?.id}`]);
    expect(outbox.map((m) => JSON.parse(m.payload) as Json)).toEqual([expect.objectContaining({ event: 'dmp.closed', reason: 'patient_request' })]);
  });

  it('establishment sessions never read the DMP’s status (403, traced); the chains verify after all of the above', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    const server = await pki.pki.issueServer('dmp-records-etab', ['dpi.records.cardbridge.test'], { clientAuth: true, organisationName: 'CLINIQUE RECORDS', organisationId: '999900077' });
    const client = await service.client();
    const login = await attemptLogin(client, { certificate: server, path: '/v1/auth/login-establishment', user: { id: 'sec-1', name: 'Secrétariat' } });
    expect(login.status).toBe(200);
    const etab: Session = { client, token: String(login.body.sessionToken), nationalId: '' };
    expectProblem(await call(etab, 'GET', `/v1/patients/${ins.path}`), 403, 'ESTABLISHMENT_READ_FORBIDDEN');
    expectProblem(await grant(etab, ins), 403, 'ESTABLISHMENT_READ_FORBIDDEN');
    expect((await patientTraces(service, ins)).slice(-2)).toEqual([
      expect.objectContaining({ action: 'patient.read', result: 'refused', actor: { kind: 'establishment', id: '999900077', role: 'utilisateur:sec-1' } }),
      expect.objectContaining({ action: 'authorization.update', result: 'refused' }),
    ]);
    expect(await verifyStoredTraces(service.store)).toMatchObject({ ok: true });
  });
});
