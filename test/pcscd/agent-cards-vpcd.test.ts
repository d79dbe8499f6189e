// The agent's card service over the machine's real pcscd + vsmartcard-vpcd: virtual cards inserted
// by in-process VpcdLinks on both vpcd slots (VPCD_PORT: CPS3, VPCD_PORT+1: Vitale 2), the real
// `pcsclite` module, virtual readers allowed. readers.list, identity, certificates cached, PIN by
// value, signature, origin-bound token, Vitale read, the verified state ended by a real card reset
// (SCardDisconnect RESET then a new connection), and the insert/remove events.
import { createHash, randomBytes, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallerContext, CardService, Scope } from '../../src/agent/caller.js';
import { SCOPES } from '../../src/agent/caller.js';
import { createCardService } from '../../src/agent/cards/index.js';
import { AgentError } from '../../src/agent/errors.js';
import { TestPki } from '../../src/pki/test-pki.js';
import { createPersonaCard } from '../../src/simulator/card-factory.js';
import { VpcdLink } from '../../src/simulator/vpcd/vpcd-link.js';
import { loadPcsclite } from '../../src/transport/load-pcsclite.js';
import { pcscdAvailable, PCSCD_HINT, requireSystem, VPCD_PORT } from '../support/system.js';

const ready = requireSystem('pcscd with vsmartcard-vpcd', pcscdAvailable(), PCSCD_HINT);

const SLOT0 = 'Virtual PCD 00 00';
const SLOT1 = 'Virtual PCD 00 01';

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let nextId = 1;
function caller(kind: 'desktop' | 'origin', origin = kind === 'desktop' ? 'app:vpcd-test' : 'https://dmp.example'): CallerContext & { close(): void; prompts: unknown[] } {
  const controller = new AbortController();
  const prompts: unknown[] = [];
  return {
    connectionId: `vpcd-${nextId++}`,
    kind,
    origin,
    scopes: new Set<Scope>(SCOPES),
    lang: 'fr',
    signal: controller.signal,
    prompts,
    notify: (method, params) => {
      if (method === 'pin.prompt') prompts.push(params);
    },
    close: () => controller.abort(),
  };
}

describe.skipIf(!ready)('agent card service through pcscd + vpcd', () => {
  let pkiDir: string;
  let pki: TestPki;
  let service: CardService & { whenReady(): Promise<void> };
  let slot0: VpcdLink;
  let slot1: VpcdLink;
  const events: { event: string; params: Record<string, unknown> }[] = [];
  const names = async (): Promise<string[]> => ((await service.call('readers.list', {}, caller('desktop'))) as { name: string }[]).map((r) => r.name);
  const cardIn = async (reader: string): Promise<{ family: string } | null> =>
    ((await service.call('readers.list', {}, caller('desktop'))) as { name: string; card: { family: string } | null }[]).find((r) => r.name === reader)?.card ?? null;

  beforeAll(async () => {
    pkiDir = mkdtempSync(join(tmpdir(), 'cb-agent-vpcd-'));
    pki = await TestPki.open(pkiDir);
    slot0 = new VpcdLink({ port: VPCD_PORT });
    slot1 = new VpcdLink({ port: VPCD_PORT + 1 });
    service = createCardService({ pcsc: await loadPcsclite(), allowVirtualReaders: true, agentBaseUrl: 'http://127.0.0.1:24820', appVersion: '0.1.0-vpcd' });
    service.onEvent((event, params) => events.push({ event, params: params as Record<string, unknown> }));
    await service.whenReady();
    await until('both vpcd readers', async () => {
      const listed = await names();
      return listed.includes(SLOT0) && listed.includes(SLOT1);
    });
  });

  afterAll(async () => {
    await service?.close();
    await slot0?.close();
    await slot1?.close();
    if (pkiDir) rmSync(pkiDir, { recursive: true, force: true });
  });

  it('lists the vpcd readers; a CPS3 inserted in slot 0 is announced with its family and ATR', async () => {
    expect(service.pcscStatus()).toBe('ok');
    const from = events.length;
    slot0.insert(await createPersonaCard('cps:medecin', { pki }));
    await until('card.inserted in slot 0', () => events.slice(from).some((e) => e.event === 'card.inserted' && e.params.reader === SLOT0));
    expect(events.slice(from).find((e) => e.event === 'card.inserted')?.params).toEqual({ reader: SLOT0, family: 'CPS3', atr: '3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00' });
    expect(await cardIn(SLOT0)).toEqual({ family: 'CPS3', atr: '3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00' });
  });

  it('cps.getIdentity, then the certificates from the cache (0 APDUs)', async () => {
    const d = caller('desktop');
    slot0.apduLog.clear();
    expect(await service.call('cps.getIdentity', { reader: SLOT0 }, d)).toMatchObject({ family: 'CPS3', serial: '2500000101', nationalId: '99900000101', surname: 'MARTIN', givenName: 'SOPHIE' });
    expect(slot0.apduLog.size).toBe(28);
    slot0.apduLog.clear();
    const certs = (await service.call('cps.getCertificates', { reader: SLOT0 }, d)) as { authentication: string };
    expect(slot0.apduLog.size).toBe(0);
    expect(new X509Certificate(Buffer.from(certs.authentication, 'base64')).subject).toContain('MARTIN');
  });

  it('cps.verifyPin by value, cps.sign (RS256 with the signature key), cps.authenticate bound to the caller origin', async () => {
    const d = caller('desktop');
    await expect(service.call('cps.sign', { reader: SLOT0, hash: createHash('sha256').update('x').digest('base64'), hashAlgorithm: 'SHA-256' }, d)).rejects.toMatchObject({ code: 'PIN_REQUIRED' });
    await expect(service.call('cps.verifyPin', { reader: SLOT0, pin: '0000' }, d)).rejects.toMatchObject({ code: 'PIN_INCORRECT', details: { triesRemaining: 2 } });
    slot0.apduLog.clear();
    expect(await service.call('cps.verifyPin', { reader: SLOT0, pin: '1234' }, d)).toEqual({ verified: true });
    expect(slot0.apduLog.size).toBe(4);

    const certs = (await service.call('cps.getCertificates', { reader: SLOT0 }, d)) as { authentication: string; signature: string };
    const auth = new X509Certificate(Buffer.from(certs.authentication, 'base64'));
    const sign = new X509Certificate(Buffer.from(certs.signature, 'base64'));
    const digest = createHash('sha256').update('ordonnance').digest('base64');
    await service.call('cps.sign', { reader: SLOT0, hash: digest, hashAlgorithm: 'SHA-256' }, d);
    slot0.apduLog.clear();
    const signed = (await service.call('cps.sign', { reader: SLOT0, hash: digest, hashAlgorithm: 'SHA-256' }, d)) as { signature: string; algorithm: string; certificate: string };
    expect(slot0.apduLog.size).toBe(4);
    expect(signed.algorithm).toBe('RS256');
    expect(verify('sha256', Buffer.from('ordonnance'), sign.publicKey, Buffer.from(signed.signature, 'base64'))).toBe(true);
    expect(verify('sha256', Buffer.from('ordonnance'), auth.publicKey, Buffer.from(signed.signature, 'base64'))).toBe(false);

    const challenge = randomBytes(32).toString('base64');
    slot0.apduLog.clear();
    const token = (await service.call('cps.authenticate', { reader: SLOT0, challenge }, d)) as { origin: string; signature: string; appVersion: string };
    expect(slot0.apduLog.size).toBe(4);
    expect(token).toMatchObject({ origin: 'app:vpcd-test', appVersion: '0.1.0-vpcd' });
    const data = (origin: string) => Buffer.concat([createHash('sha256').update(origin).digest(), createHash('sha256').update(challenge).digest()]);
    expect(verify('sha256', data('app:vpcd-test'), auth.publicKey, Buffer.from(token.signature, 'base64'))).toBe(true);
    expect(verify('sha256', data('https://dmp.example'), auth.publicKey, Buffer.from(token.signature, 'base64'))).toBe(false);

    // Another connection does not get that state: the browser page is prompted for its own PIN.
    const web = caller('origin');
    const pending = service.call('cps.authenticate', { reader: SLOT0, challenge }, web);
    pending.catch(() => undefined);
    await until('pin.prompt', () => web.prompts.length === 1);
    expect(web.prompts[0]).toMatchObject({ reader: SLOT0, origin: 'https://dmp.example', triesRemaining: 3 });
    service.connectionClosed(web.connectionId);
    await expect(pending).rejects.toBeInstanceOf(AgentError);

    // The owner closes: the card is reset through pcscd and is no longer verified, still inserted.
    const removedBefore = events.filter((e) => e.event === 'card.removed').length;
    d.close();
    const probe = caller('desktop');
    await until('the verified state ended on the card', async () => {
      await service.call('cps.pinStatus', { reader: SLOT0 }, probe);
      return slot0.apduLog.entries().at(-1)?.response === '63 C3';
    });
    expect(events.filter((e) => e.event === 'card.removed').length).toBe(removedBefore);
    expect(await service.call('cps.getIdentity', { reader: SLOT0 }, probe)).toMatchObject({ surname: 'MARTIN' });
  });

  it('vitale.read on slot 1 (port VPCD_PORT + 1)', async () => {
    const from = events.length;
    slot1.insert(await createPersonaCard('vitale:famille', { pki }));
    await until('card.inserted in slot 1', () => events.slice(from).some((e) => e.event === 'card.inserted' && e.params.reader === SLOT1));
    expect(events.slice(from).find((e) => e.event === 'card.inserted' && e.params.reader === SLOT1)?.params).toMatchObject({ family: 'VITALE2' });
    slot1.apduLog.clear();
    const r = (await service.call('vitale.read', {}, caller('origin'))) as { family: string; beneficiaries: { insC: string | null }[] };
    expect(r.family).toBe('VITALE2');
    expect(r.beneficiaries).toHaveLength(3);
    expect(slot1.apduLog.size).toBe(17);
    // With a CPS in slot 0 and a Vitale in slot 1, each kind of method finds its card alone.
    expect(await service.call('cps.getIdentity', {}, caller('desktop'))).toMatchObject({ surname: 'MARTIN' });
  });

  it('removal: card.removed, CARD_ABSENT, and a new card works', async () => {
    const from = events.length;
    slot0.remove();
    await until('card.removed in slot 0', () => events.slice(from).some((e) => e.event === 'card.removed' && e.params.reader === SLOT0));
    expect(await cardIn(SLOT0)).toBeNull();
    await expect(service.call('cps.getIdentity', { reader: SLOT0 }, caller('desktop'))).rejects.toMatchObject({ code: 'CARD_ABSENT' });
    slot0.insert(await createPersonaCard('cps:medecin-cps4', { pki }));
    await until('the CPS4 in slot 0', async () => (await cardIn(SLOT0))?.family === 'CPS4');
    const d = caller('desktop');
    expect(await service.call('cps.getIdentity', { reader: SLOT0 }, d)).toMatchObject({ family: 'CPS4', surname: 'DURAND' });
    expect(await service.call('cps.sign', { reader: SLOT0, hash: createHash('sha256').update('y').digest('base64'), hashAlgorithm: 'SHA-256', padding: 'PSS', pin: '1234' }, d)).toMatchObject({ algorithm: 'PS256' });
    const gone = events.length;
    slot0.remove();
    slot1.remove();
    await until('both removed', () => events.slice(gone).filter((e) => e.event === 'card.removed').length === 2);
  });
});
