// Pairing (agent-protocol.md "Pairing"): a page asks with agent.pair, the user approves in the
// console (key + CSRF + same origin) or with the CLI (desktop caller), and the origin gets exactly
// the granted scopes — no more, and nothing before the approval.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { CONSOLE_CSP, escapeHtml } from '../../../src/agent/security/console-page.js';
import { isPairableOrigin } from '../../../src/agent/security/origin.js';
import { PAIRINGS_FILE } from '../../../src/agent/security/pairing-store.js';
import { consolePost, csrfFrom, httpRequest } from '../../support/agent/http.js';
import { startTestAgent, type TestAgent } from '../../support/agent/test-agent.js';

const HASH = Buffer.alloc(32, 7).toString('base64');
const SIGN = { hash: HASH, hashAlgorithm: 'SHA-256' };

let t: TestAgent;
let clock = Date.now();
beforeAll(async () => {
  t = await startTestAgent({ now: () => clock });
});
afterAll(async () => {
  await t.close();
});
afterEach(() => {
  clock = Date.now();
});

async function consolePage(): Promise<string> {
  const res = await httpRequest(t.port, { path: `/console?k=${t.consoleKey()}` });
  expect(res.status).toBe(200);
  return res.body;
}

describe('the whole flow through the console', () => {
  test('agent.pair -> console approve with CSRF -> exactly the granted scopes', async () => {
    const origin = 'https://cabinet.example';
    const page = await t.connect({ origin });
    expect(await page.errorCode('cps.sign', SIGN)).toBe('ORIGIN_NOT_PAIRED');

    const { code, expiresAt } = await page.result<{ code: string; expiresAt: string }>('agent.pair', { scopes: ['cps.sign', 'cps.read'] });
    expect(code).toMatch(/^\d{6}$/);
    expect(Date.parse(expiresAt) - clock).toBe(5 * 60_000);
    // the user sees the same code, the origin and the scopes: log and console
    expect(t.logText()).toContain(`code ${code}, origine ${origin}`);
    const html = await consolePage();
    expect(html).toContain(code);
    expect(html).toContain(origin);
    expect(html).toContain('cps.sign');
    // still nothing before the approval
    expect(await page.errorCode('cps.getIdentity', {})).toBe('ORIGIN_NOT_PAIRED');

    const res = await consolePost(t.port, t.consoleKey(), { action: 'approve', code, csrf: csrfFrom(html) });
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/m=approved$/);

    // the open connection is now a paired origin with exactly cps.read + cps.sign
    expect((await page.result<{ caller: string }>('agent.info')).caller).toBe('origin');
    await page.result('cps.sign', SIGN);
    await page.result('cps.getIdentity', {});
    expect([...(t.card.calls.at(-1)?.caller.scopes ?? [])].sort()).toEqual(['cps.read', 'cps.sign']);
    for (const [method, params] of [
      ['cps.decrypt', { ciphertext: Buffer.alloc(256).toString('base64') }],
      ['cps.authenticate', { challenge: HASH }],
      ['vitale.read', {}],
    ] as const) {
      expect(await page.errorCode(method, params), method).toBe('SCOPE_NOT_GRANTED');
    }
    const refusal = await page.call('vitale.read', {});
    expect(refusal.error?.data).toMatchObject({ code: 'SCOPE_NOT_GRANTED', scope: 'vitale.read' });

    // persisted, 0600
    const file = join(t.configDir, PAIRINGS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { origins: { origin: string; scopes: string[] }[] };
    expect(stored.origins.find((o) => o.origin === origin)?.scopes).toEqual(['cps.read', 'cps.sign']);
    // audit
    expect(t.auditLines().some((l) => l.event === 'pairing.approved' && l.origin === origin && l.actor === 'console')).toBe(true);
  });

  test('Deny drops the request: the code no longer works', async () => {
    const page = await t.connect({ origin: 'https://denied.example' });
    const { code } = await page.result<{ code: string }>('agent.pair', { scopes: ['vitale.read'] });
    const res = await consolePost(t.port, t.consoleKey(), { action: 'deny', code, csrf: csrfFrom(await consolePage()) });
    expect(res.status).toBe(303);
    expect((await consolePage()).includes(code)).toBe(false);
    const desktop = await t.desktop();
    expect(await desktop.errorCode('agent.approvePairing', { code })).toBe('INVALID_PARAMS');
    expect(await page.errorCode('vitale.read', {})).toBe('ORIGIN_NOT_PAIRED');
  });
});

describe('console refusals', () => {
  async function pending(origin: string): Promise<{ code: string; close: () => Promise<unknown> }> {
    const page = await t.connect({ origin });
    const { code } = await page.result<{ code: string }>('agent.pair', { scopes: ['cps.read'] });
    return { code, close: () => page.close() };
  }

  async function stillUnpaired(origin: string): Promise<void> {
    const page = await t.connect({ origin });
    expect((await page.result<{ caller: string }>('agent.info')).caller).toBe('unpaired');
  }

  test('wrong or missing key: 404 for GET and POST, as if there were no console', async () => {
    expect((await httpRequest(t.port, { path: '/console' })).status).toBe(404);
    expect((await httpRequest(t.port, { path: '/console?k=' })).status).toBe(404);
    expect((await httpRequest(t.port, { path: `/console?k=${t.consoleKey()}x` })).status).toBe(404);
    expect((await httpRequest(t.port, { path: `/console?k=${t.token()}` })).status).toBe(404);
    const { code } = await pending('https://nokey.example');
    const csrf = csrfFrom(await consolePage());
    expect((await consolePost(t.port, 'wrong-key', { action: 'approve', code, csrf })).status).toBe(404);
    await stillUnpaired('https://nokey.example');
  });

  test('cross-origin POST (Origin of another site, or none) is refused, even with key and CSRF', async () => {
    const { code } = await pending('https://crossorigin.example');
    const csrf = csrfFrom(await consolePage());
    expect((await consolePost(t.port, t.consoleKey(), { action: 'approve', code, csrf }, { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await consolePost(t.port, t.consoleKey(), { action: 'approve', code, csrf }, { Origin: 'https://evil.example' })).status).toBe(403);
    expect((await consolePost(t.port, t.consoleKey(), { action: 'approve', code, csrf }, { Origin: `http://127.0.0.1:${t.port + 1}` })).status).toBe(403);
    expect((await consolePost(t.port, t.consoleKey(), { action: 'approve', code, csrf }, { Origin: 'null' })).status).toBe(403);
    const noOrigin = await httpRequest(t.port, {
      method: 'POST',
      path: `/console?k=${t.consoleKey()}`,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ action: 'approve', code, csrf }).toString(),
    });
    expect(noOrigin.status).toBe(403);
    await stillUnpaired('https://crossorigin.example');
    // the refusals did not spend the CSRF token: the genuine form still works (so the checks above were the reason)
    expect((await consolePost(t.port, t.consoleKey(), { action: 'approve', code, csrf })).status).toBe(303);
  });

  test('Sec-Fetch-Site other than same-origin is refused even with the right Origin', async () => {
    const { code } = await pending('https://fetchsite.example');
    const csrf = csrfFrom(await consolePage());
    for (const site of ['cross-site', 'same-site', 'none']) {
      expect((await consolePost(t.port, t.consoleKey(), { action: 'approve', code, csrf }, { 'Sec-Fetch-Site': site })).status, site).toBe(403);
    }
    await stillUnpaired('https://fetchsite.example');
  });

  test('bad, missing or reused CSRF token is refused', async () => {
    const { code } = await pending('https://csrf.example');
    expect((await consolePost(t.port, t.consoleKey(), { action: 'approve', code, csrf: 'forged' })).status).toBe(403);
    expect((await consolePost(t.port, t.consoleKey(), { action: 'approve', code })).status).toBe(403);
    await stillUnpaired('https://csrf.example');
    const csrf = csrfFrom(await consolePage());
    expect((await consolePost(t.port, t.consoleKey(), { action: 'deny', code: '000000', csrf })).status).toBe(303);
    // spent: the same token cannot approve afterwards
    expect((await consolePost(t.port, t.consoleKey(), { action: 'approve', code, csrf })).status).toBe(403);
    await stillUnpaired('https://csrf.example');
  });

  test('the console forbids framing and loads nothing from anywhere', async () => {
    const res = await httpRequest(t.port, { path: `/console?k=${t.consoleKey()}` });
    expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'; frame-ancestors 'none'/);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('same-origin'); // no-referrer would make Chromium post with Origin: null
    expect(res.body).toMatch(/<html lang="fr">/);
    expect(res.body).not.toMatch(/<script|src=|href="http/);
  });

  test('text put in the page is escaped', () => {
    expect(escapeHtml('https://a.example"><script>x</script>')).toBe('https://a.example&#34;&#62;&#60;script&#62;x&#60;/script&#62;');
  });
});

describe('who may pair, and how often', () => {
  test.each(['https://app.example', 'https://app.example:8443', 'http://localhost', 'http://localhost:3000', 'http://127.0.0.1:8080', 'https://xn--caf-dma.example'])(
    '%s may pair',
    (origin) => expect(isPairableOrigin(origin)).toBe(true),
  );

  test.each([
    'http://app.example',
    'http://192.168.1.2',
    'http://[::1]:3000',
    'null',
    'file://',
    'chrome-extension://abcdef',
    'https://app.example/',
    'https://app.example/path',
    'https://user@app.example',
    'https://APP.example',
    'https://app.example:443',
    'https://café.example',
    'ws://localhost',
    '',
  ])('%j may not pair (agent.pair is refused, nothing pending)', async (origin) => {
    expect(isPairableOrigin(origin)).toBe(false);
    if (origin === '' || /[^\x21-\x7e]/.test(origin)) return; // not sendable as a header
    const page = await t.connect({ origin });
    const response = await page.call('agent.pair', { scopes: ['cps.read'] });
    expect(response.error?.data).toMatchObject({ code: 'ORIGIN_NOT_PAIRED', reason: 'ORIGIN_NOT_PAIRABLE' });
    expect((await consolePage()).includes(`<td>${origin}</td>`)).toBe(false);
  });

  test('agent.pair needs valid scopes', async () => {
    const page = await t.connect({ origin: 'https://scopes.example' });
    expect(await page.errorCode('agent.pair', { scopes: [] })).toBe('INVALID_PARAMS');
    expect(await page.errorCode('agent.pair', { scopes: ['cps.everything'] })).toBe('INVALID_PARAMS');
    expect(await page.errorCode('agent.pair', { scopes: ['cps.read', 'cps.read'] })).toBe('INVALID_PARAMS');
    expect(await page.errorCode('agent.pair', {})).toBe('INVALID_PARAMS');
  });

  test('a desktop caller has nothing to pair', async () => {
    const desktop = await t.desktop();
    expect((await desktop.call('agent.pair', { scopes: ['cps.read'] })).error?.data).toMatchObject({ code: 'INVALID_PARAMS', reason: 'NO_ORIGIN' });
  });

  test('at most 5 agent.pair per minute per connection: the 6th is RATE_LIMITED', async () => {
    const page = await t.connect({ origin: 'https://eager.example' });
    for (let i = 0; i < 5; i += 1) await page.result('agent.pair', { scopes: ['cps.read'] });
    const sixth = await page.call('agent.pair', { scopes: ['cps.read'] });
    expect(sixth.error?.data.code).toBe('RATE_LIMITED');
    expect(sixth.error?.data.retryAfterMs).toBeGreaterThan(0);
    // another connection is not affected; a minute later this one may ask again
    const other = await t.connect({ origin: 'https://eager.example' });
    await other.result('agent.pair', { scopes: ['cps.read'] });
    clock += 60_001;
    await page.result('agent.pair', { scopes: ['cps.read'] });
  });

  test('one pending request per origin: a new one replaces the old code', async () => {
    const page = await t.connect({ origin: 'https://twice.example' });
    const first = await page.result<{ code: string }>('agent.pair', { scopes: ['cps.read'] });
    const second = await page.result<{ code: string }>('agent.pair', { scopes: ['cps.read', 'cps.sign'] });
    const desktop = await t.desktop();
    const { pending } = await desktop.result<{ pending: { code: string; origin: string }[] }>('agent.listPairings');
    expect(pending.filter((p) => p.origin === 'https://twice.example').map((p) => p.code)).toEqual([second.code]);
    expect(await desktop.errorCode('agent.approvePairing', { code: first.code })).toBe('INVALID_PARAMS');
  });

  test('a pending request expires after 5 minutes', async () => {
    const page = await t.connect({ origin: 'https://slow.example' });
    const { code } = await page.result<{ code: string }>('agent.pair', { scopes: ['cps.read'] });
    clock += 5 * 60_000 + 1;
    expect((await consolePage()).includes(code)).toBe(false);
    const desktop = await t.desktop();
    expect(await desktop.errorCode('agent.approvePairing', { code })).toBe('INVALID_PARAMS');
    expect((await page.result<{ caller: string }>('agent.info')).caller).toBe('unpaired');
  });
});

describe('pairing administration by desktop callers (cardbridge agent pair …)', () => {
  test('approve, list, revoke: revocation closes the origin’s connections and removes every scope', async () => {
    const origin = 'https://revoked.example';
    const page = await t.connect({ origin });
    const { code } = await page.result<{ code: string }>('agent.pair', { scopes: ['vitale.read'] });
    const desktop = await t.desktop();
    expect(await desktop.result('agent.approvePairing', { code })).toMatchObject({ origin, scopes: ['vitale.read'] });
    await page.result('vitale.read', {});
    const { paired } = await desktop.result<{ paired: { origin: string; scopes: string[] }[] }>('agent.listPairings');
    expect(paired.find((p) => p.origin === origin)?.scopes).toEqual(['vitale.read']);

    expect(await desktop.result('agent.revokePairing', { origin })).toEqual({ revoked: true });
    expect((await page.closed).code).toBe(1008);
    const again = await t.connect({ origin });
    expect(await again.errorCode('vitale.read', {})).toBe('ORIGIN_NOT_PAIRED');
    expect(await desktop.result('agent.revokePairing', { origin })).toEqual({ revoked: false });
  });

  test('paired origins survive a restart of the agent', async () => {
    const origin = 'https://persistent.example';
    const page = await t.connect({ origin });
    const { code } = await page.result<{ code: string }>('agent.pair', { scopes: ['cps.read'] });
    await (await t.desktop()).result('agent.approvePairing', { code });
    const second = await startTestAgent({ configDir: t.configDir });
    try {
      const client = await second.connect({ origin });
      expect((await client.result<{ caller: string }>('agent.info')).caller).toBe('origin');
      expect(await client.errorCode('cps.sign', SIGN)).toBe('SCOPE_NOT_GRANTED');
    } finally {
      await second.close();
    }
  });
});
