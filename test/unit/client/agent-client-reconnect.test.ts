// Reconnection: the fake agent is killed and restarted on the same port; pending calls fail with
// ConnectionLostError, the client retries with exponential back-off, says hello and subscribes
// again, and calls and events work afterwards.
import { WebSocket } from 'ws';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgentClient, ConnectionLostError, UnauthorizedError, type ConnectionEvent } from '../../../src/client/agent-client/index.js';
import { FAKE_TOKEN, FakeAgent, rpcError } from './support/fake-agent.js';
import { doctorMaterial, tick, type PersonaMaterial } from './support/fixtures.js';

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

async function connected(reconnect: { initialDelayMs: number; maxDelayMs: number } | false = { initialDelayMs: 40, maxDelayMs: 160 }) {
  const agent = await FakeAgent.start({ persona: material.persona, credentials: material.credentials });
  fake = agent;
  const c = await AgentClient.connect({ url: agent.url, WebSocket, token: FAKE_TOKEN, appId: 'logiciel-test', reconnect });
  client = c;
  const states: ConnectionEvent[] = [];
  c.on('connection', (e) => states.push(e));
  return { agent, c, states };
}

describe('reconnection', () => {
  it('fails the pending call, reconnects, says hello, re-subscribes, and works again', async () => {
    const { agent, c, states } = await connected();
    await c.subscribe(['card.removed']);
    const removed: string[] = [];
    c.on('card.removed', (e) => removed.push(e.reader));

    agent.hold('cps.getIdentity');
    const pending = c.cps.getIdentity();
    await tick();
    await agent.stop();
    await expect(pending).rejects.toBeInstanceOf(ConnectionLostError);
    await vi.waitFor(() => expect(c.state).toBe('reconnecting'));
    await expect(c.readers()).rejects.toBeInstanceOf(ConnectionLostError);

    const before = agent.requests.length;
    await agent.restart();
    await vi.waitFor(() => expect(c.state).toBe('open'), { timeout: 3000 });
    const handshake = agent.requests.slice(before);
    expect(handshake.map((r) => r.method)).toEqual(['agent.hello', 'agent.subscribe']);
    expect(handshake[0]?.params).toEqual({ token: FAKE_TOKEN, appId: 'logiciel-test' });
    expect(handshake[1]?.params).toEqual({ events: ['card.removed'] });
    expect(agent.subscriptions()).toEqual([['card.removed']]);

    expect((await c.cps.getIdentity()).surname).toBe('MARTIN');
    agent.emit('card.removed', { reader: 'Lecteur CPS 0' });
    await vi.waitFor(() => expect(removed).toEqual(['Lecteur CPS 0']));
    expect(states.map((s) => s.state)).toContain('reconnecting');
    expect(states.at(-1)?.state).toBe('open');
  });

  it('waits longer after each failed attempt, up to the ceiling', async () => {
    const { agent, c, states } = await connected({ initialDelayMs: 30, maxDelayMs: 120 });
    await agent.stop();
    await vi.waitFor(() => expect(states.filter((s) => s.state === 'reconnecting').length).toBeGreaterThanOrEqual(5), { timeout: 3000 });
    const delays = states.filter((s) => s.state === 'reconnecting').map((s) => s.delayMs);
    expect(delays.slice(0, 5)).toEqual([30, 60, 120, 120, 120]);
    expect(states.filter((s) => s.state === 'reconnecting').map((s) => s.attempt).slice(0, 3)).toEqual([1, 2, 3]);
    expect(states[0]?.error).toBeInstanceOf(ConnectionLostError);
    await agent.restart();
    await vi.waitFor(() => expect(c.state).toBe('open'), { timeout: 3000 });
    // after a success the back-off starts again from the first delay
    const reopened = states.length;
    await agent.stop();
    await vi.waitFor(() => expect(states.length).toBeGreaterThan(reopened));
    expect(states[reopened]).toMatchObject({ state: 'reconnecting', attempt: 1, delayMs: 30 });
  });

  it('stays closed after a lost connection when reconnect is false', async () => {
    const { agent, c, states } = await connected(false);
    await agent.stop();
    await vi.waitFor(() => expect(c.state).toBe('closed'));
    expect(states.at(-1)?.error).toBeInstanceOf(ConnectionLostError);
    await agent.restart();
    await tick(100);
    expect(c.state).toBe('closed');
    expect(agent.connectionCount).toBe(0);
  });

  it('gives up when the restarted agent refuses the hello (token changed)', async () => {
    const { agent, c, states } = await connected();
    await agent.stop();
    agent.failNext('agent.hello', rpcError('UNAUTHORIZED'));
    await agent.restart();
    await vi.waitFor(() => expect(c.state).toBe('closed'), { timeout: 3000 });
    expect(states.at(-1)?.error).toBeInstanceOf(UnauthorizedError);
    await tick(150);
    expect(agent.calls('agent.hello').length).toBe(2); // the first connection's and the refused one
  });

  it('close() during the back-off stops the retries', async () => {
    const { agent, c } = await connected({ initialDelayMs: 50, maxDelayMs: 50 });
    await agent.stop();
    await vi.waitFor(() => expect(c.state).toBe('reconnecting'));
    await c.close();
    await agent.restart();
    await tick(200);
    expect(agent.connectionCount).toBe(0);
    expect(c.state).toBe('closed');
  });
});
