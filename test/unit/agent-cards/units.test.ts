// The card service's small pieces on their own: error mapping, the pinpad PIN_VERIFY_STRUCTURE from
// AODF attributes, the prompt state machine, the page's escaping and headers, and the wiring shape
// src/agent/daemon.ts passes.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createMockPcsc } from '../../../native-mocks/pcsclite/index.js';
import { toAgentError } from '../../../src/agent/cards/agent-errors.js';
import { createCardService } from '../../../src/agent/cards/index.js';
import { parseParams } from '../../../src/agent/cards/params.js';
import { AgentError } from '../../../src/agent/errors.js';
import { escapeHtml, PIN_PAGE_CSP, pinPageHeaders } from '../../../src/agent/pin/page.js';
import { verifyPinDirectStructure } from '../../../src/agent/pin/pinpad.js';
import { PromptRegistry } from '../../../src/agent/pin/prompts.js';
import { CardError, cardStatusError, decryptFailed, pinIncorrect } from '../../../src/cards/errors.js';
import { PIN_FLAG, type PinAttributes } from '../../../src/cards/pkcs15.js';
import { insertPin } from '../../../src/iso7816/pin-block.js';
import { parseVerifyPinDirect } from '../../../src/iso7816/pin-verify-structure.js';
import { TransportError } from '../../../src/transport/errors.js';
import { caller, expectAgentError, personaCard, rejectionOf, removeTestPki } from './helpers.js';

afterAll(removeTestPki);

describe('toAgentError', () => {
  it('keeps card codes and their details, maps transport codes, hides anything else as INTERNAL', () => {
    expect(toAgentError(pinIncorrect('PIN', 2))).toMatchObject({ code: 'PIN_INCORRECT', details: { triesRemaining: 2 } });
    expect(toAgentError(cardStatusError({ fr: 'x', en: 'x' }, 0x6a88))).toMatchObject({ code: 'CARD_ERROR', details: { sw: '6A88' } });
    expect(toAgentError(decryptFailed(new Error('padding at byte 3')))).toMatchObject({ code: 'DECRYPT_FAILED', details: {} });
    for (const code of ['PCSC_UNAVAILABLE', 'READER_NOT_FOUND', 'CARD_ABSENT', 'CARD_REMOVED'] as const) {
      expect(toAgentError(new TransportError(code, 'm')).code).toBe(code);
    }
    expect(toAgentError(new TransportError('CARD_RESET', 'm'))).toMatchObject({ code: 'CARD_ERROR', details: { reason: 'CARD_RESET' } });
    expect(toAgentError(new TransportError('SHARING_VIOLATION', 'm'))).toMatchObject({ code: 'CARD_ERROR', details: { reason: 'SHARING_VIOLATION' } });
    const bug = toAgentError(new TypeError('secret 1234 in a message'));
    expect(bug.code).toBe('INTERNAL');
    expect(JSON.stringify(bug.toRpcError('en'))).not.toContain('1234');
    const same = new AgentError('BUSY');
    expect(toAgentError(same)).toBe(same);
    expect(toAgentError(new CardError('UNSUPPORTED_CARD', { fr: 'x', en: 'x' })).code).toBe('UNSUPPORTED_CARD');
  });
});

describe('params', () => {
  it('absent params are {}, extra fields and wrong types refused with paths and codes only', () => {
    expect(parseParams('cps.getIdentity', undefined)).toEqual({});
    expect(parseParams('cps.getIdentity', null)).toEqual({});
    const e = (() => {
      try {
        parseParams('cps.verifyPin', { pin: 1234, method: 'sms' });
      } catch (error) {
        return error as AgentError;
      }
      throw new Error('no error');
    })();
    expect(e.code).toBe('INVALID_PARAMS');
    expect(e.details.issues).toEqual([
      { path: 'method', code: 'invalid_enum_value' },
      { path: 'pin', code: 'invalid_type' },
    ]);
    expect(JSON.stringify(e.details)).not.toContain('sms');
  });
});

describe('pinpad structure from the AODF', () => {
  const attrs = (over: Partial<PinAttributes>): PinAttributes => ({ pinFlags: new Set(), pinType: 'ascii-numeric', minLength: 4, storedLength: 8, pinReference: 1, ...over });

  it("the simulator's CPS3 PIN: ASCII, padded with FF to 8, reference 01 on channel 0", () => {
    const s = parseVerifyPinDirect(verifyPinDirectStructure('CPS3', attrs({ pinFlags: new Set([PIN_FLAG.needsPadding]), padChar: 0xff }), 30));
    expect(Buffer.from(s.abData).toString('hex')).toBe('0020000108ffffffffffffffff');
    expect(s.bTimerOut).toBe(30);
    expect(Buffer.from(insertPin(s, '1234')).toString('hex')).toBe('002000010831323334ffffffff');
  });

  it("the real CPS3's PIN (4 digits, stored length 4, no padding) and a CPS4 on channel 1", () => {
    const real = parseVerifyPinDirect(verifyPinDirectStructure('CPS3', attrs({ minLength: 4, storedLength: 4 }), 0));
    expect(Buffer.from(insertPin(real, '1234')).toString('hex')).toBe('002000010431323334');
    const cps4 = parseVerifyPinDirect(verifyPinDirectStructure('CPS4', attrs({ pinFlags: new Set([PIN_FLAG.needsPadding]), padChar: 0xff, pinReference: 0x81 }), 0));
    expect(Buffer.from(cps4.abData.subarray(0, 4)).toString('hex')).toBe('01200081');
  });

  it('BCD blocks; formats a pinpad cannot describe are UNSUPPORTED_CARD', () => {
    const bcd = parseVerifyPinDirect(verifyPinDirectStructure('CPS3', attrs({ pinType: 'bcd', pinFlags: new Set([PIN_FLAG.needsPadding]), padChar: 0xff, storedLength: 4 }), 0));
    expect(Buffer.from(insertPin(bcd, '1234')).toString('hex')).toBe('00200001041234ffff');
    for (const bad of [attrs({ pinType: 'iso9564-1' }), attrs({ minLength: 4, storedLength: 8 }), attrs({ pinFlags: new Set([PIN_FLAG.needsPadding]) }), attrs({ pinFlags: new Set([PIN_FLAG.needsPadding]), padChar: 0, storedLength: 16 })]) {
      expect(() => verifyPinDirectStructure('CPS3', bad, 0)).toThrow(AgentError);
    }
  });
});

describe('PIN prompts', () => {
  it('one submission at a time; a submission before the call waits is kept for it; ended prompts refuse', async () => {
    const prompts = new PromptRegistry(() => 'http://127.0.0.1:24820');
    const p = prompts.create({ connectionId: 'c', kind: 'verify', origin: 'https://a.example', reader: 'R', purpose: 'cps.sign', triesRemaining: 3, lastTry: false, cardKey: {} });
    expect(p.url).toBe(`http://127.0.0.1:24820/pin/${p.id}`);
    expect(p.id).not.toBe(p.csrf);
    expect(p.checkCsrf(p.csrf)).toBe(true);
    expect(p.checkCsrf(`${p.csrf}x`)).toBe(false);
    expect(p.checkCsrf(undefined)).toBe(false);
    const reply = p.submit({ pin: '1234' });
    expect(((await rejectionOf(p.submit({ pin: '5678' }))) as AgentError).code).toBe('BUSY');
    expect(await p.next(1000)).toEqual({ pin: '1234' });
    p.retry('incorrect');
    expect(await reply).toEqual({ kind: 'retry', reason: 'incorrect' });
    const waiting = p.next(1000);
    prompts.withdrawConnection('other');
    expect(p.ended).toBe(false);
    prompts.withdrawConnection('c');
    expect(((await rejectionOf(waiting)) as AgentError).details).toEqual({ reason: 'connection-closed' });
    expect(p.state).toBe('withdrawn');
    expect(((await rejectionOf(p.next(1000))) as AgentError).code).toBe('USER_CANCELLED');
    expect(prompts.get(p.id)).toBe(p); // kept a while to say what became of it
  });

  it('ids and CSRF tokens are unpredictable and distinct', () => {
    const prompts = new PromptRegistry(() => 'http://127.0.0.1:1');
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = prompts.create({ connectionId: 'c', kind: 'verify', origin: 'o', reader: 'r', purpose: 'cps.sign', triesRemaining: 3, lastTry: false, cardKey: {} });
      ids.add(p.id);
      ids.add(p.csrf);
      expect(p.id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    }
    expect(ids.size).toBe(400);
    prompts.closeAll();
  });
});

describe('page', () => {
  it('escapes markup and quotes; headers forbid framing, caching and referrers', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
    const h = pinPageHeaders();
    expect(h['Content-Security-Policy']).toBe(PIN_PAGE_CSP);
    expect(PIN_PAGE_CSP).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/);
    expect(h['Cache-Control']).toBe('no-store, max-age=0');
    expect(h['Referrer-Policy']).toBe('same-origin'); // no-referrer would make Chromium post the form with Origin: null
  });
});

describe('createCardService wiring', () => {
  const services: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.close()));
  });

  it("takes daemon.ts's wiring: httpOrigin as a function (known late), version, pcsc", async () => {
    const mock = createMockPcsc({ readers: ['R'] });
    mock.insertCard('R', await personaCard('cps:medecin'));
    let origin = '';
    const service = createCardService({ allowVirtualReaders: false, pinPerSignature: false, pcsc: mock.pcsclite, version: '9.8.7', httpOrigin: () => origin, logger: { warn: () => undefined }, env: {} });
    services.push(service);
    await service.whenReady();
    origin = 'http://127.0.0.1:40123';
    const d = caller('desktop');
    const token = (await service.call('cps.authenticate', { challenge: Buffer.alloc(32, 1).toString('base64'), pin: '1234' }, d)) as { appVersion: string };
    expect(token.appVersion).toBe('9.8.7');
    const web = caller('origin');
    const pending = service.call('cps.verifyPin', {}, web);
    pending.catch(() => undefined);
    const prompt = (await web.nextNotification('pin.prompt')) as { url: string };
    expect(prompt.url.startsWith('http://127.0.0.1:40123/pin/')).toBe(true);
    web.disconnect();
    await expectAgentError(pending, 'USER_CANCELLED');
  });

  it('refuses to start without the agent base URL', () => {
    const mock = createMockPcsc();
    expect(() => createCardService({ allowVirtualReaders: false, pcsc: mock.pcsclite, appVersion: '1' })).toThrow(TypeError);
    expect(() => createCardService({ allowVirtualReaders: false, pcsc: mock.pcsclite, appVersion: '1', agentBaseUrl: 'ftp://x' })).toThrow(TypeError);
  });

  it('after close(): calls answer PCSC_UNAVAILABLE, verified cards were reset', async () => {
    const mock = createMockPcsc({ readers: ['R'] });
    mock.insertCard('R', await personaCard('cps:medecin'));
    const service = createCardService({ allowVirtualReaders: false, pcsc: mock.pcsclite, appVersion: '1', agentBaseUrl: 'http://127.0.0.1:24820', env: {} });
    await service.whenReady();
    const d = caller('desktop');
    await service.call('cps.verifyPin', { pin: '1234' }, d);
    await service.close();
    expect(service.pcscStatus()).toBe('unavailable');
    await expectAgentError(service.call('cps.getIdentity', {}, d), 'PCSC_UNAVAILABLE');
    // The card's state did not outlive the agent: a fresh service sees it unverified.
    const again = createCardService({ allowVirtualReaders: false, pcsc: mock.pcsclite, appVersion: '1', agentBaseUrl: 'http://127.0.0.1:24820', env: {} });
    services.push(again);
    await again.whenReady();
    await again.call('cps.pinStatus', {}, caller('desktop'));
    expect(mock.apduLog('R').at(-1)?.response).toBe('63 C3');
  });
});
