// src/messaging is client code that must run in a browser: bundled by the project's browser build
// (esbuild, platform=browser, its Node-only code check), it holds no Node built-in, and it seals
// and opens a message in a fresh V8 context that has only a page's globals — node-forge included,
// which must then take its randomness from crypto.getRandomValues. What it sealed there opens in
// Node with the nurse's virtual card.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBrowserBundles, nodeOnlyCode, type BundleReport } from '../../../scripts/build-browser-bundle.js';
import * as messagingApi from '../../../src/messaging/index.js';
import { cardHolder, freshDir, openPki, type CardHolder } from './helpers.js';

const checker = fileURLToPath(new URL('./support/bundle-context-check.mjs', import.meta.url));
const entry = fileURLToPath(new URL('../../../src/messaging/index.ts', import.meta.url));

let dir: string;
let report: BundleReport;
let doctor: CardHolder;
let nurse: CardHolder;

beforeAll(async () => {
  dir = freshDir('cb-messaging-bundle-');
  [report] = (await buildBrowserBundles(dir, { entries: { messaging: entry } })) as [BundleReport];
  const pki = await openPki();
  [doctor, nurse] = await Promise.all([cardHolder(pki, 'cps:medecin'), cardHolder(pki, 'cps:infirmier')]);
}, 120_000);

describe('the messaging browser bundle', () => {
  it('builds for the browser with no require( and no node: import', () => {
    const source = readFileSync(report.file, 'utf8');
    expect(report.bytes).toBeGreaterThan(10_000);
    expect(nodeOnlyCode(source)).toBeUndefined();
    expect(/["']node:/.test(source)).toBe(false);
    expect(source).toContain('RSAES-PKCS1-V1_5'); // node-forge is inside, not imported
  });

  it('seals and opens a message in a fresh context without Node globals; Node opens what it sealed', async () => {
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
    const inputFile = join(dir, 'input.json');
    writeFileSync(
      inputFile,
      JSON.stringify({
        from: doctor.practitioner,
        to: nurse.practitioner,
        signCert: b64(doctor.credentials.signature.certificateDer),
        signKey: b64(doctor.credentials.signature.privateKeyPkcs8Der),
        nurseCert: b64(nurse.credentials.authentication.certificateDer),
        nurseKey: b64(nurse.credentials.authentication.privateKeyPkcs8Der),
        doctorAuthCert: b64(doctor.credentials.authentication.certificateDer),
      }),
    );
    const run = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings', checker, report.file, inputFile], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as {
      error?: string;
      absent?: string;
      exports?: string[];
      inContext?: { sealed: string; subject: string; attachment: string; signer: string; signatureValid: boolean; recipients: number; notRecipient: string };
    };
    expect(result.error).toBeUndefined();
    expect(result.absent).toBe('undefined,undefined,undefined,undefined,undefined');
    expect(result.exports).toEqual(Object.keys(messagingApi).sort());
    expect(result.inContext).toMatchObject({
      subject: 'Résultats — bundle',
      attachment: '%PDF-1.4 test',
      signer: doctor.practitioner.nationalId,
      signatureValid: true,
      recipients: 2,
      notRecipient: 'NOT_A_RECIPIENT',
    });
    const sealed = new Uint8Array(Buffer.from(result.inContext?.sealed ?? '', 'base64'));
    const opened = await messagingApi.openMessage({ envelopedDer: sealed, recipientCertificate: nurse.credentials.authentication.certificateDer, decryptKey: nurse.decryptKey });
    expect(opened.mime.subject).toBe('Résultats — bundle');
    expect(opened.signer.nationalId).toBe(doctor.practitioner.nationalId);
  });
});
