// sealMessage / openMessage / routingMetadata with the personas' virtual CPS cards: the doctor's
// card signs (PSO CDS), the nurse's card deciphers the content key (PSO DECIPHER), both over
// APDUs. Then what must not open: another practitioner, altered bytes at every layer, a signer
// who is not the sender.
import { constants, createPrivateKey, privateEncrypt, publicDecrypt } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  MAX_ATTACHMENTS_BYTES,
  openMessage,
  routingMetadata,
  sealMessage,
  type OpenRequest,
  type SealRequest,
  type SecureMessage,
} from '../../../src/messaging/index.js';
import { readCertificate } from '../../../src/messaging/certificates.js';
import { AES256_CBC_OID, buildEnvelopedData, ENVELOPED_DATA_OID } from '../../../src/messaging/enveloped-data.js';
import { encodeMime } from '../../../src/messaging/mime-encode.js';
import { unwrapSignedData, wrapSignedData } from '../../../src/messaging/pkcs7-mime.js';
import { buildEncapsulatedSignedData } from '../../../src/messaging/signed-data.js';
import type { TestPki } from '../../../src/pki/test-pki.js';
import { CertificateValidator } from '../../../src/pki/validation/certificate-validator.js';
import { FileCrlSource } from '../../../src/pki/validation/file-crl-source.js';
import { cardHolder, includes, letter, openPki, type CardHolder } from './helpers.js';

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const RSAES_OAEP = '1.2.840.113549.1.1.7';

let pki: TestPki;
let doctor: CardHolder;
let nurse: CardHolder;
let pharmacist: CardHolder;
let message: SecureMessage;
let sealed: Uint8Array;

async function expectMessageError(promise: Promise<unknown>, code: string, reason?: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected MessageError ${code}`).toBeDefined();
  expect((error as { name?: string }).name).toBe('MessageError');
  expect((error as { code?: string }).code).toBe(code);
  if (reason) expect((error as Error).message).toMatch(reason);
}

function sealRequest(overrides: Partial<SealRequest> = {}): SealRequest {
  return {
    mime: message,
    signerCertificate: doctor.credentials.signature.certificateDer,
    signHash: doctor.signHash,
    recipientCertificates: [nurse.credentials.authentication.certificateDer, doctor.credentials.authentication.certificateDer],
    ...overrides,
  };
}

function openAs(holder: CardHolder, envelopedDer: Uint8Array, overrides: Partial<OpenRequest> = {}): ReturnType<typeof openMessage> {
  return openMessage({ envelopedDer, recipientCertificate: holder.credentials.authentication.certificateDer, decryptKey: holder.decryptKey, ...overrides });
}

function parseEnvelope(der: Uint8Array): pkijs.EnvelopedData {
  const contentInfo = pkijs.ContentInfo.fromBER(new Uint8Array(der).buffer);
  expect(contentInfo.contentType).toBe(ENVELOPED_DATA_OID);
  return new pkijs.EnvelopedData({ schema: contentInfo.content });
}

/** Offset of the ciphertext in the envelope (it is the last element, primitive [0]). */
function ciphertextRange(der: Uint8Array): { start: number; length: number } {
  const envelope = parseEnvelope(der);
  const length = envelope.encryptedContentInfo.encryptedContent?.valueBlock.valueHexView.byteLength ?? 0;
  expect(length).toBeGreaterThan(0);
  return { start: der.length - length, length };
}

function flipped(der: Uint8Array, offset: number): Uint8Array {
  const copy = new Uint8Array(der);
  copy[offset] = (copy[offset] as number) ^ 0x01;
  return copy;
}

/** An envelope to the nurse around a SignedData the test altered: what an attacker can build. */
async function envelopeAround(signedData: Uint8Array): Promise<Uint8Array> {
  return buildEnvelopedData(wrapSignedData(signedData), [readCertificate(nurse.credentials.authentication.certificateDer)]);
}

function replaceOnce(haystack: Uint8Array, needle: Uint8Array, replacement: Uint8Array): Uint8Array {
  expect(replacement.length).toBe(needle.length);
  const at = Buffer.from(haystack).indexOf(Buffer.from(needle));
  expect(at).toBeGreaterThanOrEqual(0);
  const copy = new Uint8Array(haystack);
  copy.set(replacement, at);
  return copy;
}

beforeAll(async () => {
  pki = await openPki();
  [doctor, nurse, pharmacist] = await Promise.all([cardHolder(pki, 'cps:medecin'), cardHolder(pki, 'cps:infirmier'), cardHolder(pki, 'cps:pharmacien')]);
  message = letter(doctor.practitioner, [nurse.practitioner]);
  sealed = await sealMessage(sealRequest());
});

describe('a message from the doctor to the nurse', () => {
  it('opens with the nurse’s card: the same message, the doctor as signer, the PDF intact', async () => {
    const nurseApdus = nurse.apdus.length;
    const opened = await openAs(nurse, sealed);
    expect(opened.mime).toEqual(message);
    expect(opened.mime.attachments[0]?.content).toEqual(message.attachments[0]?.content);
    expect(opened.signer.nationalId).toBe('99900000101');
    expect(opened.signer.name).toBe('SOPHIE MARTIN');
    expect(Buffer.from(opened.signer.certificate).equals(Buffer.from(doctor.credentials.signature.certificateDer))).toBe(true);
    expect(opened.signatureValid).toBe(true);
    expect(opened.signerCheck).toBeUndefined();
    expect(Math.abs((opened.signingTime?.getTime() ?? 0) - Date.now())).toBeLessThan(5 * 60_000);
    // The nurse's card deciphered: MSE SET decipher (00 22 41 B8) then a chained PSO DECIPHER
    // (10 2A 80 86 … then 00 2A 80 86) with the padding-indicator byte 81.
    const sent = nurse.apdus.slice(nurseApdus);
    expect(sent.some((a) => a.startsWith('002241b8'))).toBe(true);
    const pso = sent.findIndex((a) => a.startsWith('102a8086'));
    expect(pso).toBeGreaterThanOrEqual(0);
    expect(sent[pso]?.slice(10, 12)).toBe('81');
    expect(sent.slice(pso + 1).some((a) => a.startsWith('002a8086'))).toBe(true);
  });

  it('was signed by the doctor’s card: PSO COMPUTE DIGITAL SIGNATURE (00 2A 9E 9A) with the signature key', () => {
    expect(doctor.apdus.some((a) => a.startsWith('002a9e9a'))).toBe(true);
    expect(doctor.apdus.some((a) => a.startsWith('002241b6'))).toBe(true);
  });

  it('opens with the sender’s own card (his copy)', async () => {
    const opened = await openAs(doctor, sealed);
    expect(opened.mime).toEqual(message);
    expect(opened.signer.nationalId).toBe(doctor.practitioner.nationalId);
  });

  it('is an EnvelopedData v0 with rsaEncryption (PKCS#1 v1.5, not OAEP) key transport to issuer+serial, AES-256-CBC', () => {
    const envelope = parseEnvelope(sealed);
    expect(envelope.version).toBe(0);
    expect(envelope.recipientInfos).toHaveLength(2);
    const serials = new Set<string>();
    for (const info of envelope.recipientInfos) {
      expect(info.variant).toBe(1);
      const ktri = info.value as pkijs.KeyTransRecipientInfo;
      expect(ktri.version).toBe(0);
      expect(ktri.keyEncryptionAlgorithm.algorithmId).toBe(RSA_ENCRYPTION);
      expect(ktri.keyEncryptionAlgorithm.algorithmId).not.toBe(RSAES_OAEP);
      expect(ktri.rid).toBeInstanceOf(pkijs.IssuerAndSerialNumber);
      expect(ktri.encryptedKey.valueBlock.valueHexView.byteLength).toBe(256);
      serials.add(Buffer.from((ktri.rid as pkijs.IssuerAndSerialNumber).serialNumber.valueBlock.valueHexView).toString('hex').replace(/^00/, '').toUpperCase());
    }
    expect(serials).toEqual(new Set([nurse.credentials.authentication.serialHex, doctor.credentials.authentication.serialHex]));
    const algorithm = envelope.encryptedContentInfo.contentEncryptionAlgorithm;
    expect(algorithm.algorithmId).toBe(AES256_CBC_OID);
    expect((algorithm.algorithmParams as asn1js.OctetString).valueBlock.valueHexView.byteLength).toBe(16);
    // DER: the content is one primitive [0], not BER pieces of indefinite length
    expect(envelope.encryptedContentInfo.encryptedContent?.idBlock.isConstructed).toBe(false);
  });

  it('carries nothing of the message in clear: not the subject, body, names, file name or PDF', () => {
    for (const secret of [message.subject, 'Hélène', 'pansement', 'compte-rendu', 'SOPHIE', 'PETIT', '%PDF-1.4']) {
      for (const form of [Buffer.from(secret, 'utf8'), Buffer.from(Buffer.from(secret, 'utf8').toString('base64').slice(0, 8))]) {
        expect(includes(sealed, form), secret).toBe(false);
      }
    }
  });

  it('gives a different envelope each time (fresh content key and IV)', async () => {
    const again = await sealMessage(sealRequest());
    expect(Buffer.from(again).equals(Buffer.from(sealed))).toBe(false);
    const a = ciphertextRange(sealed);
    const b = ciphertextRange(again);
    expect(Buffer.from(sealed.subarray(a.start, a.start + 32)).equals(Buffer.from(again.subarray(b.start, b.start + 32)))).toBe(false);
  });

  it('opens on a CPS4 too (the card returns the padded block and the host removes the padding)', async () => {
    const cps4 = await cardHolder(pki, 'cps:medecin-cps4');
    const toBoth = letter(doctor.practitioner, [nurse.practitioner, cps4.practitioner]);
    const envelope = await sealMessage(
      sealRequest({ mime: toBoth, recipientCertificates: [nurse.credentials.authentication.certificateDer, cps4.credentials.authentication.certificateDer, doctor.credentials.authentication.certificateDer] }),
    );
    expect((await openAs(cps4, envelope)).mime).toEqual(toBoth);
    expect(cps4.apdus.some((a) => a.startsWith('012a8086') || a.startsWith('112a8086'))).toBe(true); // PSO DECIPHER on logical channel 1
  });

  it('signs the MIME bytes it is given as they are', async () => {
    const mime = encodeMime(message);
    const opened = await openAs(nurse, await sealMessage(sealRequest({ mime })));
    expect(opened.mime).toEqual(message);
  });
});

describe('who cannot open it', () => {
  it('a third practitioner (the pharmacist), even holding the blob: NOT_A_RECIPIENT, his card never asked', async () => {
    const decryptKey = vi.fn(pharmacist.decryptKey);
    await expectMessageError(openAs(pharmacist, sealed, { decryptKey }), 'NOT_A_RECIPIENT');
    expect(decryptKey).not.toHaveBeenCalled();
  });

  it('the pharmacist claiming to be the nurse: his card cannot decipher her key (TAMPERED, the card refused)', async () => {
    await expectMessageError(
      openMessage({ envelopedDer: sealed, recipientCertificate: nurse.credentials.authentication.certificateDer, decryptKey: pharmacist.decryptKey }),
      'TAMPERED',
      /card refused/,
    );
  });

  it('the nurse without her PIN: the card’s PIN_REQUIRED passes through, not disguised as tampering', async () => {
    const fresh = await cardHolder(pki, 'cps:infirmier');
    await fresh.session.logout();
    const error = await openAs(fresh, sealed).catch((e: unknown) => e);
    expect((error as { name?: string }).name).toBe('CardError');
    expect((error as { code?: string }).code).toBe('PIN_REQUIRED');
  });
});

describe('tampering', () => {
  it('any flipped byte of the ciphertext (first block, middle, last block) is TAMPERED', async () => {
    const { start, length } = ciphertextRange(sealed);
    for (const offset of [start, start + 17, start + Math.floor(length / 2), start + length - 20, start + length - 1]) {
      await expectMessageError(openAs(nurse, flipped(sealed, offset)), 'TAMPERED');
    }
  });

  it('a flipped IV byte is TAMPERED', async () => {
    const { start } = ciphertextRange(sealed);
    // AlgorithmIdentifier { aes256-CBC, OCTET STRING (16) } precedes the [0] ciphertext header (4 bytes here)
    const ivEnd = start - 4;
    await expectMessageError(openAs(nurse, flipped(sealed, ivEnd - 1)), 'TAMPERED');
  });

  it('a flipped byte of the nurse’s encrypted key is TAMPERED (the card refuses the cryptogram)', async () => {
    const envelope = parseEnvelope(sealed);
    const mine = envelope.recipientInfos
      .map((i) => i.value as pkijs.KeyTransRecipientInfo)
      .find((k) => (k.rid as pkijs.IssuerAndSerialNumber).serialNumber.isEqual(readCertificate(nurse.credentials.authentication.certificateDer).certificate.serialNumber));
    const key = new Uint8Array(mine?.encryptedKey.valueBlock.valueHexView ?? []);
    const altered = new Uint8Array(key);
    altered[100] = (altered[100] as number) ^ 0x40;
    await expectMessageError(openAs(nurse, replaceOnce(sealed, key, altered)), 'TAMPERED');
  });

  it('the signed content altered inside a valid envelope is TAMPERED (messageDigest)', async () => {
    const mime = encodeMime(message);
    const signedData = await buildEncapsulatedSignedData({ content: mime, signer: readCertificate(doctor.credentials.signature.certificateDer), signHash: doctor.signHash, signingTime: new Date() });
    // Swap two base64 characters of the body part inside the SignedData: the MIME still parses.
    const bodyLine = /charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n(.{8})/.exec(Buffer.from(mime).toString('latin1'))?.[1] as string;
    const swapped = bodyLine.slice(4, 8) + bodyLine.slice(0, 4);
    const altered = replaceOnce(signedData, Buffer.from(bodyLine, 'latin1'), Buffer.from(swapped, 'latin1'));
    // the untouched SignedData in the same kind of envelope opens: only the change makes it fail
    expect((await openAs(nurse, await envelopeAround(signedData))).mime).toEqual(message);
    await expectMessageError(openAs(nurse, await envelopeAround(altered)), 'TAMPERED', /messageDigest/);
  });

  it('an altered signed attribute or signature byte is TAMPERED (signature)', async () => {
    const signingTime = new Date('2025-03-04T10:15:42Z');
    const signedData = await buildEncapsulatedSignedData({ content: encodeMime(message), signer: readCertificate(doctor.credentials.signature.certificateDer), signHash: doctor.signHash, signingTime });
    // signingTime is UTCTime "250304101542Z": make it 11:15
    const time = Buffer.from('250304101542Z', 'latin1');
    await expectMessageError(openAs(nurse, await envelopeAround(replaceOnce(signedData, time, Buffer.from('250304111542Z', 'latin1')))), 'TAMPERED', /signature/);
    const tail = signedData.length - 10; // inside the signature value, the last element
    await expectMessageError(openAs(nurse, await envelopeAround(flipped(signedData, tail))), 'TAMPERED', /signature/);
  });

  it('a SignedData whose signer certificate (and signer identifier) was swapped for another practitioner’s is TAMPERED', async () => {
    const signedData = await buildEncapsulatedSignedData({ content: encodeMime(message), signer: readCertificate(doctor.credentials.signature.certificateDer), signHash: doctor.signHash, signingTime: new Date() });
    const reencoded = (swap: boolean): Uint8Array => {
      const sd = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(new Uint8Array(signedData).buffer).content });
      if (swap) {
        const other = readCertificate(pharmacist.credentials.signature.certificateDer).certificate;
        sd.certificates = [other];
        (sd.signerInfos[0] as pkijs.SignerInfo).sid = new pkijs.IssuerAndSerialNumber({ issuer: other.issuer, serialNumber: other.serialNumber });
      }
      return new Uint8Array(new pkijs.ContentInfo({ contentType: '1.2.840.113549.1.7.2', content: sd.toSchema(true) }).toSchema().toBER(false));
    };
    // pkijs re-encodes faithfully enough (BER content pieces included) for the untouched one to open
    expect((await openAs(nurse, await envelopeAround(reencoded(false)))).mime).toEqual(message);
    await expectMessageError(openAs(nurse, await envelopeAround(reencoded(true))), 'TAMPERED', /signingCertificateV2|signature/);
  });

  it('a message signed by someone other than its From is SENDER_MISMATCH (when sealing and when opening)', async () => {
    await expectMessageError(sealMessage(sealRequest({ signerCertificate: pharmacist.credentials.signature.certificateDer, signHash: pharmacist.signHash })), 'SENDER_MISMATCH');
    // built by hand past sealMessage's check: the pharmacist signs a message claiming to be the doctor's
    const forged = await buildEncapsulatedSignedData({ content: encodeMime(message), signer: readCertificate(pharmacist.credentials.signature.certificateDer), signHash: pharmacist.signHash, signingTime: new Date() });
    await expectMessageError(openAs(nurse, await envelopeAround(forged)), 'SENDER_MISMATCH');
  });

  it('bytes that are no envelope are MALFORMED; an OAEP key transport is MALFORMED (the card cannot)', async () => {
    await expectMessageError(openAs(nurse, new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])), 'MALFORMED');
    await expectMessageError(openAs(nurse, sealed.subarray(0, sealed.length - 1)), 'MALFORMED');
    await expectMessageError(openAs(nurse, new Uint8Array([...sealed, 0])), 'MALFORMED', /trailing/);
    const oaepOid = new Uint8Array(new asn1js.ObjectIdentifier({ value: RSAES_OAEP }).toBER(false));
    const rsaOid = new Uint8Array(new asn1js.ObjectIdentifier({ value: RSA_ENCRYPTION }).toBER(false));
    let oaep = sealed;
    for (let i = 0; i < 2; i++) oaep = replaceOnce(oaep, rsaOid, oaepOid);
    await expectMessageError(openAs(nurse, oaep), 'MALFORMED', /rsaEncryption/);
  });
});

describe('sealing refuses', () => {
  it('attachments over 10 MiB before the card signs (ATTACHMENT_TOO_LARGE)', async () => {
    const signHash = vi.fn(doctor.signHash);
    const big = letter(doctor.practitioner, [nurse.practitioner], {
      attachments: [{ filename: 'irm.dcm', mediaType: 'application/dicom', content: new Uint8Array(MAX_ATTACHMENTS_BYTES + 1) }],
    });
    await expectMessageError(sealMessage(sealRequest({ mime: big, signHash })), 'ATTACHMENT_TOO_LARGE');
    expect(signHash).not.toHaveBeenCalled();
  });

  it('a message without the sender’s own certificate, with a certificate of a stranger, or missing an addressee (INVALID_INPUT)', async () => {
    const n = nurse.credentials.authentication.certificateDer;
    const d = doctor.credentials.authentication.certificateDer;
    const p = pharmacist.credentials.authentication.certificateDer;
    await expectMessageError(sealMessage(sealRequest({ recipientCertificates: [n] })), 'INVALID_INPUT', /sender's own/);
    await expectMessageError(sealMessage(sealRequest({ recipientCertificates: [n, d, p] })), 'INVALID_INPUT', /neither sender nor addressee/);
    await expectMessageError(sealMessage(sealRequest({ recipientCertificates: [d] })), 'INVALID_INPUT', /addressee 99900000103/);
    await expectMessageError(sealMessage(sealRequest({ recipientCertificates: [n, d, n] })), 'INVALID_INPUT', /twice/);
    await expectMessageError(sealMessage(sealRequest({ recipientCertificates: [n, new Uint8Array([0x30, 0x00])] })), 'INVALID_INPUT');
  });

  it('a recipient’s signature certificate (no keyEncipherment: the card could not decipher with that key)', async () => {
    await expectMessageError(
      sealMessage(sealRequest({ recipientCertificates: [nurse.credentials.signature.certificateDer, doctor.credentials.authentication.certificateDer] })),
      'INVALID_INPUT',
      /keyEncipherment/,
    );
  });

  it('a signature by another key than the signer certificate’s (the authentication key)', async () => {
    const authKey = createPrivateKey({ key: Buffer.from(doctor.credentials.authentication.privateKeyPkcs8Der), format: 'der', type: 'pkcs8' });
    let signed: { hash: Uint8Array; signature: Uint8Array } | undefined;
    const wrongKey = async (hash: Uint8Array) => {
      // PKCS#1 v1.5 over the DigestInfo, as the card does: a good signature, by the wrong key
      const digestInfo = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), hash]);
      const signature = new Uint8Array(privateEncrypt({ key: authKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo));
      signed = { hash, signature };
      return signature;
    };
    await expectMessageError(sealMessage(sealRequest({ signHash: wrongKey })), 'INVALID_INPUT', /does not verify/);
    // the signature is sound for the key that made it: only the key is wrong
    expect(signed).toBeDefined();
    const recovered = publicDecrypt({ key: authKey, padding: constants.RSA_PKCS1_PADDING }, signed?.signature ?? new Uint8Array());
    expect(Buffer.from(recovered.subarray(-32)).equals(Buffer.from(signed?.hash ?? []))).toBe(true);
  });

  it('passes the card’s own errors through (PIN not verified)', async () => {
    const fresh = await cardHolder(pki, 'cps:medecin');
    await fresh.session.logout();
    const error = await sealMessage(sealRequest({ signHash: fresh.signHash })).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('PIN_REQUIRED');
  });
});

describe('a message at the 10 MiB limit', () => {
  it('seals and opens (every layer’s bound leaves room for it)', async () => {
    const content = new Uint8Array(MAX_ATTACHMENTS_BYTES);
    for (let i = 0; i < content.length; i += 4096) content[i] = i & 0xff;
    const big = letter(doctor.practitioner, [nurse.practitioner], {
      body: 'é'.repeat(512 * 1024), // 1 MiB of UTF-8, the body's limit
      attachments: [{ filename: 'irm.dcm', mediaType: 'application/dicom', content }],
    });
    const envelope = await sealMessage(sealRequest({ mime: big }));
    const opened = await openAs(nurse, envelope);
    expect(opened.mime.attachments[0]?.content.length).toBe(MAX_ATTACHMENTS_BYTES);
    expect(Buffer.from(opened.mime.attachments[0]?.content ?? []).equals(Buffer.from(content))).toBe(true);
    expect(opened.mime.body.length).toBe(512 * 1024);
  }, 60_000);
});

describe('the signer check hook (src/pki/validation)', () => {
  async function validator(): Promise<CertificateValidator> {
    for (const ca of ['root', 'persons', 'organisations'] as const) await pki.crl(ca);
    return new CertificateValidator({
      trustAnchors: [pki.caCertificate('root')],
      intermediates: [pki.caCertificate('persons')],
      crls: new FileCrlSource(pki.describeCas().map((ca) => ca.files.crlDer)),
    });
  }

  it('a valid, unrevoked CPS signature certificate: signatureValid', async () => {
    const v = await validator();
    const checkSigner = vi.fn(({ certificate }: { certificate: Uint8Array }) => v.validate(certificate, 'signature'));
    const opened = await openAs(nurse, sealed, { checkSigner });
    expect(checkSigner).toHaveBeenCalledOnce();
    expect(opened.signerCheck).toEqual({ ok: true });
    expect(opened.signatureValid).toBe(true);
  });

  it('a revoked signer: the message opens but signatureValid is false, with the reason', async () => {
    const revoked = await cardHolder(pki, 'cps:revoked'); // its certificates are revoked in the PKI
    const fromRevoked = letter(revoked.practitioner, [nurse.practitioner]);
    const envelope = await sealMessage({
      mime: fromRevoked,
      signerCertificate: revoked.credentials.signature.certificateDer,
      signHash: revoked.signHash,
      recipientCertificates: [nurse.credentials.authentication.certificateDer, revoked.credentials.authentication.certificateDer],
    });
    const v = await validator();
    const opened = await openAs(nurse, envelope, { checkSigner: ({ certificate }) => v.validate(certificate, 'signature') });
    expect(opened.signatureValid).toBe(false);
    expect(opened.signerCheck).toMatchObject({ ok: false, reason: expect.stringMatching(/revoked/i) });
    expect(opened.mime.from.nationalId).toBe(revoked.practitioner.nationalId);
  });
});

describe('routingMetadata', () => {
  it('lists the recipients (issuer + serial of each authentication certificate) and the size, nothing else', () => {
    const metadata = routingMetadata(sealed);
    expect(metadata.size).toBe(sealed.length);
    const issuer = 'C=FR, O=ASIP-SANTE, OU=IGC-SANTE TEST, CN=TEST AC IGC-SANTE FORT PERSONNES';
    expect(new Set(metadata.recipients.map((r) => JSON.stringify(r)))).toEqual(
      new Set([nurse, doctor].map((h) => JSON.stringify({ issuer, serialNumber: h.credentials.authentication.serialHex }))),
    );
    expect(Object.keys(metadata).sort()).toEqual(['recipients', 'size']);
  });

  it('holds no byte of the subject, body, names, file name or attachment (grep)', () => {
    const stored = Buffer.from(JSON.stringify(routingMetadata(sealed)), 'utf8');
    const secrets = [message.subject, message.body, 'Compte rendu', 'Hélène', 'Dupré', 'pansement', 'compte-rendu', 'SOPHIE', 'MARTIN', 'CLAIRE', 'PETIT', '%PDF'];
    for (const secret of secrets) {
      expect(stored.includes(Buffer.from(secret, 'utf8')), secret).toBe(false);
      expect(stored.includes(Buffer.from(Buffer.from(secret, 'utf8').toString('base64').slice(0, 8))), `${secret} in base64`).toBe(false);
    }
    // and the grep finds what is there: the check above can fail
    expect(stored.includes(Buffer.from(nurse.credentials.authentication.serialHex))).toBe(true);
  });

  it('is the same for two messages with different contents to the same recipients (it depends on nothing inside)', async () => {
    const other = await sealMessage(sealRequest({ mime: letter(doctor.practitioner, [nurse.practitioner], { subject: 'Autre objet', body: 'Autre texte', attachments: [] }) }));
    const sorted = (der: Uint8Array) => routingMetadata(der).recipients.map((r) => JSON.stringify(r)).sort();
    expect(sorted(other)).toEqual(sorted(sealed));
  });

  it('refuses bytes that are no envelope (MALFORMED)', () => {
    expect(() => routingMetadata(new Uint8Array([1, 2, 3]))).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
  });
});

describe('the inner S/MIME entity', () => {
  it('is application/pkcs7-mime signed-data holding a SignedData with the MIME bytes encapsulated and the signer certificate', async () => {
    const mime = encodeMime(message);
    const signedData = await buildEncapsulatedSignedData({ content: mime, signer: readCertificate(doctor.credentials.signature.certificateDer), signHash: doctor.signHash, signingTime: new Date() });
    const entity = wrapSignedData(signedData);
    expect(Buffer.from(entity).toString('latin1')).toMatch(/^Content-Type: application\/pkcs7-mime; smime-type=signed-data; name="smime.p7m"\r\n/);
    expect(Buffer.from(unwrapSignedData(entity, 1 << 24)).equals(Buffer.from(signedData))).toBe(true);
    const contentInfo = pkijs.ContentInfo.fromBER(new Uint8Array(signedData).buffer);
    const sd = new pkijs.SignedData({ schema: contentInfo.content });
    expect(Buffer.from(sd.encapContentInfo.eContent?.valueBlock.valueHexView ?? []).equals(Buffer.from(mime))).toBe(true);
    expect(sd.certificates).toHaveLength(1);
    expect(sd.signerInfos[0]?.digestAlgorithm.algorithmId).toBe('2.16.840.1.101.3.4.2.1');
    expect(sd.signerInfos[0]?.signedAttrs?.attributes.map((a) => a.type).sort()).toEqual(
      ['1.2.840.113549.1.9.16.2.47', '1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4', '1.2.840.113549.1.9.5'].sort(),
    );
  });
});
