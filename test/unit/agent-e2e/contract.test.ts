// End to end over the native pcsclite mock: the real agent (startAgent, the daemon's own wiring of
// the card service, audit and logs) and the project's AgentClient over real WebSockets.
// A desktop client with the local token calls every method of agent-protocol.md; events on
// insert/remove, on reader changes and on pcscd stopping; a browser-like client (Origin header)
// pairs through a desktop approval, gets origin-bound tokens, never passes PIN values and types
// its PIN on the agent's page; a card pulled mid-signature; a client leaving during its PIN
// prompt; and no PIN or PUK in what the agent wrote.
import { constants, createHash, publicEncrypt, randomBytes, verify, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgentClient,
  CardAmbiguousError,
  CardRemovedError,
  OriginNotPairedError,
  PcscUnavailableError,
  PinBlockedError,
  PinIncorrectError,
  PinRequiredError,
  PinValueNotAllowedError,
  ScopeNotGrantedError,
  UnauthorizedError,
  type AgentEventMap,
  type PinPrompt,
} from '../../../src/client/agent-client/index.js';
import { CPS_PERSONAS } from '../../../src/simulator/personas.js';
import {
  BROWSER_ORIGIN,
  csrfOf,
  enterPinOnPage,
  getPinPage,
  lastPinStatusAnswer,
  pinPresentations,
  postPinForm,
  startE2eAgent,
  tokenVerifiesFor,
  waitFor,
  type E2eAgent,
} from './harness.js';

const CPS = 'Lecteur CPS';
const VITALE = 'Lecteur Vitale';
const SPARE = 'Lecteur Secours';
const PIN = '1234';
const PUK = '12345678';
/** PINs only this file uses, so that a grep for them means something. */
const NEW_PIN = '58316947';
const UNBLOCKED_PIN = '70428351';
const WRONG_PIN = '86420';

const sha256 = (text: string): Uint8Array => createHash('sha256').update(text).digest();
const challenge = (): string => randomBytes(32).toString('base64');

let e2e: E2eAgent;
let desktop: AgentClient;
let signCert: X509Certificate;
let authCert: X509Certificate;

beforeAll(async () => {
  e2e = await startE2eAgent({ readers: { [CPS]: 'cps:medecin', [VITALE]: 'vitale:famille', [SPARE]: null } });
  desktop = await e2e.desktop();
  const certs = await desktop.cps.getCertificates({ reader: CPS });
  signCert = new X509Certificate(Buffer.from(certs.signature, 'base64'));
  authCert = new X509Certificate(Buffer.from(certs.authentication, 'base64'));
});

afterAll(async () => {
  await e2e?.close();
});

/** Collects the events a client receives, with a wait. */
function recorder(client: AgentClient) {
  const seen: { event: string; params: unknown }[] = [];
  for (const event of ['readers.changed', 'card.inserted', 'card.removed', 'pcsc.status'] as const) {
    client.on(event, (params: AgentEventMap[typeof event]) => seen.push({ event, params }));
  }
  return {
    seen,
    from: () => seen.length,
    async next<E extends keyof AgentEventMap>(event: E, match: (p: AgentEventMap[E]) => boolean = () => true, from = 0, timeoutMs = 5000): Promise<AgentEventMap[E]> {
      let found: AgentEventMap[E] | undefined;
      await waitFor(`${event} event`, () => {
        found = seen.slice(from).find((s) => s.event === event && match(s.params as AgentEventMap[E]))?.params as AgentEventMap[E] | undefined;
        return found !== undefined;
      }, timeoutMs);
      return found!;
    },
  };
}

/** Listens for the next pin.prompt on a client. */
function nextPrompt(client: AgentClient, timeoutMs = 5000): Promise<PinPrompt> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('no pin.prompt'));
    }, timeoutMs);
    const off = client.on('pin.prompt', (p) => {
      clearTimeout(timer);
      off();
      resolve(p);
    });
  });
}

describe('desktop client with the local token: every method of the contract', () => {
  it('agent.info, agent.hello (lang), agent.subscribe, readers.list', async () => {
    expect(desktop.caller).toBe('desktop');
    expect(await desktop.info()).toEqual({ version: expect.any(String), protocol: 1, pcsc: 'ok', caller: 'desktop' });
    // English messages after hello { lang: 'en' }, French again after hello { lang: 'fr' }
    expect(await desktop.hello({ lang: 'en' })).toEqual({ caller: 'desktop' });
    const en = await desktop.cps.sign({ reader: CPS, hash: sha256('x'), hashAlgorithm: 'SHA-256' }).catch((e: unknown) => e);
    expect(en).toBeInstanceOf(PinRequiredError);
    expect(await desktop.hello({ lang: 'fr' })).toEqual({ caller: 'desktop' });
    const fr = await desktop.cps.sign({ reader: CPS, hash: sha256('x'), hashAlgorithm: 'SHA-256' }).catch((e: unknown) => e);
    expect(fr).toBeInstanceOf(PinRequiredError);
    expect((fr as Error).message).not.toBe((en as Error).message);
    expect(await desktop.subscribe()).toEqual({ ok: true });
    expect(await desktop.readers()).toEqual([
      { name: CPS, card: { family: 'CPS3', atr: expect.stringMatching(/^3B( [0-9A-F]{2})+$/) } },
      { name: VITALE, card: { family: 'VITALE2', atr: expect.stringMatching(/^3B/) } },
      { name: SPARE, card: null },
    ]);
  });

  it('cps.getIdentity, cps.getCertificates (chain []), cps.pinStatus, then cps.getActivities needs the PIN', async () => {
    const p = CPS_PERSONAS['cps:medecin'];
    expect(await desktop.cps.getIdentity()).toMatchObject({ family: 'CPS3', serial: p.cardSerial, nationalId: p.rpps, idType: 'RPPS', surname: p.surname, givenName: p.givenName });
    const certs = await desktop.cps.getCertificates({ reader: CPS });
    expect(certs.chain).toEqual([]);
    expect(signCert.subject).toContain(p.surname);
    expect(authCert.raw.equals(signCert.raw)).toBe(false);
    expect(await desktop.cps.pinStatus({ reader: CPS })).toEqual({ triesRemaining: 3, maxTries: 3, blocked: false, verified: false });
    await expect(desktop.cps.getActivities({ reader: CPS })).rejects.toBeInstanceOf(PinRequiredError);
    const activities = await desktop.cps.getActivities({ reader: CPS, pin: PIN });
    expect(activities.length).toBeGreaterThan(0);
    expect(activities[0]).toMatchObject({ index: expect.any(Number), structureId: expect.any(String), structureName: expect.any(String) });
    expect((await desktop.cps.pinStatus({ reader: CPS })).verified).toBe(true);
  });

  it('cps.verifyPin (wrong, then right), cps.sign with the signature key, cps.authenticate bound to app:<appId>, cps.decrypt', async () => {
    const wrong = await desktop.cps.verifyPin({ reader: CPS, method: 'value', pin: WRONG_PIN.slice(0, 4) }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(PinIncorrectError);
    expect((wrong as PinIncorrectError).triesRemaining).toBe(2);
    expect(await desktop.cps.verifyPin({ reader: CPS, method: 'value', pin: PIN })).toEqual({ verified: true });
    expect(await desktop.cps.pinStatus({ reader: CPS })).toMatchObject({ triesRemaining: 3, verified: true });

    const message = Buffer.from('Ordonnance du 3 mars');
    const signed = await desktop.cps.sign({ reader: CPS, hash: createHash('sha256').update(message).digest(), hashAlgorithm: 'SHA-256' });
    expect(signed.algorithm).toBe('RS256');
    expect(Buffer.from(signed.certificate, 'base64').equals(signCert.raw)).toBe(true);
    expect(verify('sha256', message, signCert.publicKey, Buffer.from(signed.signature, 'base64'))).toBe(true);
    expect(verify('sha256', message, authCert.publicKey, Buffer.from(signed.signature, 'base64'))).toBe(false);

    const c = challenge();
    const token = await desktop.cps.authenticate({ reader: CPS, challenge: c });
    expect(token).toMatchObject({ format: 'cardbridge-auth:1', algorithm: 'RS256', origin: 'app:logiciel-e2e' });
    expect(Buffer.from(token.unverifiedCertificate, 'base64').equals(authCert.raw)).toBe(true);
    expect(tokenVerifiesFor(token, 'app:logiciel-e2e', c)).toBe(true);
    expect(tokenVerifiesFor(token, BROWSER_ORIGIN, c)).toBe(false);

    const secret = randomBytes(32);
    const ciphertext = publicEncrypt({ key: authCert.publicKey, padding: constants.RSA_PKCS1_PADDING }, secret);
    const { plaintext } = await desktop.cps.decrypt({ reader: CPS, ciphertext });
    expect(Buffer.from(plaintext, 'base64').equals(secret)).toBe(true);
  });

  it('cps.logout ends the state; cps.changePin and back; a second CPS makes the reader ambiguous; cps.unblockPin with the PUK', async () => {
    expect(await desktop.cps.logout({ reader: CPS })).toEqual({ ok: true });
    expect((await desktop.cps.pinStatus({ reader: CPS })).verified).toBe(false);
    // the card itself is no longer verified (the agent reset it)
    expect(lastPinStatusAnswer(e2e.mock.apduLog(CPS))).toBe('63 C3');
    await expect(desktop.cps.sign({ reader: CPS, hash: sha256('y'), hashAlgorithm: 'SHA-256' })).rejects.toBeInstanceOf(PinRequiredError);

    expect(await desktop.cps.changePin({ reader: CPS, method: 'value', pin: PIN, newPin: NEW_PIN })).toEqual({ ok: true });
    await expect(desktop.cps.verifyPin({ reader: CPS, pin: PIN })).rejects.toBeInstanceOf(PinIncorrectError);
    expect(await desktop.cps.verifyPin({ reader: CPS, pin: NEW_PIN })).toEqual({ verified: true });
    expect(await desktop.cps.changePin({ reader: CPS, pin: NEW_PIN, newPin: PIN })).toEqual({ ok: true });
    expect(await desktop.cps.verifyPin({ reader: CPS, pin: PIN })).toEqual({ verified: true });

    e2e.mock.insertCard(SPARE, await e2e.card('cps:blocked'));
    await waitFor('the blocked card listed', async () => (await desktop.readers()).some((r) => r.name === SPARE && r.card?.family === 'CPS3'));
    await expect(desktop.cps.getIdentity()).rejects.toBeInstanceOf(CardAmbiguousError);
    expect(await desktop.cps.pinStatus({ reader: SPARE })).toMatchObject({ blocked: true, triesRemaining: 0 });
    await expect(desktop.cps.verifyPin({ reader: SPARE, pin: PIN })).rejects.toBeInstanceOf(PinBlockedError);
    expect(await desktop.cps.unblockPin({ reader: SPARE, method: 'value', puk: PUK, newPin: UNBLOCKED_PIN })).toEqual({ ok: true });
    expect(await desktop.cps.pinStatus({ reader: SPARE })).toMatchObject({ blocked: false, triesRemaining: 3 });
    expect(await desktop.cps.verifyPin({ reader: SPARE, pin: UNBLOCKED_PIN })).toEqual({ verified: true });
    e2e.mock.removeCard(SPARE);
    await waitFor('the spare reader empty', async () => (await desktop.readers()).find((r) => r.name === SPARE)?.card === null);
  });

  it('vitale.read', async () => {
    const card = await desktop.vitale.read();
    expect(card.family).toBe('VITALE2');
    expect(card.beneficiaries).toHaveLength(3);
    expect(card.beneficiaries[0]).toMatchObject({ nir: expect.stringMatching(/^[12]/), nirKeyValid: true, surname: expect.any(String) });
  });
});

describe('events to subscribed clients', () => {
  it('card.inserted and card.removed on insert/remove; readers.changed when a reader comes and goes; none to a client that did not subscribe', async () => {
    const watcher = await e2e.desktop('e2e-watcher');
    const quiet = await e2e.desktop('e2e-quiet');
    const events = recorder(watcher);
    const silent = recorder(quiet);
    await watcher.subscribe();

    e2e.mock.insertCard(SPARE, await e2e.card('cps:infirmier'));
    const inserted = await events.next('card.inserted', (p) => p.reader === SPARE);
    expect(inserted).toEqual({ reader: SPARE, family: 'CPS3', atr: expect.stringMatching(/^3B/) });
    e2e.mock.removeCard(SPARE);
    expect(await events.next('card.removed', (p) => p.reader === SPARE)).toEqual({ reader: SPARE });

    e2e.mock.addReader('Lecteur USB');
    const added = await events.next('readers.changed', (p) => p.readers.some((r) => r.name === 'Lecteur USB'));
    expect(added.readers.map((r) => r.name)).toEqual([CPS, VITALE, SPARE, 'Lecteur USB']);
    const from = events.from();
    e2e.mock.removeReader('Lecteur USB');
    const removed = await events.next('readers.changed', (p) => !p.readers.some((r) => r.name === 'Lecteur USB'), from);
    expect(removed.readers.map((r) => r.name)).toEqual([CPS, VITALE, SPARE]);
    expect(silent.seen).toEqual([]);
  });

  it('a subscription to some events only gets those', async () => {
    const only = await e2e.desktop('e2e-only-removed');
    const events = recorder(only);
    await only.subscribe(['card.removed']);
    e2e.mock.insertCard(SPARE, await e2e.card('vitale:corse'));
    await waitFor('inserted', async () => (await desktop.readers()).find((r) => r.name === SPARE)?.card !== null);
    e2e.mock.removeCard(SPARE);
    await events.next('card.removed', (p) => p.reader === SPARE);
    expect(events.seen.map((s) => s.event)).toEqual(['card.removed']);
  });
});

describe('browser page of https://app.example', () => {
  let page: AgentClient;

  it('unpaired: agent.info only; pairing approved by the desktop method agent.approvePairing (not by the page itself)', async () => {
    page = await e2e.browser();
    expect((await page.info()).caller).toBe('unpaired');
    await expect(page.cps.getIdentity()).rejects.toBeInstanceOf(OriginNotPairedError);
    const { code, expiresAt } = await page.pair(['cps.read', 'cps.sign', 'cps.authenticate']);
    expect(code).toMatch(/^\d{6}$/);
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
    await expect(page.call('agent.approvePairing', { code })).rejects.toBeInstanceOf(UnauthorizedError);
    const listed = await desktop.call<{ pending: { code: string; origin: string; scopes: string[] }[] }>('agent.listPairings');
    expect(listed.pending).toContainEqual(expect.objectContaining({ code, origin: BROWSER_ORIGIN, scopes: ['cps.read', 'cps.sign', 'cps.authenticate'] }));
    expect(await desktop.call('agent.approvePairing', { code })).toMatchObject({ origin: BROWSER_ORIGIN, scopes: ['cps.read', 'cps.sign', 'cps.authenticate'] });
    // the open connection is paired from now on
    expect((await page.info()).caller).toBe('origin');
    expect((await page.cps.getIdentity()).surname).toBe('MARTIN');
    await expect(page.vitale.read()).rejects.toBeInstanceOf(ScopeNotGrantedError);
    await expect(page.cps.decrypt({ ciphertext: new Uint8Array(256) })).rejects.toBeInstanceOf(ScopeNotGrantedError);
  });

  it('cps.authenticate (PIN on the page): the token verifies for https://app.example and not for another origin', async () => {
    const c = challenge();
    const prompt = nextPrompt(page);
    const pending = page.cps.authenticate({ challenge: c });
    const p = await prompt;
    expect(p).toMatchObject({ reader: CPS, origin: BROWSER_ORIGIN, triesRemaining: 3 });
    expect((await enterPinOnPage(p, PIN)).status).toBe(200);
    const token = await pending;
    expect(token).toMatchObject({ format: 'cardbridge-auth:1', algorithm: 'RS256', origin: BROWSER_ORIGIN });
    expect(Buffer.from(token.unverifiedCertificate, 'base64').equals(authCert.raw)).toBe(true);
    expect(tokenVerifiesFor(token, BROWSER_ORIGIN, c)).toBe(true);
    expect(tokenVerifiesFor(token, 'https://evil.example', c)).toBe(false);
    expect(tokenVerifiesFor(token, 'https://app.example:443', c)).toBe(false);
    expect(tokenVerifiesFor(token, 'app:logiciel-e2e', c)).toBe(false);
    // the page's state now: a second token without a prompt, still bound to its origin
    const c2 = challenge();
    const again = await page.cps.authenticate({ challenge: c2 });
    expect(tokenVerifiesFor(again, BROWSER_ORIGIN, c2)).toBe(true);
    expect(tokenVerifiesFor(again, BROWSER_ORIGIN, c)).toBe(false);
  });

  it('PIN values from the page are refused before reaching the card', async () => {
    const before = pinPresentations(e2e.mock.apduLog(CPS));
    await expect(page.cps.verifyPin({ method: 'value', pin: PIN })).rejects.toBeInstanceOf(PinValueNotAllowedError);
    await expect(page.cps.sign({ hash: sha256('z'), hashAlgorithm: 'SHA-256', pin: PIN })).rejects.toBeInstanceOf(PinValueNotAllowedError);
    await expect(page.call('cps.changePin', { pin: PIN, newPin: NEW_PIN })).rejects.toBeInstanceOf(PinValueNotAllowedError);
    await expect(page.call('cps.unblockPin', { puk: PUK, newPin: NEW_PIN })).rejects.toBeInstanceOf(PinValueNotAllowedError);
    expect(pinPresentations(e2e.mock.apduLog(CPS))).toBe(before);
  });

  it('PIN page flow for cps.sign: foreign posts refused, the same-origin post with the CSRF token settles the call', async () => {
    await page.cps.logout();
    const prompt = nextPrompt(page);
    const message = Buffer.from('Certificat médical');
    const pending = page.cps.sign({ hash: createHash('sha256').update(message).digest(), hashAlgorithm: 'SHA-256' });
    const p = await prompt;
    expect(p.url.startsWith(`${e2e.httpOrigin}/pin/`)).toBe(true);
    const html = await getPinPage(p);
    expect(html.status).toBe(200);
    expect(html.body).toContain(BROWSER_ORIGIN);
    const csrf = csrfOf(html.body);
    const presented = pinPresentations(e2e.mock.apduLog(CPS));
    // another site's page, a cross-site post, a missing CSRF token: refused, the prompt goes on
    expect((await postPinForm(p, { csrf, pin: PIN, action: 'submit' }, { Origin: BROWSER_ORIGIN })).status).toBe(403);
    expect((await postPinForm(p, { csrf, pin: PIN, action: 'submit' }, { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await postPinForm(p, { csrf: 'x'.repeat(43), pin: PIN, action: 'submit' })).status).toBe(403);
    expect(pinPresentations(e2e.mock.apduLog(CPS))).toBe(presented);
    const done = await postPinForm(p, { csrf, pin: PIN, action: 'submit' });
    expect(done.status).toBe(200);
    const signed = await pending;
    expect(verify('sha256', message, signCert.publicKey, Buffer.from(signed.signature, 'base64'))).toBe(true);
    expect(pinPresentations(e2e.mock.apduLog(CPS))).toBe(presented + 1);
    // one-time URL
    expect((await getPinPage(p)).status).toBe(410);
  });

  it('the page closes during its PIN prompt: prompt withdrawn, nothing verified, the PIN posted afterwards never reaches the card', async () => {
    await page.cps.logout();
    const leaving = await e2e.browser();
    expect((await leaving.info()).caller).toBe('origin');
    const prompt = nextPrompt(leaving);
    const pending = leaving.cps.sign({ hash: sha256('abandon'), hashAlgorithm: 'SHA-256' });
    pending.catch(() => undefined);
    const p = await prompt;
    const html = await getPinPage(p);
    expect(html.status).toBe(200);
    const presented = pinPresentations(e2e.mock.apduLog(CPS));
    await leaving.close();
    await waitFor('the prompt withdrawn', async () => (await getPinPage(p)).status === 410);
    expect((await getPinPage(p)).body).toContain('retirée');
    expect((await postPinForm(p, { csrf: csrfOf(html.body), pin: PIN, action: 'submit' })).status).toBe(410);
    expect(pinPresentations(e2e.mock.apduLog(CPS))).toBe(presented);
    const other = await e2e.desktop('e2e-bystander');
    expect(await other.cps.pinStatus({ reader: CPS })).toMatchObject({ verified: false, triesRemaining: 3 });
    // and the card itself answers "not verified"
    expect(lastPinStatusAnswer(e2e.mock.apduLog(CPS))).toBe('63 C3');
    await expect(other.cps.sign({ reader: CPS, hash: sha256('q'), hashAlgorithm: 'SHA-256' })).rejects.toBeInstanceOf(PinRequiredError);
  });
});

describe('reliability', () => {
  it('card pulled mid-signature: CARD_REMOVED for it and the work queued behind it, the other reader unaffected, the next card works', async () => {
    const d = await e2e.desktop('e2e-removal');
    const events = recorder(d);
    await d.subscribe(['card.removed', 'card.inserted']);
    await d.cps.sign({ reader: CPS, hash: sha256('first'), hashAlgorithm: 'SHA-256', pin: PIN });
    e2e.mock.removeCardAfterApdus(CPS, 2); // SELECT and MSE reach the card, then it is pulled out
    const during = d.cps.sign({ reader: CPS, hash: sha256('during'), hashAlgorithm: 'SHA-256' }).catch((e: unknown) => e);
    const behind = d.cps.sign({ reader: CPS, hash: sha256('behind'), hashAlgorithm: 'SHA-256' }).catch((e: unknown) => e);
    const read = d.cps.getIdentity({ reader: CPS }).catch((e: unknown) => e);
    const vitale = d.vitale.read({ reader: VITALE });
    expect(await during).toBeInstanceOf(CardRemovedError);
    expect(await behind).toBeInstanceOf(CardRemovedError);
    expect(await read).toBeInstanceOf(CardRemovedError);
    expect((await vitale).beneficiaries).toHaveLength(3);
    await events.next('card.removed', (p) => p.reader === CPS);
    // no PSO reached the card for the pulled signature
    expect(e2e.mock.apduLog(CPS).at(-1)?.command.startsWith('00 2A')).toBe(false);

    e2e.mock.insertCard(CPS, await e2e.card('cps:medecin'));
    await events.next('card.inserted', (p) => p.reader === CPS);
    const message = Buffer.from('après la carte');
    const signed = await d.cps.sign({ reader: CPS, hash: createHash('sha256').update(message).digest(), hashAlgorithm: 'SHA-256', pin: PIN });
    expect(verify('sha256', message, new X509Certificate(Buffer.from(signed.certificate, 'base64')).publicKey, Buffer.from(signed.signature, 'base64'))).toBe(true);
    expect(e2e.auditText()).toMatch(/"event":"card.operation"[^\n]*"method":"cps.sign"[^\n]*"errorCode":"CARD_REMOVED"|"method":"cps.sign"[^\n]*"errorCode":"CARD_REMOVED"/);
    await d.cps.logout({ reader: CPS });
  });

  it('pcscd stops and comes back: pcsc.status unavailable then ok, readers and cards back with events within 5 s, same agent and connection', async () => {
    const d = await e2e.desktop('e2e-pcscd');
    const events = recorder(d);
    await d.subscribe();
    e2e.mock.stopDaemon();
    expect(await events.next('pcsc.status', (p) => p.status === 'unavailable')).toEqual({ status: 'unavailable' });
    expect((await d.info()).pcsc).toBe('unavailable');
    await expect(d.readers()).rejects.toBeInstanceOf(PcscUnavailableError);
    await expect(d.cps.getIdentity({ reader: CPS })).rejects.toBeInstanceOf(PcscUnavailableError);
    const from = events.from();
    const restarted = Date.now();
    e2e.mock.startDaemon();
    await events.next('pcsc.status', (p) => p.status === 'ok', from, 5000);
    await events.next('card.inserted', (p) => p.reader === CPS, from, 5000 - (Date.now() - restarted));
    await events.next('card.inserted', (p) => p.reader === VITALE, from, 5000 - (Date.now() - restarted));
    const listed = await events.next('readers.changed', (p) => p.readers.length === 3, from, 5000 - (Date.now() - restarted));
    expect(listed.readers.map((r) => r.name)).toEqual([CPS, VITALE, SPARE]);
    expect(Date.now() - restarted).toBeLessThan(5000);
    expect((await d.info()).pcsc).toBe('ok');
    expect((await d.cps.getIdentity({ reader: CPS })).surname).toBe('MARTIN');
    expect(d.state).toBe('open');
  });
});

describe('secrets', () => {
  it('no PIN or PUK in the audit file, the state and config dirs, or the log (debug level); the PIN entries are audited', async () => {
    await new Promise((r) => setTimeout(r, 100)); // audit and log streams reach the disk
    const written = e2e.everythingWritten();
    expect(written.length).toBeGreaterThan(1000);
    // the log is at debug level: one line per request, PIN-bearing ones included
    expect(e2e.logText()).toMatch(/"method":"cps.verifyPin"/);
    for (const secret of [NEW_PIN, UNBLOCKED_PIN, PUK, WRONG_PIN.slice(0, 4)]) expect(written).not.toContain(secret);
    expect(written).not.toMatch(/(?<![0-9A-Za-z])1234(?![0-9A-Za-z])/);
    expect(written).not.toMatch(/"(pin|puk|newPin)"\s*:\s*"\d/);
    // what the audit does say about those entries
    const audit = e2e.auditText()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const pinEntries = audit.filter((a) => a.event === 'card.operation' && a.pinEntry !== undefined);
    expect(pinEntries.map((a) => a.pinEntry)).toEqual(expect.arrayContaining(['value', 'page']));
    expect(audit.some((a) => a.event === 'card.operation' && a.method === 'cps.unblockPin' && a.outcome === 'ok')).toBe(true);
    expect(audit.some((a) => a.event === 'card.operation' && a.method === 'cps.changePin' && a.outcome === 'ok')).toBe(true);
    expect(audit.some((a) => a.event === 'pairing.approved' && a.origin === BROWSER_ORIGIN)).toBe(true);
  });
});
