// Detached CMS signatures of documents: built with a persona's signature key (or by the virtual
// CPS3 card itself, APDU by APDU), verified by the service, refused when anything was altered,
// and interoperable with OpenSSL both ways.
import { execFileSync, spawnSync } from 'node:child_process';
import { constants, createPrivateKey, privateEncrypt } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import fc from 'fast-check';
import * as pkijs from 'pkijs';
import { beforeAll, describe, expect, it } from 'vitest';
import { transmitApdu } from '../../../src/iso7816/t0.js';
import { fromHex } from '../../../src/iso7816/hex.js';
import { buildDetachedSignedData, CmsBuildError } from '../../../src/pki/cms/build-detached.js';
import { CMS_OID } from '../../../src/pki/cms/cms-oids.js';
import { buildSignedAttributes, compareDerForSet, signedAttributesHash } from '../../../src/pki/cms/signed-attributes.js';
import { verifyDetachedSignature } from '../../../src/pki/cms/verify-detached.js';
import { toPem } from '../../../src/pki/pem.js';
import type { PractitionerCredentials, TestPki } from '../../../src/pki/test-pki.js';
import { createPersonaCard } from '../../../src/simulator/card-factory.js';
import { personaCredentials } from '../../../src/simulator/cps/create-cps-card.js';
import { CPS_PERSONAS } from '../../../src/simulator/personas.js';
import { freshDir, openPki, validatorFor } from './helpers.js';

const DIGEST_INFO_SHA256 = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/** What the card does for PSO CDS with algorithm 42: DigestInfo(SHA-256) + PKCS#1 v1.5 type 1. */
function signHashWith(pkcs8: Uint8Array): (hash: Uint8Array) => Promise<Uint8Array> {
  const key = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  return async (hash) => new Uint8Array(privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO_SHA256, hash])));
}

const letter = new TextEncoder().encode('Compte rendu de consultation du 12 mars : tension 12/8, pas de traitement.\n');

let pki: TestPki;
let doctor: PractitionerCredentials;
let nurse: PractitionerCredentials;

beforeAll(async () => {
  pki = await openPki();
  doctor = await personaCredentials(pki, CPS_PERSONAS['cps:medecin']);
  nurse = await personaCredentials(pki, CPS_PERSONAS['cps:infirmier']);
});

function signAs(who: PractitionerCredentials, content = letter, signingTime?: Date): Promise<Uint8Array> {
  return buildDetachedSignedData({
    content,
    certificate: who.signature.certificateDer,
    signSignedAttributesHash: signHashWith(who.signature.privateKeyPkcs8Der),
    ...(signingTime ? { signingTime } : {}),
  });
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe('round trip', () => {
  it('verifies a signature made with the persona signature key and reports the signer and time', async () => {
    const at = new Date('2025-03-12T09:30:00Z');
    const cms = await signAs(doctor, letter, at);
    const result = await verifyDetachedSignature(cms, letter);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(same(result.signerCertificate, doctor.signature.certificateDer)).toBe(true);
    expect(result.signingTime?.toISOString()).toBe(at.toISOString());
    // the signer certificate then passes the validator as a signature certificate
    const { validator } = await validatorFor(pki);
    expect((await validator.validate(result.signerCertificate, 'signature')).ok).toBe(true);
  });

  it('verifies a signature computed by the virtual CPS3 card (MSE, VERIFY, PSO CDS with the hash)', async () => {
    const card = await createPersonaCard('cps:medecin', { pki });
    const send = (hex: string | Uint8Array) => transmitApdu(async (b) => card.transmit(b), typeof hex === 'string' ? decode(hex) : decode(hex));
    const decode = (apdu: string | Uint8Array) => {
      const bytes = typeof apdu === 'string' ? fromHex(apdu) : apdu;
      return { cla: bytes[0] ?? 0, ins: bytes[1] ?? 0, p1: bytes[2] ?? 0, p2: bytes[3] ?? 0, ...(bytes.length > 5 ? { data: bytes.subarray(5) } : {}), le: 256 };
    };
    expect((await send('00 A4 04 0C 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10')).sw).toBe(0x9000);
    expect((await send('00 22 41 B6 06 80 01 42 84 01 81')).sw).toBe(0x9000);
    expect((await send('00 20 00 01 08 31 32 33 34 FF FF FF FF')).sw).toBe(0x9000);
    const cms = await buildDetachedSignedData({
      content: letter,
      certificate: doctor.signature.certificateDer,
      signSignedAttributesHash: async (hash) => {
        const response = await send(Uint8Array.from([0x00, 0x2a, 0x9e, 0x9a, hash.length, ...hash]));
        expect(response.sw).toBe(0x9000);
        return response.data;
      },
    });
    const result = await verifyDetachedSignature(cms, letter);
    expect(result.ok && same(result.signerCertificate, doctor.signature.certificateDer)).toBe(true);
  });

  it('puts the signed attributes in DER SET OF order and hands the signer SHA-256 of exactly those bytes', async () => {
    let seen: Uint8Array | undefined;
    const cms = await buildDetachedSignedData({
      content: letter,
      certificate: doctor.signature.certificateDer,
      signSignedAttributesHash: async (hash) => ((seen = hash), signHashWith(doctor.signature.privateKeyPkcs8Der)(hash)),
    });
    const signerInfo = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(new Uint8Array(cms).buffer).content }).signerInfos[0];
    const encoded = new Uint8Array(signerInfo?.signedAttrs?.encodedValue ?? new ArrayBuffer(0));
    expect(seen).toEqual(await signedAttributesHash(encoded));
    const ders = (signerInfo?.signedAttrs?.attributes ?? []).map((a) => new Uint8Array(a.toSchema().toBER(false)));
    expect(ders.length).toBe(4);
    for (let i = 1; i < ders.length; i++) expect(compareDerForSet(ders[i - 1] as Uint8Array, ders[i] as Uint8Array)).toBeLessThan(0);
  });

  it('refuses to build when the signer used another key than the certificate', async () => {
    await expect(
      buildDetachedSignedData({
        content: letter,
        certificate: doctor.signature.certificateDer,
        signSignedAttributesHash: signHashWith(doctor.authentication.privateKeyPkcs8Der),
      }),
    ).rejects.toBeInstanceOf(CmsBuildError);
  });
});

describe('refusals', () => {
  it('refuses altered content', async () => {
    const cms = await signAs(doctor);
    const altered = new Uint8Array(letter);
    altered[30] = (altered[30] ?? 0) ^ 0x01;
    const result = await verifyDetachedSignature(cms, altered);
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/messageDigest/) });
    expect((await verifyDetachedSignature(cms, new Uint8Array(0))).ok).toBe(false);
  });

  it('reports the other signer when another practitioner signed (the caller compares with the session)', async () => {
    const cms = await signAs(nurse);
    const result = await verifyDetachedSignature(cms, letter);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(same(result.signerCertificate, nurse.signature.certificateDer)).toBe(true);
    expect(same(result.signerCertificate, doctor.signature.certificateDer)).toBe(false);
  });

  it('refuses garbage, truncation, other content types and a flipped signature byte, without throwing', async () => {
    const cms = await signAs(doctor);
    const flipped = new Uint8Array(cms);
    flipped[flipped.length - 10] = (flipped[flipped.length - 10] ?? 0) ^ 0x80;
    const dataContentInfo = new Uint8Array(
      new pkijs.ContentInfo({ contentType: CMS_OID.data, content: new asn1js.OctetString({ valueHex: new Uint8Array(letter).buffer }) }).toSchema().toBER(false),
    );
    for (const bad of [new Uint8Array(0), new Uint8Array([0x30, 0x00]), cms.subarray(0, cms.length - 1), flipped, dataContentInfo, new Uint8Array(2 * 1024 * 1024)]) {
      const result = await verifyDetachedSignature(bad, letter);
      expect(result.ok).toBe(false);
    }
    expect((await verifyDetachedSignature('nope' as never, letter)).ok).toBe(false);
  });

  it('refuses a signingCertificateV2 attribute that names another certificate', async () => {
    // Built by hand: the attributes name the nurse's certificate, the doctor signs and is included.
    const certificate = pkijs.Certificate.fromBER(new Uint8Array(doctor.signature.certificateDer).buffer);
    const { attributes, der } = await buildSignedAttributes({
      contentDigest: new Uint8Array(await crypto.subtle.digest('SHA-256', letter)),
      certificateDer: nurse.signature.certificateDer,
      signingTime: new Date(),
    });
    const signature = await signHashWith(doctor.signature.privateKeyPkcs8Der)(await signedAttributesHash(der));
    const signedData = new pkijs.SignedData({
      version: 1,
      digestAlgorithms: [new pkijs.AlgorithmIdentifier({ algorithmId: CMS_OID.sha256 })],
      encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: CMS_OID.data }),
      certificates: [certificate],
      signerInfos: [
        new pkijs.SignerInfo({
          version: 1,
          sid: new pkijs.IssuerAndSerialNumber({ issuer: certificate.issuer, serialNumber: certificate.serialNumber }),
          digestAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: CMS_OID.sha256 }),
          signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes }),
          signatureAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: CMS_OID.rsaEncryption, algorithmParams: new asn1js.Null() }),
          signature: new asn1js.OctetString({ valueHex: new Uint8Array(signature).buffer }),
        }),
      ],
    });
    const cms = new Uint8Array(new pkijs.ContentInfo({ contentType: CMS_OID.signedData, content: signedData.toSchema(true) }).toSchema().toBER(false));
    expect(await verifyDetachedSignature(cms, letter)).toMatchObject({ ok: false, reason: expect.stringMatching(/signingCertificateV2/) });
  });
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe.skipIf(!hasOpenssl)('OpenSSL interoperability', () => {
  function files() {
    const dir = freshDir('cb-cms-');
    const write = (name: string, data: string | Uint8Array) => {
      const path = join(dir, name);
      writeFileSync(path, data);
      return path;
    };
    return { dir, write };
  }

  it('openssl cms -verify accepts what the builder makes, chained to the test CAs (S/MIME signing purpose)', async () => {
    const { write } = files();
    const signature = write('letter.p7s', await signAs(doctor));
    const content = write('letter.txt', letter);
    // OpenSSL 3.0's cms has no -untrusted: the intermediate goes in the CA file beside the root.
    const cas = write('cas.pem', toPem('CERTIFICATE', pki.caCertificate('root')) + toPem('CERTIFICATE', pki.caCertificate('persons')));
    const output = execFileSync(
      'openssl',
      ['cms', '-verify', '-binary', '-inform', 'DER', '-in', signature, '-content', content, '-CAfile', cas, '-out', '/dev/null'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(output).toBe('');
    const tampered = write('tampered.txt', new TextEncoder().encode('autre chose'));
    const refused = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', signature, '-content', tampered, '-noverify', '-out', '/dev/null']);
    expect(refused.status).not.toBe(0);
  });

  it('verifyDetachedSignature accepts a detached signature made by openssl cms -sign, and refuses an attached one', async () => {
    const { write } = files();
    const content = write('letter.txt', letter);
    const certificate = write('signer.pem', toPem('CERTIFICATE', doctor.signature.certificateDer));
    const key = write('signer.key', toPem('PRIVATE KEY', doctor.signature.privateKeyPkcs8Der));
    const detached = write('detached.p7s', new Uint8Array(0));
    execFileSync('openssl', ['cms', '-sign', '-binary', '-md', 'sha256', '-in', content, '-signer', certificate, '-inkey', key, '-outform', 'DER', '-out', detached]);
    const result = await verifyDetachedSignature(new Uint8Array(readFileSync(detached)), letter);
    expect(result.ok && same(result.signerCertificate, doctor.signature.certificateDer)).toBe(true);

    const attached = write('attached.p7s', new Uint8Array(0));
    execFileSync('openssl', ['cms', '-sign', '-nodetach', '-binary', '-md', 'sha256', '-in', content, '-signer', certificate, '-inkey', key, '-outform', 'DER', '-out', attached]);
    expect(await verifyDetachedSignature(new Uint8Array(readFileSync(attached)), letter)).toMatchObject({ ok: false, reason: expect.stringMatching(/not detached/) });

    const sha1 = write('sha1.p7s', new Uint8Array(0));
    execFileSync('openssl', ['cms', '-sign', '-binary', '-md', 'sha1', '-in', content, '-signer', certificate, '-inkey', key, '-outform', 'DER', '-out', sha1]);
    expect(await verifyDetachedSignature(new Uint8Array(readFileSync(sha1)), letter)).toMatchObject({ ok: false, reason: expect.stringMatching(/SHA-256/) });
  });
});

describe('random input', () => {
  it('never throws on random bytes and never accepts them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), fc.uint8Array({ maxLength: 64 }), async (cms, content) => {
        const result = await verifyDetachedSignature(cms, content);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(typeof result.reason).toBe('string');
      }),
      { numRuns: 3000 },
    );
  });

  it('with one byte of a genuine signature changed: refused, or still naming the very same signer', async () => {
    const cms = await signAs(doctor);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: cms.length - 1 }), fc.integer({ min: 1, max: 255 }), async (index, xor) => {
        const mutated = new Uint8Array(cms);
        mutated[index] = (mutated[index] ?? 0) ^ xor;
        const result = await verifyDetachedSignature(mutated, letter);
        if (result.ok) expect(same(result.signerCertificate, doctor.signature.certificateDer)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
