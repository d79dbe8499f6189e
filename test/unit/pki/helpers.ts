// Shared by the PKI tests: parsing with pkijs, chain validation, key-usage reading, openssl.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pkijs from 'pkijs';
import { pkiCryptoEngine } from '../../../src/pki/crypto-engine.js';
import { toPem } from '../../../src/pki/pem.js';
import { KEY_USAGE_BITS, type KeyUsageName } from '../../../src/pki/standard-extensions.js';
import type { CaId, TestPki } from '../../../src/pki/test-pki.js';

export function freshDir(prefix = 'cardbridge-pki-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

const buffer = (der: Uint8Array): ArrayBuffer => new Uint8Array(der).buffer;

export function parseCertificate(der: Uint8Array): pkijs.Certificate {
  return pkijs.Certificate.fromBER(buffer(der));
}

export function parseCrl(der: Uint8Array): pkijs.CertificateRevocationList {
  return pkijs.CertificateRevocationList.fromBER(buffer(der));
}

export function extensionOf(certificate: pkijs.Certificate, oid: string): pkijs.Extension | undefined {
  return certificate.extensions?.find((e) => e.extnID === oid);
}

/** Key usage names and the extension's criticality, read from the DER bit string. */
export function keyUsageOf(certificate: pkijs.Certificate): { usages: KeyUsageName[]; critical: boolean } | undefined {
  const extension = extensionOf(certificate, '2.5.29.15');
  if (!extension) return undefined;
  const bits = (extension.parsedValue as { valueBlock: { valueHexView: Uint8Array } }).valueBlock.valueHexView;
  const usages = (Object.entries(KEY_USAGE_BITS) as [KeyUsageName, number][])
    .filter(([, bit]) => (((bits[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) === 1)
    .map(([name]) => name);
  return { usages, critical: extension.critical };
}

export interface ChainCheck {
  result: boolean;
  resultCode?: number;
  resultMessage?: string;
}

/** pkijs path validation from the root, with the current CRLs of every CA (revocation checked). */
export async function validateWithPkijs(
  pki: TestPki,
  certificateDer: Uint8Array,
  issuer: Exclude<CaId, 'root'>,
  options: { checkDate?: Date; withCrls?: boolean } = {},
): Promise<ChainCheck> {
  const crls = options.withCrls === false ? [] : [parseCrl(await pki.crl('root')), parseCrl(await pki.crl(issuer))];
  const engine = new pkijs.CertificateChainValidationEngine({
    trustedCerts: [parseCertificate(pki.caCertificate('root'))],
    // pkijs takes the LAST certificate of trustedCerts + certs as the one to validate
    certs: [parseCertificate(pki.caCertificate(issuer)), parseCertificate(certificateDer)],
    crls,
    ...(options.checkDate ? { checkDate: options.checkDate } : {}),
  });
  const result = await engine.verify({}, pkiCryptoEngine);
  return { result: result.result, resultCode: result.resultCode, resultMessage: result.resultMessage };
}

export const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** `openssl verify -CAfile root -untrusted intermediate -crl_check_all -CRLfile crls` */
export async function verifyWithOpenssl(
  pki: TestPki,
  certificateDer: Uint8Array,
  issuer: Exclude<CaId, 'root'>,
  extraArgs: string[] = [],
): Promise<{ ok: boolean; output: string }> {
  const dir = freshDir('cardbridge-openssl-');
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const root = file('root.pem', toPem('CERTIFICATE', pki.caCertificate('root')));
  const intermediate = file('intermediate.pem', toPem('CERTIFICATE', pki.caCertificate(issuer)));
  const crls = file('crls.pem', (await pki.crlPem('root')) + (await pki.crlPem(issuer)));
  const leaf = file('leaf.pem', toPem('CERTIFICATE', certificateDer));
  try {
    const output = execFileSync(
      'openssl',
      ['verify', '-CAfile', root, '-untrusted', intermediate, '-crl_check_all', '-CRLfile', crls, ...extraArgs, leaf],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return { ok: true, output };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

export const doctor = {
  rpps: '99900000101',
  surname: 'MARTIN',
  givenName: 'JEAN',
  professionCode: '10',
  professionLabel: 'Médecin',
  specialtyCode: 'SM54',
  structureId: '499900001000001',
  structureName: 'CABINET DU DR MARTIN',
};

export const podologist = {
  rpps: '99900000105',
  surname: 'MOREAU',
  givenName: 'CLAIRE',
  professionCode: '80',
  professionLabel: 'Pédicure-podologue',
  structureId: '499900001000005',
  structureName: 'CABINET DE PODOLOGIE MOREAU',
};
