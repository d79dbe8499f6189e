// Shared pieces of the card-service tests: one test PKI per file, a service over the native
// pcsclite mock with its readers and cards, callers (desktop or browser origin) that record their
// notifications, an HTTP server in front of handleHttp for the PIN page, and error assertions.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createMockPcsc, type MockPcsc } from '../../../native-mocks/pcsclite/index.js';
import type { CallerContext, CardService, Scope } from '../../../src/agent/caller.js';
import { SCOPES } from '../../../src/agent/caller.js';
import { createCardService, type CardAuditEntry, type CardServiceOptions } from '../../../src/agent/cards/index.js';
import { AgentError, type AgentErrorCode } from '../../../src/agent/errors.js';
import { TestPki } from '../../../src/pki/test-pki.js';
import { createPersonaCard } from '../../../src/simulator/card-factory.js';
import type { PersonaId } from '../../../src/simulator/personas.js';
import type { VirtualCard } from '../../../src/simulator/virtual-card.js';

let pkiDir: string | null = null;
let pkiPromise: Promise<TestPki> | null = null;

export function testPki(): Promise<TestPki> {
  pkiDir ??= mkdtempSync(join(tmpdir(), 'cb-agent-cards-'));
  pkiPromise ??= TestPki.open(pkiDir);
  return pkiPromise;
}

export function removeTestPki(): void {
  if (pkiDir) rmSync(pkiDir, { recursive: true, force: true });
  pkiDir = null;
  pkiPromise = null;
}

export async function personaCard(id: PersonaId): Promise<VirtualCard> {
  return createPersonaCard(id, { pki: await testPki() });
}

export interface Harness {
  readonly mock: MockPcsc;
  readonly service: CardService & { whenReady(): Promise<void> };
  readonly events: { event: string; params: unknown }[];
  readonly audit: CardAuditEntry[];
  /** The agent's base URL (the PIN page server's, when `http` was asked). */
  readonly baseUrl: string;
  close(): Promise<void>;
}

export interface HarnessOptions extends Partial<Omit<CardServiceOptions, 'pcsc'>> {
  readonly readers?: readonly (string | { name: string; pinpad?: boolean })[];
  readonly cards?: Readonly<Record<string, PersonaId | VirtualCard>>;
  readonly daemonRunning?: boolean;
  /** Serve handleHttp on a loopback port; agentBaseUrl is then that server's. */
  readonly http?: boolean;
  /** No audit sink (the first audit line of an insertion reads the card serial). */
  readonly noAudit?: boolean;
}

const harnesses: Harness[] = [];

export async function closeHarnesses(): Promise<void> {
  await Promise.all(harnesses.splice(0).map((h) => h.close()));
}

export async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const mock = createMockPcsc({ readers: options.readers ?? ['Lecteur A'], daemonRunning: options.daemonRunning ?? true });
  for (const [reader, card] of Object.entries(options.cards ?? {})) {
    mock.insertCard(reader, typeof card === 'string' ? await personaCard(card) : card);
  }
  let server: Server | null = null;
  let baseUrl = typeof options.agentBaseUrl === 'string' ? options.agentBaseUrl : 'http://127.0.0.1:24820';
  let service: (CardService & { whenReady(): Promise<void> }) | null = null;
  if (options.http) {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', baseUrl);
      service!
        .handleHttp(req, res, url)
        .then((handled) => {
          if (!handled) {
            res.writeHead(404);
            res.end();
          }
        })
        .catch(() => {
          res.writeHead(500);
          res.end();
        });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const events: Harness['events'] = [];
  const audit: CardAuditEntry[] = [];
  service = createCardService({
    pcsc: mock.pcsclite,
    allowVirtualReaders: options.allowVirtualReaders ?? false,
    // The daemon learns its port once listening: the service takes the base URL as a function then.
    agentBaseUrl: options.http ? () => baseUrl : baseUrl,
    appVersion: options.appVersion ?? '0.1.0-test',
    env: {},
    ...(options.noAudit ? {} : { audit: (entry: CardAuditEntry) => audit.push(entry) }),
    ...(options.pinPerSignature === undefined ? {} : { pinPerSignature: options.pinPerSignature }),
    ...(options.pinIdleTimeoutMs === undefined ? {} : { pinIdleTimeoutMs: options.pinIdleTimeoutMs }),
    ...(options.pinPromptTimeoutMs === undefined ? {} : { pinPromptTimeoutMs: options.pinPromptTimeoutMs }),
    ...(options.queueDepth === undefined ? {} : { queueDepth: options.queueDepth }),
  });
  service.onEvent((event, params) => events.push({ event, params }));
  await service.whenReady();
  const h: Harness = {
    mock,
    service,
    events,
    audit,
    baseUrl,
    async close() {
      await service!.close();
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
  harnesses.push(h);
  return h;
}

export interface TestCaller extends CallerContext {
  readonly notifications: { method: string; params: unknown }[];
  /** The connection closes (the layer aborts the signal; the service also hears connectionClosed). */
  disconnect(): void;
  /** Resolves with the first notification of `method` from index `from` on (past or future). */
  nextNotification(method: string, from?: number, timeoutMs?: number): Promise<unknown>;
}

let nextId = 1;

export function caller(kind: 'desktop' | 'origin', options: { origin?: string; lang?: 'fr' | 'en' } = {}): TestCaller {
  const controller = new AbortController();
  const notifications: TestCaller['notifications'] = [];
  const waiters: (() => void)[] = [];
  const origin = options.origin ?? (kind === 'desktop' ? 'app:cardbridge-test' : 'https://app.example:8443');
  return {
    connectionId: `conn-${nextId++}`,
    kind,
    origin,
    scopes: new Set<Scope>(SCOPES),
    lang: options.lang ?? 'fr',
    signal: controller.signal,
    notifications,
    notify(method, params) {
      notifications.push({ method, params });
      for (const w of waiters.splice(0)) w();
    },
    disconnect() {
      controller.abort();
    },
    async nextNotification(method, from = 0, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = notifications.find((n, i) => n.method === method && i >= from);
        if (found) return found.params;
        if (Date.now() > deadline) throw new Error(`no ${method} notification`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 20);
        });
      }
    },
  };
}

export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

export async function expectAgentError(promise: Promise<unknown>, code: AgentErrorCode, details?: Record<string, unknown>): Promise<AgentError> {
  const error = await rejectionOf(promise);
  if (!(error instanceof AgentError)) throw new Error(`expected AgentError ${code}, got ${String(error)}`);
  expect(error.code).toBe(code);
  if (details) expect(error.details).toMatchObject(details);
  return error;
}

/** Number of APDUs the card in `reader` answered while `fn` ran. */
export async function countApdus<T>(mock: MockPcsc, reader: string, fn: () => Promise<T>): Promise<{ value: T; apdus: number }> {
  const before = mock.apduLog(reader).length;
  const value = await fn();
  return { value, apdus: mock.apduLog(reader).length - before };
}

/** VERIFY commands (INS 20) with data that reached the card in `reader`: PIN presentations. */
export function pinPresentations(mock: MockPcsc, reader: string): number {
  return mock.apduLog(reader).filter((e) => {
    const bytes = e.command.split(' ');
    return bytes[1] === '20' && bytes[2] === '00' && bytes.length > 5;
  }).length;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A raw HTTP request (node:http, so Origin and Sec-Fetch-Site are exactly what the test says). */
export function http(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** The CSRF token in a PIN page's form. */
export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error('no CSRF token in the page');
  return m[1];
}

/** POSTs the PIN form as the agent's own page would (same origin, CSRF token). */
export function postForm(url: string, agentOrigin: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return http(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: agentOrigin, 'Sec-Fetch-Site': 'same-origin', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** Waits until `check` holds. */
export async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
