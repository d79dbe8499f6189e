// Browser pages: the PIN page popup (prepared in the click handler, navigated on pin.prompt,
// closed when the call settles), the onPinPrompt fallback, and pairing with pairAndWait.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgentClient, TimeoutError, UserCancelledError, type PinPrompt } from '../../../src/client/agent-client/index.js';
import { BROWSER_ORIGIN, FakeAgent } from './support/fake-agent.js';
import { BrowserLikeWebSocket, doctorMaterial, fakeWindows, settled, tick, type PersonaMaterial } from './support/fixtures.js';

let material: PersonaMaterial;
let fake: FakeAgent | undefined;
let client: AgentClient | undefined;

beforeAll(async () => {
  material = await doctorMaterial();
});

afterEach(async () => {
  await client?.close();
  await fake?.stop();
  client = undefined;
  fake = undefined;
});

const HASH = Buffer.alloc(32, 1).toString('base64');

async function browserPage(options: { paired?: boolean; onPinPrompt?: (p: PinPrompt) => void; promptIdKind?: 'rpc-id' | 'prompt-id' } = {}) {
  const agent = await FakeAgent.start({ persona: material.persona, credentials: material.credentials, browserCaller: options.paired === false ? 'unpaired' : 'origin' });
  agent.pinPage = true;
  agent.promptIdKind = options.promptIdKind ?? 'rpc-id';
  fake = agent;
  const windows = fakeWindows();
  const c = await AgentClient.connect({
    url: agent.url,
    WebSocket: BrowserLikeWebSocket,
    openWindow: windows.open,
    ...(options.onPinPrompt ? { onPinPrompt: options.onPinPrompt } : {}),
  });
  client = c;
  return { agent, c, windows };
}

describe('PIN page popup', () => {
  it.each(['rpc-id', 'prompt-id'] as const)(
    'navigates the prepared window to the prompt URL and closes it when the call settles (requestId = %s)',
    async (promptIdKind) => {
      const { agent, c, windows } = await browserPage({ promptIdKind });
      expect((await c.info()).caller).toBe('origin');
      const prepared = c.preparePinWindow();
      expect(prepared).not.toBeNull();
      expect(windows.opened).toHaveLength(1);
      const popup = windows.opened[0]!;
      expect(popup.visited).toEqual(['about:blank']);
      expect(popup.opener).toBeNull();

      const prompts: PinPrompt[] = [];
      c.on('pin.prompt', (p) => prompts.push(p));
      const nextPrompt = agent.nextPrompt();
      const sign = c.cps.sign({ hash: HASH, hashAlgorithm: 'SHA-256' });
      const requestId = await nextPrompt;
      await vi.waitFor(() => expect(popup.location.href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/pin\//));
      expect(prompts).toHaveLength(1);
      expect(prompts[0]).toMatchObject({ url: popup.location.href, reader: 'Lecteur CPS 0', origin: BROWSER_ORIGIN, triesRemaining: 3 });
      expect(popup.closed).toBe(false);
      const state = settled(sign);
      await tick();
      expect(state.done).toBe(false);
      agent.submitPin(requestId);
      expect((await sign).algorithm).toBe('RS256');
      expect(popup.closed).toBe(true);
      expect(windows.opened).toHaveLength(1);
    },
  );

  it('closes the prepared window unused when the call needed no PIN', async () => {
    const { agent, c, windows } = await browserPage();
    await c.cps.verifyPin(); // fake: verified for this connection, no prompt
    expect(agent.calls('cps.verifyPin')).toHaveLength(1);
    c.preparePinWindow();
    const popup = windows.opened[0]!;
    // a call that never asks for the PIN does not use the window…
    await c.readers();
    expect(popup.closed).toBe(false);
    // …the PIN-capable call does, and closes it when it settles without a prompt
    await c.cps.sign({ hash: HASH, hashAlgorithm: 'SHA-256' });
    expect(popup.visited).toEqual(['about:blank']);
    expect(popup.closed).toBe(true);
  });

  it('closes the window when the user cancels on the PIN page (UserCancelledError)', async () => {
    const { agent, c, windows } = await browserPage();
    c.preparePinWindow();
    const nextPrompt = agent.nextPrompt();
    const authenticate = c.cps.authenticate({ challenge: Buffer.alloc(32, 3).toString('base64') });
    agent.cancelPin(await nextPrompt);
    await expect(authenticate).rejects.toBeInstanceOf(UserCancelledError);
    expect(windows.opened[0]?.closed).toBe(true);
  });

  it('without a prepared window, hands the prompt to onPinPrompt', async () => {
    const received: PinPrompt[] = [];
    const { agent, c, windows } = await browserPage({ onPinPrompt: (p) => received.push(p) });
    const nextPrompt = agent.nextPrompt();
    const activities = c.cps.getActivities();
    const requestId = await nextPrompt;
    await vi.waitFor(() => expect(received).toHaveLength(1));
    expect(received[0]?.url).toMatch(/\/pin\//);
    expect(windows.opened).toHaveLength(0);
    agent.submitPin(requestId);
    expect(await activities).toHaveLength(1);
  });

  it('without a prepared window nor onPinPrompt, opens the URL directly and closes it afterwards', async () => {
    const { agent, c, windows } = await browserPage();
    const nextPrompt = agent.nextPrompt();
    const decrypt = c.cps.decrypt({ ciphertext: Buffer.alloc(256, 1).toString('base64') }).catch((e: unknown) => e);
    const requestId = await nextPrompt;
    await vi.waitFor(() => expect(windows.opened).toHaveLength(1));
    expect(windows.opened[0]?.visited[0]).toMatch(/\/pin\//);
    agent.submitPin(requestId);
    await decrypt;
    expect(windows.opened[0]?.closed).toBe(true);
  });

  it('never navigates the popup to a URL that is not the agent page (javascript:, another host)', async () => {
    const { agent, c, windows } = await browserPage();
    c.preparePinWindow();
    const popup = windows.opened[0]!;
    const prompts: PinPrompt[] = [];
    c.on('pin.prompt', (p) => prompts.push(p));
    for (const url of ['javascript:alert(document.cookie)', 'https://evil.example/pin/x', 'data:text/html,hi']) {
      agent.sendRaw(JSON.stringify({ jsonrpc: '2.0', method: 'pin.prompt', params: { requestId: 1, url, reader: 'r', origin: BROWSER_ORIGIN, triesRemaining: 3 } }));
    }
    await tick(50);
    expect(popup.visited).toEqual(['about:blank']);
    expect(prompts).toEqual([]);
  });

  it('reuses one prepared blank window for several clicks, and close() closes it', async () => {
    const { c, windows } = await browserPage();
    const first = c.preparePinWindow();
    const second = c.preparePinWindow();
    expect(windows.opened).toHaveLength(1);
    expect(second?.window).toBe(first?.window);
    first?.close();
    expect(windows.opened[0]?.closed).toBe(true);
    c.preparePinWindow();
    expect(windows.opened).toHaveLength(2);
    await c.close();
    expect(windows.opened[1]?.closed).toBe(true);
  });

  it('returns null when no window can be opened (popup blocked, no DOM)', async () => {
    const agent = await FakeAgent.start({ persona: material.persona, credentials: material.credentials });
    fake = agent;
    client = await AgentClient.connect({ url: agent.url, WebSocket: BrowserLikeWebSocket, openWindow: () => null });
    expect(client.preparePinWindow()).toBeNull();
    const nodeDefault = await AgentClient.connect({ url: agent.url, WebSocket: BrowserLikeWebSocket });
    expect(nodeDefault.preparePinWindow()).toBeNull(); // Node: no window.open
    await nodeDefault.close();
  });
});

describe('pairing', () => {
  it('pairAndWait: asks agent.pair, shows the code, polls agent.info until the origin is paired', async () => {
    const { agent, c } = await browserPage({ paired: false });
    expect((await c.info()).caller).toBe('unpaired');
    const codes: string[] = [];
    const waiting = c.pairAndWait(['cps.read', 'cps.authenticate'], { onCode: (code) => codes.push(code), pollIntervalMs: 30 });
    const state = settled(waiting);
    await vi.waitFor(() => expect(codes).toEqual(['042917']));
    expect(agent.calls('agent.pair')[0]?.params).toEqual({ scopes: ['cps.read', 'cps.authenticate'] });
    await tick(100);
    expect(state.done).toBe(false);
    expect(agent.calls('agent.info').length).toBeGreaterThan(2);
    agent.paired = true; // the user approved the code in the agent
    expect((await waiting).caller).toBe('origin');
  });

  it('pairAndWait rejects with TimeoutError once the code expired', async () => {
    const { agent, c } = await browserPage({ paired: false });
    agent.handlers.set('agent.pair', () => ({ code: '111111', expiresAt: new Date(Date.now() + 150).toISOString() }));
    const error = await c.pairAndWait(['cps.read'], { onCode: () => undefined, pollIntervalMs: 40 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).data).toMatchObject({ source: 'client', method: 'agent.pair' });
  });

  it('pairAndWait stops on abort', async () => {
    const { c } = await browserPage({ paired: false });
    const controller = new AbortController();
    const waiting = c.pairAndWait(['cps.read'], { onCode: () => controller.abort(new Error('page closed')), pollIntervalMs: 30, signal: controller.signal });
    await expect(waiting).rejects.toThrow('page closed');
  });
});
