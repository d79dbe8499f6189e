// The virtual CPS3 at the APDU level: PKCS#15 discovery, PIN rules, signature, authentication,
// decipher with chaining, and the error status words of simulator.md.
import { constants, createHash, createPublicKey, publicEncrypt, randomBytes, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeCommandApdu, type CommandApdu } from '../../../../src/iso7816/apdu.js';
import { fromHex } from '../../../../src/iso7816/hex.js';
import { transmitApdu } from '../../../../src/iso7816/t0.js';
import { transmitChained } from '../../../../src/iso7816/chaining.js';
import { findTlv, parseTlv } from '../../../../src/iso7816/tlv.js';
import { TestPki } from '../../../../src/pki/test-pki.js';
import { createPersonaCard } from '../../../../src/simulator/card-factory.js';
import { personaCredentials } from '../../../../src/simulator/cps/create-cps-card.js';
import { CPS_PERSONAS } from '../../../../src/simulator/personas.js';
import { sha256ChainingValue } from '../../../../src/simulator/cps/sha256-resume.js';
import type { VirtualCard } from '../../../../src/simulator/virtual-card.js';

const AID = fromHex('E8 28 BD 08 0F 80 25 00 00 01 FF 00 10');
const PIN_OK = fromHex('31 32 33 34 FF FF FF FF');
const PIN_BAD = fromHex('39 39 39 39 FF FF FF FF');
const PUK = fromHex('31 32 33 34 35 36 37 38');

let pki: TestPki;

beforeAll(async () => {
  pki = await TestPki.open(mkdtempSync(join(tmpdir(), 'cb-cps3-')));
});

async function newCard(persona: Parameters<typeof createPersonaCard>[0] = 'cps:medecin'): Promise<VirtualCard> {
  return createPersonaCard(persona, { pki });
}

/** Raw exchange: no T=0 help, to see the card's own status words. */
function raw(card: VirtualCard, apdu: string | CommandApdu): { data: Uint8Array; sw: number } {
  const bytes = typeof apdu === 'string' ? fromHex(apdu) : encodeCommandApdu(apdu);
  const r = card.transmit(bytes);
  return { data: r.subarray(0, r.length - 2), sw: (r[r.length - 2]! << 8) | r[r.length - 1]! };
}

/** Host-side exchange with the T=0 rules (61xx GET RESPONSE, 6Cxx). */
async function send(card: VirtualCard, apdu: CommandApdu) {
  return transmitApdu(async (b) => card.transmit(b), apdu);
}

async function readFile(card: VirtualCard, fid: number): Promise<Uint8Array> {
  const sel = await send(card, { cla: 0, ins: 0xa4, p1: 0x02, p2: 0x04, data: Uint8Array.of(fid >> 8, fid & 0xff), le: 256 });
  expect(sel.sw).toBe(0x9000);
  const size = findTlv(parseTlv(sel.data), 0x62, 0x80)!.value;
  const length = (size[0]! << 8) | size[1]!;
  const out = new Uint8Array(length);
  for (let off = 0; off < length; ) {
    const n = Math.min(0xe7, length - off);
    const r = await send(card, { cla: 0, ins: 0xb0, p1: off >> 8, p2: off & 0xff, le: n });
    expect(r.sw).toBe(0x9000);
    out.set(r.data, off);
    off += r.data.length;
  }
  return out;
}

async function selectApp(card: VirtualCard) {
  expect((await send(card, { cla: 0, ins: 0xa4, p1: 0x04, p2: 0x0c, data: AID })).sw).toBe(0x9000);
}

async function verifyPin(card: VirtualCard, block = PIN_OK) {
  return (await send(card, { cla: 0, ins: 0x20, p1: 0, p2: 0x01, data: block })).sw;
}

describe('virtual CPS3: files', () => {
  it('answers with the CPS3 ATR and family', async () => {
    const card = await newCard();
    expect(card.family).toBe('CPS3');
    expect(Buffer.from(card.atr).toString('hex')).toBe('3bac00402a001225006480000310009000');
  });

  it('selects the IAS application by AID with P2=0C and refuses P2=00 with 6A86', async () => {
    const card = await newCard();
    expect(raw(card, { cla: 0, ins: 0xa4, p1: 4, p2: 0x0c, data: AID }).sw).toBe(0x9000);
    expect(raw(card, { cla: 0, ins: 0xa4, p1: 4, p2: 0x00, data: AID }).sw).toBe(0x6a86);
    expect(raw(card, { cla: 0, ins: 0xa4, p1: 2, p2: 0x00, data: fromHex('50 31') }).sw).toBe(0x6a86);
    expect(raw(card, { cla: 0, ins: 0xa4, p1: 2, p2: 0x0c, data: fromHex('50 99') }).sw).toBe(0x6a82);
  });

  it('answers a T=0 case-4 SELECT with 61xx and a wrong Le with 6Cxx', async () => {
    const card = await newCard();
    await selectApp(card);
    const first = raw(card, { cla: 0, ins: 0xa4, p1: 2, p2: 0x04, data: fromHex('50 31'), le: 256 });
    expect(first.sw >> 8).toBe(0x61);
    const n = first.sw & 0xff;
    expect(raw(card, { cla: 0, ins: 0xc0, p1: 0, p2: 0, le: n + 1 }).sw).toBe(0x6c00 | n);
    const fcp = raw(card, { cla: 0, ins: 0xc0, p1: 0, p2: 0, le: n });
    expect(fcp.sw).toBe(0x9000);
    expect(fcp.data[0]).toBe(0x62);
    expect(raw(card, { cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 256 }).sw >> 8).toBe(0x6c);
  });

  it('publishes EF.DIR, EF.SN.ICC and a PKCS#15 application whose certificates are the PKI-issued DER', async () => {
    const card = await newCard();
    const dir = parseTlv(await readFile(card, 0x2f00), { skipPadding: true });
    expect(Buffer.from(findTlv(dir, 0x61, 0x4f)!.value)).toEqual(Buffer.from(AID));
    const sn = parseTlv(await readFile(card, 0xd003));
    expect(Buffer.from(findTlv(sn, 0x5a)!.value).toString('hex')).toBe('80250000012500000101');
    await selectApp(card);
    const tokenInfo = parseTlv(await readFile(card, 0x5032));
    const label = findTlv(tokenInfo, 0x30, 0x80)!.value;
    expect(Buffer.from(label).toString()).toBe('CPS3v3-2500000101');
    const odf = parseTlv(await readFile(card, 0x5031));
    const cdfPath = findTlv(odf, 0xa4, 0x30, 0x04)!.value;
    const cdf = parseTlv(await readFile(card, (cdfPath.at(-2)! << 8) | cdfPath.at(-1)!));
    const creds = await personaCredentials(pki, CPS_PERSONAS['cps:medecin']);
    const certs = [];
    for (const entry of cdf) {
      const p = findTlv(entry.children!, 0xa1, 0x30, 0x30, 0x04)!.value;
      certs.push(await readFile(card, (p.at(-2)! << 8) | p.at(-1)!));
    }
    expect(certs.map((c) => Buffer.from(c).toString('hex')).sort()).toEqual(
      [creds.authentication.certificateDer, creds.signature.certificateDer].map((c) => Buffer.from(c).toString('hex')).sort(),
    );
  });

  it('keeps the CPS data objects behind the PIN', async () => {
    const card = await newCard();
    await selectApp(card);
    expect(raw(card, { cla: 0, ins: 0xa4, p1: 2, p2: 0x0c, data: fromHex('E1 02') }).sw).toBe(0x9000);
    expect(raw(card, { cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 10 }).sw).toBe(0x6982);
    expect(await verifyPin(card)).toBe(0x9000);
    const r = await send(card, { cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 256 });
    expect(Buffer.from(r.data).toString('latin1')).toContain('MARTIN');
  });
});

describe('virtual CPS3: PIN', () => {
  it('counts tries with 63Cx, blocks with 6983 after the third wrong PIN, and the PUK unblocks', async () => {
    const card = await newCard();
    expect(raw(card, '00 20 00 01').sw).toBe(0x63c3);
    expect(await verifyPin(card, PIN_BAD)).toBe(0x63c2);
    expect(raw(card, '00 20 00 01').sw).toBe(0x63c2);
    expect(await verifyPin(card, PIN_BAD)).toBe(0x63c1);
    expect(await verifyPin(card, PIN_BAD)).toBe(0x6983);
    expect(await verifyPin(card, PIN_OK)).toBe(0x6983);
    expect(raw(card, '00 20 00 01').sw).toBe(0x6983);
    // Wrong PUK counts down from 10.
    expect(raw(card, { cla: 0, ins: 0x2c, p1: 0, p2: 1, data: new Uint8Array([...fromHex('30 30 30 30 30 30 30 30'), ...PIN_OK]) }).sw).toBe(0x63c9);
    expect(raw(card, { cla: 0, ins: 0x2c, p1: 0, p2: 1, data: new Uint8Array([...PUK, ...fromHex('35 36 37 38 FF FF FF FF')]) }).sw).toBe(0x9000);
    expect(await verifyPin(card, PIN_OK)).toBe(0x63c2);
    expect(await verifyPin(card, fromHex('35 36 37 38 FF FF FF FF'))).toBe(0x9000);
    expect(raw(card, '00 20 00 01').sw).toBe(0x9000);
  });

  it('a good PIN restores the counter; a reset ends the verified state', async () => {
    const card = await newCard();
    expect(await verifyPin(card, PIN_BAD)).toBe(0x63c2);
    expect(await verifyPin(card)).toBe(0x9000);
    expect(raw(card, '00 20 00 01').sw).toBe(0x9000);
    card.reset();
    expect(raw(card, '00 20 00 01').sw).toBe(0x63c3);
  });

  it('changes the PIN with CHANGE REFERENCE DATA', async () => {
    const card = await newCard();
    const next = fromHex('39 38 37 36 FF FF FF FF');
    expect(raw(card, { cla: 0, ins: 0x24, p1: 0, p2: 1, data: new Uint8Array([...PIN_BAD, ...next]) }).sw).toBe(0x63c2);
    expect(raw(card, { cla: 0, ins: 0x24, p1: 0, p2: 1, data: new Uint8Array([...PIN_OK, ...next]) }).sw).toBe(0x9000);
    card.reset();
    expect(await verifyPin(card, PIN_OK)).toBe(0x63c2);
    expect(await verifyPin(card, next)).toBe(0x9000);
  });

  it('the blocked persona starts blocked and persists state through onStateChange', async () => {
    let saved: unknown;
    const card = await createPersonaCard('cps:blocked', { pki, onStateChange: (s) => (saved = s) });
    expect(raw(card, '00 20 00 01').sw).toBe(0x6983);
    expect(raw(card, { cla: 0, ins: 0x2c, p1: 0, p2: 1, data: new Uint8Array([...PUK, ...PIN_OK]) }).sw).toBe(0x9000);
    const again = await createPersonaCard('cps:blocked', { pki, savedState: saved });
    expect(raw(again, '00 20 00 01').sw).toBe(0x63c3);
  });

  it('refuses a malformed PIN block with 6A80 and an unknown reference with 6A88', async () => {
    const card = await newCard();
    expect(raw(card, { cla: 0, ins: 0x20, p1: 0, p2: 1, data: fromHex('31 32') }).sw).toBe(0x6a80);
    expect(raw(card, { cla: 0, ins: 0x20, p1: 0, p2: 1, data: fromHex('41 42 43 44 FF FF FF FF') }).sw).toBe(0x6a80);
    expect(raw(card, '00 20 00 07').sw).toBe(0x6a88);
    expect(raw(card, '00 20 00 01').sw).toBe(0x63c3);
  });
});

describe('virtual CPS3: keys', () => {
  const hash = createHash('sha256').update('compte rendu').digest();

  async function certificate(card: VirtualCard, role: 'authentication' | 'signature') {
    void card;
    const creds = await personaCredentials(pki, CPS_PERSONAS['cps:medecin']);
    return new X509Certificate(Buffer.from(creds[role].certificateDer));
  }

  it('signs a SHA-256 hash with the signature key (PSO CDS) only after the PIN', async () => {
    const card = await newCard();
    await selectApp(card);
    expect(raw(card, '00 22 41 B6 06 80 01 42 84 01 81').sw).toBe(0x9000);
    expect(raw(card, { cla: 0, ins: 0x2a, p1: 0x9e, p2: 0x9a, data: hash, le: 256 }).sw).toBe(0x6982);
    await verifyPin(card);
    const r = await send(card, { cla: 0, ins: 0x2a, p1: 0x9e, p2: 0x9a, data: hash, le: 256 });
    expect(r.sw).toBe(0x9000);
    const cert = await certificate(card, 'signature');
    expect(verify('sha256', Buffer.from('compte rendu'), cert.publicKey, r.data)).toBe(true);
  });

  it('completes a hash from the intermediate state (PSO HASH) and signs it', async () => {
    const card = await newCard();
    await selectApp(card);
    await verifyPin(card);
    const message = randomBytes(64 * 3 + 17);
    const state = sha256ChainingValue(message.subarray(0, 192));
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64BE(192n * 8n);
    expect(raw(card, '00 22 41 AA 03 80 01 40').sw).toBe(0x9000);
    expect(raw(card, '00 22 41 B6 06 80 01 42 84 01 81').sw).toBe(0x9000);
    const data = new Uint8Array([0x90, 40, ...state, ...counter, 0x80, 17, ...message.subarray(192)]);
    expect(raw(card, { cla: 0, ins: 0x2a, p1: 0x90, p2: 0xa0, data }).sw).toBe(0x9000);
    const r = await send(card, { cla: 0, ins: 0x2a, p1: 0x9e, p2: 0x9a, le: 256 });
    expect(r.sw).toBe(0x9000);
    expect(verify('sha256', message, (await certificate(card, 'signature')).publicKey, r.data)).toBe(true);
  });

  it('refuses to use the signature key for authentication and the authentication key for signing', async () => {
    const card = await newCard();
    await selectApp(card);
    await verifyPin(card);
    expect(raw(card, '00 22 41 A4 06 80 01 02 84 01 81').sw).toBe(0x6a80);
    expect(raw(card, '00 22 41 B6 06 80 01 42 84 01 82').sw).toBe(0x6a80);
    expect(raw(card, '00 22 41 B6 06 80 01 42 84 01 99').sw).toBe(0x6a88);
    expect(raw(card, { cla: 0, ins: 0x2a, p1: 0x9e, p2: 0x9a, data: hash, le: 256 }).sw).toBe(0x6985);
  });

  it('INTERNAL AUTHENTICATE pads a DigestInfo and signs it with the authentication key; input over 40 % refused', async () => {
    const card = await newCard();
    await selectApp(card);
    await verifyPin(card);
    expect(raw(card, '00 22 41 A4 06 80 01 02 84 01 82').sw).toBe(0x9000);
    const digestInfo = Buffer.concat([fromHex('30 31 30 0d 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20'), hash]);
    const r = await send(card, { cla: 0, ins: 0x88, p1: 0, p2: 0, data: digestInfo, le: 256 });
    expect(r.sw).toBe(0x9000);
    const cert = await certificate(card, 'authentication');
    expect(verify('sha256', Buffer.from('compte rendu'), cert.publicKey, r.data)).toBe(true);
    expect(raw(card, { cla: 0, ins: 0x88, p1: 0, p2: 0, data: new Uint8Array(103), le: 256 }).sw).toBe(0x6700);
  });

  it('deciphers a PKCS#1 v1.5 cryptogram sent with command chaining; bad padding gives 6984', async () => {
    const card = await newCard();
    await selectApp(card);
    await verifyPin(card);
    const cert = await certificate(card, 'authentication');
    const secret = randomBytes(32);
    const cryptogram = publicEncrypt({ key: createPublicKey(cert.publicKey.export({ format: 'pem', type: 'spki' })), padding: constants.RSA_PKCS1_PADDING }, secret);
    expect(raw(card, '00 22 41 B8 06 80 01 1A 84 01 82').sw).toBe(0x9000);
    const r = await transmitChained(async (b) => card.transmit(b), { cla: 0, ins: 0x2a, p1: 0x80, p2: 0x86, data: new Uint8Array([0x81, ...cryptogram]), le: 256 }, 255);
    expect(r.sw).toBe(0x9000);
    expect(Buffer.from(r.data)).toEqual(secret);
    const garbage = randomBytes(256);
    garbage[0] = 0;
    const bad = await transmitChained(async (b) => card.transmit(b), { cla: 0, ins: 0x2a, p1: 0x80, p2: 0x86, data: new Uint8Array([0x81, ...garbage]), le: 256 }, 255);
    expect(bad.sw).toBe(0x6984);
  });
});

describe('virtual CPS3: error status words', () => {
  it('answers 6E00, 6D00, 6700, 6A86, 6881 and 6985 where simulator.md says', async () => {
    const card = await newCard();
    expect(raw(card, '80 A4 04 0C 01 00').sw).toBe(0x6e00);
    expect(raw(card, '00 EE 00 00').sw).toBe(0x6d00);
    expect(raw(card, '00 A4').sw).toBe(0x6700);
    expect(raw(card, '00 A4 07 0C 02 3F 00').sw).toBe(0x6a86);
    expect(raw(card, '01 A4 04 0C 01 00').sw).toBe(0x6881);
    expect(raw(card, '00 C0 00 00 10').sw).toBe(0x6985);
    expect(raw(card, '00 2A 9E 9A 00').sw).toBe(0x6985);
  });
});
