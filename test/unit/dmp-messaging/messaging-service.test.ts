// Secure messaging, service side (src/dmp/messaging), on SQLite and PostgreSQL: the directory
// (search, paging, 401), mailboxes (doctor -> nurse, a third practitioner refused and not shown),
// nothing readable of subject/body/attachment in the database, quota, tampering detected by the
// recipient, deletion from the caller's mailbox only.
import { constants, createPrivateKey, privateDecrypt, privateEncrypt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configureMessaging, DEFAULT_MAILBOX_QUOTA_BYTES } from '../../../src/dmp/messaging/index.js';
import { isMessageError, MAX_ENVELOPE_BYTES, openMessage, sealMessage } from '../../../src/messaging/index.js';
import type { PractitionerCredentials } from '../../../src/pki/test-pki.js';
import { CPS_PERSONAS, type CpsPersonaId } from '../../../src/simulator/personas.js';
import { dmpStoreKinds, loginAs, openDmpTestPki, type DmpTestPki, type DpopClient, type TestDmpService, startTestDmpService } from '../../support/dmp/index.js';

const STORES = await dmpStoreKinds();
// Migration 5 (messaging) joins the schema once versions 3 and 4 exist (migrations/messaging.ts);
// until then the routes answer 503 and this suite cannot run: a loud skip, and a test says so.
const DIGEST_INFO_SHA256 = Buffer.from('3031300d060960864801650304020105000420', 'hex');

interface Session {
  readonly persona: CpsPersonaId;
  readonly client: DpopClient;
  readonly token: string;
  readonly keys: PractitionerCredentials;
  readonly nationalId: string;
}

let pki: DmpTestPki;
beforeAll(async () => {
  pki = await openDmpTestPki();
});

async function raw(service: TestDmpService, s: Session | null, method: string, path: string, body?: Uint8Array, type = 'application/pkcs7-mime'): Promise<{ status: number; bytes: Buffer; json: Record<string, unknown> | null }> {
  const headers: Record<string, string> = {};
  if (s) {
    headers.DPoP = await s.client.proof(method, path, { accessToken: s.token });
    headers.Authorization = `DPoP ${s.token}`;
  }
  if (body) headers['Content-Type'] = type;
  const response = await fetch(`${service.url}${path}`, { method, headers, ...(body ? { body: body as unknown as BodyInit } : {}) });
  const bytes = Buffer.from(await response.arrayBuffer());
  const json = (response.headers.get('content-type') ?? '').includes('json') && bytes.length > 0 ? (JSON.parse(bytes.toString('utf8')) as Record<string, unknown>) : null;
  return { status: response.status, bytes, json };
}

function signHashWith(keys: PractitionerCredentials) {
  const key = createPrivateKey({ key: Buffer.from(keys.signature.privateKeyPkcs8Der), format: 'der', type: 'pkcs8' });
  return async (hash: Uint8Array) => new Uint8Array(privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO_SHA256, Buffer.from(hash)])));
}

function decryptWith(keys: PractitionerCredentials) {
  const key = createPrivateKey({ key: Buffer.from(keys.authentication.privateKeyPkcs8Der), format: 'der', type: 'pkcs8' });
  // as the card does: raw RSA, then the PKCS#1 v1.5 type 2 padding removed (Node refuses PKCS1 decryption)
  return async (encrypted: Uint8Array) => {
    const block = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, Buffer.from(encrypted));
    const separator = block.indexOf(0, 2);
    if (block[0] !== 0 || block[1] !== 2 || separator < 10) throw Object.assign(new Error('bad padding'), { code: 'DECRYPT_FAILED' });
    return new Uint8Array(block.subarray(separator + 1));
  };
}

async function seal(from: Session, to: Session[], text: { subject: string; body: string; attachment: string }): Promise<Uint8Array> {
  const p = (s: Session) => ({ nationalId: CPS_PERSONAS[s.persona].rpps, name: `${CPS_PERSONAS[s.persona].givenName} ${CPS_PERSONAS[s.persona].surname}` });
  return sealMessage({
    mime: {
      from: p(from),
      to: to.map(p),
      subject: text.subject,
      date: new Date(),
      body: text.body,
      attachments: [{ filename: 'compte-rendu.txt', mediaType: 'text/plain', content: new TextEncoder().encode(text.attachment) }],
    },
    signerCertificate: from.keys.signature.certificateDer,
    signHash: signHashWith(from.keys),
    recipientCertificates: [...to.map((s) => s.keys.authentication.certificateDer), from.keys.authentication.certificateDer],
  });
}

const unique = (label: string) => `${label} ${Math.random().toString(36).slice(2)} ${Date.now()}`;

describe.each(STORES)('secure messaging service (%s)', (kind) => {
  let service: TestDmpService;
  let doctor: Session;
  let nurse: Session;
  let pharmacist: Session;

  async function login(persona: CpsPersonaId): Promise<Session> {
    const { client, sessionToken, body } = await loginAs(service, pki, persona);
    const nationalId = String((body.practitioner as Record<string, unknown>).nationalId);
    return { persona, client, token: sessionToken, keys: await pki.persona(persona), nationalId };
  }

  beforeAll(async () => {
    service = await startTestDmpService(pki, { store: kind });
    doctor = await login('cps:medecin');
    nurse = await login('cps:infirmier');
    pharmacist = await login('cps:pharmacien');
    await login('cps:medecin-cps4');
    await login('cps:podologue');
  });
  afterAll(async () => {
    await service?.close();
  });
  beforeEach(() => {
    configureMessaging(service.app, { mailboxQuotaBytes: DEFAULT_MAILBOX_QUOTA_BYTES });
  });

  it('directory: 401 without a session; search by name and by profession; paging with a cursor', async () => {
    expect((await raw(service, null, 'GET', '/v1/directory')).status).toBe(401);
    const byName = await doctor.client.call<{ practitioners: Record<string, unknown>[] }>('GET', '/v1/directory?name=petit', { sessionToken: doctor.token });
    expect(byName.status).toBe(200);
    expect(byName.body.practitioners.map((p) => p.surname)).toEqual(['PETIT']);
    const petit = byName.body.practitioners[0] as Record<string, unknown>;
    expect(petit).toMatchObject({ nationalId: nurse.nationalId, givenName: 'CLAIRE', professionCode: '60', city: null, postcode: null });
    expect(Buffer.from(String(petit.authCertificate), 'base64').equals(Buffer.from(nurse.keys.authentication.certificateDer))).toBe(true);

    const byId = await doctor.client.call<{ practitioners: Record<string, unknown>[] }>('GET', `/v1/directory?id=${nurse.nationalId}`, { sessionToken: doctor.token });
    expect(byId.body.practitioners.map((p) => p.nationalId)).toEqual([nurse.nationalId]);
    const doctors = await doctor.client.call<{ practitioners: Record<string, unknown>[] }>('GET', '/v1/directory?profession=10', { sessionToken: doctor.token });
    expect(doctors.body.practitioners.map((p) => p.surname).sort()).toEqual(['DURAND', 'MARTIN']);
    const pharmacists = await doctor.client.call<{ practitioners: Record<string, unknown>[] }>('GET', '/v1/directory?profession=pharma', { sessionToken: doctor.token });
    expect(pharmacists.body.practitioners.map((p) => p.surname)).toEqual(['LEROY']);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path = `/v1/directory?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: { status: number; body: { practitioners: Record<string, unknown>[]; nextCursor: string | null } } = await doctor.client.call('GET', path, { sessionToken: doctor.token });
      expect(page.status).toBe(200);
      expect(page.body.practitioners.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.practitioners.map((p) => String(p.surname)));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    const all = await doctor.client.call<{ practitioners: Record<string, unknown>[]; nextCursor: string | null }>('GET', '/v1/directory?limit=100', { sessionToken: doctor.token });
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.practitioners.length).toBe(5);
    expect(seen).toEqual(all.body.practitioners.map((p) => String(p.surname)));
    expect(pages).toBe(3);
    expect((await doctor.client.call('GET', '/v1/directory?cursor=nope', { sessionToken: doctor.token })).status).toBe(400);
  });

  it('doctor -> nurse: stored, listed and fetched by the nurse and the sender; a third practitioner gets 403 and sees nothing; nothing readable in the database', async () => {
    const text = { subject: unique('Objet confidentiel sur Mme Dupont'), body: unique('Corps du message : hémoglobine glyquée à 9 pour cent'), attachment: unique('Pièce jointe : ordonnance de metformine') };
    const envelope = await seal(doctor, [nurse], text);
    const posted = await raw(service, doctor, 'POST', '/v1/messages', envelope);
    expect(posted.status, JSON.stringify(posted.json)).toBe(201);
    const id = String(posted.json?.id);
    expect(posted.json?.recipients).toEqual([nurse.nationalId]);

    const inbox = await nurse.client.call<{ messages: Record<string, unknown>[] }>('GET', '/v1/messages', { sessionToken: nurse.token });
    expect(inbox.status).toBe(200);
    const listed = inbox.body.messages.find((m) => m.id === id);
    expect(listed).toMatchObject({ sender: doctor.nationalId, size: envelope.byteLength, read: false, folder: 'inbox' });
    expect(JSON.stringify(inbox.body)).not.toContain(text.subject);

    const fetched = await raw(service, nurse, 'GET', `/v1/messages/${id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.bytes.equals(Buffer.from(envelope))).toBe(true);
    const opened = await openMessage({ envelopedDer: fetched.bytes, recipientCertificate: nurse.keys.authentication.certificateDer, decryptKey: decryptWith(nurse.keys) });
    expect(opened.mime.subject).toBe(text.subject);
    expect(opened.mime.body).toBe(text.body);
    expect(new TextDecoder().decode(opened.mime.attachments[0]?.content)).toBe(text.attachment);

    expect((await raw(service, doctor, 'GET', `/v1/messages/${id}`)).status).toBe(200);
    const refused = await raw(service, pharmacist, 'GET', `/v1/messages/${id}`);
    expect(refused.status).toBe(403);
    expect(refused.json?.code).toBe('MESSAGE_FORBIDDEN');
    expect((await raw(service, pharmacist, 'POST', `/v1/messages/${id}/read`)).status).toBe(403);
    expect((await raw(service, pharmacist, 'DELETE', `/v1/messages/${id}`)).status).toBe(403);
    const third = await pharmacist.client.call<{ messages: Record<string, unknown>[] }>('GET', '/v1/messages', { sessionToken: pharmacist.token });
    expect(third.body.messages.some((m) => m.id === id)).toBe(false);
    expect((await raw(service, null, 'GET', `/v1/messages/${id}`)).status).toBe(401);

    expect((await raw(service, nurse, 'POST', `/v1/messages/${id}/read`)).status).toBe(200);
    const after = await nurse.client.call<{ messages: Record<string, unknown>[] }>('GET', '/v1/messages', { sessionToken: nurse.token });
    expect(after.body.messages.find((m) => m.id === id)?.read).toBe(true);

    // the database holds no readable subject, body or attachment
    const needles = [text.subject, text.body, text.attachment].map((t) => Buffer.from(t, 'utf8'));
    if (kind === 'sqlite') {
      const file = service.db.slice('sqlite:'.length);
      const bytes = Buffer.concat([file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f)));
      expect(bytes.includes(Buffer.from(id)), 'the routing metadata is in clear: the grep works').toBe(true);
      for (const needle of needles) {
        expect(bytes.includes(needle)).toBe(false);
        expect(bytes.includes(needle.subarray(0, 24))).toBe(false);
      }
    } else {
      const client = new pg.Client({ connectionString: service.db });
      await client.connect();
      try {
        const tables = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
        let dump = '';
        for (const { tablename } of tables.rows) {
          const rows = await client.query<{ dump: string }>(`SELECT t::text AS dump FROM "${tablename}" t`);
          dump += rows.rows.map((r) => r.dump).join('\n');
        }
        expect(dump.includes(id), 'the routing metadata is in clear: the dump works').toBe(true);
        for (const needle of needles) {
          expect(dump.includes(needle.toString('utf8'))).toBe(false);
          expect(dump.includes(needle.subarray(0, 24).toString('hex'))).toBe(false);
        }
      } finally {
        await client.end();
      }
    }
  });

  it('JSON base64 body accepted; garbage refused; envelope for nobody known refused', async () => {
    const envelope = await seal(doctor, [nurse], { subject: 'json', body: 'corps', attachment: 'pj' });
    const json = await doctor.client.call('POST', '/v1/messages', { sessionToken: doctor.token, body: { envelope: Buffer.from(envelope).toString('base64') } });
    expect(json.status).toBe(201);
    const garbage = await raw(service, doctor, 'POST', '/v1/messages', new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]));
    expect(garbage.status).toBe(400);
    expect(garbage.json?.code).toBe('MESSAGE_MALFORMED');
    expect((await raw(service, doctor, 'POST', '/v1/messages', envelope, 'text/plain')).status).toBe(415);
  });

  it('an envelope beyond MAX_ENVELOPE_BYTES is 413, binary or base64 JSON', async () => {
    const big = new Uint8Array(MAX_ENVELOPE_BYTES + 1);
    const binary = await raw(service, doctor, 'POST', '/v1/messages', big);
    expect(binary.status).toBe(413);
    const json = await doctor.client.call('POST', '/v1/messages', { sessionToken: doctor.token, body: { envelope: Buffer.from(big).toString('base64') } });
    expect(json.status).toBe(413);
  });

  it('quota exceeded: refused with a clear message, nothing stored', async () => {
    const envelope = await seal(doctor, [nurse], { subject: 'quota', body: 'corps', attachment: 'pj' });
    const before = await nurse.client.call<{ used: number; messages: unknown[] }>('GET', '/v1/messages?limit=100', { sessionToken: nurse.token });
    configureMessaging(service.app, { mailboxQuotaBytes: before.body.used + envelope.byteLength - 1 });
    const refused = await raw(service, doctor, 'POST', '/v1/messages', envelope);
    expect(refused.status).toBe(507);
    expect(refused.json?.code).toBe('QUOTA_EXCEEDED');
    expect(String(refused.json?.detail)).toMatch(/Quota dépassé/);
    const after = await nurse.client.call<{ used: number; messages: unknown[] }>('GET', '/v1/messages?limit=100', { sessionToken: nurse.token });
    expect(after.body.used).toBe(before.body.used);
  });

  it('a tampered envelope stored and opened by the recipient: TAMPERED', async () => {
    const envelope = await seal(doctor, [nurse], { subject: 'altéré', body: 'corps à altérer '.repeat(40), attachment: 'pj' });
    const tampered = new Uint8Array(envelope);
    const at = tampered.length - 40; // inside the encrypted content (the last element of the envelope)
    tampered[at] = (tampered[at] ?? 0) ^ 0x01;
    const posted = await raw(service, doctor, 'POST', '/v1/messages', tampered);
    expect(posted.status).toBe(201);
    const fetched = await raw(service, nurse, 'GET', `/v1/messages/${String(posted.json?.id)}`);
    const error = await openMessage({ envelopedDer: fetched.bytes, recipientCertificate: nurse.keys.authentication.certificateDer, decryptKey: decryptWith(nurse.keys) }).catch((e: unknown) => e);
    expect(isMessageError(error, 'TAMPERED'), String(error)).toBe(true);
  });

  it('delete removes the message from the caller mailbox only', async () => {
    const envelope = await seal(doctor, [nurse], { subject: 'à supprimer', body: 'corps', attachment: 'pj' });
    const id = String((await raw(service, doctor, 'POST', '/v1/messages', envelope)).json?.id);
    expect((await raw(service, nurse, 'DELETE', `/v1/messages/${id}`)).status).toBe(204);
    const nurseList = await nurse.client.call<{ messages: Record<string, unknown>[] }>('GET', '/v1/messages?limit=100', { sessionToken: nurse.token });
    expect(nurseList.body.messages.some((m) => m.id === id)).toBe(false);
    expect((await raw(service, nurse, 'GET', `/v1/messages/${id}`)).status).toBe(404);
    const doctorList = await doctor.client.call<{ messages: Record<string, unknown>[] }>('GET', '/v1/messages?limit=100', { sessionToken: doctor.token });
    expect(doctorList.body.messages.find((m) => m.id === id)).toMatchObject({ folder: 'sent' });
    expect((await raw(service, doctor, 'GET', `/v1/messages/${id}`)).status).toBe(200);
    expect((await raw(service, doctor, 'DELETE', `/v1/messages/${id}`)).status).toBe(204);
    expect((await raw(service, doctor, 'GET', `/v1/messages/${id}`)).status).toBe(404);
  });
});
