// Test support for the patient portal: a DMP service with a master key (documents and sealed
// values need one), a patient client (Authorization: Bearer), DMPs and documents put in the store
// the way the records module stores them, the one-time password read from the outbox as the SMS / e-mail
// gateway would, and the whole activation + login of a patient.
import { createHash, randomInt, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { expect } from 'vitest';
import { encryptDocument } from '../../../src/dmp/crypto/index.js';
import { useScryptParameters } from '../../../src/dmp/portal/credentials.js';
import { hashActivationCode, newActivationCode, openOutboxText, totpCodeFromUri } from '../../../src/dmp/portal/index.js';
import type { RecordsDocument } from '../../../src/dmp/store/index.js';
import { INS_NIR_TEST_OID, nirKey } from '../../../src/ins/index.js';
import type { ProblemCode } from '../../../src/dmp/errors.js';
import { expectProblem, freshTempDir, startTestDmpService, type DmpTestPki, type StoreKind, type TestClock, type TestDmpService } from '../../support/dmp/index.js';

// Secret and activation codes hashed at a test cost in this process (the production cost is
// checked in credentials.test.ts): every login of the suites costs a millisecond, not 100.
useScryptParameters({ N: 2 ** 10, r: 8, p: 1 });

export interface PortalResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  bytes: Uint8Array;
}

export interface PortalCall {
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
  form?: FormData;
}

/** A browser-less patient: plain fetch, JSON bodies, `Authorization: Bearer` when given a token. */
export class PatientClient {
  constructor(readonly baseUrl: string) {}

  async call<T = Record<string, unknown>>(method: string, path: string, options: PortalCall = {}): Promise<PortalResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
    let body: string | FormData | undefined;
    if (options.form) body = options.form;
    else if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['Content-Type'] ??= 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const bytes = new Uint8Array(await response.arrayBuffer());
    const type = response.headers.get('content-type') ?? '';
    const text = type.includes('json') ? new TextDecoder().decode(bytes) : '';
    return { status: response.status, headers: response.headers, body: (text === '' ? {} : JSON.parse(text)) as T, bytes };
  }
}

/** An RFC 9457 answer with this status and code (expectProblem of the DMP test support). */
export function expectPortalProblem(response: PortalResponse<unknown>, status: number, code: ProblemCode): void {
  expectProblem({ status: response.status, headers: response.headers, body: response.body, proof: undefined }, status, code);
}

/** `logLines` collects the service's log lines (debug level). */
export async function startPortalService(pki: DmpTestPki, kind: StoreKind, clock?: TestClock, logLines?: string[]): Promise<TestDmpService> {
  return startTestDmpService(pki, {
    store: kind,
    ...(clock ? { clock: clock.now } : {}),
    config: {
      masterKeyFile: join(freshTempDir('cardbridge-portal-key-'), 'master.key'),
      ...(logLines ? { logger: { level: 'debug', stream: { write: (line: string) => void logLines.push(line) } } } : {}),
    },
  });
}

/** A valid test NIR (15 characters, key included), different at each call. */
export function newTestNir(): string {
  const nir13 = `1${String(randomInt(30, 99))}${String(randomInt(1, 12)).padStart(2, '0')}75${String(randomInt(100, 999))}${String(randomInt(100, 999))}`;
  return `${nir13}${nirKey(nir13)}`;
}

export interface TestPatient {
  readonly id: string;
  readonly ins: { oid: string; value: string };
  readonly insPath: string;
  readonly activationCode: string;
}

/**
 * A DMP as the records module creates it (records.insertPatient): consent, and a one-time
 * activation code (hashed, expiring). `activationExpiresAt` defaults to 30 days after `now`.
 */
export async function createPatient(service: TestDmpService, options: { now?: number; activationExpiresAt?: number; createdBy?: string } = {}): Promise<TestPatient> {
  const now = options.now ?? Date.now();
  const ins = { oid: INS_NIR_TEST_OID, value: newTestNir() };
  const activationCode = newActivationCode();
  const id = randomUUID();
  const inserted = await service.store.records.insertPatient({
    id,
    insOid: ins.oid,
    insValue: ins.value,
    traits: '{}',
    status: 'active',
    consentAt: now,
    createdBy: options.createdBy ?? '899900000101',
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    medecinTraitantId: null,
    opposesBrisDeGlace: false,
    opposesCentre15: false,
    activationCodeHash: await hashActivationCode(activationCode),
    activationExpiresAt: options.activationExpiresAt ?? now + 30 * 86_400_000,
    activatedAt: null,
  });
  if (!inserted) throw new Error('patient not inserted');
  return { id, ins, insPath: `${ins.oid}:${ins.value}`, activationCode };
}

/** A minimal PDF (what a patient uploads). */
export function pdfBytes(sentence: string): Uint8Array {
  return new TextEncoder().encode(`%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${sentence}\ntrailer << /Root 1 0 R >>\n%%EOF\n`);
}

/** A practitioner's document as the records module stores it: encrypted, with its flags. */
export async function insertPractitionerDocument(
  service: TestDmpService,
  patient: TestPatient,
  options: { title?: string; content?: Uint8Array; typeCode?: string; classCode?: string; invisiblePatient?: boolean; authorId?: string; creationTime?: number } = {},
): Promise<{ id: string; content: Uint8Array }> {
  const provider = service.app.dmp.keyProvider;
  if (!provider) throw new Error('service without key provider');
  const id = randomUUID();
  const content = options.content ?? pdfBytes(`compte rendu ${id}`);
  const encrypted = await encryptDocument(content, provider, id);
  const now = Date.now();
  await service.store.records.insertDocument(
    {
      id,
      patientId: patient.id,
      classCode: options.classCode ?? 'CONSULTATION',
      typeCode: options.typeCode ?? '11488-4',
      confidentiality: JSON.stringify(options.invisiblePatient ? ['INVISIBLE_PATIENT'] : []),
      format: 'pdf',
      mimeType: 'application/pdf',
      title: options.title ?? 'Compte rendu de consultation',
      creationTime: options.creationTime ?? now,
      submittedAt: now,
      updatedAt: now,
      authorKind: 'practitioner',
      authorId: options.authorId ?? '899900000101',
      authorName: 'Sophie MARTIN',
      authorProfessionCode: '10',
      establishmentId: null,
      status: 'approved',
      replacesId: null,
      replacedById: null,
      maskedPs: false,
      invisiblePatient: options.invisiblePatient ?? false,
      invisibleRepresentants: false,
      deletionRequestedAt: null,
      deletedAt: null,
      contentSha256: createHash('sha256').update(content).digest('hex'),
      contentSize: content.byteLength,
    },
    { ...encrypted, signatureCms: null },
  );
  return { id, content };
}

export async function storedDocument(service: TestDmpService, id: string): Promise<RecordsDocument | null> {
  return service.store.records.getDocument(id);
}

export const SECRET_CODE = 'Tournesol-42!';

/** What the SMS / e-mail gateway would send: the code of the latest message to this recipient. */
export async function lastOtpFromOutbox(service: TestDmpService, recipient: string): Promise<{ code: string; otpRequestId: string; kind: string }> {
  const messages = await service.store.portal.listOutbox(recipient);
  // messages of one millisecond are not ordered among themselves: the live one is the latest sent
  let last = messages.at(-1);
  for (const message of [...messages].reverse()) {
    if (message.createdAt !== last?.createdAt) break;
    const otp = await service.store.portal.getOtp(String((JSON.parse(message.payload) as { otpRequestId: string }).otpRequestId));
    if (otp?.usedAt === null) last = message;
  }
  if (!last) throw new Error(`no outbox message for ${recipient}`);
  const text = await openOutboxText(last, service.app.dmp.keyProvider!);
  const code = /\b(\d{6})\b/.exec(text)?.[1];
  if (!code) throw new Error(`no code in: ${text}`);
  return { code, otpRequestId: String((JSON.parse(last.payload) as { otpRequestId: string }).otpRequestId), kind: last.kind };
}

export async function activate(client: PatientClient, patient: TestPatient, contact: { kind: 'sms' | 'email'; value: string }, secretCode = SECRET_CODE): Promise<void> {
  const response = await client.call('POST', '/v1/portal/activate', { body: { ins: patient.ins, activationCode: patient.activationCode, secretCode, contact } });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
}

/** INS + secret code, then the OTP read from the outbox: a session token. */
export async function loginWithOtp(service: TestDmpService, client: PatientClient, patient: TestPatient, recipient: string, secretCode = SECRET_CODE): Promise<string> {
  const step1 = await client.call<{ otpRequestId: string }>('POST', '/v1/portal/login', { body: { ins: patient.ins, secretCode } });
  expect(step1.status, JSON.stringify(step1.body)).toBe(200);
  const { code } = await lastOtpFromOutbox(service, recipient);
  const step2 = await client.call<{ sessionToken: string }>('POST', '/v1/portal/login/verify', { body: { otpRequestId: step1.body.otpRequestId, otp: code } });
  expect(step2.status, JSON.stringify(step2.body)).toBe(200);
  return step2.body.sessionToken;
}

/** A fresh DMP, activated with an e-mail contact, and a live session. */
export async function patientWithSession(service: TestDmpService, client: PatientClient): Promise<{ patient: TestPatient; token: string; email: string }> {
  const patient = await createPatient(service);
  const email = `patient.${patient.ins.value}@exemple.fr`;
  await activate(client, patient, { kind: 'email', value: email });
  return { patient, token: await loginWithOtp(service, client, patient, email), email };
}

export { totpCodeFromUri };
