// Sending documents, on SQLite and PostgreSQL: no authorisation needed; format (CDA R2 whose INS
// matches, plain PDF, else 415), size (10 MiB), the detached CMS signature (valid, by the
// session's practitioner, certificate valid and unrevoked for signing), establishment mode,
// replacement (RPLC), and encryption at rest (the database never holds a sent sentence).
import { readFileSync, existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStoredTraces } from '../../../src/dmp/store/index.js';
import type { PractitionerCredentials } from '../../../src/pki/test-pki.js';
import { attemptLogin, dmpStoreKinds, expectProblem, openDmpTestPki, type DmpTestPki, type TestDmpService } from '../../support/dmp/index.js';
import {
  call,
  cdaDocument,
  createDmp,
  freshIns,
  patientTraces,
  pdfDocument,
  sendDocument,
  sessionOf,
  setBlocked,
  signDocument,
  sql,
  startRecordsService,
  upload,
  type Json,
  type Session,
} from './support.js';

const STORES = await dmpStoreKinds();
const MiB = 1024 * 1024;

let pki: DmpTestPki;
let medecinKeys: PractitionerCredentials;
let autreKeys: PractitionerCredentials;
beforeAll(async () => {
  pki = await openDmpTestPki();
  medecinKeys = await pki.persona('cps:medecin');
  autreKeys = await pki.persona('cps:medecin-cps4');
});

describe.each(STORES)('DMP document sending on %s', (kind) => {
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

  it('sending needs no authorisation of the patient (a blocked practitioner still sends), but reading does', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    const sent = await sendDocument(autreMedecin, autreKeys.signature, ins, { typeCode: '11490-0', title: 'Lettre de liaison' });
    expect(sent.status).toBe(201);
    expect(sent.headers.get('location')).toBe(`/v1/documents/${String(sent.body.id)}`);
    expect(sent.body).toMatchObject({
      ins: { oid: ins.oid, value: ins.value },
      classCode: 'SEJOUR',
      typeCode: '11490-0',
      title: 'Lettre de liaison',
      format: 'cda-r2',
      mimeType: 'text/xml',
      status: 'approved',
      confidentiality: [],
      author: { kind: 'practitioner', id: autreMedecin.nationalId, professionCode: '10' },
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expectProblem(await call(autreMedecin, 'GET', `/v1/documents/${String(sent.body.id)}`), 403, 'AUTHORIZATION_REQUIRED');
    await setBlocked(service.db, ins, autreMedecin.nationalId, true);
    expect((await sendDocument(autreMedecin, autreKeys.signature, ins)).status).toBe(201);
  });

  it('422 INS_MISMATCH for a CDA about another patient (refusal traced); the same CDA for the right INS is accepted', async () => {
    const ins = freshIns();
    const other = freshIns();
    await createDmp(medecin, ins);
    const wrong = cdaDocument(other, 'Patient confondu');
    expectProblem(await sendDocument(medecin, medecinKeys.signature, ins, { content: wrong }), 422, 'INS_MISMATCH');
    expect((await patientTraces(service, ins)).at(-1)).toMatchObject({ action: 'document.send', result: 'refused', detail: { code: 'INS_MISMATCH' } });
    expect((await sendDocument(medecin, medecinKeys.signature, ins, { content: cdaDocument(ins, 'Patient confondu') })).status).toBe(201);
    expect(await sql(service.db, 'SELECT id FROM documents WHERE patient_id = (SELECT id FROM patients WHERE ins_value = ?)', [ins.value])).toHaveLength(1);
  });

  it('413 DOCUMENT_TOO_LARGE for 11 MiB; exactly 10 MiB is accepted', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    const big = new Uint8Array(11 * MiB).fill(0x20);
    big.set(new TextEncoder().encode('%PDF-1.4\n'));
    expectProblem(await sendDocument(medecin, medecinKeys.signature, ins, { content: big, typeCode: '18748-4' }), 413, 'DOCUMENT_TOO_LARGE');
    const limit = big.subarray(0, 10 * MiB);
    const accepted = await sendDocument(medecin, medecinKeys.signature, ins, { content: limit, typeCode: '18748-4' });
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({ size: 10 * MiB, format: 'pdf', mimeType: 'application/pdf' });
  });

  it('415 for another format (HTML, PNG, an XML that is not a CDA), whatever the declared type; a plain PDF is accepted', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    const html = new TextEncoder().encode('<html><body><script>alert(document.cookie)</script></body></html>');
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    for (const content of [html, png]) {
      const response = await upload(medecin, ins.path, { metadata: { typeCode: '11488-4', title: 't' }, content, signature: await signDocument(medecinKeys.signature, content), contentType: 'application/pdf' });
      expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
    expectProblem(await call(medecin, 'POST', `/v1/patients/${ins.path}/documents`, { body: { metadata: {} } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const pdf = await sendDocument(medecin, medecinKeys.signature, ins, { content: pdfDocument('résultat'), typeCode: '11502-2' });
    expect(pdf.status).toBe(201);
    expect(pdf.body).toMatchObject({ format: 'pdf', mimeType: 'application/pdf', classCode: 'BIOLOGIE' });
  });

  it('422 CDA_MALFORMED for a CDA with a DOCTYPE (external entity); 400 for missing parts or bad metadata', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    const text = new TextDecoder().decode(cdaDocument(ins, '&x;')).replace('<ClinicalDocument', '<!DOCTYPE ClinicalDocument [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<ClinicalDocument');
    expectProblem(await sendDocument(medecin, medecinKeys.signature, ins, { content: new TextEncoder().encode(text) }), 422, 'CDA_MALFORMED');
    const content = cdaDocument(ins, 'ok');
    expectProblem(await upload(medecin, ins.path, { metadata: { typeCode: '11488-4', title: 't' }, content }), 400, 'REQUEST_INVALID');
    expectProblem(await upload(medecin, ins.path, { metadata: '{not json', content, signature: await signDocument(medecinKeys.signature, content) }), 400, 'METADATA_INVALID');
    expectProblem(await upload(medecin, ins.path, { metadata: { typeCode: '00000-0', title: 't' }, content, signature: await signDocument(medecinKeys.signature, content) }), 400, 'METADATA_INVALID');
  });

  it('422 SIGNER_MISMATCH for a document signed with another practitioner’s card; signed with one’s own, accepted', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    expectProblem(await sendDocument(medecin, autreKeys.signature, ins), 422, 'SIGNER_MISMATCH');
    expect((await patientTraces(service, ins)).at(-1)).toMatchObject({ action: 'document.send', result: 'refused', detail: { code: 'SIGNER_MISMATCH' } });
    expect((await sendDocument(medecin, medecinKeys.signature, ins)).status).toBe(201);
  });

  it('422 DOCUMENT_SIGNATURE_INVALID when the signature covers other bytes; SIGNER_CERTIFICATE_INVALID for the authentication key', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    const content = cdaDocument(ins, 'version signée');
    const other = cdaDocument(ins, 'version modifiée');
    expectProblem(await upload(medecin, ins.path, { metadata: { typeCode: '11488-4', title: 't' }, content: other, signature: await signDocument(medecinKeys.signature, content) }), 422, 'DOCUMENT_SIGNATURE_INVALID');
    expectProblem(
      await upload(medecin, ins.path, { metadata: { typeCode: '11488-4', title: 't' }, content, signature: await signDocument(medecinKeys.authentication, content) }),
      422,
      'SIGNER_CERTIFICATE_INVALID',
    );
    expect((await upload(medecin, ins.path, { metadata: { typeCode: '11488-4', title: 't' }, content, signature: await signDocument(medecinKeys.signature, content) })).status).toBe(201);
  });

  it('422 SIGNER_CERTIFICATE_REVOKED once the signature certificate is revoked (the CRL is read again); before, accepted', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    // one practitioner per store: the PKI (and its revocations) is shared by both runs
    const rpps = kind === 'sqlite' ? '99900000171' : '99900000172';
    const keys = await pki.practitioner(`records-revoked-signer-${kind}`, {
      rpps,
      surname: 'REVOQUE',
      givenName: 'ALAIN',
      professionCode: '10',
      professionLabel: 'Médecin',
      structureId: '499900001000071',
      structureName: 'CABINET REVOQUE',
    });
    const client = await service.client();
    const challenge = await client.call<{ challenge: string }>('POST', '/v1/auth/challenge');
    expect(challenge.status).toBe(200);
    const login = await attemptLogin(client, { certificate: keys.authentication, challenge: challenge.body.challenge });
    expect(login.status).toBe(200);
    const session: Session = { client, token: String(login.body.sessionToken), nationalId: `8${rpps}` };
    expect((await sendDocument(session, keys.signature, ins)).status).toBe(201);
    await pki.pki.revoke(keys.signature.serialHex, 'persons');
    expectProblem(await sendDocument(session, keys.signature, ins), 422, 'SIGNER_CERTIFICATE_REVOKED');
  });

  it('establishment mode: sends documents signed by its own certificate, not by a card nor another establishment; never reads', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    const server = await pki.pki.issueServer('records-etab-a', ['dpi-a.records.cardbridge.test'], { clientAuth: true, organisationName: 'CLINIQUE A', organisationId: '999900081' });
    const otherServer = await pki.pki.issueServer('records-etab-b', ['dpi-b.records.cardbridge.test'], { clientAuth: true, organisationName: 'CLINIQUE B', organisationId: '999900082' });
    const client = await service.client();
    const login = await attemptLogin(client, { certificate: server, path: '/v1/auth/login-establishment', user: { id: 'u-7', name: 'Dr Interne' } });
    expect(login.status).toBe(200);
    const etab: Session = { client, token: String(login.body.sessionToken), nationalId: '' };
    expectProblem(await sendDocument(etab, otherServer, ins), 422, 'SIGNER_MISMATCH');
    expectProblem(await sendDocument(etab, medecinKeys.signature, ins), 422, 'SIGNER_CERTIFICATE_INVALID');
    const sent = await sendDocument(etab, server, ins, { typeCode: '18842-5', title: 'CRH' });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ author: { kind: 'establishment', id: '999900081', name: 'CLINIQUE A (Dr Interne)', establishmentId: '999900081', professionCode: null } });
    expectProblem(await call(etab, 'GET', `/v1/documents/${String(sent.body.id)}`), 403, 'ESTABLISHMENT_READ_FORBIDDEN');
    expectProblem(await call(etab, 'GET', `/v1/patients/${ins.path}/documents`), 403, 'ESTABLISHMENT_READ_FORBIDDEN');
    expect((await patientTraces(service, ins)).find((t) => t.action === 'document.send' && t.result === 'ok' && (t.actor as Json).kind === 'establishment')).toMatchObject({
      actor: { kind: 'establishment', id: '999900081', role: 'utilisateur:u-7' },
      detail: { user: { id: 'u-7', name: 'Dr Interne' } },
    });
  });

  it('RPLC: a replacement deprecates the old document (linked both ways); only its author replaces, and only once', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    await call(autreMedecin, 'PUT', `/v1/patients/${ins.path}/authorization`, { body: { status: 'granted' } });
    const first = await sendDocument(medecin, medecinKeys.signature, ins, { title: 'v1' });
    const id = String(first.body.id);
    expectProblem(await sendDocument(autreMedecin, autreKeys.signature, ins, { title: 'v2 par un autre', replaces: id }), 403, 'NOT_AUTHOR');
    const second = await sendDocument(medecin, medecinKeys.signature, ins, { title: 'v2', replaces: id });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ replaces: id, status: 'approved' });
    const old = await call(medecin, 'GET', `/v1/documents/${id}`);
    expect(old.body).toMatchObject({ status: 'deprecated', replacedBy: second.body.id });
    expectProblem(await sendDocument(medecin, medecinKeys.signature, ins, { title: 'v2 bis', replaces: id }), 409, 'DOCUMENT_STATE_CONFLICT');
    expectProblem(await sendDocument(medecin, medecinKeys.signature, ins, { title: 'x', replaces: '00000000-0000-4000-8000-000000000000' }), 404, 'DOCUMENT_NOT_FOUND');
    // the default search shows the current version; status=deprecated the old one
    const current = await call<{ documents: Json[] }>(medecin, 'GET', `/v1/patients/${ins.path}/documents`);
    expect(current.body.documents.map((d) => d.title)).toEqual(['v2']);
    const history = await call<{ documents: Json[] }>(medecin, 'GET', `/v1/patients/${ins.path}/documents?status=deprecated`);
    expect(history.body.documents.map((d) => d.title)).toEqual(['v1']);
  });

  it('encryption at rest: a sent sentence is nowhere in the database (file and WAL, or the documents table as text), while its clear metadata is', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    const sentence = `Le patient présente une fracture du scaphoïde gauche ${Math.random().toString(36).slice(2)}`;
    const title = `Titre-témoin-${Math.random().toString(36).slice(2)}`;
    const sent = await sendDocument(medecin, medecinKeys.signature, ins, { content: cdaDocument(ins, sentence), title });
    expect(sent.status).toBe(201);
    const needle = Buffer.from(sentence, 'utf8');
    if (kind === 'sqlite') {
      const file = service.db.slice('sqlite:'.length);
      const bytes = Buffer.concat([file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f)));
      expect(bytes.includes(Buffer.from(title, 'utf8')), 'the search metadata is in clear: the grep works').toBe(true);
      expect(bytes.includes(needle)).toBe(false);
      expect(bytes.includes(Buffer.from(sentence.slice(0, 30), 'utf8'))).toBe(false);
    } else {
      const rows = await sql<{ dump: string }>(service.db, 'SELECT d::text AS dump FROM documents d');
      const dump = rows.map((r) => r.dump).join('\n');
      expect(dump.includes(title), 'the search metadata is in clear: the dump works').toBe(true);
      expect(dump.includes(sentence)).toBe(false);
      expect(dump.includes(needle.toString('hex')), 'nor as the hex of a bytea').toBe(false);
      expect(dump.includes(needle.subarray(0, 30).toString('hex'))).toBe(false);
    }
    // and it reads back intact through the service
    const content = await call(medecin, 'GET', `/v1/documents/${String(sent.body.id)}/content`);
    expect(String(content.body)).toContain(sentence);
  });

  it('document, metadata and trace are one transaction: when the trace cannot be written, no document is left', async () => {
    const ins = freshIns();
    await createDmp(medecin, ins);
    const count = async (): Promise<number> => (await sql(service.db, 'SELECT id FROM documents')).length;
    const before = await count();
    const [failTrigger, dropTrigger] =
      kind === 'sqlite'
        ? [
            "CREATE TRIGGER records_test_fail BEFORE INSERT ON traces WHEN NEW.action = 'document.send' AND NEW.result = 'ok' BEGIN SELECT RAISE(ABORT, 'injected'); END",
            'DROP TRIGGER records_test_fail',
          ]
        : [
            "CREATE FUNCTION records_test_fail() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN IF NEW.action = 'document.send' AND NEW.result = 'ok' THEN RAISE EXCEPTION 'injected'; END IF; RETURN NEW; END $f$; CREATE TRIGGER records_test_fail BEFORE INSERT ON traces FOR EACH ROW EXECUTE FUNCTION records_test_fail()",
            'DROP TRIGGER records_test_fail ON traces; DROP FUNCTION records_test_fail()',
          ];
    for (const statement of failTrigger.split('; CREATE TRIGGER').map((s, i) => (i === 0 ? s : `CREATE TRIGGER${s}`))) await sql(service.db, statement);
    try {
      expect((await sendDocument(medecin, medecinKeys.signature, ins)).status).toBe(500);
      expect(await count()).toBe(before);
    } finally {
      for (const statement of dropTrigger.split('; ')) await sql(service.db, statement);
    }
    expect((await sendDocument(medecin, medecinKeys.signature, ins)).status).toBe(201);
    expect(await count()).toBe(before + 1);
    expect(await verifyStoredTraces(service.store)).toMatchObject({ ok: true });
  });
});
