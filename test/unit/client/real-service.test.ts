// The DMP client against the real DMP service (SQLite, the test PKI's intermediates and CRLs)
// and the real agent (card service over the native mock, a virtual CPS3): login with the card's
// token and a WebCrypto DPoP key, the session's requests, the service's problem details, logout,
// and the session ended when the card is pulled out. Only the authentication routes exist on the
// service side so far; the other routes are exercised against the fake DMP (dmp-client.test.ts).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMockPcsc, type MockPcsc } from '../../../native-mocks/pcsclite/index.js';
import { createCardService } from '../../../src/agent/cards/index.js';
import { startAgent, type RunningAgent } from '../../../src/agent/daemon.js';
import { TOKEN_FILE } from '../../../src/agent/security/local-secrets.js';
import { AgentClient } from '../../../src/client/agent-client/index.js';
import { DmpClient, DmpError, type SessionEndedEvent } from '../../../src/client/dmp-client/index.js';
import { createPersonaCard } from '../../../src/simulator/card-factory.js';
import { CPS_PERSONAS } from '../../../src/simulator/personas.js';
import { openDmpTestPki, type DmpTestPki } from '../../support/dmp/pki.js';
import { startTestDmpService, type TestDmpService } from '../../support/dmp/service.js';

const APP_ORIGIN = 'app:logiciel-test';

let pki: DmpTestPki;
let mock: MockPcsc;
let agent: RunningAgent;
let service: TestDmpService;
let agentClient: AgentClient;

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'cardbridge-client-service-'));
  pki = await openDmpTestPki(join(root, 'pki'));
  mock = createMockPcsc({ readers: ['Lecteur CPS', 'Lecteur Vitale'] });
  mock.insertCard('Lecteur CPS', await createPersonaCard('cps:medecin', { pki: pki.pki }));
  mock.insertCard('Lecteur Vitale', await createPersonaCard('vitale:famille', { pki: pki.pki }));
  let origin = 'http://127.0.0.1:24820';
  const cardService = createCardService({ pcsc: mock.pcsclite, allowVirtualReaders: false, agentBaseUrl: () => origin, appVersion: '0.1.0-test', env: {} });
  await cardService.whenReady();
  const configDir = join(root, 'config');
  agent = await startAgent({ port: 0, configDir, stateDir: join(root, 'state'), logDestination: join(root, 'agent.log'), cardService });
  origin = `http://127.0.0.1:${agent.port}`;
  const token = readFileSync(join(configDir, TOKEN_FILE), 'utf8').trim();
  agentClient = await AgentClient.connect({ url: agent.url, WebSocket, token, appId: 'logiciel-test' });
  // Desktop software: the card needs the PIN for authentication; given by value here.
  await agentClient.cps.verifyPin({ method: 'value', pin: CPS_PERSONAS['cps:medecin'].pin });
  service = await startTestDmpService(pki, { store: 'sqlite', config: { allowedOrigins: [APP_ORIGIN] } });
});

afterAll(async () => {
  await agentClient?.close();
  await agent?.close();
  await service?.close();
});

describe('against the real DMP service', () => {
  it('logs in with the card, carries the session with DPoP, logs out', async () => {
    const dmp = new DmpClient({ baseUrl: service.url, agent: agentClient });
    const result = await dmp.login();
    expect(result.practitioner).toMatchObject({ surname: 'MARTIN', givenName: 'SOPHIE', professionCode: '10' });
    expect(Date.parse(result.expiresAt)).toBeGreaterThan(Date.now());
    expect(await dmp.currentSession()).toMatchObject({ mode: 'practitioner', practitioner: { surname: 'MARTIN' } });
    expect(await dmp.currentSession()).toMatchObject({ mode: 'practitioner' }); // a second proof: fresh jti
    await dmp.logout();
    expect(dmp.loggedIn).toBe(false);
  });

  it('the service refuses an origin it does not allow: a DmpError with its problem code', async () => {
    const other = await startTestDmpService(pki, { store: 'sqlite', config: { allowedOrigins: ['https://ailleurs.example'] } });
    try {
      const dmp = new DmpClient({ baseUrl: other.url, agent: agentClient });
      const error = (await dmp.login().catch((e: unknown) => e)) as DmpError;
      expect(error).toBeInstanceOf(DmpError);
      expect(error).toMatchObject({ status: 401, code: 'ORIGIN_NOT_ALLOWED' });
      expect(error.title).not.toBe('');
      expect(dmp.loggedIn).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('ends the session at the service when the CPS card is pulled out', async () => {
    const exchanges: string[] = [];
    const recording: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      exchanges.push(`${init?.method} ${new URL(String(input)).pathname} ${response.status}`);
      return response;
    };
    const dmp = new DmpClient({ baseUrl: service.url, agent: agentClient, fetch: recording });
    const ended: SessionEndedEvent[] = [];
    dmp.onSessionEnded((e) => ended.push(e));
    await dmp.login();
    mock.removeCard('Lecteur Vitale'); // not the CPS: the session stays
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(dmp.loggedIn).toBe(true);
    mock.removeCard('Lecteur CPS');
    await vi.waitFor(() => expect(ended).toEqual([{ reason: 'card-removed' }]), { timeout: 5000 });
    await expect(dmp.currentSession()).rejects.toMatchObject({ code: 'SESSION_REQUIRED' });
    // the service ended it too
    await vi.waitFor(() => expect(exchanges.at(-1)).toBe('POST /v1/auth/logout 204'));
    expect(exchanges).toEqual(['POST /v1/auth/challenge 200', 'POST /v1/auth/login 200', 'POST /v1/auth/logout 204']);
  });
});
