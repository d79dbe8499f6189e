// The virtual CPS4 at the APDU level: logical channel 1, applet selection, PKCS#1 and PSS
// signatures, raw RSA with the authentication key, and the unblock sequence.
import { constants, createHash, publicDecrypt, publicEncrypt, randomBytes, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeCommandApdu, type CommandApdu } from '../../../../src/iso7816/apdu.js';
import { transmitChained } from '../../../../src/iso7816/chaining.js';
import { fromHex } from '../../../../src/iso7816/hex.js';
import { TestPki } from '../../../../src/pki/test-pki.js';
import { createPersonaCard } from '../../../../src/simulator/card-factory.js';
import { personaCredentials } from '../../../../src/simulator/cps/create-cps-card.js';
import { CPS_PERSONAS } from '../../../../src/simulator/personas.js';
import type { VirtualCard } from '../../../../src/simulator/virtual-card.js';

const APPLET = fromHex('80 25 00 00 01 FF 01 00');
const PIN_OK = fromHex('31 32 33 34 FF FF FF FF');
const PUK = fromHex('31 32 33 34 35 36 37 38');

let pki: TestPki;
let authCert: X509Certificate;
let signCert: X509Certificate;

beforeAll(async () => {
  pki = await TestPki.open(mkdtempSync(join(tmpdir(), 'cb-cps4-')));
  const creds = await personaCredentials(pki, CPS_PERSONAS['cps:medecin-cps4']);
  authCert = new X509Certificate(Buffer.from(creds.authentication.certificateDer));
  signCert = new X509Certificate(Buffer.from(creds.signature.certificateDer));
});

function raw(card: VirtualCard, apdu: string | CommandApdu): { data: Uint8Array; sw: number } {
  const r = card.transmit(typeof apdu === 'string' ? fromHex(apdu) : encodeCommandApdu(apdu));
  return { data: r.subarray(0, r.length - 2), sw: (r[r.length - 2]! << 8) | r[r.length - 1]! };
}

async function ready(): Promise<VirtualCard> {
  const card = await createPersonaCard('cps:medecin-cps4', { pki });
  expect(raw(card, { cla: 1, ins: 0xa4, p1: 4, p2: 0x0c, data: APPLET }).sw).toBe(0x9000);
  expect(raw(card, { cla: 1, ins: 0x20, p1: 0, p2: 1, data: PIN_OK }).sw).toBe(0x9000);
  return card;
}

describe('virtual CPS4', () => {
  it('has the CPS4 ATR, answers on channel 1 only once the applet is selected', async () => {
    const card = await createPersonaCard('cps:medecin-cps4', { pki });
    expect(card.family).toBe('CPS4');
    expect(Buffer.from(card.atr).toString('hex')).toBe('3b9b1880010012250064800401000090' + '44');
    expect(raw(card, '01 20 00 01').sw).toBe(0x6985);
    expect(raw(card, '00 20 00 01').sw).toBe(0x6985);
    expect(raw(card, { cla: 1, ins: 0xa4, p1: 4, p2: 0x0c, data: APPLET }).sw).toBe(0x9000);
    expect(raw(card, '01 20 00 01').sw).toBe(0x63c3);
    expect(raw(card, '02 20 00 01').sw).toBe(0x6881);
    // T=1: data comes back directly, no 61xx.
    const fcp = raw(card, { cla: 1, ins: 0xa4, p1: 9, p2: 4, data: fromHex('3F 00 00 01 50 32'), le: 256 });
    expect(fcp.sw).toBe(0x9000);
    expect(fcp.data[0]).toBe(0x62);
    card.reset();
    expect(raw(card, '01 20 00 01').sw).toBe(0x6985);
  });

  it('signs a SHA-256 hash with PKCS#1 v1.5 (alg 28) and PSS with a 32-byte salt (alg 2C)', async () => {
    const card = await ready();
    const message = Buffer.from('ordonnance');
    const hash = createHash('sha256').update(message).digest();
    expect(raw(card, '01 22 81 B6 04 91 02 28 80').sw).toBe(0x9000);
    const pkcs1 = raw(card, { cla: 1, ins: 0x2a, p1: 0x9e, p2: 0x9a, data: hash, le: 256 });
    expect(pkcs1.sw).toBe(0x9000);
    expect(verify('sha256', message, signCert.publicKey, pkcs1.data)).toBe(true);
    expect(raw(card, '01 22 81 B6 04 91 02 2C 80').sw).toBe(0x9000);
    const pss = raw(card, { cla: 1, ins: 0x2a, p1: 0x9e, p2: 0x9a, data: hash, le: 256 });
    expect(pss.sw).toBe(0x9000);
    expect(verify('sha256', message, { key: signCert.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, pss.data)).toBe(true);
    expect(verify('sha256', message, signCert.publicKey, pss.data)).toBe(false);
    // SHA-1 algorithms are refused for new signatures; the authentication key cannot sign.
    expect(raw(card, '01 22 81 B6 04 91 02 0A 80').sw).toBe(0x9000);
    expect(raw(card, { cla: 1, ins: 0x2a, p1: 0x9e, p2: 0x9a, data: hash.subarray(0, 20), le: 256 }).sw).toBe(0x6a80);
    expect(raw(card, '01 22 81 B6 04 91 02 28 20').sw).toBe(0x6a88);
  });

  it('does raw RSA with the authentication key: a host-built type-1 block verifies, a type-2 cryptogram deciphers', async () => {
    const card = await ready();
    expect(raw(card, '01 22 41 B8 03 83 01 20').sw).toBe(0x9000);
    const digestInfo = Buffer.concat([fromHex('30 31 30 0d 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20'), createHash('sha256').update('jeton').digest()]);
    const block = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(256 - 3 - digestInfo.length, 0xff), Buffer.from([0]), digestInfo]);
    const send = (data: Uint8Array) => transmitChained(async (b) => card.transmit(b), { cla: 1, ins: 0x2a, p1: 0x80, p2: 0x86, data, le: 256 });
    const signature = await send(block);
    expect(signature.sw).toBe(0x9000);
    expect(verify('sha256', Buffer.from('jeton'), authCert.publicKey, signature.data)).toBe(true);
    expect(Buffer.from(publicDecrypt({ key: authCert.publicKey, padding: constants.RSA_NO_PADDING }, signature.data)).equals(block)).toBe(true);
    const secret = randomBytes(32);
    const deciphered = await send(publicEncrypt({ key: authCert.publicKey, padding: constants.RSA_PKCS1_PADDING }, secret));
    expect(deciphered.sw).toBe(0x9000);
    expect(Buffer.from(deciphered.data.subarray(deciphered.data.length - 32)).equals(secret)).toBe(true);
    expect(deciphered.data[1]).toBe(0x02);
    expect((await send(new Uint8Array(100))).sw).toBe(0x6700);
  });

  it('refuses key use before the PIN (6982) and without an MSE (6985)', async () => {
    const card = await createPersonaCard('cps:medecin-cps4', { pki });
    raw(card, { cla: 1, ins: 0xa4, p1: 4, p2: 0x0c, data: APPLET });
    expect(raw(card, { cla: 1, ins: 0x2a, p1: 0x9e, p2: 0x9a, data: new Uint8Array(32), le: 256 }).sw).toBe(0x6985);
    expect(raw(card, '01 22 81 B6 04 91 02 28 80').sw).toBe(0x9000);
    expect(raw(card, { cla: 1, ins: 0x2a, p1: 0x9e, p2: 0x9a, data: new Uint8Array(32), le: 256 }).sw).toBe(0x6982);
  });

  it('unblocks with VERIFY PUK, RESET RETRY COUNTER P1=03 and CHANGE REFERENCE DATA P1=01', async () => {
    const card = await createPersonaCard('cps:medecin-cps4', { pki });
    raw(card, { cla: 1, ins: 0xa4, p1: 4, p2: 0x0c, data: APPLET });
    for (const expected of [0x63c2, 0x63c1, 0x6983]) {
      expect(raw(card, { cla: 1, ins: 0x20, p1: 0, p2: 1, data: fromHex('39 39 39 39 FF FF FF FF') }).sw).toBe(expected);
    }
    expect(raw(card, '01 20 00 01').sw).toBe(0x6983);
    expect(raw(card, '01 2C 03 01').sw).toBe(0x6982);
    expect(raw(card, { cla: 1, ins: 0x24, p1: 1, p2: 1, data: fromHex('35 35 35 35 FF FF FF FF') }).sw).toBe(0x6982);
    expect(raw(card, { cla: 1, ins: 0x20, p1: 0, p2: 2, data: PUK }).sw).toBe(0x9000);
    expect(raw(card, '01 2C 03 01').sw).toBe(0x9000);
    expect(raw(card, { cla: 1, ins: 0x24, p1: 1, p2: 1, data: fromHex('35 35 35 35 FF FF FF FF') }).sw).toBe(0x9000);
    expect(raw(card, { cla: 1, ins: 0x24, p1: 1, p2: 1, data: PIN_OK }).sw).toBe(0x6982);
    expect(raw(card, { cla: 1, ins: 0x20, p1: 0, p2: 1, data: fromHex('35 35 35 35 FF FF FF FF') }).sw).toBe(0x9000);
  });
});
