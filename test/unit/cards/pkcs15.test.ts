// PKCS#15 parsers on the byte-exact files of a real-card-shaped CPS3 (docs/research/opensc-cpx.md
// §3.3 and §11, validated with OpenSC 0.23) and on the simulator's own encoding; random bytes give
// CardErrors only.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CardError } from '../../../src/cards/errors.js';
import { buildPinBlock } from '../../../src/cards/pin-block.js';
import {
  ALGORITHM_OPERATION,
  findAlgRef,
  KEY_USAGE,
  MECHANISM,
  parseAodf,
  parseCdf,
  parseDodf,
  parseEfDir,
  parseOdf,
  parsePrkdf,
  parseTokenInfo,
  PIN_FLAG,
} from '../../../src/cards/pkcs15.js';
import { fromHex, hex } from '../../../src/iso7816/hex.js';

const AID = 'E8 28 BD 08 0F 80 25 00 00 01 FF 00 10';
const label = (s: string) => hex(new TextEncoder().encode(s));

// ---- real-card-shaped files (research note §3.3 / §11) -------------------------------------------

const REAL_EF_DIR = fromHex(`61 29 4F 0D ${AID} 50 07 43 50 58 20 49 41 53 73 0F 4F 0D ${AID} 00 00 00`);
const REAL_ODF = fromHex('A8 06 30 04 04 02 50 03 A0 06 30 04 04 02 50 01 A4 06 30 04 04 02 50 02 A7 06 30 04 04 02 50 04');
const REAL_TOKEN_INFO = fromHex(`
30 81 EC 02 01 00 04 08 00 00 01 99 21 48 03 8F 0C 0A 41 53 49 50 20 53 41 4E 54 45
80 11 43 50 53 33 76 33 2D 32 36 30 30 39 37 31 38 34 35 03 02 06 C0
A2 81 A6
 30 17 02 01 01 02 02 02 20 05 00 03 02 01 02 06 05 2B 0E 03 02 1A 02 01 10
 30 1B 02 01 02 02 02 02 50 05 00 03 02 01 02 06 09 60 86 48 01 65 03 04 02 01 02 01 40
 30 1A 02 01 03 02 01 06 05 00 03 02 06 40 06 09 2A 86 48 86 F7 0D 01 01 05 02 01 12
 30 1A 02 01 04 02 01 40 05 00 03 02 06 40 06 09 2A 86 48 86 F7 0D 01 01 0B 02 01 42
 30 1A 02 01 05 02 01 01 05 00 03 02 06 40 06 09 2A 86 48 86 F7 0D 01 01 01 02 01 02
 30 1A 02 01 06 02 01 01 05 00 03 02 02 04 06 09 2A 86 48 86 F7 0D 01 01 01 02 01 1A
A5 11 18 0F 32 30 31 30 30 33 31 36 31 31 30 30 30 30 5A`);
const REAL_PRKDF = fromHex(`
30 50 30 20 0C 0C 43 50 53 5F 50 52 49 56 5F 53 49 47 03 02 07 80 04 01 01 30 09 30 07 03 02 02 04 04 01 01
30 20 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 01 03 03 06 00 40 01 01 FF 03 02 04 B0 02 02 00 81
A1 0A 30 08 30 02 04 00 02 02 08 00
30 59 30 2A 0C 0C 43 50 53 5F 50 52 49 56 5F 41 55 54 03 02 06 C0 04 01 01 30 13 30 07 03 02 00 01 04 01 01
30 08 03 03 06 00 40 04 01 01 30 1F 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 02 03 02 05 60 01 01 FF
03 02 04 B0 02 02 00 82 A1 0A 30 08 30 02 04 00 02 02 08 00`);
const REAL_CDF = fromHex(`
30 3B 30 1D 0C 1B ${label('Certificat de Signature CPS')}
30 10 04 0E ${AID} 01 A1 08 30 06 30 04 04 02 70 01
30 41 30 23 0C 21 ${label("Certificat d'Authentification CPS")}
30 10 04 0E ${AID} 02 A1 08 30 06 30 04 04 02 70 02`);
const REAL_AODF = fromHex('30 26 30 08 0C 03 50 49 4E 03 01 00 30 03 04 01 01 A1 15 30 13 03 02 03 C8 0A 01 01 02 01 04 02 01 04 80 01 01 04 01 FF');
const REAL_AODF_PADDED = fromHex('30 26 30 08 0C 03 50 49 4E 03 01 00 30 03 04 01 01 A1 15 30 13 03 02 02 CC 0A 01 01 02 01 04 02 01 08 80 01 01 04 01 FF');
const REAL_DODF = fromHex(`
30 1E 30 0D 0C 0B 43 50 53 5F 49 44 5F 43 41 52 44 30 05 0C 03 43 50 53 A1 06 30 04 04 02 E0 01
30 25 30 14 0C 0B 43 50 53 5F 4E 41 4D 45 5F 50 53 03 02 07 80 04 01 01 30 05 0C 03 43 50 53 A1 06 30 04 04 02 E0 02`);

describe('PKCS#15 parsers on a real CPS3 layout', () => {
  it('EF.DIR: the contact IAS application, its label, trailing padding ignored', () => {
    const apps = parseEfDir(REAL_EF_DIR);
    expect(apps).toHaveLength(1);
    expect(hex(apps[0]!.aid)).toBe(AID);
    expect(apps[0]!.label).toBe('CPX IAS');
    expect(apps[0]!.path).toBeUndefined();
  });

  it('ODF: 2-byte relative paths of the four directories', () => {
    const odf = parseOdf(REAL_ODF);
    expect(odf.authObjects.map((p) => hex(p.path))).toEqual(['50 03']);
    expect(odf.privateKeys.map((p) => hex(p.path))).toEqual(['50 01']);
    expect(odf.certificates.map((p) => hex(p.path))).toEqual(['50 02']);
    expect(odf.dataObjects.map((p) => hex(p.path))).toEqual(['50 04']);
    expect(odf.publicKeys).toEqual([]);
  });

  it('TokenInfo: serial, label, manufacturer and the algRefs (after the algId OIDs)', () => {
    const info = parseTokenInfo(REAL_TOKEN_INFO);
    expect(info.label).toBe('CPS3v3-2600971845');
    expect(info.manufacturerId).toBe('ASIP SANTE');
    expect(hex(info.serialNumber!)).toBe('00 00 01 99 21 48 03 8F');
    expect(info.algorithms).toHaveLength(6);
    expect(findAlgRef(info, MECHANISM.SHA256_RSA_PKCS, ALGORITHM_OPERATION.computeSignature)).toBe(0x42);
    expect(findAlgRef(info, MECHANISM.RSA_PKCS, ALGORITHM_OPERATION.computeSignature)).toBe(0x02);
    expect(findAlgRef(info, MECHANISM.RSA_PKCS, ALGORITHM_OPERATION.decipher)).toBe(0x1a);
    expect(findAlgRef(info, MECHANISM.SHA256, ALGORITHM_OPERATION.hash)).toBe(0x40);
    expect(findAlgRef(info, MECHANISM.SHA256_RSA_PKCS, ALGORITHM_OPERATION.decipher)).toBeUndefined();
  });

  it('PrKDF: IDs AID||nn, the empty key path 30 02 04 00, key references 81/82, usages', () => {
    const [sig, aut] = parsePrkdf(REAL_PRKDF);
    expect(sig).toMatchObject({ label: 'CPS_PRIV_SIG', keyReference: 0x81, modulusLength: 2048 });
    expect(hex(sig!.id)).toBe(`${AID} 01`);
    expect(sig!.path.path).toHaveLength(0);
    expect([...sig!.usage]).toEqual([KEY_USAGE.nonRepudiation]);
    expect(hex(sig!.authId!)).toBe('01');
    expect(aut).toMatchObject({ label: 'CPS_PRIV_AUT', keyReference: 0x82, modulusLength: 2048 });
    expect(hex(aut!.id)).toBe(`${AID} 02`);
    expect(aut!.usage.has(KEY_USAGE.decrypt) && aut!.usage.has(KEY_USAGE.sign)).toBe(true);
  });

  it('CDF: certificates with the same IDs as the keys and 2-byte paths', () => {
    const certs = parseCdf(REAL_CDF);
    expect(certs.map((c) => c.label)).toEqual(['Certificat de Signature CPS', "Certificat d'Authentification CPS"]);
    expect(hex(certs[0]!.id)).toBe(`${AID} 01`);
    expect(certs[1]!.value).toEqual({ path: { path: fromHex('70 02') } });
    expect(certs.every((c) => !c.authority)).toBe(true);
  });

  it('AODF: the PIN attributes give the VERIFY block (4 digits unpadded, or padded to 8 with FF)', () => {
    const [pin] = parseAodf(REAL_AODF);
    expect(pin!.pin).toMatchObject({ pinType: 'ascii-numeric', minLength: 4, storedLength: 4, pinReference: 1, padChar: 0xff });
    expect(pin!.pin.maxLength).toBeUndefined();
    expect([...pin!.pin.pinFlags].sort()).toEqual([0, 1, 4]);
    expect(hex(buildPinBlock('1234', pin!.pin))).toBe('31 32 33 34');
    const [padded] = parseAodf(REAL_AODF_PADDED);
    expect(padded!.pin.pinFlags.has(PIN_FLAG.needsPadding)).toBe(true);
    expect(hex(buildPinBlock('1234', padded!.pin))).toBe('31 32 33 34 FF FF FF FF');
  });

  it('DODF: the public and the private data objects', () => {
    const objects = parseDodf(REAL_DODF);
    expect(objects.map((o) => [o.label, o.applicationName, o.flags.has(0)])).toEqual([
      ['CPS_ID_CARD', 'CPS', false],
      ['CPS_NAME_PS', 'CPS', true],
    ]);
    expect(objects[1]!.value).toEqual({ path: { path: fromHex('E0 02') } });
  });

  it('skips object types it does not drive (EC keys, attribute certificates, biometrics)', () => {
    const ecKey = fromHex('A0 04 30 02 04 00');
    expect(parsePrkdf(Uint8Array.from([...ecKey, ...REAL_PRKDF]))).toHaveLength(2);
    expect(parseCdf(Uint8Array.from([...fromHex('A1 02 30 00'), ...REAL_CDF]))).toHaveLength(2);
    expect(parseAodf(Uint8Array.from([...fromHex('A0 02 30 00'), ...REAL_AODF]))).toHaveLength(1);
  });

  it('reads a direct certificate value ([0]) as well as a path; an entry without a value is an error', () => {
    const direct = fromHex('30 18 30 05 0C 03 41 42 43 30 03 04 01 09 A1 0A 30 08 A0 06 30 04 02 02 01 05');
    const [c] = parseCdf(direct);
    expect(c!.value).toEqual({ direct: fromHex('30 04 02 02 01 05') });
    expect(() => parseCdf(fromHex('30 0C 30 05 0C 03 41 42 43 30 03 04 01 09'))).toThrow(CardError);
  });
});

describe('PKCS#15 parsers: malformed input', () => {
  it('a TokenInfo without tokenflags, a truncated PrKDF, an unknown PIN type are CARD_ERRORs', () => {
    expect(() => parseTokenInfo(fromHex('30 03 02 01 00'))).toThrow(CardError);
    expect(() => parsePrkdf(REAL_PRKDF.subarray(0, 40))).toThrow(CardError);
    const badType = Uint8Array.from(REAL_AODF);
    badType[badType.indexOf(0x0a) + 2] = 9;
    expect(() => parseAodf(badType)).toThrow(expect.objectContaining({ code: 'CARD_ERROR', messages: expect.objectContaining({ en: expect.stringMatching(/unknown PIN type \(9\)/) }) }));
    expect(() => parseOdf(fromHex('A0 05 30 03 04 02'))).toThrow(expect.objectContaining({ code: 'CARD_ERROR' }));
  });

  const parsers = { parseEfDir, parseOdf, parseTokenInfo, parsePrkdf, parseCdf, parseAodf, parseDodf };
  const seeds = [REAL_EF_DIR, REAL_ODF, REAL_TOKEN_INFO, REAL_PRKDF, REAL_CDF, REAL_AODF, REAL_DODF];

  /** Random bytes, and real files with a few bytes changed (to get past the first tag). */
  const inputs = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat()).map(([seed, edits, cut]) => {
      const out = Uint8Array.from(seed);
      for (const [at, value] of edits) out[at % out.length] = value;
      return out.subarray(0, out.length - (cut % 8));
    }),
  );

  for (const [name, parse] of Object.entries(parsers)) {
    it(`${name}: 20,000 random or mutated inputs give a result or a CardError, nothing else`, () => {
      fc.assert(
        fc.property(inputs, (bytes) => {
          try {
            parse(bytes);
          } catch (error) {
            if (!(error instanceof CardError) || error.code !== 'CARD_ERROR') throw error;
          }
        }),
        { numRuns: 20_000 },
      );
    });
  }
});
