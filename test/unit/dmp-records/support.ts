// Support of the records tests: a DMP service with a master key, signed documents (detached CMS
// built with buildDetachedSignedData, the persona's signature key signing the DigestInfo as the
// card would), CDA R2 documents for an INS, multipart uploads with DPoP, patients created through
// the API, and direct SQL for the state only the patient portal sets (blocks, médecin traitant,
// oppositions) and for the tamper tests.
import { constants, createPrivateKey, privateEncrypt } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { INS_NIR_TEST_OID, nirKey, type InsOid } from '../../../src/ins/index.js';
import { buildDetachedSignedData } from '../../../src/pki/cms/index.js';
import type { IssuedCertificate } from '../../../src/pki/test-pki.js';
import type { CpsPersonaId } from '../../../src/simulator/personas.js';
import {
  freshTempDir,
  loginAs,
  startTestDmpService,
  type DmpResponse,
  type DmpTestPki,
  type DpopClient,
  type StoreKind,
  type TestDmpService,
} from '../../support/dmp/index.js';

export const DIGEST_INFO_SHA256 = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/** Detached CMS SignedData over `content` by this certificate's key (RSA PKCS#1 v1.5 over DigestInfo, as `cps.sign`). */
export async function signDocument(signer: IssuedCertificate, content: Uint8Array): Promise<Uint8Array> {
  const key = createPrivateKey({ key: Buffer.from(signer.privateKeyPkcs8Der), format: 'der', type: 'pkcs8' });
  return buildDetachedSignedData({
    content,
    certificate: signer.certificateDer,
    signSignedAttributesHash: async (hash) =>
      new Uint8Array(privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO_SHA256, Buffer.from(hash)]))),
  });
}

export interface TestIns {
  readonly oid: InsOid;
  readonly value: string;
  /** `<oid>:<value>` */
  readonly path: string;
  readonly traits: Record<string, string>;
}

let nirCounter = 0;

/** A fresh INS-NIR (test OID) with matching traits: man born in May 1980 in Paris. */
export function freshIns(): TestIns {
  nirCounter++;
  const commune = String(100 + (nirCounter % 900)).padStart(3, '0');
  const order = String(1 + Math.floor(Math.random() * 998)).padStart(3, '0');
  const body = `1800575${commune}${order}`;
  const value = `${body}${nirKey(body)}`;
  return {
    oid: INS_NIR_TEST_OID,
    value,
    path: `${INS_NIR_TEST_OID}:${value}`,
    traits: { birthSurname: 'DUPONT', firstNames: 'JEAN PAUL', birthDate: '1980-05-14', sex: 'M', birthplaceCode: `75${commune}` },
  };
}

/** A CDA R2 document (N1-like: non-XML body as text) whose patient is `ins`. */
export function cdaDocument(ins: { oid: string; value: string }, body: string, options: { typeCode?: string; extraPatientIds?: string } = {}): Uint8Array {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <id root="1.2.250.1.999.1" extension="${Math.random().toString(36).slice(2)}"/>
  <code code="${options.typeCode ?? '11488-4'}" codeSystem="2.16.840.1.113883.6.1"/>
  <title>Compte rendu</title>
  <effectiveTime value="20250312093000+0100"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <recordTarget>
    <patientRole>
      <id root="${ins.oid}" extension="${ins.value}"/>${options.extraPatientIds ?? ''}
      <patient><name><family>DUPONT</family><given>JEAN</given></name></patient>
    </patientRole>
  </recordTarget>
  <component>
    <nonXMLBody><text mediaType="text/plain">${body}</text></nonXMLBody>
  </component>
</ClinicalDocument>
`;
  return new TextEncoder().encode(xml);
}

export function pdfDocument(text: string): Uint8Array {
  return new TextEncoder().encode(`%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${text}\ntrailer << /Root 1 0 R >>\n%%EOF\n`);
}

export interface Session {
  readonly client: DpopClient;
  readonly token: string;
  readonly nationalId: string;
}

export async function sessionOf(service: TestDmpService, pki: DmpTestPki, persona: CpsPersonaId): Promise<Session> {
  const logged = await loginAs(service, pki, persona);
  return { client: logged.client, token: logged.sessionToken, nationalId: String((logged.body.practitioner as { nationalId: string }).nationalId) };
}

export type Json = Record<string, unknown>;

/** A call with the session's DPoP proof and token. */
export function call<T = Json>(session: Session, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<DmpResponse<T>> {
  return session.client.call<T>(method, path, { sessionToken: session.token, ...options });
}

export interface UploadParts {
  readonly metadata: unknown;
  readonly content: Uint8Array;
  readonly signature?: Uint8Array;
  /** The content part's declared type (default application/octet-stream). */
  readonly contentType?: string;
}

/** POST /v1/patients/{ins}/documents as multipart/form-data. */
export async function upload(session: Session, insPath: string, parts: UploadParts): Promise<DmpResponse<Json>> {
  const path = `/v1/patients/${insPath}/documents`;
  const proof = await session.client.proof('POST', path, { accessToken: session.token });
  const form = new FormData();
  form.append('metadata', typeof parts.metadata === 'string' ? parts.metadata : JSON.stringify(parts.metadata));
  form.append('content', new Blob([Buffer.from(parts.content)], { type: parts.contentType ?? 'application/octet-stream' }), 'document');
  if (parts.signature) form.append('signature', new Blob([Buffer.from(parts.signature)], { type: 'application/pkcs7-signature' }), 'signature.p7s');
  const response = await fetch(`${session.client.baseUrl}${path}`, {
    method: 'POST',
    headers: { DPoP: proof, Authorization: `DPoP ${session.token}` },
    body: form,
  });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, headers: response.headers, body: (type.includes('json') && text !== '' ? JSON.parse(text) : text) as Json, proof };
}

/** Signs and sends a document; `signer` defaults to the session practitioner's signature key. */
export async function sendDocument(
  session: Session,
  signer: IssuedCertificate,
  ins: { path: string; oid: string; value: string },
  options: { typeCode?: string; title?: string; content?: Uint8Array; confidentiality?: string[]; creationTime?: string; replaces?: string } = {},
): Promise<DmpResponse<Json>> {
  const typeCode = options.typeCode ?? '11488-4';
  const content = options.content ?? cdaDocument(ins, `Examen du ${new Date().toISOString()}`, { typeCode });
  return upload(session, ins.path, {
    metadata: {
      typeCode,
      title: options.title ?? 'Compte rendu',
      ...(options.confidentiality ? { confidentiality: options.confidentiality } : {}),
      ...(options.creationTime ? { creationTime: options.creationTime } : {}),
      ...(options.replaces ? { replaces: options.replaces } : {}),
    },
    content,
    signature: await signDocument(signer, content),
  });
}

/** Creates a DMP through the API (the creator is authorised). */
export async function createDmp(session: Session, ins: TestIns): Promise<DmpResponse<Json>> {
  const response = await call(session, 'POST', '/v1/patients', { body: { ins: { oid: ins.oid, value: ins.value }, traits: ins.traits, consent: true } });
  if (response.status !== 201) throw new Error(`create DMP: HTTP ${response.status} ${JSON.stringify(response.body)}`);
  return response;
}

export async function grant(session: Session, ins: TestIns, body: Json = { status: 'granted' }): Promise<DmpResponse<Json>> {
  return call(session, 'PUT', `/v1/patients/${ins.path}/authorization`, { body });
}

/** Runs SQL on the service's database (SQLite file or PostgreSQL), parameters as `?`. */
export async function sql<R = Json>(db: string, statement: string, params: unknown[] = []): Promise<R[]> {
  if (db.startsWith('sqlite:')) {
    const database = new Database(db.slice('sqlite:'.length));
    try {
      const prepared = database.prepare(statement);
      const bound = params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
      return (prepared.reader ? prepared.all(...bound) : (prepared.run(...bound), [])) as R[];
    } finally {
      database.close();
    }
  }
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    let n = 0;
    const result = await client.query(statement.replace(/\?/g, () => `$${++n}`), params);
    return result.rows as R[];
  } finally {
    await client.end();
  }
}

/** What only the patient sets, on his portal: médecin traitant, oppositions. */
export async function setPatientState(db: string, ins: TestIns, state: { medecinTraitantId?: string | null; opposesBrisDeGlace?: boolean; opposesCentre15?: boolean }): Promise<void> {
  const sets: string[] = [];
  const params: unknown[] = [];
  for (const [column, value] of [
    ['medecin_traitant_id', state.medecinTraitantId],
    ['opposes_bris_de_glace', state.opposesBrisDeGlace],
    ['opposes_centre_15', state.opposesCentre15],
  ] as const) {
    if (value === undefined) continue;
    sets.push(`${column} = ?`);
    params.push(value);
  }
  await sql(db, `UPDATE patients SET ${sets.join(', ')} WHERE ins_oid = ? AND ins_value = ?`, [...params, ins.oid, ins.value]);
}

/** The patient blocks (or unblocks) a practitioner, as on the portal. */
export async function setBlocked(db: string, ins: TestIns, practitionerId: string, blocked: boolean): Promise<void> {
  const [patient] = await sql<{ id: string }>(db, 'SELECT id FROM patients WHERE ins_oid = ? AND ins_value = ?', [ins.oid, ins.value]);
  if (!patient) throw new Error('no such patient');
  const now = Date.now();
  await sql(
    db,
    `INSERT INTO authorizations (patient_id, practitioner_id, status, blocked, same_rights_as_medecin_traitant, recorded_by, granted_at, expires_at, updated_at)
     VALUES (?, ?, 'denied', ?, ?, 'patient', NULL, NULL, ?)
     ON CONFLICT (patient_id, practitioner_id) DO UPDATE SET blocked = excluded.blocked, recorded_by = 'patient', updated_at = excluded.updated_at`,
    [patient.id, practitionerId, blocked, false, now],
  );
}

/** The trace entries of a patient's chain, in order. */
export async function patientTraces(service: TestDmpService, ins: { oid: string; value: string }): Promise<Json[]> {
  const rows = await service.store.listTraces(`patient:${ins.oid}:${ins.value}`);
  return rows.map((row) => JSON.parse(row.entry) as Json);
}

/** A service with a master key file (documents are encrypted at rest). */
export async function startRecordsService(pki: DmpTestPki, kind: StoreKind): Promise<TestDmpService> {
  return startTestDmpService(pki, { store: kind, config: { masterKeyFile: join(freshTempDir('cardbridge-dmp-key-'), 'master.key') } });
}
