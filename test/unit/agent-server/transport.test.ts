// The agent listens on loopback only, and answers nothing to a request or upgrade whose Host is
// not the agent itself (DNS rebinding).
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loopbackBindAddress } from '../../../src/agent/config.js';
import { startAgent } from '../../../src/agent/daemon.js';
import { httpRequest } from '../../support/agent/http.js';
import { FakeCardService } from '../../support/agent/fake-card-service.js';
import { startTestAgent, type TestAgent } from '../../support/agent/test-agent.js';
import { TestClient } from '../../support/agent/ws-client.js';

let t: TestAgent;
beforeAll(async () => {
  t = await startTestAgent();
});
afterAll(async () => {
  await t.close();
});

/** LISTEN sockets on `port` from /proc/net/tcp and tcp6, read independently of the agent's code. */
function listeningAddresses(port: number): string[] {
  const found: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const [addr, portHex] = (f[1] ?? '').split(':');
      if (f[3] === '0A' && portHex !== undefined && parseInt(portHex, 16) === port) found.push(`${table}:${addr}`);
    }
  }
  return found;
}

describe('listening address', () => {
  test('the socket listens on 127.0.0.1 only', () => {
    expect(t.url).toBe(`ws://127.0.0.1:${t.port}/v1`);
    // 127.0.0.1 as the kernel prints it on a little-endian host
    expect(listeningAddresses(t.port)).toEqual(['tcp:0100007F']);
  });

  test('not reachable through a non-loopback address of this machine', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (!external) return; // no external interface on this machine: nothing to try
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: external.address, port: t.port });
      socket.on('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(outcome).toBe('ECONNREFUSED');
  });

  test.each(['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', '::ffff:127.0.0.1', 'example.com', '127.0.0.1.example.com'])('refuses to bind %s', async (host) => {
    expect(() => loopbackBindAddress(host)).toThrow(/bouclage/);
    await expect(startAgent({ host, port: 0, configDir: `${t.root}/c2`, stateDir: `${t.root}/s2`, cardService: new FakeCardService(), logDestination: `${t.root}/l2` })).rejects.toThrow(
      /bouclage/,
    );
  });

  test.each([
    ['127.0.0.1', '127.0.0.1'],
    ['localhost', '127.0.0.1'],
    ['127.0.0.2', '127.0.0.2'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
  ])('accepts the loopback address %s', (host, bound) => {
    expect(loopbackBindAddress(host)).toBe(bound);
  });
});

describe('Host header', () => {
  test.each(['127.0.0.1', 'localhost', '[::1]'])('HTTP with Host %s:<port> is served', async (name) => {
    const res = await httpRequest(t.port, { path: `/console?k=${t.consoleKey()}`, headers: { Host: `${name}:${t.port}` } });
    expect(res.status).toBe(200);
  });

  test.each([
    ['a foreign name', (port: number) => `evil.example:${port}`],
    ['a rebound name without port', () => 'evil.example'],
    ['the right host on another port', (port: number) => `127.0.0.1:${port + 1}`],
    ['no port', () => '127.0.0.1'],
    ['upper case', (port: number) => `LOCALHOST:${port}`],
    ['a trailing dot', (port: number) => `localhost.:${port}`],
  ])('HTTP with %s is refused with 403', async (_label, host) => {
    const res = await httpRequest(t.port, { path: `/console?k=${t.consoleKey()}`, headers: { Host: host(t.port) } });
    expect(res.status).toBe(403);
    expect(res.body).not.toContain('cardbridge');
  });

  test('HTTP without Host (HTTP/1.0) is refused with 403', async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: t.port });
      let data = '';
      socket.on('data', (d) => (data += d.toString()));
      socket.on('close', () => resolve(data));
      socket.write(`GET /console?k=${t.consoleKey()} HTTP/1.0\r\n\r\n`);
    });
    expect(reply).toMatch(/^HTTP\/1\.[01] 403/);
  });

  test('WebSocket upgrade with a foreign Host is refused, nothing reaches the card service', async () => {
    const before = t.card.calls.length;
    await expect(TestClient.connect(t.url, { headers: { Host: `evil.example:${t.port}` } })).rejects.toThrow(/HTTP 403/);
    await expect(TestClient.connect(t.url, { headers: { Host: `evil.example:${t.port}` }, origin: 'http://evil.example' })).rejects.toThrow(/HTTP 403/);
    expect(t.card.calls.length).toBe(before);
  });

  test.each(['127.0.0.1', 'localhost', '[::1]'])('WebSocket upgrade with Host %s:<port> is accepted', async (name) => {
    const client = await TestClient.connect(t.url, { headers: { Host: `${name}:${t.port}` } });
    expect((await client.result<{ caller: string }>('agent.info')).caller).toBe('local');
    await client.close();
  });
});

describe('routes', () => {
  test('/v1 without an upgrade answers 426', async () => {
    expect((await httpRequest(t.port, { path: '/v1' })).status).toBe(426);
  });

  test('/pin/… goes to the card service; what it does not serve is 404', async () => {
    const served = await httpRequest(t.port, { path: '/pin/fake' });
    expect(served.status).toBe(200);
    expect(served.body).toBe('page PIN factice');
    expect((await httpRequest(t.port, { path: '/pin/other' })).status).toBe(404);
  });

  test('/pin/ with a foreign Host never reaches the card service', async () => {
    expect((await httpRequest(t.port, { path: '/pin/fake', headers: { Host: `evil.example:${t.port}` } })).status).toBe(403);
  });

  test('anything else is 404, and an upgrade elsewhere than /v1 is refused', async () => {
    expect((await httpRequest(t.port, { path: '/' })).status).toBe(404);
    expect((await httpRequest(t.port, { path: '/v2' })).status).toBe(404);
    await expect(TestClient.connect(t.url, { path: '/v2' })).rejects.toThrow(/HTTP 404/);
  });
});
