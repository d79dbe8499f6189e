// The card methods over the native pcsclite mock with virtual cards: readers and which card a call
// addresses, identity and certificates (cached per insertion), signatures, origin-bound tokens,
// decryption, Vitale reads, params validation and error codes, events, APDU counts.
import { constants, createHash, publicEncrypt, randomBytes, verify, X509Certificate } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { personaCredentials } from '../../../src/simulator/cps/create-cps-card.js';
import { CPS_PERSONAS } from '../../../src/simulator/personas.js';
import type { VirtualCard } from '../../../src/simulator/virtual-card.js';
import { TestCard } from '../../support/test-card.js';
import { caller, closeHarnesses, countApdus, expectAgentError, harness, personaCard, pinPresentations, removeTestPki, testPki, until } from './helpers.js';

afterEach(closeHarnesses);
afterAll(removeTestPki);

const A = 'Lecteur A';
const B = 'Lecteur B';
const CHALLENGE = randomBytes(32).toString('base64');
const hash = (text: string) => createHash('sha256').update(text).digest();
const sha256b64 = (text: string) => hash(text).toString('base64');

/** APDU counts measured by the tests, printed at the end for docs/agent-cards.md. */
const measured = new Map<string, number>();
afterAll(() => {
  if (measured.size === 0) return;
  const width = Math.max(...[...measured.keys()].map((k) => k.length));
  console.log(`APDUs per card-service call (native mock):\n${[...measured].map(([k, n]) => `  ${k.padEnd(width)}  ${String(n).padStart(3)}`).join('\n')}`);
});

describe('readers.list and which card a call addresses', () => {
  it('lists readers with the family and ATR of their card', async () => {
    const h = await harness({ readers: [A, B, 'Lecteur C'], cards: { [A]: 'cps:medecin', [B]: 'vitale:famille' } });
    const list = await h.service.call('readers.list', undefined, caller('desktop'));
    expect(list).toEqual([
      { name: A, card: { family: 'CPS3', atr: '3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00' } },
      { name: B, card: { family: 'VITALE2', atr: expect.stringMatching(/^3B 75 13 00 00 4[3-9A-C] 09 EA 90 00$/) } },
      { name: 'Lecteur C', card: null },
    ]);
    expect(h.service.pcscStatus()).toBe('ok');
  });

  it('hides vsmartcard-vpcd readers unless virtual readers are allowed', async () => {
    const hidden = await harness({ readers: [A, 'Virtual PCD 00 00'], cards: { 'Virtual PCD 00 00': 'cps:medecin' } });
    expect(((await hidden.service.call('readers.list', {}, caller('desktop'))) as { name: string }[]).map((r) => r.name)).toEqual([A]);
    await expectAgentError(hidden.service.call('cps.getIdentity', {}, caller('desktop')), 'CARD_ABSENT');
    await expectAgentError(hidden.service.call('cps.getIdentity', { reader: 'Virtual PCD 00 00' }, caller('desktop')), 'READER_NOT_FOUND');
    const shown = await harness({ readers: [A, 'Virtual PCD 00 00'], cards: { 'Virtual PCD 00 00': 'cps:medecin' }, allowVirtualReaders: true });
    expect(((await shown.service.call('readers.list', {}, caller('desktop'))) as { name: string }[]).map((r) => r.name)).toEqual([A, 'Virtual PCD 00 00']);
    expect(await shown.service.call('cps.getIdentity', {}, caller('desktop'))).toMatchObject({ surname: 'MARTIN' });
  });

  it('uses the only reader holding a card of the needed family when `reader` is omitted', async () => {
    const h = await harness({ readers: [A, B], cards: { [A]: 'vitale:famille', [B]: 'cps:infirmier' } });
    const d = caller('desktop');
    expect(await h.service.call('cps.getIdentity', {}, d)).toMatchObject({ surname: 'PETIT' });
    expect(await h.service.call('vitale.read', {}, d)).toMatchObject({ family: 'VITALE2' });
  });

  it('CARD_AMBIGUOUS with several cards of the family, until the reader is named', async () => {
    const h = await harness({ readers: [A, B], cards: { [A]: 'cps:medecin', [B]: 'cps:pharmacien' } });
    const d = caller('desktop');
    await expectAgentError(h.service.call('cps.getIdentity', {}, d), 'CARD_AMBIGUOUS', { readers: [A, B] });
    expect(await h.service.call('cps.getIdentity', { reader: B }, d)).toMatchObject({ surname: 'LEROY' });
    expect(h.mock.apduLog(A)).toHaveLength(0);
  });

  it('CARD_ABSENT, READER_NOT_FOUND, UNSUPPORTED_CARD', async () => {
    const h = await harness({ readers: [A, B, 'Lecteur C'], cards: { [A]: 'vitale:famille', [B]: new TestCard() } });
    const d = caller('desktop');
    await expectAgentError(h.service.call('cps.getIdentity', {}, d), 'CARD_ABSENT');
    await expectAgentError(h.service.call('cps.getIdentity', { reader: 'Lecteur C' }, d), 'CARD_ABSENT');
    await expectAgentError(h.service.call('cps.getIdentity', { reader: 'Lecteur Z' }, d), 'READER_NOT_FOUND');
    await expectAgentError(h.service.call('cps.getIdentity', { reader: A }, d), 'UNSUPPORTED_CARD');
    await expectAgentError(h.service.call('vitale.read', { reader: B }, d), 'UNSUPPORTED_CARD');
    expect(h.mock.apduLog(A)).toHaveLength(0);
  });

  it('PCSC_UNAVAILABLE while pcscd is down, and back when it returns', async () => {
    const h = await harness({ readers: [A], cards: { [A]: 'cps:medecin' }, daemonRunning: false });
    const d = caller('desktop');
    expect(h.service.pcscStatus()).toBe('unavailable');
    await expectAgentError(h.service.call('readers.list', {}, d), 'PCSC_UNAVAILABLE');
    await expectAgentError(h.service.call('cps.getIdentity', {}, d), 'PCSC_UNAVAILABLE');
    h.mock.startDaemon();
    await until('pcscd back', () => h.service.pcscStatus() === 'ok');
    await until('the reader back', () => h.events.some((e) => e.event === 'card.inserted'));
    expect(await h.service.call('cps.getIdentity', {}, d)).toMatchObject({ surname: 'MARTIN' });
  });
});

describe('identity and certificates', () => {
  for (const persona of ['cps:medecin', 'cps:medecin-cps4'] as const) {
    it(`${persona}: identity without PIN; certificates are the PKI's, read once per insertion`, async () => {
      const p = CPS_PERSONAS[persona];
      const h = await harness({ cards: { [A]: persona } });
      const d = caller('desktop');
      const identity = await countApdus(h.mock, A, () => h.service.call('cps.getIdentity', {}, d));
      measured.set(`${p.family} cps.getIdentity (fresh insertion)`, identity.apdus);
      expect(identity.value).toMatchObject({ family: p.family, serial: p.cardSerial, nationalId: p.rpps, idType: 'RPPS', surname: p.surname, givenName: p.givenName });
      // getIdentity read the certificates: the same insertion never reads them again.
      const certs = await countApdus(h.mock, A, () => h.service.call('cps.getCertificates', {}, caller('origin')));
      expect(certs.apdus).toBe(0);
      const issued = await personaCredentials(await testPki(), p);
      const value = certs.value as { authentication: string; signature: string; chain: string[] };
      expect(Buffer.from(value.authentication, 'base64').equals(Buffer.from(issued.authentication.certificateDer))).toBe(true);
      expect(Buffer.from(value.signature, 'base64').equals(Buffer.from(issued.signature.certificateDer))).toBe(true);
      expect(value.chain).toEqual([]);
      expect(pinPresentations(h.mock, A)).toBe(0);
    });
  }

  it('first cps.getCertificates of an insertion reads the card, the second sends 0 APDUs; a new insertion reads again', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const d = caller('desktop');
    const first = await countApdus(h.mock, A, () => h.service.call('cps.getCertificates', {}, d));
    const second = await countApdus(h.mock, A, () => h.service.call('cps.getCertificates', {}, caller('desktop')));
    expect(first.apdus).toBeGreaterThan(0);
    expect(second.apdus).toBe(0);
    expect(second.value).toEqual(first.value);
    h.mock.removeCard(A);
    h.mock.insertCard(A, await personaCard('cps:medecin'));
    await until('the new insertion', () => h.events.filter((e) => e.event === 'card.inserted').length === 2);
    const third = await countApdus(h.mock, A, () => h.service.call('cps.getCertificates', {}, d));
    expect(third.apdus).toBe(first.apdus);
  });
});

describe('signature, authentication token, decryption', () => {
  let certs: { authentication: X509Certificate; signature: X509Certificate };

  async function verifiedDesktop(persona: 'cps:medecin' | 'cps:medecin-cps4' = 'cps:medecin') {
    const h = await harness({ cards: { [A]: persona } });
    const d = caller('desktop');
    const c = (await h.service.call('cps.getCertificates', {}, d)) as { authentication: string; signature: string };
    certs = { authentication: new X509Certificate(Buffer.from(c.authentication, 'base64')), signature: new X509Certificate(Buffer.from(c.signature, 'base64')) };
    await h.service.call('cps.verifyPin', { pin: '1234' }, d);
    return { h, d };
  }

  beforeAll(async () => {
    await testPki();
  });

  it('cps.sign: RS256 with the signature key, verifiable with the signature certificate only', async () => {
    const { h, d } = await verifiedDesktop();
    const digest = hash('document');
    await h.service.call('cps.sign', { hash: digest.toString('base64'), hashAlgorithm: 'SHA-256' }, d); // warms TokenInfo
    const { value, apdus } = await countApdus(h.mock, A, () => h.service.call('cps.sign', { hash: digest.toString('base64'), hashAlgorithm: 'SHA-256', padding: 'PKCS1' }, d));
    expect(apdus).toBe(4);
    const r = value as { signature: string; algorithm: string; certificate: string };
    expect(r.algorithm).toBe('RS256');
    expect(Buffer.from(r.certificate, 'base64').equals(Buffer.from(certs.signature.raw))).toBe(true);
    const sig = Buffer.from(r.signature, 'base64');
    expect(verify('sha256', Buffer.from('document'), certs.signature.publicKey, sig)).toBe(true);
    // The authentication key never signs a caller's hash.
    expect(verify('sha256', Buffer.from('document'), certs.authentication.publicKey, sig)).toBe(false);
  });

  it('cps.sign: PSS (PS256, 32-byte salt) on a CPS4; PSS on a CPS3 is UNSUPPORTED_ALGORITHM', async () => {
    const { h, d } = await verifiedDesktop('cps:medecin-cps4');
    const r = (await h.service.call('cps.sign', { hash: sha256b64('pss'), hashAlgorithm: 'SHA-256', padding: 'PSS' }, d)) as { signature: string; algorithm: string };
    expect(r.algorithm).toBe('PS256');
    const ok = verify('sha256', Buffer.from('pss'), { key: certs.signature.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, Buffer.from(r.signature, 'base64'));
    expect(ok).toBe(true);
    expect(verify('sha256', Buffer.from('pss'), { key: certs.authentication.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, Buffer.from(r.signature, 'base64'))).toBe(false);

    const cps3 = await verifiedDesktop('cps:medecin');
    const before = cps3.h.mock.apduLog(A).length;
    await expectAgentError(cps3.h.service.call('cps.sign', { hash: sha256b64('pss'), hashAlgorithm: 'SHA-256', padding: 'PSS' }, cps3.d), 'UNSUPPORTED_ALGORITHM');
    expect(cps3.h.mock.apduLog(A).length).toBe(before);
  });

  it('cps.sign refuses SHA-1 (UNSUPPORTED_ALGORITHM), a hash of the wrong length and bad base64 (INVALID_PARAMS), without an APDU', async () => {
    const { h, d } = await verifiedDesktop();
    const before = h.mock.apduLog(A).length;
    const sha1 = createHash('sha1').update('x').digest('base64');
    await expectAgentError(h.service.call('cps.sign', { hash: sha1, hashAlgorithm: 'SHA-1' }, d), 'UNSUPPORTED_ALGORITHM');
    await expectAgentError(h.service.call('cps.sign', { hash: sha1, hashAlgorithm: 'SHA-256' }, d), 'INVALID_PARAMS');
    await expectAgentError(h.service.call('cps.sign', { hash: Buffer.alloc(48).toString('base64'), hashAlgorithm: 'SHA-256' }, d), 'INVALID_PARAMS');
    await expectAgentError(h.service.call('cps.sign', { hash: '!!!notbase64!!!', hashAlgorithm: 'SHA-256' }, d), 'INVALID_PARAMS');
    await expectAgentError(h.service.call('cps.sign', { hash: sha256b64('x').replace(/=$/, ''), hashAlgorithm: 'SHA-256' }, d), 'INVALID_PARAMS');
    await expectAgentError(h.service.call('cps.sign', { hash: sha256b64('x') }, d), 'INVALID_PARAMS');
    await expectAgentError(h.service.call('cps.sign', { hash: sha256b64('x'), hashAlgorithm: 'SHA-256', padding: 'OAEP' }, d), 'INVALID_PARAMS');
    expect(h.mock.apduLog(A).length).toBe(before);
  });

  it('cps.authenticate: the token is bound to the caller origin and verifies for it only', async () => {
    const { h } = await verifiedDesktop();
    const web = caller('origin', { origin: 'https://dmp.example' });
    const desktop = caller('desktop');
    await h.service.call('cps.verifyPin', { pin: '1234' }, desktop);
    const value = await h.service.call('cps.authenticate', { challenge: CHALLENGE }, desktop);
    const token = value as Record<string, string>;
    expect(token).toMatchObject({ format: 'cardbridge-auth:1', algorithm: 'RS256', origin: 'app:cardbridge-test', appVersion: '0.1.0-test' });
    expect(Buffer.from(token.unverifiedCertificate!, 'base64').equals(Buffer.from(certs.authentication.raw))).toBe(true);
    const signed = (origin: string) => Buffer.concat([hash(origin), createHash('sha256').update(CHALLENGE).digest()]);
    const sig = Buffer.from(token.signature!, 'base64');
    expect(verify('sha256', signed('app:cardbridge-test'), certs.authentication.publicKey, sig)).toBe(true);
    expect(verify('sha256', signed('https://dmp.example'), certs.authentication.publicKey, sig)).toBe(false);
    expect(verify('sha256', signed('app:cardbridge-test'), certs.signature.publicKey, sig)).toBe(false);
    // The origin is the caller's, whatever the page might wish: a browser page's token names its origin.
    await expectAgentError(h.service.call('cps.authenticate', { challenge: CHALLENGE, origin: 'https://dmp.example' }, desktop), 'INVALID_PARAMS');
    expect(web.origin).toBe('https://dmp.example');
  });

  it('cps.authenticate refuses challenges that are not padded base64 of 44 to 128 characters', async () => {
    const { h, d } = await verifiedDesktop();
    const before = h.mock.apduLog(A).length;
    for (const challenge of [randomBytes(31).toString('base64').slice(0, 43), randomBytes(32).toString('base64url'), randomBytes(97).toString('base64'), `${'A'.repeat(40)}AA=A`, ` ${CHALLENGE.slice(1)}`, 42]) {
      await expectAgentError(h.service.call('cps.authenticate', { challenge }, d), 'INVALID_PARAMS');
    }
    expect(h.mock.apduLog(A).length).toBe(before);
    expect(await h.service.call('cps.authenticate', { challenge: randomBytes(96).toString('base64') }, d)).toMatchObject({ format: 'cardbridge-auth:1' });
  });

  it('no method makes the authentication key sign a caller-chosen hash', async () => {
    const { h, d } = await verifiedDesktop();
    // Whatever a caller asks cps.sign to sign, the result never verifies with the authentication key.
    const target = Buffer.concat([hash('https://victim.example'), hash(CHALLENGE)]);
    const r = (await h.service.call('cps.sign', { hash: createHash('sha256').update(target).digest('base64'), hashAlgorithm: 'SHA-256' }, d)) as { signature: string };
    expect(verify('sha256', target, certs.authentication.publicKey, Buffer.from(r.signature, 'base64'))).toBe(false);
    // cps.authenticate signs its own data from the caller's origin, never a hash from the params.
    await expectAgentError(h.service.call('cps.authenticate', { challenge: CHALLENGE, hash: target.toString('base64') }, d), 'INVALID_PARAMS');
    // And no other method accepts a hash at all.
    for (const method of ['cps.decrypt', 'cps.getActivities', 'cps.verifyPin']) {
      await expectAgentError(h.service.call(method, { hash: sha256b64('x') }, d), 'INVALID_PARAMS');
    }
    // The only PSO / INTERNAL AUTHENTICATE with the authentication key (MSE 84 01 82) were those of tokens.
    const log = h.mock.apduLog(A).map((e) => e.command);
    const authMse = log.filter((c) => c.startsWith('00 22 41 A4') && c.includes('84 01 82'));
    expect(authMse.length).toBe(0);
  });

  it('cps.decrypt: a cryptogram for the authentication key; one uniform DECRYPT_FAILED for every bad one', async () => {
    const { h, d } = await verifiedDesktop();
    const key = randomBytes(32);
    const good = publicEncrypt({ key: certs.authentication.publicKey, padding: constants.RSA_PKCS1_PADDING }, key);
    const value = await h.service.call('cps.decrypt', { ciphertext: good.toString('base64') }, d);
    expect(Buffer.from((value as { plaintext: string }).plaintext, 'base64').equals(key)).toBe(true);
    const bad = [
      randomBytes(256), // not a PKCS#1 type-2 block once deciphered
      publicEncrypt({ key: certs.signature.publicKey, padding: constants.RSA_PKCS1_PADDING }, key), // the other key's
      randomBytes(128), // wrong length
      Buffer.alloc(256), // zero
    ];
    const errors = [];
    for (const c of bad) errors.push(await expectAgentError(h.service.call('cps.decrypt', { ciphertext: c.toString('base64') }, d), 'DECRYPT_FAILED'));
    for (const e of errors) {
      expect(e.details).toEqual({});
      expect(e.toRpcError('fr')).toEqual(errors[0]!.toRpcError('fr'));
    }
    await expectAgentError(h.service.call('cps.decrypt', { ciphertext: 'not base64!' }, d), 'INVALID_PARAMS');
  });

  it('cps.getActivities needs the PIN: PIN_REQUIRED without one, the activities with it', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const d = caller('desktop');
    await expectAgentError(h.service.call('cps.getActivities', {}, d), 'PIN_REQUIRED');
    expect(h.mock.apduLog(A)).toHaveLength(0);
    const r = await h.service.call('cps.getActivities', { pin: '1234' }, d);
    expect(r).toEqual([{ index: 1, structureId: '499900001000001', structureName: 'CABINET DU DR MARTIN', sector: 'SA07', role: 'FON-01' }]);
    // Held now: no PIN needed, nothing presented again.
    const presented = pinPresentations(h.mock, A);
    expect(await h.service.call('cps.getActivities', {}, d)).toEqual(r);
    expect(pinPresentations(h.mock, A)).toBe(presented);
  });
});

describe('vitale.read', () => {
  it('reads every beneficiary of the card, with INS-C', async () => {
    const h = await harness({ cards: { [A]: 'vitale:famille' } });
    const { value, apdus } = await countApdus(h.mock, A, () => h.service.call('vitale.read', {}, caller('origin')));
    measured.set('vitale.read (vitale:famille)', apdus);
    const r = value as { family: string; beneficiaries: { nir: string; insC: string | null }[] };
    expect(r.family).toBe('VITALE2');
    expect(r.beneficiaries).toHaveLength(3);
    expect(r.beneficiaries.every((b) => typeof b.insC === 'string')).toBe(true);
  });
});

describe('params and errors', () => {
  it('INVALID_PARAMS for wrong types, unknown fields and positional params; METHOD_NOT_FOUND for others', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const d = caller('desktop');
    await expectAgentError(h.service.call('cps.getIdentity', { reader: 42 }, d), 'INVALID_PARAMS', { issues: [{ path: 'reader', code: 'invalid_type' }] });
    await expectAgentError(h.service.call('cps.getIdentity', { readr: A }, d), 'INVALID_PARAMS');
    await expectAgentError(h.service.call('cps.getIdentity', [A], d), 'INVALID_PARAMS');
    await expectAgentError(h.service.call('readers.list', { x: 1 }, d), 'INVALID_PARAMS');
    await expectAgentError(h.service.call('cps.verifyPin', { method: 'sms' }, d), 'INVALID_PARAMS');
    await expectAgentError(h.service.call('cps.verifyPin', { pin: 1234 }, d), 'INVALID_PARAMS');
    await expectAgentError(h.service.call('cps.signArbitrary', {}, d), 'METHOD_NOT_FOUND');
    await expectAgentError(h.service.call('agent.info', {}, d), 'METHOD_NOT_FOUND');
    expect(h.mock.apduLog(A)).toHaveLength(0);
  });

  it('an INVALID_PARAMS error never repeats a PIN value', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const d = caller('desktop');
    const e1 = await expectAgentError(h.service.call('cps.verifyPin', { pin: '12a4' }, d), 'INVALID_PARAMS');
    const e2 = await expectAgentError(h.service.call('cps.verifyPin', { pin: '98765432109876543210' }, d), 'INVALID_PARAMS');
    for (const e of [e1, e2]) {
      const text = JSON.stringify([e.toRpcError('fr'), e.toRpcError('en'), e.message]);
      expect(text).not.toContain('12a4');
      expect(text).not.toContain('98765432109876543210');
    }
    expect(pinPresentations(h.mock, A)).toBe(0);
  });

  it('browser pages may not send PIN values (PIN_VALUE_NOT_ALLOWED), whatever the method', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const web = caller('origin');
    await expectAgentError(h.service.call('cps.verifyPin', { pin: '1234' }, web), 'PIN_VALUE_NOT_ALLOWED');
    await expectAgentError(h.service.call('cps.verifyPin', { method: 'value' }, web), 'PIN_VALUE_NOT_ALLOWED');
    await expectAgentError(h.service.call('cps.sign', { hash: sha256b64('x'), hashAlgorithm: 'SHA-256', pin: '1234' }, web), 'PIN_VALUE_NOT_ALLOWED');
    await expectAgentError(h.service.call('cps.changePin', { pin: '1234', newPin: '5678' }, web), 'PIN_VALUE_NOT_ALLOWED');
    await expectAgentError(h.service.call('cps.unblockPin', { puk: '12345678', newPin: '5678' }, web), 'PIN_VALUE_NOT_ALLOWED');
    expect(pinPresentations(h.mock, A)).toBe(0);
  });

  it('callers that are not desktop or paired origins are refused (UNAUTHORIZED)', async () => {
    const h = await harness({ cards: { [A]: 'cps:medecin' } });
    const c = { ...caller('desktop'), kind: 'unpaired' as const };
    await expectAgentError(h.service.call('cps.getIdentity', {}, c), 'UNAUTHORIZED');
  });

  it('CARD_ERROR with the status word when the card refuses', async () => {
    const refusing: VirtualCard = { family: 'CPS3', atr: Buffer.from('3BAC00402A001225006480000310009000', 'hex'), transmit: () => Uint8Array.of(0x6a, 0x81), reset: () => undefined };
    const h = await harness({ cards: { [A]: refusing } });
    // A "CPS3" by its ATR that refuses every command (6A 81): the card's answer comes back as CARD_ERROR.
    const e = await expectAgentError(h.service.call('cps.getCertificates', {}, caller('desktop')), 'CARD_ERROR');
    expect(e.details.sw).toBe('6A81');
  });
});

describe('events', () => {
  it('forwards readers.changed, card.inserted, card.removed and pcsc.status', async () => {
    const h = await harness({ readers: [A] });
    const seen = () => h.events.map((e) => e.event);
    h.mock.addReader(B);
    await until('readers.changed', () => h.events.some((e) => e.event === 'readers.changed' && (e.params as { readers: { name: string }[] }).readers.some((r) => r.name === B)));
    h.mock.insertCard(B, await personaCard('cps:medecin-cps4'));
    await until('card.inserted', () => seen().includes('card.inserted'));
    expect(h.events.find((e) => e.event === 'card.inserted')?.params).toEqual({ reader: B, family: 'CPS4', atr: '3B 9B 18 80 01 00 12 25 00 64 80 04 01 00 00 90 44' });
    h.mock.removeCard(B);
    await until('card.removed', () => seen().includes('card.removed'));
    expect(h.events.find((e) => e.event === 'card.removed')?.params).toEqual({ reader: B });
    h.mock.stopDaemon();
    await until('pcsc.status', () => h.events.some((e) => e.event === 'pcsc.status' && (e.params as { status: string }).status === 'unavailable'));
    expect(h.service.pcscStatus()).toBe('unavailable');
    const unsubscribe = h.service.onEvent(() => {
      throw new Error('a failing listener');
    });
    h.mock.startDaemon();
    await until('pcsc ok', () => h.events.filter((e) => e.event === 'pcsc.status' && (e.params as { status: string }).status === 'ok').length >= 1 && h.service.pcscStatus() === 'ok');
    unsubscribe();
    expect(h.events.find((e) => e.event === 'readers.changed')?.params).toMatchObject({ readers: expect.any(Array) });
  });
});

describe('APDUs per call (P2: fewer than OpenSC; certificates cached per insertion)', () => {
  for (const persona of ['cps:medecin', 'cps:medecin-cps4'] as const) {
    const family = CPS_PERSONAS[persona].family;
    it(`${family}: every method's APDUs, first in an insertion and then`, async () => {
      const h = await harness({ cards: { [A]: persona }, noAudit: true });
      const d = caller('desktop');
      const count = async (label: string, method: string, params: Record<string, unknown>) => {
        const { apdus } = await countApdus(h.mock, A, () => h.service.call(method, params, d));
        measured.set(`${family} ${label}`, apdus);
        return apdus;
      };
      const auth = async () => {
        const c = (await h.service.call('cps.getCertificates', {}, d)) as { authentication: string };
        return new X509Certificate(Buffer.from(c.authentication, 'base64'));
      };
      const certsFirst = await count('cps.getCertificates (first of the insertion)', 'cps.getCertificates', {});
      const certsAgain = await count('cps.getCertificates (again)', 'cps.getCertificates', {});
      await count('cps.getIdentity (certificates cached)', 'cps.getIdentity', {});
      await count('cps.pinStatus (first)', 'cps.pinStatus', {});
      const pinStatus = await count('cps.pinStatus', 'cps.pinStatus', {});
      const verify = await count('cps.verifyPin value (status + VERIFY)', 'cps.verifyPin', { pin: '1234' });
      await count('cps.sign (first)', 'cps.sign', { hash: sha256b64('a'), hashAlgorithm: 'SHA-256' });
      const sign = await count('cps.sign', 'cps.sign', { hash: sha256b64('b'), hashAlgorithm: 'SHA-256' });
      await count('cps.authenticate (first)', 'cps.authenticate', { challenge: CHALLENGE });
      const token = await count('cps.authenticate', 'cps.authenticate', { challenge: CHALLENGE });
      const cryptogram = publicEncrypt({ key: (await auth()).publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from('k')).toString('base64');
      await count('cps.decrypt (first)', 'cps.decrypt', { ciphertext: cryptogram });
      const decrypt = await count('cps.decrypt', 'cps.decrypt', { ciphertext: cryptogram });
      await count('cps.getActivities (first)', 'cps.getActivities', {});
      const activities = await count('cps.getActivities', 'cps.getActivities', {});
      const logout = await count('cps.logout (card reset)', 'cps.logout', {});
      const verifyAgain = await count('cps.verifyPin value after logout', 'cps.verifyPin', { pin: '1234' });
      expect(pinStatus).toBe(2);
      expect(verify).toBe(4);
      expect(verifyAgain).toBe(4);
      expect(certsFirst).toBe(family === 'CPS3' ? 25 : 22);
      expect(certsAgain).toBe(0);
      expect(logout).toBe(0);
      // As CpsSession alone (docs/cards.md): the agent adds no APDU to an operation whose PIN is held.
      expect(sign).toBe(family === 'CPS3' ? 4 : 3);
      expect(token).toBe(4);
      expect(decrypt).toBe(family === 'CPS3' ? 5 : 4);
      expect(activities).toBe(family === 'CPS3' ? 4 : 3);
    });
  }
});
