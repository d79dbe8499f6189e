// Pinpad reader: PC/SC part 10 feature list and FEATURE_VERIFY_PIN_DIRECT with a PIN supplied by
// the test, formatted into the VERIFY APDU as the PIN_VERIFY_STRUCTURE says.
import { describe, expect, it } from 'vitest';
import {
  CM_IOCTL_GET_FEATURE_REQUEST,
  createMockPcsc,
  FEATURE_VERIFY_PIN_DIRECT,
  SCARD,
} from '../../../native-mocks/pcsclite/index.js';
import { buildVerifyPinDirect } from '../../../src/iso7816/part10.js';
import { TestCard } from '../../support/test-card.js';
import { connect, control, transmit, waitReader } from './helpers.js';

const T1 = SCARD.SCARD_PROTOCOL_T1;

/** PIN_VERIFY_STRUCTURE (little-endian multi-byte fields), 19-byte header + APDU. */
function pinVerifyStructure(o: { format: number; block: number; lengthFormat: number; min: number; max: number; apdu: string }): Buffer {
  const apdu = Buffer.from(o.apdu.replace(/\s+/g, ''), 'hex');
  const header = Buffer.alloc(19);
  header[0] = 0x1e; // bTimerOut
  header[1] = 0x1e; // bTimerOut2
  header[2] = o.format;
  header[3] = o.block;
  header[4] = o.lengthFormat;
  header.writeUInt16LE((o.min << 8) | o.max, 5); // wPINMaxExtraDigit: min (high), max (low)
  header[7] = 0x02; // bEntryValidationCondition: validation key
  header[8] = 0x01; // bNumberMessage
  header.writeUInt16LE(0x040c, 9); // wLangId (fr-FR)
  header[11] = 0x00; // bMsgIndex
  // bTeoPrologue (3 bytes) stay 0
  header.writeUInt32LE(apdu.length, 15);
  return Buffer.concat([header, apdu]);
}

const asciiPadded = (apdu = '00 20 00 01 08 FF FF FF FF FF FF FF FF') =>
  pinVerifyStructure({ format: 0x82, block: 0x08, lengthFormat: 0x00, min: 4, max: 8, apdu });

function featureCode(features: Buffer, tag: number): number | undefined {
  for (let i = 0; i + 6 <= features.length; i += 2 + (features[i + 1] ?? 0)) {
    if (features[i] === tag) return features.readUInt32BE(i + 2);
  }
  return undefined;
}

async function pinpadSetup() {
  const mock = createMockPcsc({ readers: [{ name: 'Pinpad', pinpad: true }, 'Plain'] });
  const card = new TestCard();
  mock.insertCard('Pinpad', card);
  const r = await waitReader(mock.pcsc, 'Pinpad');
  await connect(r, { share_mode: SCARD.SCARD_SHARE_SHARED });
  const features = await control(r, CM_IOCTL_GET_FEATURE_REQUEST, Buffer.alloc(0));
  const verifyCode = featureCode(features, FEATURE_VERIFY_PIN_DIRECT);
  if (verifyCode === undefined) throw new Error('no FEATURE_VERIFY_PIN_DIRECT');
  return { mock, card, r, verifyCode };
}

describe('mock pcsclite: pinpad reader', () => {
  it('lists FEATURE_VERIFY_PIN_DIRECT with a control code; a plain reader lists nothing', async () => {
    const { mock, verifyCode, r } = await pinpadSetup();
    expect(CM_IOCTL_GET_FEATURE_REQUEST).toBe(0x42000000 + 3400);
    expect(verifyCode).toBe(r.SCARD_CTL_CODE(3400 + 6));
    mock.insertCard('Plain', new TestCard());
    const plain = await waitReader(mock.pcsc, 'Plain');
    await connect(plain, { share_mode: SCARD.SCARD_SHARE_SHARED });
    expect(await control(plain, CM_IOCTL_GET_FEATURE_REQUEST, Buffer.alloc(0))).toEqual(Buffer.alloc(0));
    await expect(control(plain, verifyCode, asciiPadded())).rejects.toThrow('SCardControl error: Feature not supported.(0x8010001f)');
    await expect(control(r, r.SCARD_CTL_CODE(1), Buffer.alloc(0))).rejects.toThrow('Feature not supported.');
  });

  it('runs the VERIFY with the digits the test supplied, formatted as the structure says', async () => {
    const { mock, card, r, verifyCode } = await pinpadSetup();
    mock.setPinpadEntry('Pinpad', '1234');
    expect(await control(r, verifyCode, asciiPadded())).toEqual(Buffer.from([0x90, 0x00]));
    expect(card.verified).toBe(true);
    const log = mock.apduLog('Pinpad');
    expect(log.at(-1)).toMatchObject({ command: '00 20 00 01 08 31 32 33 34 FF FF FF FF', response: '90 00' });
    // the verified state is the card's: a plain APDU afterwards sees it
    expect((await transmit(r, '80 CA 00 00 00', T1))[0]).toBe(1);
  });

  it('a wrong PIN reaches the card and costs a try', async () => {
    const { mock, card, r, verifyCode } = await pinpadSetup();
    mock.setPinpadEntry('Pinpad', '9999');
    expect(await control(r, verifyCode, asciiPadded())).toEqual(Buffer.from([0x63, 0xc2]));
    expect(card.triesLeft).toBe(2);
  });

  it('cancel and timeout answer 64 01 / 64 00 without touching the card; an entry is used once', async () => {
    const { mock, card, r, verifyCode } = await pinpadSetup();
    mock.setPinpadEntry('Pinpad', 'cancel');
    expect(await control(r, verifyCode, asciiPadded())).toEqual(Buffer.from([0x64, 0x01]));
    mock.setPinpadEntry('Pinpad', 'timeout');
    expect(await control(r, verifyCode, asciiPadded())).toEqual(Buffer.from([0x64, 0x00]));
    mock.setPinpadEntry('Pinpad', '1234');
    await control(r, verifyCode, asciiPadded());
    // nobody types: timeout
    expect(await control(r, verifyCode, asciiPadded())).toEqual(Buffer.from([0x64, 0x00]));
    expect(card.commands).toHaveLength(1);
    expect(card.triesLeft).toBe(3);
  });

  it('refuses a PIN outside the structure min/max length with 64 03', async () => {
    const { mock, card, r, verifyCode } = await pinpadSetup();
    mock.setPinpadEntry('Pinpad', '123');
    expect(await control(r, verifyCode, asciiPadded())).toEqual(Buffer.from([0x64, 0x03]));
    mock.setPinpadEntry('Pinpad', '123456789');
    expect(await control(r, verifyCode, asciiPadded())).toEqual(Buffer.from([0x64, 0x03]));
    expect(card.commands).toHaveLength(0);
  });

  it('formats an ISO 9564 format 2 block (BCD, 4-bit length)', async () => {
    const { mock, r, verifyCode } = await pinpadSetup();
    mock.setPinpadEntry('Pinpad', '12345');
    const structure = pinVerifyStructure({
      format: 0x89, // bytes, PIN at byte 1, left-justified, BCD
      block: 0x48, // 4-bit PIN length, 8-byte block
      lengthFormat: 0x04, // length at bit 4
      min: 4,
      max: 12,
      apdu: '00 20 00 01 08 2F FF FF FF FF FF FF FF',
    });
    await control(r, verifyCode, structure);
    expect(mock.apduLog('Pinpad').at(-1)?.command).toBe('00 20 00 01 08 25 12 34 5F FF FF FF FF');
  });

  it('rejects a malformed structure and a verify on a removed card', async () => {
    const { mock, r, verifyCode } = await pinpadSetup();
    mock.setPinpadEntry('Pinpad', '1234');
    await expect(control(r, verifyCode, Buffer.from([1, 2, 3]))).rejects.toThrow('SCardControl error: Feature not supported.(0x8010001f)');
    mock.removeCard('Pinpad');
    await expect(control(r, verifyCode, asciiPadded())).rejects.toThrow('SCardControl error: Card was removed.(0x80100069)');
  });

  it('control needs a connection and a big enough buffer', async () => {
    const { r } = await pinpadSetup();
    await expect(control(r, CM_IOCTL_GET_FEATURE_REQUEST, Buffer.alloc(0), 3)).rejects.toThrow(
      'SCardControl error: Insufficient buffer.(0x80100008)',
    );
    const mock = createMockPcsc({ readers: [{ name: 'P', pinpad: true }] });
    const idle = await waitReader(mock.pcsc, 'P');
    await expect(control(idle, CM_IOCTL_GET_FEATURE_REQUEST, Buffer.alloc(0))).rejects.toThrow(/^Card Reader not connected$/);
    // DIRECT: the reader's features without a card
    await connect(idle, { share_mode: SCARD.SCARD_SHARE_DIRECT, protocol: 0 });
    expect((await control(idle, CM_IOCTL_GET_FEATURE_REQUEST, Buffer.alloc(0)))[0]).toBe(FEATURE_VERIFY_PIN_DIRECT);
  });

  it('accepts what the iso7816 layer builds for a CPS3 VERIFY (ASCII, FF padding)', async () => {
    const { mock, card, r, verifyCode } = await pinpadSetup();
    const structure = buildVerifyPinDirect({ apdu: { cla: 0x00, ins: 0x20, p1: 0x00, p2: 0x01 }, pinFormat: 'ascii', pinMinLength: 4, pinMaxLength: 8 });
    mock.setPinpadEntry('Pinpad', '1234');
    expect(await control(r, verifyCode, Buffer.from(structure))).toEqual(Buffer.from([0x90, 0x00]));
    expect(card.verified).toBe(true);
    expect(mock.apduLog('Pinpad').at(-1)?.command).toBe('00 20 00 01 08 31 32 33 34 FF FF FF FF');
  });
});
