// A PIN never comes from a browser page and never reaches a log or the audit trail; the audit
// trail says who called what on which card and how it ended.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AUDIT_FILE } from '../../../src/agent/audit/audit-log.js';
import { createAgentLogger } from '../../../src/agent/audit/logger.js';
import { AgentError } from '../../../src/agent/errors.js';
import { FAKE_SERIAL } from '../../support/agent/fake-card-service.js';
import { settle, startTestAgent, type TestAgent } from '../../support/agent/test-agent.js';
import type { TestClient } from '../../support/agent/ws-client.js';

const ORIGIN = 'https://pin.example';
const PIN = '918273';
const NEW_PIN = '564738';
const PUK = '87654321';
const HASH = Buffer.alloc(32, 5).toString('base64');

let t: TestAgent;
let page: TestClient;
beforeAll(async () => {
  t = await startTestAgent();
  page = await t.connect({ origin: ORIGIN });
  const { code } = await page.result<{ code: string }>('agent.pair', { scopes: ['cps.read', 'cps.sign', 'cps.decrypt', 'cps.authenticate'] });
  await (await t.desktop()).result('agent.approvePairing', { code });
});
afterAll(async () => {
  await t.close();
});

describe('PIN values from browser pages', () => {
  test.each([
    ['cps.verifyPin', { pin: PIN }],
    ['cps.verifyPin', { method: 'value' }],
    ['cps.verifyPin', { method: 'value', pin: PIN, confirmLastTry: true }],
    ['cps.verifyPin', { pin: null }],
    ['cps.verifyPin', { pin: Number(PIN) }],
    ['cps.changePin', { pin: PIN, newPin: NEW_PIN }],
    ['cps.changePin', { newPin: NEW_PIN }],
    ['cps.changePin', { method: 'value' }],
    ['cps.unblockPin', { puk: PUK, newPin: NEW_PIN }],
    ['cps.unblockPin', { puk: PUK }],
    ['cps.sign', { hash: HASH, hashAlgorithm: 'SHA-256', pin: PIN }],
    ['cps.decrypt', { ciphertext: Buffer.alloc(256).toString('base64'), pin: PIN }],
    ['cps.getActivities', { pin: PIN }],
    ['agent.hello', { pin: PIN }],
  ])('%s %j -> PIN_VALUE_NOT_ALLOWED, the card service never called', async (method, params) => {
    const before = t.card.calls.length;
    const res = await page.call(method, params);
    expect(res.error?.data.code).toBe('PIN_VALUE_NOT_ALLOWED');
    expect(JSON.stringify(res)).not.toContain(PIN);
    expect(t.card.calls.length).toBe(before);
  });

  test('the same page may ask for the PIN page or the pinpad (and that does reach the card service)', async () => {
    await page.result('cps.verifyPin', { method: 'page' });
    await page.result('cps.verifyPin', { method: 'pinpad' });
    await page.result('cps.changePin', { method: 'page' });
    expect(t.card.callsOf('cps.verifyPin').slice(-2).map((c) => c.params)).toEqual([{ method: 'page' }, { method: 'pinpad' }]);
  });

  test('a desktop caller may pass PIN values (they reach the card service as given)', async () => {
    const desktop = await t.desktop();
    await desktop.result('cps.verifyPin', { method: 'value', pin: PIN });
    expect(t.card.calls.at(-1)?.params).toEqual({ method: 'value', pin: PIN });
  });
});

describe('nothing secret in the audit file or the logs', () => {
  test('PINs, PUK, token, console key, hash, ciphertext, plaintext and signatures never written', async () => {
    const desktop = await t.desktop();
    const ciphertext = Buffer.alloc(256, 0x5a).toString('base64');
    t.card.handlers.set('cps.unblockPin', () => {
      throw new AgentError('PIN_INCORRECT', { triesRemaining: 1 });
    });
    try {
      await desktop.call('cps.verifyPin', { method: 'value', pin: PIN, confirmLastTry: true });
      await desktop.call('cps.changePin', { method: 'value', pin: PIN, newPin: NEW_PIN });
      await desktop.call('cps.unblockPin', { method: 'value', puk: PUK, newPin: NEW_PIN });
      await desktop.call('cps.verifyPin', { pin: Number(PIN) });
      await desktop.call('cps.verifyPin', { pin: `${PIN}${'9'.repeat(40)}` });
      await desktop.call('cps.sign', { hash: HASH, hashAlgorithm: 'SHA-256', pin: PIN });
      await desktop.call('cps.decrypt', { ciphertext, pin: PIN });
      await desktop.call('nope', { pin: PIN });
      desktop.send(`{"jsonrpc":"2.0","id":1,"method":"cps.verifyPin","params":{"pin":"${PIN}"`); // not JSON
      await page.call('cps.verifyPin', { pin: PIN });
      await page.call('cps.changePin', { pin: PIN, newPin: NEW_PIN });
      await page.call('cps.unblockPin', { puk: PUK, newPin: NEW_PIN });
      await page.call('cps.sign', { hash: HASH, hashAlgorithm: 'SHA-256' });
    } finally {
      t.card.handlers.delete('cps.unblockPin');
    }
    await settle(100);
    const audit = readFileSync(join(t.stateDir, AUDIT_FILE), 'utf8');
    const log = readFileSync(t.logFile, 'utf8');
    expect(audit).toContain('"method":"cps.verifyPin"');
    expect(log).toContain('"method":"cps.verifyPin"'); // debug lines about these very calls exist…
    for (const [name, secret] of [
      ['PIN', PIN],
      ['new PIN', NEW_PIN],
      ['PUK', PUK],
      ['token', t.token()],
      ['console key', t.consoleKey()],
      ['hash', HASH],
      ['ciphertext', ciphertext.slice(0, 40)],
      ['plaintext (fake result)', 'cGxhaW4='],
      ['signature (fake result)', 'c2lnbmF0dXJl'],
    ]) {
      expect(audit.includes(secret ?? ''), `${name} in the audit file`).toBe(false);
      expect(log.includes(secret ?? ''), `${name} in the log`).toBe(false); // …without the secrets
    }
  });

  test('logger redaction masks PIN fields and params wherever a log call puts them', () => {
    const file = join(t.root, 'redaction.log');
    const logger = createAgentLogger({ destination: file, level: 'debug' });
    logger.info({ params: { pin: PIN } }, 'a');
    logger.info({ pin: PIN, puk: PUK, newPin: NEW_PIN, token: 'tok-secret-value' }, 'b');
    logger.info({ request: { params: { newPin: NEW_PIN } } }, 'c');
    logger.info({ call: { method: 'cps.verifyPin', pin: PIN } }, 'd');
    logger.flush();
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n').filter(Boolean)).toHaveLength(4);
    for (const secret of [PIN, PUK, NEW_PIN, 'tok-secret-value']) expect(text).not.toContain(secret);
    expect(text).toContain('[masqué]');
  });
});

describe('audit trail', () => {
  test('one JSON line per call: time, connection, caller kind, origin, method, reader, card serial, outcome', async () => {
    const desktop = await t.desktop('audit-app');
    await desktop.result('cps.getIdentity', { reader: 'Lecteur de test 00' });
    await desktop.result('cps.sign', { reader: 'Lecteur de test 00', hash: HASH, hashAlgorithm: 'SHA-256' });
    await page.call('vitale.read', {});
    await settle();
    const lines = t.auditLines();
    const identity = lines.findLast((l) => l.method === 'cps.getIdentity');
    expect(identity).toMatchObject({
      event: 'rpc',
      callerKind: 'desktop',
      origin: 'app:audit-app',
      method: 'cps.getIdentity',
      reader: 'Lecteur de test 00',
      cardSerial: FAKE_SERIAL,
      outcome: 'ok',
    });
    expect(identity?.connectionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(String(identity?.time))).toBeGreaterThan(Date.now() - 60_000);
    // the serial learnt for that reader goes into the next lines about it
    expect(lines.findLast((l) => l.method === 'cps.sign')).toMatchObject({ reader: 'Lecteur de test 00', cardSerial: FAKE_SERIAL, outcome: 'ok' });
    // refusals too, with their code and the browser origin
    expect(lines.findLast((l) => l.method === 'vitale.read')).toMatchObject({ callerKind: 'origin', origin: ORIGIN, outcome: 'error', errorCode: 'SCOPE_NOT_GRANTED' });
    // …after a removal, the reader's serial is forgotten
    t.card.emit('card.removed', { reader: 'Lecteur de test 00' });
    await desktop.result('cps.pinStatus', { reader: 'Lecteur de test 00' });
    await settle();
    expect(t.auditLines().findLast((l) => l.method === 'cps.pinStatus')?.cardSerial).toBeUndefined();
  });

  test('the audit file is 0600 in a 0700 directory', () => {
    expect(statSync(join(t.stateDir, AUDIT_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(t.stateDir).mode & 0o777).toBe(0o700);
  });
});
