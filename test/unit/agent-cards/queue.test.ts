// One queue per reader: operations never interleave their APDUs, BUSY past the depth, work of a
// closed connection dropped before it reaches the card, a card removed mid-signature fails that
// call with CARD_REMOVED and the queue goes on (never onto the next card with the old card's work),
// reads retried once after another application's reset, signatures never.
import { createHash, verify, X509Certificate } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SCARD_E } from '../../../native-mocks/pcsclite/index.js';
import { OperationQueue } from '../../../src/agent/cards/queue.js';
import { AgentError } from '../../../src/agent/errors.js';
import { caller, closeHarnesses, countApdus, expectAgentError, harness, personaCard, rejectionOf, removeTestPki, until } from './helpers.js';

afterEach(closeHarnesses);
afterAll(removeTestPki);

const A = 'Lecteur A';
const SIGN = { hash: createHash('sha256').update('lot').digest('base64'), hashAlgorithm: 'SHA-256' };

describe('per-reader queue', () => {
  it('operations of many callers never interleave: each signature is SELECT, MSE, PSO in a row', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const callers = Array.from({ length: 5 }, () => caller('desktop'));
    // Each verifies for itself, so each sign also ends the previous caller's state (reset) first.
    const results = (await Promise.all(callers.flatMap((c) => [0, 1, 2].map(() => h.service.call('cps.sign', { ...SIGN, pin: '1234' }, c))))) as { signature: string; certificate: string }[];
    expect(results).toHaveLength(15);
    const cert = new X509Certificate(Buffer.from(results[0]!.certificate, 'base64'));
    for (const r of results) expect(verify('sha256', Buffer.from('lot'), cert.publicKey, Buffer.from(r.signature, 'base64'))).toBe(true);
    const log = h.mock.apduLog(A).map((e) => e.command.split(' ').slice(0, 3).join(' '));
    // Every PSO COMPUTE DIGITAL SIGNATURE comes right after its MSE SET, and each one's operation
    // selected the application after the previous signature: nothing came in between.
    const pso = log.flatMap((c, i) => (c === '00 2A 9E' ? [i] : []));
    expect(pso.length).toBe(15);
    let previous = -1;
    for (const i of pso) {
      expect(log[i - 1]).toBe('00 22 41');
      expect(log.slice(previous + 1, i - 1)).toContain('00 A4 04');
      previous = i;
    }
  });

  it('BUSY past the default depth of 64 (running one included); the others complete', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const d = caller('desktop');
    const calls = Array.from({ length: 70 }, () => h.service.call('cps.getCertificates', {}, d).then(() => 'ok', (e: AgentError) => e.code));
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(64);
    expect(outcomes.filter((o) => o === 'BUSY')).toHaveLength(6);
    expect(outcomes.slice(64)).toEqual(Array(6).fill('BUSY'));
  });

  it('queueDepth is configurable; one reader’s queue does not hold another’s', async () => {
    const h = await harness({ readers: [A, 'Lecteur B'], cards: { [A]: 'cps:medecin', 'Lecteur B': 'vitale:famille' }, queueDepth: 2 });
    const d = caller('desktop');
    const outcomes = await Promise.all([
      ...Array.from({ length: 4 }, () => h.service.call('cps.getIdentity', { reader: A }, d).then(() => 'ok', (e: AgentError) => e.code)),
      h.service.call('vitale.read', {}, d).then(() => 'vitale ok', (e: AgentError) => e.code),
    ]);
    expect(outcomes).toEqual(['ok', 'ok', 'BUSY', 'BUSY', 'vitale ok']);
  });

  it('queued work of a closed connection is dropped before it reaches the card', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const leaving = caller('desktop');
    const staying = caller('desktop');
    const first = await countApdus(h.mock, A, () => h.service.call('cps.getCertificates', {}, caller('desktop')));
    expect(first.apdus).toBeGreaterThan(0);
    h.mock.removeCard(A);
    h.mock.insertCard(A, await personaCard('cps:medecin'));
    await until('new insertion', () => h.events.filter((e) => e.event === 'card.inserted').length === 2);
    const before = h.mock.apduLog(A).length;
    // The first call of `leaving` starts; its four others wait behind it; `staying` waits last.
    const mine = Array.from({ length: 5 }, () => h.service.call('cps.getIdentity', {}, leaving).then(() => 'ok', (e: AgentError) => `${e.code}:${String(e.details.reason)}`));
    const theirs = h.service.call('cps.pinStatus', {}, staying);
    await new Promise((r) => setImmediate(r));
    h.service.connectionClosed(leaving.connectionId);
    const outcomes = await Promise.all(mine);
    expect(outcomes[0]).toBe('ok');
    expect(outcomes.slice(1)).toEqual(Array(4).fill('USER_CANCELLED:connection-closed'));
    expect(await theirs).toMatchObject({ triesRemaining: 3 });
    // One identity read (certificates + serial) and one PIN status: nothing of the dropped four.
    const identityApdus = 28;
    const statusApdus = 5;
    expect(h.mock.apduLog(A).length - before).toBe(identityApdus + statusApdus);
  });

  it('card removed mid-signature: CARD_REMOVED; queued work for that card fails too; the next card works', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const d = caller('desktop');
    await h.service.call('cps.verifyPin', { pin: '1234' }, d);
    await h.service.call('cps.sign', SIGN, d);
    h.mock.removeCardAfterApdus(A, 2); // SELECT, MSE reach the card; then it is pulled out
    const during = h.service.call('cps.sign', SIGN, d);
    const behind = h.service.call('cps.sign', SIGN, d);
    const reads = h.service.call('cps.getIdentity', {}, caller('origin'));
    await expectAgentError(during, 'CARD_REMOVED');
    await expectAgentError(behind, 'CARD_REMOVED');
    await expectAgentError(reads, 'CARD_REMOVED');
    await until('card.removed', () => h.events.some((e) => e.event === 'card.removed'));
    // Another practitioner's card: the old card's state and work never apply to it.
    h.mock.insertCard(A, await personaCard('cps:infirmier'));
    await until('card.inserted', () => h.events.filter((e) => e.event === 'card.inserted').length === 2);
    const pso = () => h.mock.apduLog(A).filter((e) => e.command.startsWith('00 2A')).length;
    const psoBefore = pso();
    await expectAgentError(h.service.call('cps.sign', SIGN, d), 'PIN_REQUIRED');
    expect(pso()).toBe(psoBefore);
    expect(await h.service.call('cps.getIdentity', {}, d)).toMatchObject({ surname: 'PETIT' });
    expect(await h.service.call('cps.sign', { ...SIGN, pin: '1234' }, d)).toMatchObject({ algorithm: 'RS256' });
  });

  it('another application reset the card: a read is retried once, a signature is not', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const d = caller('desktop');
    await h.service.call('cps.verifyPin', { pin: '1234' }, d);
    const retried = await countApdus(h.mock, A, async () => {
      h.mock.failNextTransmit(A, SCARD_E.RESET_CARD);
      return h.service.call('cps.pinStatus', {}, d);
    });
    // The first SELECT failed without reaching the card; the whole read ran once more (SELECT + VERIFY).
    expect(retried.apdus).toBe(2);
    expect(retried.value).toMatchObject({ triesRemaining: 3 });

    const d2 = caller('desktop');
    await h.service.call('cps.verifyPin', { pin: '1234' }, d2);
    await h.service.call('cps.sign', SIGN, d2);
    const pso = () => h.mock.apduLog(A).filter((e) => e.command.startsWith('00 2A')).length;
    const before = pso();
    h.mock.failNextTransmit(A, SCARD_E.RESET_CARD);
    const e = await expectAgentError(h.service.call('cps.sign', SIGN, d2), 'CARD_ERROR', { reason: 'CARD_RESET' });
    expect(e.details).toEqual({ reason: 'CARD_RESET' });
    expect(pso()).toBe(before);
    // The reset took the verified state with it: the caller must give its PIN again.
    await expectAgentError(h.service.call('cps.sign', SIGN, d2), 'PIN_REQUIRED');
  });
});

describe('OperationQueue', () => {
  it('runs in order, one at a time; BUSY past the depth; system work is never refused nor dropped', async () => {
    const q = new OperationQueue(2);
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const t1 = q.enqueue({ connectionId: 'c1', run: async () => (order.push('1 start'), await gate, order.push('1 end'), 1) });
    const t2 = q.enqueue({ connectionId: 'c2', run: async () => (order.push('2'), 2) });
    const busy = q.enqueue({ connectionId: 'c3', run: async () => 3 });
    const system = q.enqueue({ connectionId: null, run: async () => (order.push('system'), 4) });
    expect(q.size).toBe(3);
    expect(((await rejectionOf(busy)) as AgentError).code).toBe('BUSY');
    expect(q.dropConnection('c2')).toBe(1);
    expect(q.dropConnection('c-none')).toBe(0);
    release();
    expect(await t1).toBe(1);
    expect(((await rejectionOf(t2)) as AgentError).details).toEqual({ reason: 'connection-closed' });
    expect(await system).toBe(4);
    expect(order).toEqual(['1 start', '1 end', 'system']);
  });

  it('a task whose connection signal was aborted while waiting does not run', async () => {
    const q = new OperationQueue(8);
    const controller = new AbortController();
    let ran = false;
    let release!: () => void;
    const first = q.enqueue({ connectionId: 'a', run: () => new Promise<void>((r) => (release = r)) });
    const second = q.enqueue({ connectionId: 'b', signal: controller.signal, run: async () => (ran = true) });
    controller.abort();
    release();
    await first;
    expect(((await rejectionOf(second)) as AgentError).code).toBe('USER_CANCELLED');
    expect(ran).toBe(false);
    expect(((await rejectionOf(q.enqueue({ connectionId: 'b', signal: controller.signal, run: async () => 1 }))) as AgentError).code).toBe('USER_CANCELLED');
  });
});
