// The agent client against the real agent (startAgent with the real card service over the native
// pcsclite mock holding a virtual CPS3 and a Vitale 2 card): desktop calls through hello + token,
// contract errors as classes, events, pairing of a browser origin approved by a desktop caller,
// and the PIN page: the prepared popup gets the agent's one-time URL, the PIN posted there
// settles the call and the popup closes.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMockPcsc, type MockPcsc } from '../../../native-mocks/pcsclite/index.js';
import { createCardService } from '../../../src/agent/cards/index.js';
import { startAgent, type RunningAgent } from '../../../src/agent/daemon.js';
import { TOKEN_FILE } from '../../../src/agent/security/local-secrets.js';
import { AgentClient, PinIncorrectError, PinValueNotAllowedError, type PinPrompt } from '../../../src/client/agent-client/index.js';
import { TestPki } from '../../../src/pki/test-pki.js';
import { createPersonaCard } from '../../../src/simulator/card-factory.js';
import { CPS_PERSONAS } from '../../../src/simulator/personas.js';
import { BROWSER_ORIGIN } from './support/fake-agent.js';
import { BrowserLikeWebSocket, fakeWindows } from './support/fixtures.js';

let mock: MockPcsc;
let pki: TestPki;
let agent: RunningAgent;
let configDir: string;
const clients: AgentClient[] = [];

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'cardbridge-client-agent-'));
  pki = await TestPki.open(join(root, 'pki'));
  mock = createMockPcsc({ readers: ['Lecteur CPS', 'Lecteur Vitale'] });
  mock.insertCard('Lecteur CPS', await createPersonaCard('cps:medecin', { pki }));
  mock.insertCard('Lecteur Vitale', await createPersonaCard('vitale:famille', { pki }));
  let origin = 'http://127.0.0.1:24820';
  const cardService = createCardService({ pcsc: mock.pcsclite, allowVirtualReaders: false, agentBaseUrl: () => origin, appVersion: '0.1.0-test', env: {} });
  await cardService.whenReady();
  configDir = join(root, 'config');
  agent = await startAgent({ port: 0, configDir, stateDir: join(root, 'state'), logDestination: join(root, 'agent.log'), cardService });
  origin = `http://127.0.0.1:${agent.port}`;
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await agent?.close();
});

async function desktop(): Promise<AgentClient> {
  const token = readFileSync(join(configDir, TOKEN_FILE), 'utf8').trim();
  const client = await AgentClient.connect({ url: agent.url, WebSocket, token, appId: 'logiciel-test' });
  clients.push(client);
  return client;
}

describe('against the real agent', () => {
  it('desktop: hello, readers, identity, PIN by value, signature, token, Vitale', async () => {
    const client = await desktop();
    expect(client.caller).toBe('desktop');
    expect((await client.info()).protocol).toBe(1);
    const readers = await client.readers();
    expect(readers.map((r) => [r.name, r.card?.family])).toEqual([
      ['Lecteur CPS', 'CPS3'],
      ['Lecteur Vitale', 'VITALE2'],
    ]);
    const identity = await client.cps.getIdentity();
    expect(identity).toMatchObject({ family: 'CPS3', nationalId: CPS_PERSONAS['cps:medecin'].rpps, idType: 'RPPS', surname: 'MARTIN' });
    const wrong = await client.cps.verifyPin({ method: 'value', pin: '0000' }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(PinIncorrectError);
    expect((wrong as PinIncorrectError).triesRemaining).toBe(2);
    expect(await client.cps.verifyPin({ method: 'value', pin: '1234' })).toEqual({ verified: true });
    expect((await client.cps.pinStatus()).verified).toBe(true);
    const signed = await client.cps.sign({ hash: new Uint8Array(32).fill(9), hashAlgorithm: 'SHA-256' });
    expect(signed.algorithm).toBe('RS256');
    const token = await client.cps.authenticate({ challenge: Buffer.alloc(32, 1).toString('base64') });
    expect(token).toMatchObject({ format: 'cardbridge-auth:1', origin: 'app:logiciel-test' });
    const card = await client.vitale.read();
    expect(card.beneficiaries.length).toBeGreaterThan(0);
    expect((await client.cps.getActivities()).length).toBeGreaterThan(0);
  });

  it('events: card.removed and card.inserted after subscribe', async () => {
    const client = await desktop();
    await client.subscribe(['card.removed', 'card.inserted']);
    const seen: string[] = [];
    client.on('card.removed', (e) => seen.push(`removed:${e.reader}`));
    client.on('card.inserted', (e) => seen.push(`inserted:${e.reader}:${e.family}`));
    mock.removeCard('Lecteur Vitale');
    await vi.waitFor(() => expect(seen).toContain('removed:Lecteur Vitale'), { timeout: 5000 });
    mock.insertCard('Lecteur Vitale', await createPersonaCard('vitale:famille', { pki }));
    await vi.waitFor(() => expect(seen).toContain('inserted:Lecteur Vitale:VITALE2'), { timeout: 5000 });
  });

  it('browser: pairing approved by a desktop caller, then the PIN page in the prepared popup', async () => {
    const windows = fakeWindows();
    const page = await AgentClient.connect({ url: agent.url, WebSocket: BrowserLikeWebSocket, openWindow: windows.open });
    clients.push(page);
    expect((await page.info()).caller).toBe('unpaired');
    const admin = await desktop();
    const paired = page.pairAndWait(['cps.read', 'cps.sign'], {
      pollIntervalMs: 50,
      onCode: (code) => void admin.call('agent.approvePairing', { code }),
    });
    expect((await paired).caller).toBe('origin');

    await expect(page.cps.verifyPin({ method: 'value', pin: '1234' })).rejects.toBeInstanceOf(PinValueNotAllowedError);

    page.preparePinWindow();
    const popup = windows.opened[0]!;
    const prompts: PinPrompt[] = [];
    page.on('pin.prompt', (p) => prompts.push(p));
    const sign = page.cps.sign({ hash: new Uint8Array(32).fill(7), hashAlgorithm: 'SHA-256' });
    await vi.waitFor(() => expect(prompts).toHaveLength(1), { timeout: 5000 });
    expect(prompts[0]).toMatchObject({ origin: BROWSER_ORIGIN, reader: 'Lecteur CPS' });
    expect(popup.location.href).toBe(prompts[0]?.url);
    // the user types the PIN on the agent's page
    const url = new URL(prompts[0]!.url);
    const html = await (await fetch(url)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    expect(csrf).toBeDefined();
    const post = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: url.origin, 'Sec-Fetch-Site': 'same-origin' },
      body: new URLSearchParams({ csrf: csrf!, pin: '1234', action: 'submit' }).toString(),
    });
    expect(post.status).toBeLessThan(400);
    expect((await sign).algorithm).toBe('RS256');
    expect(popup.closed).toBe(true);
  });
});
