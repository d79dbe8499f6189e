// The JSON-RPC layer under bad input (quality.md "Bad input"): each gets a clear error and the
// agent stays up; pipelining, notifications, frame size, floods and the per-connection limits.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AgentError } from '../../../src/agent/errors.js';
import type { CallerContext } from '../../../src/agent/caller.js';
import { startTestAgent, type TestAgent } from '../../support/agent/test-agent.js';
import type { RpcResponse, TestClient } from '../../support/agent/ws-client.js';

const HASH = Buffer.alloc(32, 9).toString('base64');

let t: TestAgent;
let clock = Date.now();
beforeAll(async () => {
  t = await startTestAgent({ now: () => clock });
});
afterAll(async () => {
  await t.close();
});

/** Sends a raw frame and waits for the next message. */
async function raw(client: TestClient, frame: string | Buffer): Promise<RpcResponse> {
  const count = client.messages.length;
  client.send(frame);
  await client.waitForMessages(count + 1);
  return client.messages[count] as RpcResponse;
}

describe('framing', () => {
  test('non-JSON -> -32700 with id null', async () => {
    const client = await t.connect();
    for (const frame of ['not json', '{"jsonrpc":"2.0",', '\u0000', '']) {
      const res = await raw(client, frame);
      expect(res.id).toBeNull();
      expect(res.error?.code).toBe(-32700);
      expect(res.error?.data.code).toBe('PARSE_ERROR');
    }
    expect((await client.result<{ caller: string }>('agent.info')).caller).toBe('local');
  });

  test.each([
    ['a batch', '[{"jsonrpc":"2.0","id":1,"method":"agent.info"}]', null],
    ['an empty batch', '[]', null],
    ['a number', '42', null],
    ['null', 'null', null],
    ['a string', '"agent.info"', null],
    ['jsonrpc 1.0', '{"jsonrpc":"1.0","id":5,"method":"agent.info"}', 5],
    ['no jsonrpc member', '{"id":6,"method":"agent.info"}', 6],
    ['an object id', '{"jsonrpc":"2.0","id":{"a":1},"method":"agent.info"}', null],
    ['a boolean id', '{"jsonrpc":"2.0","id":true,"method":"agent.info"}', null],
    ['a number as method', '{"jsonrpc":"2.0","id":7,"method":5}', 7],
    ['no method', '{"jsonrpc":"2.0","id":"x"}', 'x'],
    ['params as a string', '{"jsonrpc":"2.0","id":8,"method":"agent.info","params":"x"}', 8],
  ])('%s -> -32600 INVALID_REQUEST', async (_label, frame, id) => {
    const client = await t.connect();
    const res = await raw(client, frame);
    expect(res.id).toBe(id);
    expect(res.error?.code).toBe(-32600);
    expect(res.error?.data.code).toBe('INVALID_REQUEST');
  });

  test('a binary frame -> -32600 (text frames only)', async () => {
    const client = await t.connect();
    const res = await raw(client, Buffer.from('{"jsonrpc":"2.0","id":1,"method":"agent.info"}'));
    expect(res.error?.code).toBe(-32600);
    expect(res.error?.data).toMatchObject({ code: 'INVALID_REQUEST', reason: 'BINARY_FRAME' });
  });

  test('a client notification (no id) is neither answered nor executed', async () => {
    const desktop = await t.desktop();
    const before = t.card.calls.length;
    desktop.send('{"jsonrpc":"2.0","method":"readers.list"}');
    const res = await desktop.call('agent.info');
    expect(res.result).toMatchObject({ caller: 'desktop' });
    expect(desktop.messages.filter((m) => (m as RpcResponse).id !== undefined)).toHaveLength(2); // hello + info
    expect(t.card.calls.length).toBe(before);
  });

  test.each(['cps.signAnything', 'agent.shutdown', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'pin.prompt'])('unknown method %s -> -32601', async (method) => {
    const desktop = await t.desktop();
    const res = await desktop.call(method, {});
    expect(res.error?.code).toBe(-32601);
    expect(res.error?.data.code).toBe('METHOD_NOT_FOUND');
  });

  test('by-position params -> -32602', async () => {
    const desktop = await t.desktop();
    const res = await desktop.call('cps.getIdentity', ['Lecteur']);
    expect(res.error?.code).toBe(-32602);
  });
});

describe('params', () => {
  let desktop: TestClient;
  beforeAll(async () => {
    desktop = await t.desktop();
  });

  test('wrong types -> -32602 INVALID_PARAMS with the path, and the card service is not called', async () => {
    const before = t.card.calls.length;
    const res = await desktop.call('cps.sign', { hash: 123, hashAlgorithm: 'SHA-256' });
    expect(res.error?.code).toBe(-32602);
    expect(res.error?.data).toMatchObject({ code: 'INVALID_PARAMS', path: 'hash' });
    expect(res.error?.data.issues).toEqual([{ path: 'hash', problem: 'invalid_type', expected: 'string' }]);
    expect((await desktop.call('cps.getIdentity', { reader: 42 })).error?.data.path).toBe('reader');
    expect((await desktop.call('agent.subscribe', { events: ['card.exploded'] })).error?.data.path).toBe('events.0');
    expect((await desktop.call('cps.verifyPin', { confirmLastTry: 'yes' })).error?.data.path).toBe('confirmLastTry');
    expect((await desktop.call('cps.getIdentity', { reder: 'x' })).error?.data.issues).toEqual([{ path: '', problem: 'unrecognized_keys', keys: ['reder'] }]);
    expect(t.card.calls.length).toBe(before);
  });

  test('bad base64 and wrong lengths', async () => {
    const sign = (hash: string) => desktop.call('cps.sign', { hash, hashAlgorithm: 'SHA-256' });
    expect((await sign('not base64 at all!!!!!!!!!!!!!!!!!!!!!!!!!!!!')).error?.data.issues).toEqual([{ path: 'hash', problem: 'custom', reason: 'NOT_BASE64' }]);
    expect((await sign(HASH.replace(/=$/, ''))).error?.data.issues).toEqual([{ path: 'hash', problem: 'custom', reason: 'NOT_BASE64' }]);
    expect((await sign(Buffer.alloc(20).toString('base64'))).error?.data.issues).toEqual([{ path: 'hash', problem: 'custom', reason: 'WRONG_LENGTH' }]);
    expect((await sign(Buffer.alloc(48).toString('base64'))).error?.data.code).toBe('INVALID_PARAMS');
    expect((await sign(HASH)).result).toBeDefined();
    const auth = (challenge: string) => desktop.call('cps.authenticate', { challenge });
    expect((await auth(Buffer.alloc(16).toString('base64'))).error?.data.path).toBe('challenge');
    expect((await auth(Buffer.alloc(97).toString('base64'))).error?.data.path).toBe('challenge');
    expect((await auth(`${'A'.repeat(43)}-`)).error?.data.path).toBe('challenge');
    expect((await auth(Buffer.alloc(32).toString('base64url'))).error?.data.path).toBe('challenge');
    expect((await auth(Buffer.alloc(32).toString('base64'))).result).toBeDefined();
    expect((await desktop.call('cps.decrypt', { ciphertext: '@@@@' })).error?.data.path).toBe('ciphertext');
  });

  test('SHA-1 (or anything but SHA-256) -> UNSUPPORTED_ALGORITHM', async () => {
    for (const hashAlgorithm of ['SHA-1', 'sha-256', 'SHA-512']) {
      expect(await desktop.errorCode('cps.sign', { hash: HASH, hashAlgorithm })).toBe('UNSUPPORTED_ALGORITHM');
    }
  });

  test('a validation error never echoes the value that was sent (a PIN)', async () => {
    for (const params of [{ pin: 918273 }, { method: '918273' }, { pin: '918273'.repeat(10) }, { pin: ['918273'] }, { confirmLastTry: '918273' }]) {
      const res = await desktop.call('cps.verifyPin', params);
      expect(res.error?.data.code).toBe('INVALID_PARAMS');
      expect(JSON.stringify(res)).not.toContain('918273');
    }
  });

  test('messages are French by default, English after hello { lang: "en" }', async () => {
    const client = await t.connect();
    expect((await raw(client, 'x')).error?.message).toMatch(/illisible/);
    expect((await client.call('agent.hello', { lang: 'de' })).error?.message).toBe('Paramètres invalides.');
    await client.result('agent.hello', { lang: 'en' });
    expect((await raw(client, 'x')).error?.message).toMatch(/Unreadable/);
    expect((await client.call('agent.hello', { lang: 'de' })).error?.message).toBe('Invalid parameters.');
    expect((await client.call('nope')).error?.message).toBe('Unknown method.');
  });

  test('card errors keep their code and details, in the caller’s language', async () => {
    t.card.handlers.set('cps.pinStatus', () => {
      throw new AgentError('PIN_INCORRECT', { triesRemaining: 2 });
    });
    t.card.handlers.set('cps.logout', () => {
      throw new Error('unexpected failure quoting 918273');
    });
    try {
      const res = await desktop.call('cps.pinStatus', {});
      expect(res.error).toEqual({ code: -32000, message: 'Code porteur incorrect.', data: { code: 'PIN_INCORRECT', triesRemaining: 2 } });
      const internal = await desktop.call('cps.logout', {});
      expect(internal.error).toEqual({ code: -32000, message: "Erreur interne de l'agent.", data: { code: 'INTERNAL' } });
    } finally {
      t.card.handlers.delete('cps.pinStatus');
      t.card.handlers.delete('cps.logout');
    }
  });
});

describe('pipelining and notifications', () => {
  test('pipelined requests are answered as they finish, matched by id', async () => {
    const desktop = await t.desktop();
    let release: (() => void) | undefined;
    t.card.handlers.set('cps.sign', () => new Promise((resolve) => (release = () => resolve({ signature: 'c2ln', algorithm: 'RS256', certificate: 'MIIC' }))));
    try {
      const start = desktop.messages.length;
      const slow = desktop.call('cps.sign', { hash: HASH, hashAlgorithm: 'SHA-256' });
      const fast = desktop.call('readers.list');
      await fast;
      release?.();
      await slow;
      const ids = desktop.messages.slice(start).map((m) => (m as RpcResponse).id);
      const [first, second] = ids as number[];
      expect(second).toBeLessThan(first as number); // the later request was answered first
    } finally {
      t.card.handlers.delete('cps.sign');
    }
  });

  test('agent.subscribe: events arrive as notifications (no id) on subscribed connections only', async () => {
    const all = await t.desktop();
    const some = await t.desktop();
    const none = await t.desktop();
    expect(await all.result('agent.subscribe')).toEqual({ ok: true });
    expect(await some.result('agent.subscribe', { events: ['card.removed'] })).toEqual({ ok: true });
    t.card.emit('card.inserted', { reader: 'Lecteur 1', family: 'CPS3', atr: '3B' });
    t.card.emit('card.removed', { reader: 'Lecteur 1' });
    expect(await all.waitForNotification('card.removed')).toEqual({ reader: 'Lecteur 1' });
    expect(await some.waitForNotification('card.removed')).toEqual({ reader: 'Lecteur 1' });
    expect(all.notifications.map((n) => n.method)).toEqual(['card.inserted', 'card.removed']);
    expect(some.notifications.map((n) => n.method)).toEqual(['card.removed']);
    expect(none.notifications).toEqual([]);
    const frame = all.messages.find((m) => (m as { method?: string }).method === 'card.inserted') as Record<string, unknown>;
    expect(Object.hasOwn(frame, 'id')).toBe(false);
    expect(frame).toEqual({ jsonrpc: '2.0', method: 'card.inserted', params: { reader: 'Lecteur 1', family: 'CPS3', atr: '3B' } });
  });

  test('caller.notify reaches the calling connection only (pin.prompt)', async () => {
    const asking = await t.desktop();
    const other = await t.desktop();
    await other.result('agent.subscribe');
    t.card.handlers.set('cps.verifyPin', (_params, caller: CallerContext) => {
      caller.notify('pin.prompt', { requestId: 'r1', url: 'http://127.0.0.1/pin/r1', reader: 'L', origin: caller.origin, triesRemaining: 3 });
      return { verified: true };
    });
    try {
      await asking.result('cps.verifyPin', { method: 'page' });
      expect(await asking.waitForNotification('pin.prompt')).toMatchObject({ requestId: 'r1', origin: 'app:test-app' });
      expect(other.notifications).toEqual([]);
    } finally {
      t.card.handlers.delete('cps.verifyPin');
    }
  });
});

describe('connection end', () => {
  test('closing calls connectionClosed(id) and aborts the CallerContext signal, in-flight work included', async () => {
    const desktop = await t.desktop();
    let seen: CallerContext | undefined;
    let abortedDuringCall = false;
    t.card.handlers.set('cps.getActivities', (_params, caller: CallerContext) => {
      seen = caller;
      return new Promise((resolve) =>
        caller.signal.addEventListener('abort', () => {
          abortedDuringCall = true;
          resolve([]);
        }),
      );
    });
    try {
      void desktop.call('cps.getActivities', {});
      while (!seen) await new Promise((r) => setTimeout(r, 5));
      expect(seen.signal.aborted).toBe(false);
      expect(t.card.closedConnections).not.toContain(seen.connectionId);
      await desktop.close();
      await t.card.waitClosed(seen.connectionId);
      expect(seen.signal.aborted).toBe(true);
      expect(abortedDuringCall).toBe(true);
    } finally {
      t.card.handlers.delete('cps.getActivities');
    }
  });

  test('a terminated socket (no close frame) is cleaned up too', async () => {
    const desktop = await t.desktop();
    await desktop.result('readers.list');
    const id = t.card.calls.at(-1)?.caller.connectionId ?? '';
    desktop.ws.terminate();
    await t.card.waitClosed(id);
  });
});

describe('size and floods', () => {
  test('a 2 MiB frame closes that socket with 1009; the agent and its other clients go on', async () => {
    const big = await t.desktop();
    const bystander = await t.desktop();
    big.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'agent.info', params: { x: 'a'.repeat(2 * 1024 * 1024) } }));
    expect((await big.closed).code).toBe(1009);
    expect((await bystander.result<{ caller: string }>('agent.info')).caller).toBe('desktop');
    const fresh = await t.connect();
    expect((await fresh.result<{ caller: string }>('agent.info')).caller).toBe('local');
  });

  test('a frame just under 1 MiB is read (and refused on its merits)', async () => {
    const desktop = await t.desktop();
    const frame = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'readers.list', params: { x: 'a'.repeat(1024 * 1024 - 100) } });
    expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(1024 * 1024);
    const res = await raw(desktop, frame);
    expect(res.error?.data.code).toBe('INVALID_PARAMS');
    expect((await desktop.result<{ caller: string }>('agent.info')).caller).toBe('desktop');
  });

  test('cps.decrypt: 10 per minute per connection, the 11th is RATE_LIMITED before the card', async () => {
    const desktop = await t.desktop();
    const ciphertext = Buffer.alloc(256, 1).toString('base64');
    const before = t.card.callsOf('cps.decrypt').length;
    for (let i = 0; i < 10; i += 1) await desktop.result('cps.decrypt', { ciphertext });
    const eleventh = await desktop.call('cps.decrypt', { ciphertext });
    expect(eleventh.error?.data.code).toBe('RATE_LIMITED');
    expect(t.card.callsOf('cps.decrypt').length - before).toBe(10);
    // per connection: another one may decrypt; a minute later this one may again
    const other = await t.desktop();
    await other.result('cps.decrypt', { ciphertext });
    clock += 60_001;
    await desktop.result('cps.decrypt', { ciphertext });
    clock = Date.now();
  });
});

describe('flood from one client', () => {
  let f: TestAgent;
  beforeAll(async () => {
    f = await startTestAgent();
    // each card call costs the event loop 1.5 ms: unlimited, 1000 of them would stall everyone for 1.5 s
    f.card.handlers.set('readers.list', () => {
      const end = performance.now() + 1.5;
      while (performance.now() < end);
      return [];
    });
  });
  afterAll(async () => {
    await f.close();
  });

  test('1000 messages in one second: the excess is RATE_LIMITED and another client is still answered promptly', async () => {
    const flooder = await f.desktop();
    const other = await f.desktop();
    const start = performance.now();
    for (let i = 0; i < 1000; i += 1) flooder.ws.send(JSON.stringify({ jsonrpc: '2.0', id: `f${i}`, method: 'readers.list' }));
    const info = await other.result<{ caller: string }>('agent.info');
    const latency = performance.now() - start;
    expect(info.caller).toBe('desktop');
    expect(latency).toBeLessThan(1000);

    await flooder.waitForMessages(1 + 1000, 10_000); // hello + one answer per message
    const answers = flooder.messages.slice(1) as RpcResponse[];
    const limited = answers.filter((a) => a.error?.data.code === 'RATE_LIMITED');
    const served = answers.filter((a) => a.result !== undefined);
    // 200 at once, then 200/s (the handlers' own busy time refills the bucket a little); the rest
    // refused: RATE_LIMITED by the bucket, or BUSY past the per-connection in-flight cap
    const busy = answers.filter((a) => a.error?.data.code === 'BUSY');
    expect(served.length).toBeGreaterThanOrEqual(200);
    expect(served.length).toBeLessThan(500);
    expect(limited.length).toBeGreaterThanOrEqual(500);
    expect(limited.length + busy.length + served.length).toBe(1000);
    expect(limited[0]?.id).toMatch(/^f\d+$/); // refusals still carry the request's id
    // not closed: once the burst is over the client is served again
    await new Promise((r) => setTimeout(r, 1100));
    expect(await flooder.result('readers.list')).toEqual([]);
  });

  test('a client that keeps flooding is closed with 1008; the others go on', async () => {
    const flooder = await f.desktop();
    const other = await f.desktop();
    for (let i = 0; i < 3000; i += 1) flooder.ws.send(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'agent.info' }));
    expect((await flooder.closed).code).toBe(1008);
    expect((await other.result<{ caller: string }>('agent.info')).caller).toBe('desktop');
  });
});
