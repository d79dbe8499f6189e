import { describe, expect, it } from 'vitest';
import { CRL_VALIDITY_MS, TestPki } from '../../../src/pki/test-pki.js';
import { doctor, freshDir, parseCrl, validateWithPkijs } from './helpers.js';
import * as pkijs from 'pkijs';
import { pkiCryptoEngine } from '../../../src/pki/crypto-engine.js';

const DAY = 24 * 60 * 60 * 1000;

function crlNumber(der: Uint8Array): number {
  const extension = parseCrl(der).crlExtensions?.extensions.find((e) => e.extnID === '2.5.29.20');
  return (extension?.parsedValue as { valueBlock: { valueDec: number } }).valueBlock.valueDec;
}

describe('CRL renewal', () => {
  it('keeps a CRL while more than a day is left, re-issues it when less is, so it is never stale', async () => {
    const t0 = new Date(Math.floor(Date.now() / 1000) * 1000);
    let now = t0;
    const stateDir = freshDir();
    const pki = await TestPki.open(stateDir, { clock: () => now });
    const card = await pki.issuePractitioner('cps:medecin', doctor);

    const first = await pki.crl('persons');
    expect(crlNumber(first)).toBe(1);
    expect(parseCrl(first).thisUpdate.value.getTime()).toBe(t0.getTime());

    now = new Date(t0.getTime() + 5 * DAY); // two days left
    expect(Buffer.from(await pki.crl('persons')).equals(Buffer.from(first))).toBe(true);

    now = new Date(t0.getTime() + 6.5 * DAY); // half a day left
    const renewed = await pki.crl('persons');
    expect(crlNumber(renewed)).toBe(2);
    const parsed = parseCrl(renewed);
    expect(parsed.thisUpdate.value.getTime()).toBe(now.getTime());
    expect(parsed.nextUpdate?.value.getTime()).toBe(now.getTime() + CRL_VALIDITY_MS);

    // another instance on the same directory sees the renewed CRL as current
    const other = await TestPki.open(stateDir, { clock: () => new Date(t0.getTime() + 6.6 * DAY) });
    expect(Buffer.from(await other.crl('persons')).equals(Buffer.from(renewed))).toBe(true);

    // eight days on: the first CRL is stale and fails revocation checking; the served one passes
    now = new Date(t0.getTime() + 8 * DAY);
    const stale = new pkijs.CertificateChainValidationEngine({
      trustedCerts: [pkijs.Certificate.fromBER(new Uint8Array(pki.caCertificate('root')).buffer)],
      certs: [
        pkijs.Certificate.fromBER(new Uint8Array(pki.caCertificate('persons')).buffer),
        pkijs.Certificate.fromBER(new Uint8Array(card.authentication.certificateDer).buffer),
      ],
      crls: [parseCrl(await pki.crl('root')), parseCrl(first)],
      checkDate: now,
    });
    const staleResult = await stale.verify({}, pkiCryptoEngine);
    expect(staleResult.result).toBe(false);
    expect(staleResult.resultMessage).toMatch(/revocation/i);
    expect(await validateWithPkijs(pki, card.authentication.certificateDer, 'persons', { checkDate: now })).toMatchObject({ result: true });
    expect(crlNumber(await pki.crl('persons'))).toBe(2); // the one renewed at 6.5 days still has 5.5 days
  });

  it('re-issues a CRL whose thisUpdate is in the future (clock moved back)', async () => {
    let now = new Date(Date.now() + 3 * DAY);
    const pki = await TestPki.open(freshDir(), { clock: () => now });
    expect(crlNumber(await pki.crl('root'))).toBe(1);
    now = new Date(Date.now());
    const again = parseCrl(await pki.crl('root'));
    expect(again.thisUpdate.value.getTime()).toBeLessThanOrEqual(Date.now());
    expect(crlNumber(await pki.crl('root'))).toBe(2);
  });
});
