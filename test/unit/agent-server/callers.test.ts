// Who is calling (agent-protocol.md "Who may call what"): desktop by the local token, browser
// pages by their Origin header (paired or not), local callers without either; each limited to
// what the table allows, and the origin always taken from the header.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SCOPES } from '../../../src/agent/caller.js';
import { startTestAgent, type TestAgent } from '../../support/agent/test-agent.js';
import { TestClient } from '../../support/agent/ws-client.js';

const APP = 'https://app.example';
const CARD_METHODS: [string, unknown][] = [
  ['readers.list', undefined],
  ['cps.getIdentity', {}],
  ['cps.getCertificates', {}],
  ['cps.getActivities', {}],
  ['cps.pinStatus', {}],
  ['cps.verifyPin', { method: 'page' }],
  ['cps.changePin', {}],
  ['cps.unblockPin', {}],
  ['cps.logout', {}],
  ['cps.sign', { hash: Buffer.alloc(32, 1).toString('base64'), hashAlgorithm: 'SHA-256' }],
  ['cps.authenticate', { challenge: Buffer.alloc(32, 2).toString('base64') }],
  ['cps.decrypt', { ciphertext: Buffer.alloc(256, 3).toString('base64') }],
  ['vitale.read', {}],
  ['agent.subscribe', {}],
];

let t: TestAgent;
beforeAll(async () => {
  t = await startTestAgent();
});
afterAll(async () => {
  await t.close();
});

/** Pairs `origin` with `scopes` the way a desktop caller (the CLI) approves it. */
async function pair(origin: string, scopes: string[]): Promise<void> {
  const page = await t.connect({ origin });
  const { code } = await page.result<{ code: string }>('agent.pair', { scopes });
  const desktop = await t.desktop();
  await desktop.result('agent.approvePairing', { code });
  await page.close();
  await desktop.close();
}

describe('local caller (no Origin, no token)', () => {
  test('may call agent.info and agent.hello, nothing else: UNAUTHORIZED, card service untouched', async () => {
    const client = await t.connect();
    expect(await client.result('agent.info')).toMatchObject({ protocol: 1, pcsc: 'ok', caller: 'local' });
    expect(await client.result('agent.hello', { lang: 'fr' })).toEqual({ caller: 'local' });
    const before = t.card.calls.length;
    for (const [method, params] of CARD_METHODS) expect(await client.errorCode(method, params), method).toBe('UNAUTHORIZED');
    expect(await client.errorCode('agent.pair', { scopes: ['cps.read'] })).toBe('UNAUTHORIZED');
    expect(await client.errorCode('agent.listPairings')).toBe('UNAUTHORIZED');
    expect(t.card.calls.length).toBe(before);
  });

  test('a wrong token in agent.hello is UNAUTHORIZED and changes nothing', async () => {
    const client = await t.connect();
    expect(await client.errorCode('agent.hello', { token: 'x'.repeat(43), appId: 'intrus' })).toBe('UNAUTHORIZED');
    expect(await client.errorCode('agent.hello', { token: `${t.token()}x`, appId: 'intrus' })).toBe('UNAUTHORIZED');
    expect(await client.errorCode('agent.hello', { token: t.token().slice(0, -1), appId: 'intrus' })).toBe('UNAUTHORIZED');
    expect((await client.result<{ caller: string }>('agent.info')).caller).toBe('local');
    expect(await client.errorCode('readers.list')).toBe('UNAUTHORIZED');
  });

  test('the UNAUTHORIZED message is French by default and English after hello { lang: "en" }', async () => {
    const client = await t.connect();
    const fr = await client.call('readers.list');
    expect(fr.error?.message).toMatch(/Jeton local absent ou invalide/);
    await client.result('agent.hello', { lang: 'en' });
    const en = await client.call('readers.list');
    expect(en.error?.message).toMatch(/Missing or invalid local token/);
  });
});

describe('desktop caller', () => {
  test('the token in agent.hello makes it desktop, origin app:<appId>, every scope', async () => {
    const client = await t.connect();
    expect(await client.result('agent.hello', { token: t.token(), appId: 'logiciel-cabinet' })).toEqual({ caller: 'desktop' });
    expect((await client.result<{ caller: string }>('agent.info')).caller).toBe('desktop');
    await client.result('cps.getIdentity', {});
    const call = t.card.calls.at(-1);
    expect(call?.method).toBe('cps.getIdentity');
    expect(call?.caller.kind).toBe('desktop');
    expect(call?.caller.origin).toBe('app:logiciel-cabinet');
    expect([...(call?.caller.scopes ?? [])].sort()).toEqual([...SCOPES].sort());
  });

  test('the token as Authorization: Bearer on the upgrade makes it desktop from the start', async () => {
    const client = await t.connect({ bearer: t.token() });
    expect((await client.result<{ caller: string }>('agent.info')).caller).toBe('desktop');
    await client.result('readers.list');
    expect(t.card.calls.at(-1)?.caller.origin).toBe('app:unknown');
    const named = await TestClient.connect(`${t.url}?appId=facturation`, { bearer: t.token() });
    await named.result('readers.list');
    expect(t.card.calls.at(-1)?.caller.origin).toBe('app:facturation');
    await named.close();
  });

  test('a wrong Bearer token is refused at the upgrade (401)', async () => {
    await expect(t.connect({ bearer: 'y'.repeat(43) })).rejects.toThrow(/HTTP 401/);
    await expect(t.connect({ bearer: '' })).rejects.toThrow(/HTTP 401/);
  });

  test('an appId that could pass for something else is refused', async () => {
    const client = await t.connect();
    expect(await client.errorCode('agent.hello', { token: t.token(), appId: 'https://bank.example' })).toBe('INVALID_PARAMS');
    expect((await client.result<{ caller: string }>('agent.info')).caller).toBe('local');
  });
});

describe('browser pages', () => {
  test('an unpaired origin may call agent.info, agent.hello and agent.pair only: ORIGIN_NOT_PAIRED', async () => {
    const client = await t.connect({ origin: 'https://unpaired.example' });
    expect((await client.result<{ caller: string }>('agent.info')).caller).toBe('unpaired');
    expect(await client.result('agent.hello', { lang: 'en' })).toEqual({ caller: 'unpaired' });
    const before = t.card.calls.length;
    for (const [method, params] of CARD_METHODS) expect(await client.errorCode(method, params), method).toBe('ORIGIN_NOT_PAIRED');
    expect(t.card.calls.length).toBe(before);
    expect(await client.result('agent.pair', { scopes: ['cps.read'] })).toMatchObject({ code: expect.stringMatching(/^\d{6}$/) });
  });

  test('a browser page never becomes desktop, even holding the local token', async () => {
    const client = await t.connect({ origin: 'https://stolen-token.example' });
    expect(await client.errorCode('agent.hello', { token: t.token(), appId: 'x' })).toBe('UNAUTHORIZED');
    expect((await client.result<{ caller: string }>('agent.info')).caller).toBe('unpaired');
    await expect(t.connect({ origin: 'https://stolen-token.example', bearer: t.token() })).rejects.toThrow(/HTTP 400/);
  });

  test('desktop-only pairing administration is refused to every browser page, paired or not', async () => {
    await pair('https://admin-try.example', [...SCOPES]);
    for (const origin of ['https://admin-try.example', 'https://unpaired.example']) {
      const client = await t.connect({ origin });
      for (const [method, params] of [
        ['agent.approvePairing', { code: '123456' }],
        ['agent.denyPairing', { code: '123456' }],
        ['agent.listPairings', undefined],
        ['agent.revokePairing', { origin: APP }],
      ] as const) {
        expect(await client.errorCode(method, params), `${origin} ${method}`).toBe('UNAUTHORIZED');
      }
    }
  });

  test('the origin handed to the card service is the Origin header, whatever the message says', async () => {
    await pair(APP, ['cps.read', 'cps.authenticate']);
    const client = await t.connect({ origin: APP });
    expect((await client.result<{ caller: string }>('agent.info')).caller).toBe('origin');
    // a page trying to name another origin in its messages is refused outright
    expect(await client.errorCode('cps.authenticate', { challenge: Buffer.alloc(32).toString('base64'), origin: 'https://bank.example' })).toBe('INVALID_PARAMS');
    expect(await client.errorCode('agent.hello', { origin: 'https://bank.example' })).toBe('INVALID_PARAMS');
    await client.result('cps.authenticate', { challenge: Buffer.alloc(32).toString('base64') });
    const call = t.card.calls.at(-1);
    expect(call?.method).toBe('cps.authenticate');
    expect(call?.params).toEqual({ challenge: Buffer.alloc(32).toString('base64') });
    expect(call?.caller.origin).toBe(APP);
    expect(call?.caller.kind).toBe('origin');
    expect([...(call?.caller.scopes ?? [])].sort()).toEqual(['cps.authenticate', 'cps.read']);
  });

  test('an Origin header that differs by a trailing slash or case is another (unpaired) origin', async () => {
    for (const origin of [`${APP}/`, 'https://APP.example', `${APP}:443`]) {
      const client = await t.connect({ origin });
      expect((await client.result<{ caller: string }>('agent.info')).caller, origin).toBe('unpaired');
      expect(await client.errorCode('cps.getIdentity', {})).toBe('ORIGIN_NOT_PAIRED');
    }
  });

  test('each connection has its own id and AbortSignal in its CallerContext', async () => {
    const a = await t.desktop();
    const b = await t.desktop();
    await a.result('readers.list');
    const ca = t.card.calls.at(-1)?.caller;
    await b.result('readers.list');
    const cb = t.card.calls.at(-1)?.caller;
    expect(ca?.connectionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ca?.connectionId).not.toBe(cb?.connectionId);
    expect(ca?.signal).not.toBe(cb?.signal);
  });
});
