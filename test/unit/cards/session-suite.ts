// The card sessions' behaviour on every persona of simulator.md, as one suite run over two
// transports: an in-process RawCardChannel on the virtual card (test/unit/cards) and the real
// pcscd + vsmartcard-vpcd with a PC/SC channel (test/pcscd/cards-vpcd.test.ts). The sessions only
// see a CardChannel, so both runs must give the same results; APDU counts come from the card side.
import { constants, createHash, publicEncrypt, randomBytes, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticationSignedData } from '../../../src/cards/auth-token.js';
import { CpsSession } from '../../../src/cards/cps-session.js';
import { CardError, type CardErrorCode } from '../../../src/cards/errors.js';
import { VitaleSession } from '../../../src/cards/vitale-session.js';
import { computeInsC } from '../../../src/ins/ins-c.js';
import { TestPki } from '../../../src/pki/test-pki.js';
import { createPersonaCard } from '../../../src/simulator/card-factory.js';
import { personaCredentials } from '../../../src/simulator/cps/create-cps-card.js';
import { CPS_PERSONAS, type CpsPersonaId, type PersonaId, type VitalePersonaId } from '../../../src/simulator/personas.js';
import type { VirtualCard } from '../../../src/simulator/virtual-card.js';
import { VITALE_PERSONAS } from '../../../src/simulator/vitale/personas.js';
import type { CardChannel } from '../../../src/transport/card-channel.js';

/** A card put into a reader by a harness. */
export interface InsertedCard {
  readonly channel: CardChannel;
  /** Command APDUs the card received since the last resetApduCount() (GET RESPONSE included). */
  apduCount(): number;
  resetApduCount(): void;
  remove(): Promise<void>;
}

export interface CardHarness {
  insert(card: VirtualCard): Promise<InsertedCard>;
  close(): Promise<void>;
}

const CHALLENGE = Buffer.from(randomBytes(32)).toString('base64'); // 44 characters, as the DMP sends
const ORIGIN = 'https://dmp.example:8443';

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

async function expectCardError(promise: Promise<unknown>, code: CardErrorCode, details: { triesRemaining?: number } = {}): Promise<CardError> {
  const error = await caught(promise);
  expect(error).toBeInstanceOf(CardError);
  const e = error as CardError;
  expect(e.code).toBe(code);
  if (details.triesRemaining !== undefined) expect(e.triesRemaining).toBe(details.triesRemaining);
  expect(e.messageIn('fr').length).toBeGreaterThan(0);
  expect(e.messageIn('en').length).toBeGreaterThan(0);
  return e;
}

/** A card with an ATR no session knows (valid ATR structure, random historical bytes). */
function unknownCard(): VirtualCard {
  const historical = randomBytes(8);
  const body = [0x80 | historical.length, 0x80, 0x01, ...historical];
  const atr = Uint8Array.from([0x3b, ...body, body.reduce((a, b) => a ^ b, 0)]);
  return { family: 'CPS3', atr, transmit: () => Uint8Array.of(0x6d, 0x00), reset: () => undefined };
}

export function describeCardSessions(name: string, makeHarness: () => Promise<CardHarness>): void {
  describe(name, () => {
    let pki: TestPki;
    let harness: CardHarness;
    const counts = new Map<string, number>();

    beforeAll(async () => {
      pki = await TestPki.open(mkdtempSync(join(tmpdir(), 'cb-cards-')));
      harness = await makeHarness();
    });

    afterAll(async () => {
      await harness?.close();
      if (counts.size > 0) {
        const width = Math.max(...[...counts.keys()].map((k) => k.length));
        const lines = [...counts].map(([op, n]) => `  ${op.padEnd(width)}  ${String(n).padStart(3)}`);
        console.log(`APDUs per operation (${name}):\n${lines.join('\n')}`);
      }
    });

    /** Inserts a card for the enclosing describe block; `current()` inside its tests. */
    function slot(make: () => Promise<VirtualCard>) {
      let inserted: InsertedCard | undefined;
      let virtualCard: VirtualCard | undefined;
      beforeAll(async () => {
        virtualCard = await make();
        inserted = await harness.insert(virtualCard);
      });
      afterAll(async () => {
        await inserted?.remove();
      });
      return {
        get inserted(): InsertedCard {
          if (!inserted) throw new Error('no card inserted');
          return inserted;
        },
        get card(): VirtualCard {
          if (!virtualCard) throw new Error('no card');
          return virtualCard;
        },
        /** Runs `fn`, records its APDU count under `label` and returns its result. */
        async measure<T>(label: string | null, fn: () => Promise<T>): Promise<{ value: T; apdus: number }> {
          inserted!.resetApduCount();
          const value = await fn();
          const apdus = inserted!.apduCount();
          if (label) counts.set(label, apdus);
          return { value, apdus };
        },
      };
    }

    const persona = (id: PersonaId) => () => createPersonaCard(id, { pki });

    // ---- identity and certificates of every CPS persona -----------------------------------------

    const expectations: Record<CpsPersonaId, { professionCode: string; specialtyCode?: string }> = {
      'cps:medecin': { professionCode: '10', specialtyCode: 'SM54' },
      'cps:medecin-cps4': { professionCode: '10', specialtyCode: 'SM54' },
      'cps:infirmier': { professionCode: '60' },
      'cps:pharmacien': { professionCode: '21' },
      'cps:podologue': { professionCode: '80' },
      'cps:medecin-travail': { professionCode: '10', specialtyCode: 'SM43' },
      'cps:revoked': { professionCode: '10', specialtyCode: 'SM54' },
      'cps:expired': { professionCode: '10', specialtyCode: 'SM54' },
      'cps:blocked': { professionCode: '10', specialtyCode: 'SM54' },
    };

    for (const id of Object.keys(CPS_PERSONAS) as CpsPersonaId[]) {
      describe(`${id}: identity and certificates without the PIN`, () => {
        const s = slot(persona(id));
        const p = CPS_PERSONAS[id];

        it('reads both certificates, byte for byte those the PKI issued; a second read sends no APDU', async () => {
          const session = await CpsSession.open(s.inserted.channel);
          expect(session.family).toBe(p.family);
          const first = await s.measure(id === 'cps:medecin' || id === 'cps:medecin-cps4' ? `${p.family} getCertificates (first)` : null, () => session.getCertificates());
          const issued = await personaCredentials(pki, p);
          expect(Buffer.from(first.value.authentication).equals(Buffer.from(issued.authentication.certificateDer))).toBe(true);
          expect(Buffer.from(first.value.signature).equals(Buffer.from(issued.signature.certificateDer))).toBe(true);
          expect(first.apdus).toBeGreaterThan(0);
          const second = await s.measure(id === 'cps:medecin' || id === 'cps:medecin-cps4' ? `${p.family} getCertificates (again)` : null, () => session.getCertificates());
          expect(second.apdus).toBe(0);
          expect(Buffer.from(second.value.authentication).equals(Buffer.from(first.value.authentication))).toBe(true);
        });

        it('reports the identity of the certificates and the card serial', async () => {
          const session = await CpsSession.open(s.inserted.channel);
          const { value: identity } = await s.measure(id === 'cps:medecin' || id === 'cps:medecin-cps4' ? `${p.family} getIdentity (fresh session)` : null, () => session.getIdentity());
          const expected = expectations[id];
          expect(identity).toMatchObject({
            family: p.family,
            serial: p.cardSerial,
            nationalId: p.rpps,
            idType: 'RPPS',
            surname: p.surname,
            givenName: p.givenName,
            professionCode: expected.professionCode,
            professionLabel: p.professionLabel,
          });
          expect(identity.specialtyCode).toBe(expected.specialtyCode);
          const notAfter = Date.parse(identity.notAfter);
          if (p.certificates === 'expired') expect(notAfter).toBeLessThan(Date.now());
          else expect(notAfter).toBeGreaterThan(Date.now());
          expect(notAfter).toBe(Date.parse(new X509Certificate((await session.getCertificates()).authentication).validTo));
        });
      });
    }

    // ---- the whole PIN and key life on a CPS3 and a CPS4 ----------------------------------------

    for (const id of ['cps:medecin', 'cps:medecin-cps4'] as const) {
      const family = CPS_PERSONAS[id].family;
      describe(`${id} (${family}): PIN, activities, signature, authentication, decryption`, () => {
        const s = slot(persona(id));
        let session: CpsSession;
        let authCert: X509Certificate;
        let signCert: X509Certificate;

        beforeAll(async () => {
          session = await CpsSession.open(s.inserted.channel);
          const certs = await session.getCertificates();
          authCert = new X509Certificate(certs.authentication);
          signCert = new X509Certificate(certs.signature);
        });

        it('reports 3 tries left, not blocked, not verified', async () => {
          const { value } = await s.measure(`${family} pinStatus (first)`, () => session.pinStatus());
          expect(value).toEqual({ triesRemaining: 3, maxTries: 3, blocked: false, verified: false });
          const again = await s.measure(`${family} pinStatus`, () => session.pinStatus());
          expect(again.value.verified).toBe(false);
        });

        it('answers PIN_REQUIRED to every PIN-protected operation before the PIN', async () => {
          await expectCardError(session.getActivities(), 'PIN_REQUIRED');
          await expectCardError(session.signHash(createHash('sha256').update('x').digest()), 'PIN_REQUIRED');
          await expectCardError(session.authenticate(ORIGIN, CHALLENGE, 'test'), 'PIN_REQUIRED');
          await expectCardError(session.decrypt(publicEncrypt({ key: authCert.publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from('k'))), 'PIN_REQUIRED');
        });

        it('checks the PIN format before sending anything, and counts a wrong PIN', async () => {
          for (const bad of ['12a4', '123', '123456789', '', ' 1234']) {
            const { apdus } = await s.measure(null, () => expectCardError(session.verifyPin(bad), 'INVALID_PARAMS'));
            expect(apdus).toBe(0); // the AODF is known by now: not even a SELECT
          }
          expect((await session.pinStatus()).triesRemaining).toBe(3);
          const e = await expectCardError(session.verifyPin('9999'), 'PIN_INCORRECT', { triesRemaining: 2 });
          expect(e.message).not.toContain('9999');
          expect((await session.pinStatus()).triesRemaining).toBe(2);
        });

        it('verifies the right PIN (the counter is back to 3)', async () => {
          await s.measure(`${family} verifyPin`, () => session.verifyPin('1234'));
          expect(await session.pinStatus()).toEqual({ triesRemaining: 3, maxTries: 3, blocked: false, verified: true });
        });

        it('reads the activities once the PIN is verified', async () => {
          const { value } = await s.measure(`${family} getActivities`, () => session.getActivities());
          expect(value).toEqual(CPS_PERSONAS[id].activities.map((a, i) => ({ index: i + 1, ...a })));
        });

        it('signs a SHA-256 hash with the signature key (PKCS#1 v1.5), verifiable with its certificate only', async () => {
          const message = Buffer.from('Compte rendu de consultation');
          const hash = createHash('sha256').update(message).digest();
          const { value: signature } = await s.measure(`${family} signHash PKCS1`, () => session.signHash(hash));
          expect(verify('sha256', message, signCert.publicKey, signature)).toBe(true);
          expect(verify('sha256', message, authCert.publicKey, signature)).toBe(false);
          expect(verify('sha256', Buffer.from('autre document'), signCert.publicKey, signature)).toBe(false);
        });

        if (family === 'CPS4') {
          it('signs with PSS (32-byte salt) on the CPS4', async () => {
            const message = Buffer.from('ordonnance');
            const hash = createHash('sha256').update(message).digest();
            const { value: signature } = await s.measure('CPS4 signHash PSS', () => session.signHash(hash, { padding: 'PSS' }));
            const pss = { key: signCert.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
            expect(verify('sha256', message, pss, signature)).toBe(true);
            expect(verify('sha256', message, signCert.publicKey, signature)).toBe(false);
          });
        } else {
          it('refuses PSS on the CPS3 (UNSUPPORTED_ALGORITHM) without sending anything', async () => {
            const { apdus } = await s.measure(null, () => expectCardError(session.signHash(new Uint8Array(32), { padding: 'PSS' }), 'UNSUPPORTED_ALGORITHM'));
            expect(apdus).toBe(0);
          });
        }

        it('refuses hashes that are not SHA-256 (UNSUPPORTED_ALGORITHM)', async () => {
          await expectCardError(session.signHash(new Uint8Array(20)), 'UNSUPPORTED_ALGORITHM');
          await expectCardError(session.signHash(new Uint8Array(64)), 'UNSUPPORTED_ALGORITHM');
        });

        it('makes an authentication token valid for its origin only', async () => {
          const { value: token } = await s.measure(`${family} authenticate`, () => session.authenticate(ORIGIN, CHALLENGE, '1.2.3'));
          expect(token).toMatchObject({ format: 'cardbridge-auth:1', algorithm: 'RS256', origin: ORIGIN, appVersion: '1.2.3' });
          expect(token.unverifiedCertificate).toBe(authCert.raw.toString('base64'));
          const signature = Buffer.from(token.signature, 'base64');
          expect(verify('sha256', authenticationSignedData(ORIGIN, CHALLENGE), authCert.publicKey, signature)).toBe(true);
          expect(verify('sha256', authenticationSignedData('https://evil.example', CHALLENGE), authCert.publicKey, signature)).toBe(false);
          expect(verify('sha256', authenticationSignedData('https://dmp.example', CHALLENGE), authCert.publicKey, signature)).toBe(false);
          expect(verify('sha256', authenticationSignedData(ORIGIN, Buffer.from(randomBytes(32)).toString('base64')), authCert.publicKey, signature)).toBe(false);
          expect(verify('sha256', authenticationSignedData(ORIGIN, CHALLENGE), signCert.publicKey, signature)).toBe(false);
          const desktop = await session.authenticate('app:logiciel-cabinet', CHALLENGE, '1.2.3');
          expect(verify('sha256', authenticationSignedData('app:logiciel-cabinet', CHALLENGE), authCert.publicKey, Buffer.from(desktop.signature, 'base64'))).toBe(true);
        });

        it('refuses malformed origins and challenges before touching the card', async () => {
          for (const origin of ['https://dmp.example/', 'https://dmp.example:443', 'http://dmp.example', 'HTTPS://dmp.example', 'https://user@dmp.example', 'https://dmp.example/path', 'null', '', 'app:']) {
            const { apdus } = await s.measure(null, () => expectCardError(session.authenticate(origin, CHALLENGE, '1'), 'INVALID_PARAMS'));
            expect(apdus).toBe(0);
          }
          for (const challenge of [CHALLENGE.replace(/=$/, ''), 'A'.repeat(40) + '====', Buffer.from(randomBytes(16)).toString('base64'), Buffer.from(randomBytes(97)).toString('base64'), CHALLENGE.replace(/^./, '-')]) {
            await expectCardError(session.authenticate(ORIGIN, challenge, '1'), 'INVALID_PARAMS');
          }
          for (const origin of ['http://localhost:3000', 'http://127.0.0.1', 'https://a.b.example:1']) {
            await expect(session.authenticate(origin, CHALLENGE, '1')).resolves.toMatchObject({ origin });
          }
        });

        it('deciphers a PKCS#1 v1.5 cryptogram made for its authentication key', async () => {
          const secret = randomBytes(32);
          const ciphertext = publicEncrypt({ key: authCert.publicKey, padding: constants.RSA_PKCS1_PADDING }, secret);
          const { value } = await s.measure(`${family} decrypt`, () => session.decrypt(ciphertext));
          expect(Buffer.from(value).equals(secret)).toBe(true);
        });

        it('answers one uniform DECRYPT_FAILED for every bad cryptogram', async () => {
          const forSignatureKey = publicEncrypt({ key: signCert.publicKey, padding: constants.RSA_PKCS1_PADDING }, randomBytes(32));
          const oaep = publicEncrypt({ key: authCert.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING }, randomBytes(32));
          const messages = new Set<string>();
          for (const bad of [randomBytes(256), forSignatureKey, oaep, new Uint8Array(256), randomBytes(255), randomBytes(10), new Uint8Array(256).fill(0xff)]) {
            const e = await expectCardError(session.decrypt(bad), 'DECRYPT_FAILED');
            messages.add(`${e.messageIn('fr')}|${e.messageIn('en')}|${String(e.sw)}`);
          }
          expect(messages.size).toBe(1);
          // The card is still usable afterwards.
          const secret = randomBytes(16);
          expect(Buffer.from(await session.decrypt(publicEncrypt({ key: authCert.publicKey, padding: constants.RSA_PKCS1_PADDING }, secret))).equals(secret)).toBe(true);
        });

        it('re-selects and re-sets its security environment when another application used the card', async () => {
          // Another PC/SC application: selects the MF and sets the security environment for itself.
          const other = family === 'CPS3'
            ? ['00 A4 09 0C 02 3F 00', '00 22 41 B6 06 84 01 81 80 01 12', '00 22 F3 01']
            : ['01 A4 04 0C 08 80 25 00 00 01 FF 01 00', '01 22 81 B6 04 91 02 0A 80', '00 70 80 01'];
          for (const apdu of other) s.card.transmit(Buffer.from(apdu.replace(/ /g, ''), 'hex'));
          const hash = createHash('sha256').update('après une autre application').digest();
          expect(verify('sha256', Buffer.from('après une autre application'), signCert.publicKey, await session.signHash(hash))).toBe(true);
          for (const apdu of other) s.card.transmit(Buffer.from(apdu.replace(/ /g, ''), 'hex'));
          const token = await session.authenticate(ORIGIN, CHALLENGE, '1');
          expect(verify('sha256', authenticationSignedData(ORIGIN, CHALLENGE), authCert.publicKey, Buffer.from(token.signature, 'base64'))).toBe(true);
        });

        // CPS4: VERIFY of the old PIN, then CHANGE REFERENCE DATA P1=01 with the new one (the ANS
        // Cryptolib's sequence, docs/research/opensc-cpx.md §8).
        it('changes the PIN: the new one works, the old one no longer does', async () => {
          await s.measure(`${family} changePin`, () => session.changePin('1234', '5678'));
          await session.verifyPin('5678');
          await expectCardError(session.verifyPin('1234'), 'PIN_INCORRECT', { triesRemaining: 2 });
          await session.changePin('5678', '1234');
          await session.verifyPin('1234');
          await expectCardError(session.changePin('9999', '1111'), 'PIN_INCORRECT', { triesRemaining: 2 });
          await expectCardError(session.changePin('1234', '12'), 'INVALID_PARAMS');
          await session.verifyPin('1234');
        });

        it('logs out: the card forgets the verified PIN', async () => {
          const { value } = await s.measure(`${family} logout`, () => session.logout());
          expect(value).toEqual({ resetRequired: false });
          expect((await session.pinStatus()).verified).toBe(false);
          await expectCardError(session.signHash(new Uint8Array(32)), 'PIN_REQUIRED');
        });
      });

      describe(`${id} (${family}): a blocked PIN and its unblocking`, () => {
        const s = slot(persona(id));

        it('blocks after three wrong PINs, then unblocks with the PUK and a new PIN', async () => {
          const session = await CpsSession.open(s.inserted.channel);
          await expectCardError(session.verifyPin('0000'), 'PIN_INCORRECT', { triesRemaining: 2 });
          await expectCardError(session.verifyPin('0000'), 'PIN_INCORRECT', { triesRemaining: 1 });
          await expectCardError(session.verifyPin('0000'), 'PIN_BLOCKED');
          expect(await session.pinStatus()).toEqual({ triesRemaining: 0, maxTries: 3, blocked: true, verified: false });
          await expectCardError(session.verifyPin('1234'), 'PIN_BLOCKED');
          await expectCardError(session.unblockPin('1234567', '4321'), 'INVALID_PARAMS');
          const wrongPuk = await expectCardError(session.unblockPin('87654321', '4321'), 'PIN_INCORRECT', { triesRemaining: 9 });
          expect(wrongPuk.messageIn('en')).toMatch(/PUK/);
          await s.measure(`${family} unblockPin`, () => session.unblockPin('12345678', '4321'));
          expect((await session.pinStatus()).blocked).toBe(false);
          await session.verifyPin('4321');
          const hash = createHash('sha256').update('après déblocage').digest();
          const signature = await session.signHash(hash);
          expect(verify('sha256', Buffer.from('après déblocage'), new X509Certificate((await session.getCertificates()).signature).publicKey, signature)).toBe(true);
        });
      });
    }

    describe('cps:blocked: the persona issued with a blocked PIN', () => {
      const s = slot(persona('cps:blocked'));

      it('reports the PIN blocked and refuses it; the PUK unblocks it', async () => {
        const session = await CpsSession.open(s.inserted.channel);
        expect(await session.pinStatus()).toEqual({ triesRemaining: 0, maxTries: 3, blocked: true, verified: false });
        await expectCardError(session.verifyPin('1234'), 'PIN_BLOCKED');
        await expectCardError(session.signHash(new Uint8Array(32)), 'PIN_REQUIRED');
        await session.unblockPin('12345678', '2468');
        expect(await session.pinStatus()).toMatchObject({ triesRemaining: 3, blocked: false });
        await session.verifyPin('2468');
        expect((await session.pinStatus()).verified).toBe(true);
      });
    });

    // ---- Vitale 2 ---------------------------------------------------------------------------------

    function expectedBeneficiaries(id: VitalePersonaId) {
      return VITALE_PERSONAS[id].beneficiaries.map((b) => ({
        nir: b.nir,
        nirKeyValid: true,
        ownNir: b.ownNir,
        surname: b.surname,
        ...(b.birthSurname === undefined ? {} : { birthSurname: b.birthSurname }),
        givenName: b.givenName,
        birthDateRaw: b.birthDateRaw,
        birthRank: b.birthRank,
        quality: b.quality,
        insC: b.ownNir === null ? null : computeInsC(b.givenName, b.birthDateRaw.slice(2), b.ownNir.slice(0, 13)),
        amo: { ...b.amo },
      }));
    }

    for (const id of Object.keys(VITALE_PERSONAS) as VitalePersonaId[]) {
      describe(`${id}: vitale.read`, () => {
        const s = slot(persona(id));

        it('reads every beneficiary, with the INS-C only from an own NIR', async () => {
          const session = await VitaleSession.open(s.inserted.channel);
          const { value } = await s.measure(`VITALE2 read (${id})`, () => session.read());
          const p = VITALE_PERSONAS[id];
          expect(value.family).toBe('VITALE2');
          expect(value.serial).toBe(p.cardSerial);
          expect(value.validFrom).toBe(`${p.validityStart.slice(0, 4)}-${p.validityStart.slice(4, 6)}-${p.validityStart.slice(6)}`);
          expect(value.beneficiaries).toHaveLength(p.beneficiaries.length);
          const expected = expectedBeneficiaries(id);
          value.beneficiaries.forEach((b, i) => expect(b).toMatchObject(expected[i]!));
          for (const b of value.beneficiaries) {
            if (b.insC !== null) expect(b.insC).toMatch(/^[0-9]{22}$/);
          }
        });

        if (id === 'vitale:famille') {
          it('famille: three beneficiaries, each with an own NIR and an INS-C', async () => {
            const { beneficiaries } = await (await VitaleSession.open(s.inserted.channel)).read();
            expect(beneficiaries.map((b) => b.givenName)).toEqual(['JEAN', 'MARIE', 'LUCAS']);
            expect(beneficiaries.every((b) => b.ownNir !== null && b.insC !== null)).toBe(true);
            expect(new Set(beneficiaries.map((b) => b.insC)).size).toBe(3);
            expect(beneficiaries.map((b) => b.birthDate)).toEqual(['1978-04-15', '1980-09-22', '2012-03-05']);
            expect(beneficiaries[1]!.birthSurname).toBe('LEFEBVRE');
          });
        }
        if (id === 'vitale:corse') {
          it('corse: 2A and 2B NIRs have valid keys and give INS-Cs with 2A/2B kept', async () => {
            const { beneficiaries } = await (await VitaleSession.open(s.inserted.channel)).read();
            expect(beneficiaries.map((b) => b.ownNir?.slice(5, 7))).toEqual(['2A', '2B']);
            expect(beneficiaries.every((b) => b.nirKeyValid)).toBe(true);
            expect(beneficiaries[1]!.insC).toBe(computeInsC('MATTEU', '150921', '115092B033011'));
          });
        }
        if (id === 'vitale:lunaire') {
          it('lunaire: lunar birth dates are kept raw, with no ISO date, and still give an INS-C', async () => {
            const { beneficiaries } = await (await VitaleSession.open(s.inserted.channel)).read();
            expect(beneficiaries.map((b) => [b.birthDateRaw, b.birthDate])).toEqual([
              ['19620000', null],
              ['19673205', null],
            ]);
            expect(beneficiaries[0]!.insC).toBe(computeInsC('YOUSSEF', '620000', '1622099350123'));
          });
        }
        if (id === 'vitale:ayant-droit') {
          it('ayant-droit: no own NIR, so no INS-C (the insured parent NIR is never used for it)', async () => {
            const { beneficiaries } = await (await VitaleSession.open(s.inserted.channel)).read();
            expect(beneficiaries).toHaveLength(1);
            expect(beneficiaries[0]).toMatchObject({ ownNir: null, insC: null, nir: '175063155504285', givenName: 'LEA' });
          });
        }
      });
    }

    // ---- wrong cards ------------------------------------------------------------------------------

    describe('a card of an unknown family', () => {
      const s = slot(async () => unknownCard());

      it('is refused by both sessions with UNSUPPORTED_CARD, without an APDU', async () => {
        const { apdus } = await s.measure(null, async () => {
          await expectCardError(CpsSession.open(s.inserted.channel), 'UNSUPPORTED_CARD');
          await expectCardError(VitaleSession.open(s.inserted.channel), 'UNSUPPORTED_CARD');
        });
        expect(apdus).toBe(0);
      });
    });

    describe('a card in the wrong session', () => {
      const vitale = slot(persona('vitale:famille'));

      it('a Vitale card is not a CPS', async () => {
        await expectCardError(CpsSession.open(vitale.inserted.channel), 'UNSUPPORTED_CARD');
      });
    });
  });
}
