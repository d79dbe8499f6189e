// A CardService for the connection layer's tests: records every call with the CallerContext it
// got, answers with canned results (or a handler per method), emits events on demand, serves one
// page under /pin/, and records closed connections.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallerContext, CardService } from '../../../src/agent/caller.js';

export interface RecordedCall {
  readonly method: string;
  readonly params: unknown;
  readonly caller: CallerContext;
}

export type FakeHandler = (params: unknown, caller: CallerContext) => unknown;

export const FAKE_SERIAL = '8000012345';

const DEFAULT_RESULTS: Record<string, unknown> = {
  'readers.list': [{ name: 'Lecteur de test 00', card: { family: 'CPS3', atr: '3B 8F 80 01' } }],
  'cps.getIdentity': {
    family: 'CPS3',
    serial: FAKE_SERIAL,
    nationalId: '810001234567',
    idType: 'RPPS',
    surname: 'MEDECIN',
    givenName: 'JEAN',
    professionLabel: 'Médecin',
    notAfter: '2030-01-01T00:00:00Z',
  },
  'cps.getCertificates': { authentication: 'MIIB', signature: 'MIIC', chain: [] },
  'cps.getActivities': [],
  'cps.pinStatus': { triesRemaining: 3, maxTries: 3, blocked: false, verified: false },
  'cps.verifyPin': { verified: true },
  'cps.changePin': { ok: true },
  'cps.unblockPin': { ok: true },
  'cps.logout': { ok: true },
  'cps.sign': { signature: 'c2lnbmF0dXJl', algorithm: 'RS256', certificate: 'MIIC' },
  'cps.authenticate': { format: 'cardbridge-auth:1', algorithm: 'RS256', origin: 'x', unverifiedCertificate: 'MIIB', signature: 'c2ln', appVersion: '0' },
  'cps.decrypt': { plaintext: 'cGxhaW4=' },
  'vitale.read': { family: 'VITALE2', serial: '12345', beneficiaries: [] },
};

export class FakeCardService implements CardService {
  readonly calls: RecordedCall[] = [];
  readonly closedConnections: string[] = [];
  readonly handlers = new Map<string, FakeHandler>();
  status: 'ok' | 'unavailable' = 'ok';
  closed = false;
  private readonly listeners = new Set<(event: string, params: unknown) => void>();
  private readonly closeWaiters: (() => void)[] = [];

  async call(method: string, params: unknown, caller: CallerContext): Promise<unknown> {
    this.calls.push({ method, params, caller });
    const handler = this.handlers.get(method);
    if (handler) return handler(params, caller);
    return DEFAULT_RESULTS[method] ?? { ok: true };
  }

  onEvent(listener: (event: string, params: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: string, params: unknown): void {
    for (const listener of this.listeners) listener(event, params);
  }

  async handleHttp(_request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean> {
    if (url.pathname !== '/pin/fake') return false;
    response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('page PIN factice');
    return true;
  }

  connectionClosed(connectionId: string): void {
    this.closedConnections.push(connectionId);
    for (const waiter of this.closeWaiters.splice(0)) waiter();
  }

  /** Resolves once `connectionClosed(id)` has been called. */
  async waitClosed(connectionId: string, timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closedConnections.includes(connectionId)) {
      if (Date.now() > deadline) throw new Error(`connectionClosed(${connectionId}) never called`);
      await new Promise<void>((resolve) => {
        this.closeWaiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  pcscStatus(): 'ok' | 'unavailable' {
    return this.status;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }
}
