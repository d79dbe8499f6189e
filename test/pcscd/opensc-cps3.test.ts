// OpenSC, an independent implementation, drives the virtual CPS3 through the real pcscd + vpcd:
// it must recognise it as a CPx card, list and read both certificates and keys, log in with the
// PIN, sign with the signature key and decipher with the authentication key. Also records how
// many APDUs each OpenSC operation costs (quality.md P2 compares ours against these).
import { execFile } from 'node:child_process';
import { constants, createHash, publicEncrypt, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpsSession } from '../../src/cards/cps-session.js';
import { TestPki } from '../../src/pki/test-pki.js';
import { ReaderMonitor } from '../../src/transport/reader-monitor.js';
import { createPersonaCard } from '../../src/simulator/card-factory.js';
import { personaCredentials } from '../../src/simulator/cps/create-cps-card.js';
import { CPS_PERSONAS } from '../../src/simulator/personas.js';
import { VpcdLink } from '../../src/simulator/vpcd/vpcd-link.js';
import { onPath, pcscdAvailable, requireSystem, VPCD_PORT } from '../support/system.js';

const run = promisify(execFile);
const PKCS11_MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';

const ready =
  requireSystem('pcscd with vsmartcard-vpcd', pcscdAvailable(), 'run scripts/install-system-deps.sh and scripts/start-pcscd.sh') &&
  requireSystem('OpenSC tools (opensc-tool, pkcs15-tool, pkcs11-tool)', onPath('pkcs15-tool') && onPath('pkcs11-tool'), 'apt-get install opensc');

describe.skipIf(!ready)('OpenSC reads the virtual CPS3 as a CPx card (pcscd + vpcd)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cb-opensc-'));
  let pki: TestPki;
  let link: VpcdLink;
  let authCert: X509Certificate;
  let signCert: X509Certificate;
  let reader: string;
  const counts: Record<string, number> = {};

  /** Runs an OpenSC tool and counts the APDUs the card saw meanwhile. */
  async function opensc(label: string, tool: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
    link.apduLog.clear();
    const { stdout, stderr } = await run(tool, args, { timeout: 60_000, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    counts[label] = link.apduLog.entries().length;
    return stdout + stderr;
  }

  beforeAll(async () => {
    pki = await TestPki.open(join(dir, 'state'));
    const card = await createPersonaCard('cps:medecin', { pki });
    const creds = await personaCredentials(pki, CPS_PERSONAS['cps:medecin']);
    authCert = new X509Certificate(Buffer.from(creds.authentication.certificateDer));
    signCert = new X509Certificate(Buffer.from(creds.signature.certificateDer));
    link = new VpcdLink({ port: VPCD_PORT });
    link.insert(card);
    // pcscd polls vpcd; wait until OpenSC sees the card in the first Virtual PCD reader.
    for (let i = 0; i < 50; i++) {
      const { stdout } = await run('opensc-tool', ['--list-readers']);
      const line = stdout.split('\n').find((l) => /Virtual PCD/.test(l) && /\bYes\b/.test(l));
      if (line) {
        reader = line.trim().split(/\s+/)[0]!;
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('the virtual card never appeared in a Virtual PCD reader');
  });

  afterAll(() => {
    link?.close();
    console.log('APDUs per OpenSC operation on the virtual CPS3:', JSON.stringify(counts));
  });

  it('opensc-tool sees the reader and the CPS3 ATR', async () => {
    const out = await opensc('atr', 'opensc-tool', ['--reader', reader, '--atr']);
    expect(out.trim()).toBe('3b:ac:00:40:2a:00:12:25:00:64:80:00:03:10:00:90:00');
    const name = await opensc('name', 'opensc-tool', ['--reader', reader, '--name'], { OPENSC_DEBUG: '3' });
    expect(name).toMatch(/^IAS-ECC$/m);
    expect(name).toContain("'IAS/ECC CPx' card matched");
  });

  it('pkcs15-tool lists both certificates and both keys', async () => {
    const certs = await opensc('list-certificates', 'pkcs15-tool', ['--reader', reader, '--list-certificates']);
    expect(certs).toContain("Certificat d'Authentification CPS");
    expect(certs).toContain('Certificat de Signature CPS');
    const keys = await opensc('list-keys', 'pkcs15-tool', ['--reader', reader, '--list-keys']);
    expect(keys).toMatch(/CPS_PRIV_AUT[\s\S]*Key ref\s*: 130 \(0x82\)/);
    expect(keys).toMatch(/CPS_PRIV_SIG[\s\S]*Usage\s*: \[0x200\], nonRepudiation[\s\S]*Key ref\s*: 129 \(0x81\)/);
  });

  it('pkcs15-tool --read-certificate returns the exact DER the PKI issued', async () => {
    for (const [id, cert] of [['02', authCert], ['01', signCert]] as const) {
      const pem = await opensc(`read-certificate-${id}`, 'pkcs15-tool', ['--reader', reader, '--read-certificate', id]);
      const read = new X509Certificate(pem.slice(pem.indexOf('-----BEGIN CERTIFICATE-----')));
      expect(read.raw.equals(cert.raw)).toBe(true);
    }
  });

  it('CpsSession reads the same certificates as pkcs15-tool, in fewer APDUs', async () => {
    const monitor = new ReaderMonitor({ allowVirtualReaders: true });
    try {
      await monitor.start();
      const name = monitor.readers().find((r) => r.card && /Virtual PCD 00 00/.test(r.name))!.name;
      link.apduLog.clear();
      const certs = await (await CpsSession.open(await monitor.connect(name))).getCertificates();
      counts['cpssession-certificates'] = link.apduLog.entries().length;
      for (const [id, der] of [['02', certs.authentication], ['01', certs.signature]] as const) {
        const pem = await run('pkcs15-tool', ['--reader', reader, '--read-certificate', id]);
        const read = new X509Certificate(pem.stdout.slice(pem.stdout.indexOf('-----BEGIN CERTIFICATE-----')));
        expect(read.raw.equals(Buffer.from(der))).toBe(true);
      }
      expect(counts['cpssession-certificates']).toBeLessThan(counts['list-certificates']!);
    } finally {
      await monitor.close();
    }
  });

  it('pkcs11-tool logs in with PIN 1234 and refuses a wrong PIN', async () => {
    const out = await opensc('login', 'pkcs11-tool', ['--module', PKCS11_MODULE, '--slot-index', '0', '--login', '--pin', '1234', '--list-objects']);
    expect(out).toContain('Private Key Object');
    await expect(run('pkcs11-tool', ['--module', PKCS11_MODULE, '--slot-index', '0', '--login', '--pin', '9999', '--list-objects'])).rejects.toThrow(/CKR_PIN_INCORRECT/);
    // The good PIN resets the counter the wrong one spent.
    await opensc('login-again', 'pkcs11-tool', ['--module', PKCS11_MODULE, '--slot-index', '0', '--login', '--pin', '1234', '--list-objects']);
  });

  // Debian 12's OpenSC (0.23) cannot use SHA*-RSA-PKCS on a CPx card: its IAS-ECC driver hashes
  // through a partial-hash step compiled out with OpenSSL 3, so it refuses the signature key
  // altogether. Its RSA-PKCS path (INTERNAL AUTHENTICATE with the authentication key over a
  // DigestInfo the caller built) is what it can do, and gives the same bytes as SHA256-RSA-PKCS.
  it('pkcs11-tool signs a SHA-256 DigestInfo with RSA-PKCS (INTERNAL AUTHENTICATE); the certificate verifies it', async () => {
    const message = Buffer.from('Compte rendu de consultation');
    const digestInfo = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), createHash('sha256').update(message).digest()]);
    const input = join(dir, 'digest-info.bin');
    const output = join(dir, 'document.sig');
    writeFileSync(input, digestInfo);
    await opensc('authenticate', 'pkcs11-tool', ['--module', PKCS11_MODULE, '--slot-index', '0', '--login', '--pin', '1234', '--sign', '--id', '02', '-m', 'RSA-PKCS', '--input-file', input, '--output-file', output]);
    expect(verify('sha256', message, authCert.publicKey, readFileSync(output))).toBe(true);
    expect(verify('sha256', message, signCert.publicKey, readFileSync(output))).toBe(false);
  });

  it('OpenSC 0.23 refuses SHA256-RSA-PKCS with the signature key (a limit of OpenSC, not of the card)', async () => {
    const input = join(dir, 'document.txt');
    writeFileSync(input, 'Compte rendu de consultation');
    await expect(
      run('pkcs11-tool', ['--module', PKCS11_MODULE, '--slot-index', '0', '--login', '--pin', '1234', '--sign', '--id', '01', '-m', 'SHA256-RSA-PKCS', '--input-file', input, '--output-file', join(dir, 'x.sig')]),
    ).rejects.toThrow(/CKR_FUNCTION_NOT_SUPPORTED|CKR_MECHANISM_INVALID/);
  });

  it('pkcs11-tool deciphers an RSA-PKCS cryptogram with the authentication key', async () => {
    const secret = createHash('sha256').update('clé de contenu').digest();
    const input = join(dir, 'cryptogram.bin');
    const output = join(dir, 'plain.bin');
    writeFileSync(input, publicEncrypt({ key: authCert.publicKey, padding: constants.RSA_PKCS1_PADDING }, secret));
    await opensc('decrypt', 'pkcs11-tool', ['--module', PKCS11_MODULE, '--slot-index', '0', '--login', '--pin', '1234', '--decrypt', '--id', '02', '-m', 'RSA-PKCS', '--input-file', input, '--output-file', output]);
    expect(readFileSync(output).equals(secret)).toBe(true);
  });
});
