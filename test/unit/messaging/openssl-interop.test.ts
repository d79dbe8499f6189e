// Interoperability with an ordinary S/MIME implementation (dmp-service.md: "`openssl cms -decrypt`
// with the recipient's key must open what the clients send"): OpenSSL decrypts what sealMessage
// built with the recipient's private key, and verifies the inner signature against the test PKI
// (root + persons CA), both from the S/MIME entity and from the bare DER SignedData. Needs the
// openssl command: skipped with a banner locally, a failure on CI.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sealMessage } from '../../../src/messaging/index.js';
import { encodeMime } from '../../../src/messaging/mime-encode.js';
import { unwrapSignedData } from '../../../src/messaging/pkcs7-mime.js';
import type { IssuedCertificate, TestPki } from '../../../src/pki/test-pki.js';
import { onPath, requireSystem } from '../../support/system.js';
import { cardHolder, freshDir, letter, openPki, type CardHolder } from './helpers.js';

const hasOpenssl = requireSystem('openssl', onPath('openssl'), 'install the openssl package (apt-get install openssl)');

function pem(label: string, der: Uint8Array): string {
  const body = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

function openssl(args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

describe.skipIf(!hasOpenssl)('openssl cms and a message sealed by this library', () => {
  let dir: string;
  let pki: TestPki;
  let doctor: CardHolder;
  let nurse: CardHolder;
  let pharmacist: CardHolder;
  let mime: Uint8Array;
  let envelopeFile: string;
  let trustFile: string;

  /** The recipient's certificate and PKCS#8 private key as PEM files. */
  function keyFiles(name: string, issued: IssuedCertificate): { cert: string; key: string } {
    const cert = join(dir, `${name}.crt.pem`);
    const key = join(dir, `${name}.key.pem`);
    writeFileSync(cert, pem('CERTIFICATE', issued.certificateDer));
    writeFileSync(key, pem('PRIVATE KEY', issued.privateKeyPkcs8Der), { mode: 0o600 });
    return { cert, key };
  }

  function decryptAs(name: string, issued: IssuedCertificate): { status: number | null; stderr: string; out: string } {
    const { cert, key } = keyFiles(name, issued);
    const out = join(dir, `${name}.decrypted.eml`);
    return { ...openssl(['cms', '-decrypt', '-inform', 'DER', '-in', envelopeFile, '-recip', cert, '-inkey', key, '-out', out]), out };
  }

  beforeAll(async () => {
    dir = freshDir('cb-messaging-openssl-');
    pki = await openPki();
    [doctor, nurse, pharmacist] = await Promise.all([cardHolder(pki, 'cps:medecin'), cardHolder(pki, 'cps:infirmier'), cardHolder(pki, 'cps:pharmacien')]);
    mime = encodeMime(letter(doctor.practitioner, [nurse.practitioner]));
    const envelope = await sealMessage({
      mime,
      signerCertificate: doctor.credentials.signature.certificateDer,
      signHash: doctor.signHash,
      recipientCertificates: [nurse.credentials.authentication.certificateDer, doctor.credentials.authentication.certificateDer],
    });
    envelopeFile = join(dir, 'message.p7m.der');
    writeFileSync(envelopeFile, envelope);
    trustFile = join(dir, 'root-and-persons.pem');
    writeFileSync(trustFile, pem('CERTIFICATE', pki.caCertificate('root')) + pem('CERTIFICATE', pki.caCertificate('persons')));
  });

  it('shows OpenSSL an EnvelopedData with rsaEncryption key transport and AES-256-CBC', () => {
    const printed = execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', envelopeFile], { encoding: 'utf8' });
    expect(printed).toContain('pkcs7-envelopedData');
    expect(printed.match(/d\.ktri:/g)).toHaveLength(2);
    expect(printed).toMatch(/keyEncryptionAlgorithm:\s+algorithm: rsaEncryption/);
    expect(printed).not.toMatch(/rsaesOaep|RSAES-OAEP/i);
    expect(printed).toMatch(/contentEncryptionAlgorithm:\s+algorithm: aes-256-cbc/);
  });

  it('openssl cms -decrypt opens it with the nurse’s key, and -verify -inform SMIME accepts the doctor’s signature', () => {
    const decrypted = decryptAs('nurse', nurse.credentials.authentication);
    expect(decrypted.stderr).toBe('');
    expect(decrypted.status).toBe(0);
    expect(readFileSync(decrypted.out, 'latin1')).toMatch(/^Content-Type: application\/pkcs7-mime; smime-type=signed-data/);
    const content = join(dir, 'verified-smime.eml');
    const verified = openssl(['cms', '-verify', '-inform', 'SMIME', '-in', decrypted.out, '-CAfile', trustFile, '-out', content]);
    expect(verified.stderr).toMatch(/Verification successful/);
    expect(verified.status).toBe(0);
    expect(Buffer.from(readFileSync(content)).equals(Buffer.from(mime))).toBe(true);
  });

  it('openssl cms -verify -inform DER accepts the bare SignedData and outputs the MIME bytes', () => {
    const decrypted = decryptAs('nurse-der', nurse.credentials.authentication);
    expect(decrypted.status).toBe(0);
    const signedDataFile = join(dir, 'signed.der');
    writeFileSync(signedDataFile, unwrapSignedData(readFileSync(decrypted.out), 1 << 26));
    const content = join(dir, 'verified-der.eml');
    const verified = openssl(['cms', '-verify', '-inform', 'DER', '-in', signedDataFile, '-CAfile', trustFile, '-out', content]);
    expect(verified.stderr).toMatch(/Verification successful/);
    expect(verified.status).toBe(0);
    expect(Buffer.from(readFileSync(content)).equals(Buffer.from(mime))).toBe(true);
  });

  it('opens the sender’s own copy with the doctor’s key', () => {
    const decrypted = decryptAs('doctor', doctor.credentials.authentication);
    expect(decrypted.status).toBe(0);
  });

  it('does not open for the pharmacist, and does not verify against a trust store without the persons CA', () => {
    const decrypted = decryptAs('pharmacist', pharmacist.credentials.authentication);
    expect(decrypted.status).not.toBe(0);
    const nurseCopy = decryptAs('nurse-again', nurse.credentials.authentication);
    const wrongTrust = join(dir, 'organisations-only.pem');
    writeFileSync(wrongTrust, pem('CERTIFICATE', pki.caCertificate('organisations')));
    const verified = openssl(['cms', '-verify', '-inform', 'SMIME', '-in', nurseCopy.out, '-CAfile', wrongTrust, '-out', join(dir, 'untrusted.eml')]);
    expect(verified.status).not.toBe(0);
    expect(verified.stderr).toMatch(/certificate verify error|unable to get/i);
  });
});
