// The control API of `cardbridge sim`, exactly as simulator.md states it, over real HTTP on an
// ephemeral loopback port, with slots whose transport is an in-memory fake (no vpcd).
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startControlServer, type ControlServer } from '../../../../src/simulator/control/server.js';
import { SlotRegistry, type SlotLink } from '../../../../src/simulator/slots.js';
import type { VirtualCard } from '../../../../src/simulator/virtual-card.js';
import { ApduLog } from '../../../../src/simulator/vpcd/apdu-log.js';
import { createTestCardSource } from '../../../support/test-card-source.js';
import type { TestCard } from '../../../support/test-card.js';

/** A slot transport that is a plain object: what a card in the slot answers, without sockets. */
class MemoryLink implements SlotLink {
  readonly apduLog = new ApduLog();
  card: VirtualCard | null = null;
  insert(card: VirtualCard): void {
    if (this.card) throw new Error('double insert');
    this.card = card;
  }
  remove(): void {
    this.card?.reset();
    this.card = null;
  }
  close(): Promise<void> {
    this.remove();
    return Promise.resolve();
  }
  /** What vpcd would do: send an APDU, log it. */
  apdu(hexApdu: string): string {
    if (!this.card) throw new Error('no card');
    const command = Uint8Array.from(Buffer.from(hexApdu.replace(/\s+/g, ''), 'hex'));
    const response = this.card.transmit(command);
    this.apduLog.record(command, response);
    return Buffer.from(response).toString('hex').toUpperCase();
  }
}

interface Setup {
  server: ControlServer;
  registry: SlotRegistry;
  links: MemoryLink[];
  source: ReturnType<typeof createTestCardSource>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: { slots?: number; stateDir?: string } = {}): Promise<Setup> {
  const links: MemoryLink[] = [];
  const source = createTestCardSource();
  const registry = new SlotRegistry({
    slots: opts.slots ?? 2,
    cardSource: source,
    ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
    createLink: () => {
      const l = new MemoryLink();
      links.push(l);
      return l;
    },
  });
  const server = await startControlServer(registry, { port: 0 });
  cleanups.push(async () => {
    await server.close();
    await registry.close();
  });
  return { server, registry, links, source };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  text: string;
}

function request(server: ControlServer, method: string, p: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, method, path: p, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = undefined;
          if (text) parsed = JSON.parse(text) as unknown;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const put = (s: ControlServer, n: number | string, body: unknown) => request(s, 'PUT', `/slots/${n}`, typeof body === 'string' ? body : JSON.stringify(body));

describe('control API', () => {
  it('serves on 127.0.0.1 with the URL it reports', async () => {
    const { server } = await setup();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
  });

  it('GET /slots lists every slot, empty ones with card null', async () => {
    const { server } = await setup({ slots: 3 });
    const r = await request(server, 'GET', '/slots');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.body).toEqual([
      { slot: 0, card: null },
      { slot: 1, card: null },
      { slot: 2, card: null },
    ]);
  });

  it('PUT inserts (201), a second PUT on the full slot is 409, DELETE removes (204)', async () => {
    const { server, links } = await setup();
    const created = await put(server, 0, { card: 'test:alpha' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ slot: 0, card: 'test:alpha' });
    expect(links[0]?.card).not.toBeNull();
    expect((await request(server, 'GET', '/slots')).body).toEqual([
      { slot: 0, card: 'test:alpha' },
      { slot: 1, card: null },
    ]);
    const conflict = await put(server, 0, { card: 'test:beta' });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ error: 'slot-occupied' });
    expect(links[0]?.card).not.toBeNull();

    const removed = await request(server, 'DELETE', '/slots/0');
    expect(removed.status).toBe(204);
    expect(removed.text).toBe('');
    expect(links[0]?.card).toBeNull();
    expect((await request(server, 'GET', '/slots')).body).toEqual([
      { slot: 0, card: null },
      { slot: 1, card: null },
    ]);
    // removing from an empty slot is not an error
    expect((await request(server, 'DELETE', '/slots/0')).status).toBe(204);
  });

  it('404 for an unknown slot or persona, 400 for a bad body', async () => {
    const { server } = await setup();
    expect((await put(server, 2, { card: 'test:alpha' })).status).toBe(404);
    expect((await put(server, 'x', { card: 'test:alpha' })).status).toBe(404);
    expect((await put(server, '01', { card: 'test:alpha' })).status).toBe(404);
    expect((await request(server, 'DELETE', '/slots/7')).status).toBe(404);
    expect((await request(server, 'GET', '/slots/7/apdu-log')).status).toBe(404);
    const unknown = await put(server, 0, { card: 'cps:nobody' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: 'unknown-card' });
    const badJson = await put(server, 0, '{"card": ');
    expect(badJson.status).toBe(400);
    expect(badJson.body).toMatchObject({ error: 'bad-json' });
    expect((await put(server, 0, {})).status).toBe(400);
    expect((await put(server, 0, { card: 42 })).status).toBe(400);
    expect((await put(server, 0, ['test:alpha'])).status).toBe(400);
    expect((await put(server, 0, { card: 'test:alpha', fresh: 'yes' })).status).toBe(400);
    // nothing was inserted by the failed requests
    expect((await request(server, 'GET', '/slots')).body).toEqual([
      { slot: 0, card: null },
      { slot: 1, card: null },
    ]);
  });

  it('one persona is one card: 409 when it is already in another slot', async () => {
    const { server } = await setup();
    expect((await put(server, 0, { card: 'test:alpha' })).status).toBe(201);
    const r = await put(server, 1, { card: 'test:alpha' });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ error: 'card-in-use' });
  });

  it('two PUTs racing for one slot: one 201, one 409', async () => {
    const { server } = await setup();
    const [a, b] = await Promise.all([put(server, 1, { card: 'test:alpha' }), put(server, 1, { card: 'test:beta' })]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
  });

  it('apdu-log lists the slot APDUs as { t, command, response } and DELETE clears it', async () => {
    const { server, links } = await setup();
    await put(server, 1, { card: 'test:alpha' });
    const link = links[1];
    if (!link) throw new Error('no link');
    expect(link.apdu('00 A4 04 00 02 3F 00')).toBe('9000');
    link.apdu('80 CA 00 00 00');
    const log = await request(server, 'GET', '/slots/1/apdu-log');
    expect(log.status).toBe(200);
    const entries = log.body as { t: string; command: string; response: string }[];
    expect(entries.map((e) => [e.command, e.response])).toEqual([
      ['00 A4 04 00 02 3F 00', '90 00'],
      ['80 CA 00 00 00', '00 03 00 90 00'],
    ]);
    for (const e of entries) expect(Object.keys(e).sort()).toEqual(['command', 'response', 't']);
    expect(Date.parse(entries[0]?.t ?? '')).not.toBeNaN();
    expect((await request(server, 'GET', '/slots/0/apdu-log')).body).toEqual([]);
    expect((await request(server, 'DELETE', '/slots/1/apdu-log')).status).toBe(204);
    expect((await request(server, 'GET', '/slots/1/apdu-log')).body).toEqual([]);
  });

  it('rejects foreign Host headers (DNS rebinding) and accepts the loopback names', async () => {
    const { server } = await setup();
    for (const host of ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`, `127.0.0.2:${server.port}`]) {
      const r = await request(server, 'GET', '/slots', undefined, { host });
      expect(r.status, host).toBe(403);
    }
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `LOCALHOST:${server.port}`, `[::1]:${server.port}`]) {
      expect((await request(server, 'GET', '/slots', undefined, { host })).status, host).toBe(200);
    }
    // a rejected PUT changes nothing
    const r = await request(server, 'PUT', '/slots/0', JSON.stringify({ card: 'test:alpha' }), { host: 'evil.example' });
    expect(r.status).toBe(403);
    expect((await request(server, 'GET', '/slots')).body).toEqual([
      { slot: 0, card: null },
      { slot: 1, card: null },
    ]);
  });

  it('405 for other methods, 404 for other paths, 413 for huge bodies', async () => {
    const { server } = await setup();
    const post = await request(server, 'POST', '/slots', '{}');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toContain('GET');
    expect((await request(server, 'POST', '/slots/0', '{}')).status).toBe(405);
    expect((await request(server, 'PUT', '/slots/0/apdu-log', '{}')).status).toBe(405);
    expect((await request(server, 'GET', '/')).status).toBe(404);
    expect((await request(server, 'GET', '/slots/0/other')).status).toBe(404);
    expect((await put(server, 0, JSON.stringify({ card: 'test:alpha', pad: 'x'.repeat(70_000) }))).status).toBe(413);
  });
});

describe('slot registry: card state', () => {
  it('the same persona comes back with its PIN tries; fresh gives the card as issued', async () => {
    const { server, links, source } = await setup();
    await put(server, 0, { card: 'test:alpha' });
    expect(links[0]?.apdu('00 20 00 01 04 39 39 39 39')).toBe('63C2');
    await request(server, 'DELETE', '/slots/0');
    // into the other slot: same card, tries still 2, verified state gone
    await put(server, 1, { card: 'test:alpha' });
    expect(links[1]?.apdu('00 20 00 01')).toBe('63C2');
    expect(source.created).toEqual(['test:alpha']);
    await request(server, 'DELETE', '/slots/1');
    expect((await put(server, 1, { card: 'test:alpha', fresh: true })).status).toBe(201);
    expect(links[1]?.apdu('00 20 00 01')).toBe('63C3');
    expect(source.created).toEqual(['test:alpha', 'test:alpha']);
  });

  it('with a state dir, states persist to <stateDir>/cards/<persona>.json and are resumed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cardbridge-slots-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'cards', 'test:beta.json');
    {
      const { server, links } = await setup({ stateDir: dir });
      await put(server, 0, { card: 'test:beta' });
      links[0]?.apdu('00 20 00 01 04 39 39 39 39');
      links[0]?.apdu('00 20 00 01 04 39 39 39 39');
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ pin: '1234', tries: 1 });
      expect(statSync(file).mode & 0o077).toBe(0); // the state holds the PIN: owner only
      await server.close();
    }
    {
      // a new process (registry) with the same directory
      const { server, links } = await setup({ stateDir: dir });
      await put(server, 0, { card: 'test:beta' });
      expect(links[0]?.apdu('00 20 00 01')).toBe('63C1');
      await request(server, 'DELETE', '/slots/0');
      await put(server, 0, { card: 'test:beta', fresh: true });
      expect(existsSync(file)).toBe(false);
      expect(links[0]?.apdu('00 20 00 01')).toBe('63C3');
      expect((links[0]?.card as TestCard | null)?.triesLeft).toBe(3);
    }
  });
});
