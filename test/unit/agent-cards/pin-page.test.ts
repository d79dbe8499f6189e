// The PIN page end to end at the HTTP level: a browser caller's call that needs the PIN sends
// pin.prompt to that connection only; the one-time URL serves a French-first page naming the
// origin and the tries left, with CSP frame-ancestors 'none' and no caching; its POST is accepted
// only with the page's CSRF token, Origin = the agent and Sec-Fetch-Site: same-origin. Cancel,
// timeout, wrong PIN, client disconnect (prompt withdrawn, nothing verified), PIN change.
import { createHash } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { VirtualCard } from '../../../src/simulator/virtual-card.js';
import { caller, closeHarnesses, csrfOf, personaCard, expectAgentError, harness, http, pinPresentations, postForm, removeTestPki, type Harness, type TestCaller } from './helpers.js';

afterEach(closeHarnesses);
afterAll(removeTestPki);

const A = 'Lecteur A';
const SIGN = { hash: createHash('sha256').update('ordonnance').digest('base64'), hashAlgorithm: 'SHA-256' };

interface Prompt {
  requestId: string;
  url: string;
  reader: string;
  origin: string;
  triesRemaining: number;
}

async function promptOf(web: TestCaller, from = 0): Promise<Prompt> {
  return (await web.nextNotification('pin.prompt', from)) as Prompt;
}

async function openPage(h: Harness, prompt: Prompt): Promise<string> {
  const page = await http(prompt.url);
  expect(page.status).toBe(200);
  return page.body;
}

describe('PIN page', () => {
  it('full flow: prompt to the caller only, page, refused posts, wrong PIN shown again, right PIN resolves the call', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' }, http: true });
    const web = caller('origin', { origin: 'https://cabinet.example' });
    const bystander = caller('origin', { origin: 'https://autre.example' });
    await h.service.call('cps.getIdentity', {}, bystander);
    let settled = false;
    const call = h.service.call('cps.sign', SIGN, web).finally(() => {
      settled = true;
    });
    const prompt = await promptOf(web);
    expect(prompt).toMatchObject({ reader: A, origin: 'https://cabinet.example', triesRemaining: 3 });
    expect(prompt.url).toMatch(new RegExp(`^${h.baseUrl}/pin/[A-Za-z0-9_-]{20,}$`));
    expect(typeof prompt.requestId).toBe('string');
    expect(bystander.notifications).toHaveLength(0);

    // The page: French first, names the origin and the tries, nothing external, framing forbidden, no cache.
    const page = await http(prompt.url);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(String(page.headers['cache-control'])).toContain('no-store');
    expect(page.body).toMatch(/^<!DOCTYPE html>\n<html lang="fr">/);
    expect(page.body).toContain('https://cabinet.example');
    expect(page.body).toContain('3 essais restants');
    expect(page.body).toContain('signer un document');
    expect(page.body.indexOf('Code porteur')).toBeLessThan(page.body.indexOf('PIN'));
    expect(page.body).toMatch(/<label for="f-pin">/);
    expect(page.body).not.toMatch(/\b(src|href)=/i);
    expect(page.body).not.toMatch(/https?:\/\/(?!cabinet\.example)/);
    const csrf = csrfOf(page.body);

    // Refused posts: no CSRF, wrong CSRF, foreign Origin, no Origin, cross-site fetch, wrong type.
    const refused = [
      await postForm(prompt.url, h.baseUrl, { action: 'submit', pin: '1234' }),
      await postForm(prompt.url, h.baseUrl, { csrf: `${csrf.slice(0, -2)}xx`, action: 'submit', pin: '1234' }),
      await postForm(prompt.url, 'https://cabinet.example', { csrf, action: 'submit', pin: '1234' }),
      await postForm(prompt.url, h.baseUrl, { csrf, action: 'submit', pin: '1234' }, { 'Sec-Fetch-Site': 'cross-site' }),
      await http(prompt.url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'same-origin' }, body: `csrf=${csrf}&pin=1234` }),
      await http(prompt.url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: h.baseUrl }, body: `csrf=${csrf}&pin=1234` }),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403]);
    const json = await http(prompt.url, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: h.baseUrl, 'Sec-Fetch-Site': 'same-origin' }, body: '{}' });
    expect(json.status).toBe(415);
    expect(pinPresentations(h.mock, A)).toBe(0);
    expect(settled).toBe(false);

    // Wrong PIN: the form again, with the tries left; the call waits.
    const wrong = await postForm(prompt.url, h.baseUrl, { csrf, action: 'submit', pin: '0000' });
    expect(wrong.status).toBe(200);
    expect(wrong.body).toContain('Code incorrect');
    expect(wrong.body).toContain('2 essais restants');
    expect(wrong.body).not.toContain('0000');
    expect(settled).toBe(false);

    // Right PIN: the call resolves with the signature; the page says done; the URL is dead.
    const right = await postForm(prompt.url, h.baseUrl, { csrf, action: 'submit', pin: '1234' });
    expect(right.status).toBe(200);
    expect(right.body).toContain('C’est fait');
    expect(await call).toMatchObject({ algorithm: 'RS256' });
    expect((await http(prompt.url)).status).toBe(410);
    expect((await postForm(prompt.url, h.baseUrl, { csrf, action: 'submit', pin: '1234' })).status).toBe(410);
    expect(pinPresentations(h.mock, A)).toBe(2);
    expect(h.audit.filter((e) => e.operation === 'cps.verifyPin').map((e) => [e.method, e.outcome, e.origin])).toEqual([
      ['page', 'PIN_INCORRECT', 'https://cabinet.example'],
      ['page', 'ok', 'https://cabinet.example'],
    ]);

    // The state is the caller's: its next call needs no page; another origin's does.
    const signs = web.notifications.length;
    expect(await h.service.call('cps.sign', SIGN, web)).toMatchObject({ algorithm: 'RS256' });
    expect(web.notifications).toHaveLength(signs);
    const other = h.service.call('cps.sign', SIGN, bystander);
    other.catch(() => undefined);
    expect(await promptOf(bystander)).toMatchObject({ origin: 'https://autre.example' });
    bystander.disconnect();
    await expectAgentError(other, 'USER_CANCELLED');
  });

  it('unknown ids and other paths', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' }, http: true });
    expect((await http(`${h.baseUrl}/pin/${'x'.repeat(32)}`)).status).toBe(404);
    expect((await http(`${h.baseUrl}/pin/`)).status).toBe(404);
    expect((await http(`${h.baseUrl}/pin/abc/def`)).status).toBe(404);
    expect((await http(`${h.baseUrl}/pin/${'x'.repeat(32)}`, { method: 'DELETE' })).status).toBe(405);
    expect((await http(`${h.baseUrl}/console`)).status).toBe(404); // not ours: handleHttp answered false
  });

  it('Cancel: USER_CANCELLED, nothing presented', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' }, http: true });
    const web = caller('origin');
    const call = h.service.call('cps.verifyPin', {}, web);
    call.catch(() => undefined);
    const prompt = await promptOf(web);
    const csrf = csrfOf(await openPage(h, prompt));
    const cancelled = await postForm(prompt.url, h.baseUrl, { csrf, action: 'cancel', pin: '' });
    expect(cancelled.body).toContain('Demande annulée');
    await expectAgentError(call, 'USER_CANCELLED');
    expect(pinPresentations(h.mock, A)).toBe(0);
    expect((await http(prompt.url)).status).toBe(410);
  });

  it('nobody answers: TIMEOUT after pinPromptTimeoutMs, and the URL is dead', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' }, http: true, pinPromptTimeoutMs: 200 });
    const web = caller('origin');
    const started = Date.now();
    const call = h.service.call('cps.authenticate', { challenge: Buffer.alloc(32, 7).toString('base64') }, web);
    call.catch(() => undefined);
    const prompt = await promptOf(web);
    const csrf = csrfOf(await openPage(h, prompt));
    await expectAgentError(call, 'TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    const late = await postForm(prompt.url, h.baseUrl, { csrf, action: 'submit', pin: '1234' });
    expect(late.status).toBe(410);
    expect(late.body).toContain('Délai dépassé');
    expect(pinPresentations(h.mock, A)).toBe(0);
  });

  it('the client disconnects during the prompt: withdrawn, the page says so, nothing verified for anyone', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' }, http: true });
    const web = caller('origin');
    const call = h.service.call('cps.sign', SIGN, web);
    call.catch(() => undefined);
    const prompt = await promptOf(web);
    const csrf = csrfOf(await openPage(h, prompt));
    h.service.connectionClosed(web.connectionId);
    await expectAgentError(call, 'USER_CANCELLED', { reason: 'connection-closed' });
    const page = await http(prompt.url);
    expect(page.status).toBe(410);
    expect(page.body).toContain('La demande a été retirée');
    const post = await postForm(prompt.url, h.baseUrl, { csrf, action: 'submit', pin: '1234' });
    expect(post.status).toBe(410);
    expect(pinPresentations(h.mock, A)).toBe(0);
    expect(await h.service.call('cps.pinStatus', {}, caller('desktop'))).toMatchObject({ verified: false, triesRemaining: 3 });
  });

  it('the client disconnects while its PIN is being presented: nothing stays verified', async () => {
    const card = await personaCard('cps:medecin');
    let onVerify: (() => void) | null = null;
    // The connection drops exactly when the card receives the PIN (VERIFY with data).
    const hooked: VirtualCard = {
      family: card.family,
      atr: card.atr,
      reset: () => card.reset(),
      transmit(apdu) {
        if (apdu[1] === 0x20 && apdu.length > 5) onVerify?.();
        return card.transmit(apdu);
      },
    };
    const h = await harness({ cards: { [A]: hooked }, http: true });
    const web = caller('origin');
    const call = h.service.call('cps.verifyPin', { method: 'page' }, web);
    call.catch(() => undefined);
    const prompt = await promptOf(web);
    const csrf = csrfOf(await openPage(h, prompt));
    onVerify = () => web.disconnect();
    const answer = await postForm(prompt.url, h.baseUrl, { csrf, action: 'submit', pin: '1234' });
    expect(answer.body).toContain('La demande a été retirée');
    await expectAgentError(call, 'USER_CANCELLED');
    expect(pinPresentations(h.mock, A)).toBe(1);
    onVerify = null;
    const probe = caller('desktop');
    expect(await h.service.call('cps.pinStatus', {}, probe)).toMatchObject({ verified: false, triesRemaining: 3 });
    expect(h.mock.apduLog(A).at(-1)?.response).toBe('63 C3'); // the card itself is not verified
  });

  it('a malformed entry is shown again without costing a try; one try left needs confirmLastTry', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' }, http: true });
    const d = caller('desktop');
    await expectAgentError(h.service.call('cps.verifyPin', { pin: '0000' }, d), 'PIN_INCORRECT');
    const web = caller('origin');
    const call = h.service.call('cps.verifyPin', {}, web);
    call.catch(() => undefined);
    const prompt = await promptOf(web);
    expect(prompt.triesRemaining).toBe(2);
    const csrf = csrfOf(await openPage(h, prompt));
    const malformed = await postForm(prompt.url, h.baseUrl, { csrf, action: 'submit', pin: 'abcd' });
    expect(malformed.body).toContain('Format du code invalide');
    expect(malformed.body).toContain('2 essais restants');
    // Down to one try: without confirmLastTry the call stops there (PIN_INCORRECT, 1 left).
    const wrong = await postForm(prompt.url, h.baseUrl, { csrf, action: 'submit', pin: '0000' });
    expect(wrong.body).toContain('L’opération a échoué');
    expect(wrong.body).toContain('Il reste 1 essai');
    await expectAgentError(call, 'PIN_INCORRECT', { triesRemaining: 1 });
    // A new prompt is refused outright with one try left...
    await expectAgentError(h.service.call('cps.verifyPin', {}, web), 'PIN_LAST_TRY', { triesRemaining: 1 });
    // ...unless the caller confirms it; the page then warns of the last try.
    const from = web.notifications.length;
    const confirmed = h.service.call('cps.verifyPin', { confirmLastTry: true }, web);
    const last = await promptOf(web, from);
    const lastPage = await openPage(h, last);
    expect(lastPage).toContain('dernier essai');
    await postForm(last.url, h.baseUrl, { csrf: csrfOf(lastPage), action: 'submit', pin: '1234' });
    expect(await confirmed).toEqual({ verified: true });
  });

  it('cps.changePin through the page: both new entries must match', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' }, http: true });
    const web = caller('origin');
    const call = h.service.call('cps.changePin', {}, web);
    const prompt = await promptOf(web);
    const page = await openPage(h, prompt);
    expect(page).toContain('changer votre code porteur');
    expect(page).toContain('name="newPinConfirm"');
    const csrf = csrfOf(page);
    const mismatch = await postForm(prompt.url, h.baseUrl, { csrf, action: 'submit', pin: '1234', newPin: '2222', newPinConfirm: '3333' });
    expect(mismatch.body).toContain('diffèrent');
    expect(pinPresentations(h.mock, A)).toBe(0);
    await postForm(prompt.url, h.baseUrl, { csrf, action: 'submit', pin: '1234', newPin: '2222', newPinConfirm: '2222' });
    expect(await call).toEqual({ ok: true });
    expect(await h.service.call('cps.verifyPin', { pin: '2222' }, caller('desktop'))).toEqual({ verified: true });
  });

  it('the card removed during the prompt: CARD_REMOVED and the page says so', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' }, http: true });
    const web = caller('origin');
    const call = h.service.call('cps.getActivities', {}, web);
    call.catch(() => undefined);
    const prompt = await promptOf(web);
    h.mock.removeCard(A);
    await expectAgentError(call, 'CARD_REMOVED');
    expect((await http(prompt.url)).body).toContain('La carte a été retirée');
  });

  it('escapes what it shows: a hostile reader name or origin stays text', async () => {
    const name = 'Lecteur <script>alert(1)</script> "x"';
    const h = await harness({ readers: [name], cards: { [name]: 'cps:medecin' }, http: true });
    const web = caller('origin', { origin: 'https://evil.example' });
    const call = h.service.call('cps.verifyPin', {}, web);
    call.catch(() => undefined);
    const page = await openPage(h, await promptOf(web));
    expect(page).not.toContain('<script>');
    expect(page).toContain('&#60;script&#62;');
    web.disconnect();
    await expectAgentError(call, 'USER_CANCELLED');
  });
});
