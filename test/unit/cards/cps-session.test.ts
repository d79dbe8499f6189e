// CpsSession behaviour that needs a hand on the wire (in-process only): the CPS4 applet lost in the
// middle of an operation, PIN blocks zeroed after the exchange, nothing printed, transport errors
// passed through, a card without logout, and identity parsing of real-card-shaped certificates.
import { createHash, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { identityFromCertificate, parseNationalId } from '../../../src/cards/certificate-identity.js';
import { CpsSession, serialFromSnIcc } from '../../../src/cards/cps-session.js';
import { CardError } from '../../../src/cards/errors.js';
import type { CommandApdu, ResponseApdu } from '../../../src/iso7816/apdu.js';
import { fromHex, hex } from '../../../src/iso7816/hex.js';
import { TestPki } from '../../../src/pki/test-pki.js';
import { createPersonaCard } from '../../../src/simulator/card-factory.js';
import type { VirtualCard } from '../../../src/simulator/virtual-card.js';
import type { CardChannel } from '../../../src/transport/card-channel.js';
import { TransportError } from '../../../src/transport/errors.js';
import { RawCardChannel } from '../../../src/transport/raw-channel.js';

let pki: TestPki;

beforeAll(async () => {
  pki = await TestPki.open(mkdtempSync(join(tmpdir(), 'cb-cps-session-')));
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** A channel onto `card` that lets a test look at or replace exchanges. */
class ProbeChannel implements CardChannel {
  readonly readerName = 'probe';
  readonly atr: Uint8Array;
  readonly sent: string[] = [];
  /** The data arrays of PIN commands (VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER). */
  readonly pinData: Uint8Array[] = [];
  private readonly inner: RawCardChannel;
  before: ((command: CommandApdu) => void) | undefined;
  override: ((command: CommandApdu) => ResponseApdu | undefined) | undefined;

  constructor(readonly card: VirtualCard) {
    this.atr = card.atr;
    this.inner = new RawCardChannel('probe', card.atr, async (apdu) => {
      this.sent.push(hex(apdu));
      return card.transmit(apdu);
    });
  }

  async transmit(command: CommandApdu): Promise<ResponseApdu> {
    if (command.data && (command.ins === 0x20 || command.ins === 0x24 || command.ins === 0x2c)) this.pinData.push(command.data);
    this.before?.(command);
    const replaced = this.override?.(command);
    if (replaced) return replaced;
    return this.inner.transmit(command);
  }
}

const sw = (value: number): ResponseApdu => ({ data: new Uint8Array(0), sw: value, sw1: value >> 8, sw2: value & 0xff });

async function session(persona: 'cps:medecin' | 'cps:medecin-cps4') {
  const card = await createPersonaCard(persona, { pki });
  const channel = new ProbeChannel(card);
  const s = await CpsSession.open(channel);
  const signCert = new X509Certificate((await s.getCertificates()).signature);
  return { card, channel, session: s, signCert };
}

describe('CpsSession on the wire', () => {
  it('CPS4: when another application deselects the applet mid-operation (69 85), re-selects and redoes the operation once', async () => {
    const { card, channel, session: s, signCert } = await session('cps:medecin-cps4');
    await s.verifyPin('1234');
    let injected = false;
    channel.before = (c) => {
      // Another application closes logical channel 1 just before our PSO: the applet is gone.
      if (c.ins === 0x2a && !injected) {
        injected = true;
        card.transmit(fromHex('00 70 80 01'));
      }
    };
    channel.sent.length = 0;
    const hash = createHash('sha256').update('lettre').digest();
    const signature = await s.signHash(hash);
    expect(verify('sha256', Buffer.from('lettre'), signCert.publicKey, signature)).toBe(true);
    expect(channel.sent.filter((a) => a.startsWith('01 A4 04 0C 08 80 25 00 00 01 FF 01 00'))).toHaveLength(2);
    expect(channel.sent.filter((a) => a.startsWith('01 22 81 B6'))).toHaveLength(2);
  });

  it('CPS4: an applet that keeps disappearing ends in CARD_ERROR 6985 after one retry, not a loop', async () => {
    const { card, channel, session: s } = await session('cps:medecin-cps4');
    await s.verifyPin('1234');
    channel.before = (c) => {
      if (c.ins === 0x2a) card.transmit(fromHex('00 70 80 01'));
    };
    channel.sent.length = 0;
    const error = await s.signHash(new Uint8Array(32)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CardError);
    expect(error).toMatchObject({ code: 'CARD_ERROR', sw: 0x6985 });
    expect(channel.sent.filter((a) => a.startsWith('01 2A 9E 9A'))).toHaveLength(2);
  });

  for (const persona of ['cps:medecin', 'cps:medecin-cps4'] as const) {
    it(`${persona}: PIN and PUK blocks are zeroed once sent, and nothing is printed`, async () => {
      const { channel, session: s } = await session(persona);
      const spies = (['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((m) => vi.spyOn(console, m));
      const sentPins: string[] = [];
      channel.before = (c) => {
        if (c.ins === 0x20 || c.ins === 0x24 || c.ins === 0x2c) sentPins.push(Buffer.from(c.data ?? []).toString('latin1'));
      };
      channel.pinData.length = 0;
      await s.verifyPin('1234').catch(() => undefined);
      await s.verifyPin('9876').catch(() => undefined);
      if (persona === 'cps:medecin') await s.changePin('1234', '5555');
      await s.unblockPin('12345678', '1234');
      // The secrets did go to the card…
      expect(sentPins.some((p) => p.startsWith('1234'))).toBe(true);
      expect(sentPins.some((p) => p.includes('12345678'))).toBe(true);
      // …and every block handed to the channel is now zeros.
      expect(channel.pinData.length).toBe(4);
      for (const data of channel.pinData) expect([...data].every((b) => b === 0), hex(data)).toBe(true);
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    });
  }

  it('passes a transport error through unchanged (card removed during a signature or a decryption)', async () => {
    const { channel, session: s } = await session('cps:medecin');
    await s.verifyPin('1234');
    const removed = new TransportError('CARD_REMOVED', 'probe: card removed');
    channel.override = (c) => {
      if (c.ins === 0x2a) throw removed;
      return undefined;
    };
    await expect(s.signHash(new Uint8Array(32))).rejects.toBe(removed);
    await expect(s.decrypt(new Uint8Array(256))).rejects.toBe(removed);
  });

  it('logout on a card that does not support VERIFY P1=FF says a card reset is needed', async () => {
    const { channel, session: s } = await session('cps:medecin');
    await s.verifyPin('1234');
    channel.override = (c) => (c.ins === 0x20 && c.p1 === 0xff ? sw(0x6a86) : undefined);
    expect(await s.logout()).toEqual({ resetRequired: true });
    // A card that answers 90 00 but stays verified is caught by the status check.
    channel.override = (c) => (c.ins === 0x20 && c.p1 === 0xff ? sw(0x9000) : undefined);
    expect(await s.logout()).toEqual({ resetRequired: true });
  });
});

describe('identity details', () => {
  it('reads the serial from EF.SN.ICC as a real CPS3 writes it (and with 2 leading RFU bytes)', () => {
    expect(serialFromSnIcc(fromHex('5A 0A 80 25 00 00 01 26 00 97 18 45'))).toBe('2600971845');
    expect(serialFromSnIcc(fromHex('00 00 5A 0A 80 25 00 00 01 26 00 97 18 45'))).toBe('2600971845');
    expect(serialFromSnIcc(fromHex('5A 0A 80 25 00 00 02 26 00 97 18 45'))).toBeUndefined();
  });

  it('national identifiers: 8 + RPPS, 0 + ADELI; anything else is refused', () => {
    expect(parseNationalId('899900000101')).toEqual({ nationalId: '99900000101', idType: 'RPPS' });
    expect(parseNationalId('0751234567')).toEqual({ nationalId: '751234567', idType: 'ADELI' });
    expect(parseNationalId('899900000101/CPS')).toEqual({ nationalId: '99900000101', idType: 'RPPS' });
    for (const cn of ['99900000101', '89990000010', '3123456789', '']) expect(() => parseNationalId(cn)).toThrow(CardError);
  });

  it('without the profession extension (a real CPS certificate), the profession comes from the title', async () => {
    const creds = await pki.issuePractitioner(
      'real-shaped-nurse',
      { rpps: '99900000199', surname: 'DUBOIS', givenName: 'EMMA', professionCode: '60', professionLabel: 'Infirmière', structureId: '4999', structureName: 'CABINET' },
      { includeProfessionExtension: false },
    );
    const identity = identityFromCertificate(creds.authentication.certificateDer);
    expect(identity).toMatchObject({ nationalId: '99900000199', professionCode: '60', professionLabel: 'Infirmière', surname: 'DUBOIS', givenName: 'EMMA' });
    expect(identity.specialtyCode).toBeUndefined();
    const unknown = await pki.issuePractitioner(
      'real-shaped-unknown',
      { rpps: '99900000198', surname: 'X', givenName: 'Y', professionCode: '99', professionLabel: 'Sorcier', structureId: '4999', structureName: 'CABINET' },
      { includeProfessionExtension: false },
    );
    const noProfession = identityFromCertificate(unknown.authentication.certificateDer);
    expect(noProfession.professionCode).toBeUndefined();
    expect(noProfession.professionLabel).toBe('Sorcier');
  });

  it('a certificate that does not parse is a CARD_ERROR', () => {
    expect(() => identityFromCertificate(fromHex('30 03 02 01 00'))).toThrow(CardError);
  });
});
