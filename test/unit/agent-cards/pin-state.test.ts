// The PIN rules: the verified state belongs to the connection that verified (another connection
// never uses it and verifies for itself), and ends with the card removed, cps.logout, the idle
// timeout, and the owning connection's close — on the card, by a reset, not only in our records.
// Also the last-try guard, pinpad entry, --pin-per-signature, PIN change/unblock and the audit.
import { createHash } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { VirtualCard } from '../../../src/simulator/virtual-card.js';
import { caller, closeHarnesses, countApdus, expectAgentError, harness, personaCard, pinPresentations, removeTestPki, until, type Harness } from './helpers.js';

afterEach(closeHarnesses);
afterAll(removeTestPki);

const A = 'Lecteur A';
const SIGN = { hash: createHash('sha256').update('doc').digest('base64'), hashAlgorithm: 'SHA-256' };

/** What the card itself says (an empty VERIFY, through a third connection that holds nothing). */
async function cardState(h: Harness, reader = A): Promise<{ triesRemaining: number; verified: boolean }> {
  const status = (await h.service.call('cps.pinStatus', { reader }, caller('desktop'))) as { triesRemaining: number };
  // The probe never holds the state, so `verified` in its answer is always false: read the card's log.
  const last = h.mock.apduLog(reader).at(-1)!;
  return { triesRemaining: status.triesRemaining, verified: last.response === '90 00' };
}

async function idle(_h: Harness): Promise<void> {
  // Let the agent's own queued work (state ends) run.
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

describe('whose verified state', () => {
  it('connection B never uses the state A verified: PIN_REQUIRED (desktop) or the PIN page (browser)', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const a = caller('desktop');
    const b = caller('desktop');
    await h.service.call('cps.verifyPin', { pin: '1234' }, a);
    expect(await h.service.call('cps.pinStatus', {}, a)).toMatchObject({ verified: true });
    expect(await h.service.call('cps.pinStatus', {}, b)).toMatchObject({ verified: false });
    const before = h.mock.apduLog(A).length;
    await expectAgentError(h.service.call('cps.sign', SIGN, b), 'PIN_REQUIRED');
    await expectAgentError(h.service.call('cps.getActivities', {}, b), 'PIN_REQUIRED');
    await expectAgentError(h.service.call('cps.decrypt', { ciphertext: Buffer.alloc(256).toString('base64') }, b), 'PIN_REQUIRED');
    await expectAgentError(h.service.call('cps.authenticate', { challenge: Buffer.alloc(32).toString('base64') }, b), 'PIN_REQUIRED');
    expect(h.mock.apduLog(A).length).toBe(before); // refused before touching the card

    const web = caller('origin');
    const pending = h.service.call('cps.sign', SIGN, web);
    const prompt = await web.nextNotification('pin.prompt');
    expect(prompt).toMatchObject({ reader: A, origin: 'https://app.example:8443', triesRemaining: 3 });
    expect(a.notifications).toHaveLength(0);
    expect(b.notifications).toHaveLength(0);
    web.disconnect();
    await expectAgentError(pending, 'USER_CANCELLED');
    // A still holds its state: its own calls work without a PIN.
    expect(await h.service.call('cps.sign', SIGN, a)).toMatchObject({ algorithm: 'RS256' });
  });

  it("B's verification ends A's state on the card before B's PIN is presented, even a wrong one", async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const a = caller('desktop');
    const b = caller('desktop');
    await h.service.call('cps.verifyPin', { pin: '1234' }, a);
    expect((await cardState(h)).verified).toBe(true);
    await expectAgentError(h.service.call('cps.sign', { ...SIGN, pin: '0000' }, b), 'PIN_INCORRECT', { triesRemaining: 2 });
    // The card is no longer verified for anyone, and A's record is gone with it.
    expect(await cardState(h)).toEqual({ triesRemaining: 2, verified: false });
    await expectAgentError(h.service.call('cps.sign', SIGN, a), 'PIN_REQUIRED');
    // B verifies for itself; A still cannot use that state.
    expect(await h.service.call('cps.sign', { ...SIGN, pin: '1234' }, b)).toMatchObject({ algorithm: 'RS256' });
    expect(await h.service.call('cps.pinStatus', {}, b)).toMatchObject({ verified: true, triesRemaining: 3 });
    expect(await h.service.call('cps.pinStatus', {}, a)).toMatchObject({ verified: false });
    await expectAgentError(h.service.call('cps.sign', SIGN, a), 'PIN_REQUIRED');
  });

  it("B's call ends A's state on the card (a reset) before anything of B's is presented", async () => {
    const card = await personaCard('cps:medecin');
    let resets = 0;
    const counted: VirtualCard = { family: card.family, atr: card.atr, transmit: (apdu) => card.transmit(apdu), reset: () => (resets++, card.reset()) };
    const h = await harness({ cards: { [A]: counted } });
    const a = caller('desktop');
    const b = caller('desktop');
    await h.service.call('cps.verifyPin', { pin: '1234' }, a);
    const resetsBefore = resets;
    const presented = pinPresentations(h.mock, A);
    // A malformed PIN never reaches the card, yet A's state is gone: it ended before B's entry.
    await expectAgentError(h.service.call('cps.sign', { ...SIGN, pin: '12a4' }, b), 'INVALID_PARAMS');
    expect(pinPresentations(h.mock, A)).toBe(presented);
    expect(resets).toBe(resetsBefore + 1);
    expect(await cardState(h)).toEqual({ triesRemaining: 3, verified: false });
    await expectAgentError(h.service.call('cps.sign', SIGN, a), 'PIN_REQUIRED');
    // B's own verification: no reset needed when nobody holds the card.
    await h.service.call('cps.verifyPin', { pin: '1234' }, b);
    expect(resets).toBe(resetsBefore + 1);
  });

  it('cps.logout ends the caller’s state on the card; another connection cannot log it out', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const a = caller('desktop');
    const b = caller('origin');
    await h.service.call('cps.verifyPin', { pin: '1234' }, a);
    expect(await h.service.call('cps.logout', {}, b)).toEqual({ ok: true });
    expect((await cardState(h)).verified).toBe(true);
    expect(await h.service.call('cps.logout', {}, a)).toEqual({ ok: true });
    expect((await cardState(h)).verified).toBe(false);
    await expectAgentError(h.service.call('cps.sign', SIGN, a), 'PIN_REQUIRED');
  });

  it('the state ends after the idle timeout (card reset)', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' }, pinIdleTimeoutMs: 400 });
    const a = caller('desktop');
    await h.service.call('cps.verifyPin', { pin: '1234' }, a);
    await new Promise((r) => setTimeout(r, 250));
    await h.service.call('cps.sign', SIGN, a); // use: the idle period starts again
    await new Promise((r) => setTimeout(r, 250));
    expect(await h.service.call('cps.pinStatus', {}, a)).toMatchObject({ verified: true });
    await new Promise((r) => setTimeout(r, 700));
    await idle(h);
    expect((await cardState(h)).verified).toBe(false);
    await expectAgentError(h.service.call('cps.sign', SIGN, a), 'PIN_REQUIRED');
  });

  it('the state ends when the owning connection closes (connectionClosed or its signal)', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const a = caller('desktop');
    await h.service.call('cps.verifyPin', { pin: '1234' }, a);
    h.service.connectionClosed(a.connectionId);
    await idle(h);
    expect((await cardState(h)).verified).toBe(false);

    const c = caller('desktop');
    await h.service.call('cps.verifyPin', { pin: '1234' }, c);
    expect((await cardState(h)).verified).toBe(true);
    c.disconnect();
    await idle(h);
    expect((await cardState(h)).verified).toBe(false);
  });

  it('the state ends when the card is removed: the same card put back needs the PIN again', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const a = caller('desktop');
    await h.service.call('cps.verifyPin', { pin: '1234' }, a);
    h.mock.removeCard(A);
    await until('card.removed', () => h.events.some((e) => e.event === 'card.removed'));
    await expectAgentError(h.service.call('cps.sign', SIGN, a), 'CARD_ABSENT');
    h.mock.insertCard(A, await personaCard('cps:medecin'));
    await until('card.inserted', () => h.events.filter((e) => e.event === 'card.inserted').length === 2);
    await expectAgentError(h.service.call('cps.sign', SIGN, a), 'PIN_REQUIRED');
  });

  it('a state the card lost (another application reset it) is noticed: PIN_REQUIRED, not a stale "verified"', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const a = caller('desktop');
    await h.service.call('cps.verifyPin', { pin: '1234' }, a);
    // Another PC/SC application resets the card behind our back.
    const other = h.mock.pcsclite();
    await new Promise<void>((resolve) => {
      other.on('reader', (reader) => {
        reader.connect({ share_mode: reader.SCARD_SHARE_SHARED, protocol: reader.SCARD_PROTOCOL_T1 }, (err: Error | null | undefined) => {
          if (err) throw err;
          reader.disconnect(reader.SCARD_RESET_CARD, () => {
            reader.close();
            other.close();
            resolve();
          });
        });
      });
    });
    await expectAgentError(h.service.call('cps.sign', SIGN, a), 'CARD_ERROR', { reason: 'CARD_RESET' });
    await expectAgentError(h.service.call('cps.sign', SIGN, a), 'PIN_REQUIRED');
    expect(await h.service.call('cps.pinStatus', {}, a)).toMatchObject({ verified: false });
  });
});

describe('PIN entry rules', () => {
  it('desktop PIN values: PIN_INCORRECT with tries left; PIN_LAST_TRY with one left unless confirmed; PIN_BLOCKED', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const d = caller('desktop');
    await expectAgentError(h.service.call('cps.verifyPin', { pin: '0000' }, d), 'PIN_INCORRECT', { triesRemaining: 2 });
    await expectAgentError(h.service.call('cps.verifyPin', { method: 'value', pin: '0000' }, d), 'PIN_INCORRECT', { triesRemaining: 1 });
    const presented = pinPresentations(h.mock, A);
    await expectAgentError(h.service.call('cps.verifyPin', { pin: '1234' }, d), 'PIN_LAST_TRY', { triesRemaining: 1 });
    await expectAgentError(h.service.call('cps.sign', { ...SIGN, pin: '1234' }, d), 'PIN_LAST_TRY');
    await expectAgentError(h.service.call('cps.changePin', { pin: '1234', newPin: '5678' }, d), 'PIN_LAST_TRY');
    expect(pinPresentations(h.mock, A)).toBe(presented); // nothing was submitted
    expect(await h.service.call('cps.pinStatus', {}, d)).toEqual({ triesRemaining: 1, maxTries: 3, blocked: false, verified: false });
    expect(await h.service.call('cps.verifyPin', { pin: '1234', confirmLastTry: true }, d)).toEqual({ verified: true });
    expect(await h.service.call('cps.pinStatus', {}, d)).toEqual({ triesRemaining: 3, maxTries: 3, blocked: false, verified: true });
  });

  it('a blocked PIN: PIN_BLOCKED; the PUK unblocks it with a new PIN', async () => {
    const h = await harness({ cards: { [A]: 'cps:blocked' } });
    const d = caller('desktop');
    expect(await h.service.call('cps.pinStatus', {}, d)).toMatchObject({ blocked: true, triesRemaining: 0 });
    await expectAgentError(h.service.call('cps.verifyPin', { pin: '1234', confirmLastTry: true }, d), 'PIN_BLOCKED');
    await expectAgentError(h.service.call('cps.unblockPin', { puk: '00000000', newPin: '4321' }, d), 'PIN_INCORRECT');
    expect(await h.service.call('cps.unblockPin', { puk: '12345678', newPin: '4321' }, d)).toEqual({ ok: true });
    expect(await h.service.call('cps.verifyPin', { pin: '4321' }, d)).toEqual({ verified: true });
  });

  it('cps.changePin with values (desktop); nothing stays verified afterwards', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin-cps4' } });
    const d = caller('desktop');
    await expectAgentError(h.service.call('cps.changePin', {}, d), 'PIN_REQUIRED');
    await expectAgentError(h.service.call('cps.changePin', { pin: '1234' }, d), 'INVALID_PARAMS');
    await expectAgentError(h.service.call('cps.changePin', { pin: '0000', newPin: '5678' }, d), 'PIN_INCORRECT', { triesRemaining: 2 });
    expect(await h.service.call('cps.changePin', { pin: '1234', newPin: '5678' }, d)).toEqual({ ok: true });
    expect((await cardState(h)).verified).toBe(false);
    await expectAgentError(h.service.call('cps.verifyPin', { pin: '1234' }, d), 'PIN_INCORRECT');
    expect(await h.service.call('cps.verifyPin', { pin: '5678' }, d)).toEqual({ verified: true });
  });

  it('desktop callers: PIN_REQUIRED without a value; a method that is not value takes no value', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const d = caller('desktop');
    await expectAgentError(h.service.call('cps.verifyPin', {}, d), 'PIN_REQUIRED');
    await expectAgentError(h.service.call('cps.verifyPin', { method: 'value' }, d), 'INVALID_PARAMS');
    await expectAgentError(h.service.call('cps.verifyPin', { method: 'pinpad', pin: '1234' }, d), 'INVALID_PARAMS');
    expect(pinPresentations(h.mock, A)).toBe(0);
  });

  it('--pin-per-signature: every cps.sign needs the PIN, even with a verified state', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' }, pinPerSignature: true });
    const d = caller('desktop');
    await h.service.call('cps.verifyPin', { pin: '1234' }, d);
    await expectAgentError(h.service.call('cps.sign', SIGN, d), 'PIN_REQUIRED');
    const before = pinPresentations(h.mock, A);
    expect(await h.service.call('cps.sign', { ...SIGN, pin: '1234' }, d)).toMatchObject({ algorithm: 'RS256' });
    expect(await h.service.call('cps.sign', { ...SIGN, pin: '1234' }, d)).toMatchObject({ algorithm: 'RS256' });
    expect(pinPresentations(h.mock, A)).toBe(before + 2);
    // Other operations still use the state.
    expect(await h.service.call('cps.getActivities', {}, d)).toHaveLength(1);
  });
});

describe('pinpad', () => {
  const PAD = 'Lecteur clavier';

  for (const persona of ['cps:medecin', 'cps:medecin-cps4'] as const) {
    it(`${persona}: verifies with FEATURE_VERIFY_PIN_DIRECT; the PIN never passes through the agent`, async () => {
      const h = await harness({ readers: [{ name: PAD, pinpad: true }], cards: { [PAD]: persona } });
      const d = caller('origin');
      h.mock.setPinpadEntry(PAD, '1234');
      const { value, apdus } = await countApdus(h.mock, PAD, () => h.service.call('cps.verifyPin', { method: 'pinpad' }, d));
      expect(value).toEqual({ verified: true });
      expect(apdus).toBeGreaterThan(0);
      expect(await h.service.call('cps.pinStatus', {}, d)).toMatchObject({ verified: true });
      expect(await h.service.call('cps.sign', SIGN, d)).toMatchObject({ algorithm: 'RS256' });
      expect(d.notifications).toHaveLength(0); // no page: the state was used
      // The VERIFY the reader sent carries the block the AODF describes (ASCII, padded with FF to 8).
      const verify = h.mock.apduLog(PAD).find((e) => / 20 00 [0-9A-F]{2} 08 31 32 33 34 FF FF FF FF$/.test(e.command));
      expect(verify?.response).toBe('90 00');
      expect(h.audit.find((e) => e.operation === 'cps.verifyPin')).toMatchObject({ method: 'pinpad', outcome: 'ok', reader: PAD });
    });
  }

  it('wrong PIN, Cancel key, nobody typing, a reader without keypad', async () => {
    const h = await harness({ readers: [{ name: PAD, pinpad: true }, 'Lecteur simple'], cards: { [PAD]: 'cps:medecin', 'Lecteur simple': 'cps:infirmier' } });
    const d = caller('desktop');
    h.mock.setPinpadEntry(PAD, '9999');
    await expectAgentError(h.service.call('cps.verifyPin', { reader: PAD, method: 'pinpad' }, d), 'PIN_INCORRECT', { triesRemaining: 2 });
    h.mock.setPinpadEntry(PAD, 'cancel');
    await expectAgentError(h.service.call('cps.verifyPin', { reader: PAD, method: 'pinpad' }, d), 'USER_CANCELLED');
    h.mock.setPinpadEntry(PAD, 'timeout');
    await expectAgentError(h.service.call('cps.verifyPin', { reader: PAD, method: 'pinpad' }, d), 'TIMEOUT');
    h.mock.setPinpadEntry(PAD, '12');
    await expectAgentError(h.service.call('cps.verifyPin', { reader: PAD, method: 'pinpad' }, d), 'INVALID_PARAMS', { reason: 'pin-length' });
    await expectAgentError(h.service.call('cps.verifyPin', { reader: 'Lecteur simple', method: 'pinpad' }, d), 'INVALID_PARAMS', { reason: 'no-pinpad' });
    expect(await h.service.call('cps.pinStatus', { reader: PAD }, d)).toMatchObject({ triesRemaining: 2, verified: false });
  });

  it('with one try left the pinpad is not used unless confirmLastTry', async () => {
    const h = await harness({ readers: [{ name: PAD, pinpad: true }], cards: { [PAD]: 'cps:medecin' } });
    const d = caller('origin');
    for (const entry of ['1111', '2222']) {
      h.mock.setPinpadEntry(PAD, entry);
      await expectAgentError(h.service.call('cps.verifyPin', { method: 'pinpad' }, d), 'PIN_INCORRECT');
    }
    h.mock.setPinpadEntry(PAD, '1234');
    const presented = pinPresentations(h.mock, PAD);
    await expectAgentError(h.service.call('cps.verifyPin', { method: 'pinpad' }, d), 'PIN_LAST_TRY', { triesRemaining: 1 });
    expect(pinPresentations(h.mock, PAD)).toBe(presented);
    expect(await h.service.call('cps.verifyPin', { method: 'pinpad', confirmLastTry: true }, d)).toEqual({ verified: true });
  });
});

describe('audit', () => {
  it('records PIN entries and key operations with method, reader, card serial, outcome — never a PIN', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const d = caller('desktop');
    await expectAgentError(h.service.call('cps.verifyPin', { pin: '9876' }, d), 'PIN_INCORRECT');
    await h.service.call('cps.verifyPin', { pin: '1234' }, d);
    await h.service.call('cps.sign', SIGN, d);
    await h.service.call('cps.changePin', { pin: '1234', newPin: '2468' }, d);
    expect(h.audit.map((e) => [e.operation, e.method ?? null, e.outcome])).toEqual([
      ['cps.verifyPin', 'value', 'PIN_INCORRECT'],
      ['cps.verifyPin', 'value', 'ok'],
      ['cps.sign', null, 'ok'],
      ['cps.changePin', 'value', 'ok'],
    ]);
    for (const e of h.audit) expect(e).toMatchObject({ reader: A, cardSerial: '2500000101', origin: 'app:cardbridge-test' });
    const text = JSON.stringify(h.audit);
    for (const secret of ['9876', '1234', '2468']) expect(text).not.toContain(secret);
  });
});
