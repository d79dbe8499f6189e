// The validator's decisions against the test PKI: every refusal the DMP login relies on, each
// with the code the service maps to its 401.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TestPki } from '../../../src/pki/test-pki.js';
import { CertificateValidator, type ValidationResult } from '../../../src/pki/validation/certificate-validator.js';
import type { CrlSource } from '../../../src/pki/validation/crl-source.js';
import { FileCrlSource } from '../../../src/pki/validation/file-crl-source.js';
import { parseCertificate } from '../../../src/pki/validation/x509.js';
import { DAY, crlFiles, doctor, freshDir, nurse, openPki, rogueCa, rogueLeaf, validatorFor } from './helpers.js';

function expectFailure(result: ValidationResult, code: string, reason?: RegExp): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.code).toBe(code);
  if (reason) expect(result.reason).toMatch(reason);
}

let pki: TestPki;

beforeAll(async () => {
  pki = await openPki();
});

describe('a valid chain', () => {
  it('passes for authentication and for signature, with the chain, fingerprint and notAfter', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    const { validator } = await validatorFor(pki);

    const auth = await validator.validate(card.authentication.certificateDer, 'authentication');
    expect(auth.ok).toBe(true);
    if (!auth.ok) return;
    const parsed = parseCertificate(card.authentication.certificateDer);
    expect(auth.fingerprint).toBe(parsed.fingerprint);
    expect(auth.notAfter.getTime()).toBe(parsed.certificate.notAfter.value.getTime());
    expect(auth.chain.map((c) => Buffer.from(c).toString('hex'))).toEqual(
      [card.authentication.certificateDer, pki.caCertificate('persons'), pki.caCertificate('root')].map((c) => Buffer.from(c).toString('hex')),
    );

    expect((await validator.validate(card.signature.certificateDer, 'signature')).ok).toBe(true);
  });

  it('passes with an intermediate as the trust anchor (the IGC-Santé test intermediates)', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    const validator = new CertificateValidator({
      trustAnchors: [pki.caCertificate('persons')],
      crls: new FileCrlSource(await crlFiles(pki)),
    });
    const result = await validator.validate(card.authentication.certificateDer, 'authentication');
    expect(result.ok && result.chain.length).toBe(2);
  });

  it('finds the intermediate in the extra chain the client sent when it is not configured', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    const { validator } = await validatorFor(pki, { intermediates: [] });
    expectFailure(await validator.validate(card.authentication.certificateDer, 'authentication'), 'CERTIFICATE_INVALID', /no trusted chain/);
    const result = await validator.validate(card.authentication.certificateDer, 'authentication', [pki.caCertificate('persons')]);
    expect(result.ok).toBe(true);
  });

  it('accepts an establishment server certificate with clientAuth for establishment login', async () => {
    const server = await pki.issueServer('clinic', ['clinique.test'], { clientAuth: true, organisationId: '499900002000001' });
    const { validator } = await validatorFor(pki);
    const result = await validator.validate(server.certificateDer, 'establishment');
    expect(result.ok && result.chain.length).toBe(3);
  });
});

describe('CERTIFICATE_INVALID', () => {
  it('for an expired certificate', async () => {
    const card = await pki.issuePractitioner('expired', doctor, { expired: true });
    const { validator } = await validatorFor(pki);
    expectFailure(await validator.validate(card.authentication.certificateDer, 'authentication'), 'CERTIFICATE_INVALID', /expired on/);
  });

  it('for a certificate not yet valid (validator clock before notBefore)', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    const { validator } = await validatorFor(pki, { clock: () => new Date(Date.now() - 2 * DAY) });
    expectFailure(await validator.validate(card.authentication.certificateDer, 'authentication'), 'CERTIFICATE_INVALID', /not valid before/);
  });

  it('for a certificate from a self-made CA, even one named like the real intermediate', async () => {
    const { validator } = await validatorFor(pki);
    const stranger = await rogueCa();
    const leaf = await rogueLeaf(stranger);
    expectFailure(await validator.validate(leaf, 'authentication', [stranger.certificateDer]), 'CERTIFICATE_INVALID', /no trusted chain/);

    const impostor = await rogueCa('TEST AC IGC-SANTE FORT PERSONNES');
    const forged = await rogueLeaf(impostor);
    expectFailure(await validator.validate(forged, 'authentication', [impostor.certificateDer]), 'CERTIFICATE_INVALID');
    expectFailure(await validator.validate(forged, 'authentication'), 'CERTIFICATE_INVALID');
  });

  it('for a certificate whose key usage or EKU does not fit the purpose', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    const { validator } = await validatorFor(pki);
    expectFailure(await validator.validate(card.authentication.certificateDer, 'signature'), 'CERTIFICATE_INVALID', /nonRepudiation/);
    expectFailure(await validator.validate(card.signature.certificateDer, 'authentication'), 'CERTIFICATE_INVALID', /digitalSignature/);
    const serverOnly = await pki.issueServer('tls-only', ['dmp.test']);
    expectFailure(await validator.validate(serverOnly.certificateDer, 'establishment'), 'CERTIFICATE_INVALID', /clientAuth/);
  });

  it('for a certificate from the wrong CA for the purpose', async () => {
    const { validator } = await validatorFor(pki);
    // digitalSignature + clientAuth, but issued to an establishment: not a practitioner's card
    const server = await pki.issueServer('clinic', ['clinique.test'], { clientAuth: true, organisationId: '499900002000001' });
    expectFailure(await validator.validate(server.certificateDer, 'authentication'), 'CERTIFICATE_INVALID', /not issued by this CA/);
    // and a card cannot log in as an establishment
    const card = await pki.issuePractitioner('doctor', doctor);
    expectFailure(await validator.validate(card.authentication.certificateDer, 'establishment'), 'CERTIFICATE_INVALID', /not issued by this CA/);
  });

  it('follows issuersByPurpose when configured instead of the naming rule', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    const { validator } = await validatorFor(pki, { issuersByPurpose: { authentication: [pki.caCertificate('organisations')] } });
    expectFailure(await validator.validate(card.authentication.certificateDer, 'authentication'), 'CERTIFICATE_INVALID', /not issued by this CA/);
    const { validator: allowed } = await validatorFor(pki, { issuersByPurpose: { authentication: [pki.caCertificate('persons')] } });
    expect((await allowed.validate(card.authentication.certificateDer, 'authentication')).ok).toBe(true);
  });

  it('for a CA certificate presented as the end-entity certificate, garbage, or an unknown purpose', async () => {
    const { validator } = await validatorFor(pki);
    expectFailure(await validator.validate(pki.caCertificate('persons'), 'authentication'), 'CERTIFICATE_INVALID', /CA certificate/);
    expectFailure(await validator.validate(pki.caCertificate('root'), 'signature'), 'CERTIFICATE_INVALID');
    expectFailure(await validator.validate(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), 'authentication'), 'CERTIFICATE_INVALID');
    expectFailure(await validator.validate(new Uint8Array(0), 'authentication'), 'CERTIFICATE_INVALID');
    const card = await pki.issuePractitioner('doctor', doctor);
    expectFailure(await validator.validate(card.authentication.certificateDer, 'login' as never), 'CERTIFICATE_INVALID', /unknown purpose/);
    // trailing bytes after a valid certificate
    const padded = new Uint8Array([...card.authentication.certificateDer, 0]);
    expectFailure(await validator.validate(padded, 'authentication'), 'CERTIFICATE_INVALID', /trailing/);
  });

  it('for a certificate whose signature byte was flipped', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    const { validator } = await validatorFor(pki);
    const tampered = new Uint8Array(card.authentication.certificateDer);
    tampered[tampered.length - 5] = (tampered[tampered.length - 5] ?? 0) ^ 0x01;
    expectFailure(await validator.validate(tampered, 'authentication'), 'CERTIFICATE_INVALID');
  });
});

describe('CERTIFICATE_REVOKED', () => {
  it('once the card is revoked, even right after a cached success', async () => {
    const local = await openPki();
    const card = await local.issuePractitioner('doctor', doctor);
    const { validator } = await validatorFor(local);
    expect((await validator.validate(card.authentication.certificateDer, 'authentication')).ok).toBe(true);
    await local.revoke(card.authentication.serialHex);
    expectFailure(await validator.validate(card.authentication.certificateDer, 'authentication'), 'CERTIFICATE_REVOKED', /revoked on/);
    // the other certificate of the same card is not revoked
    expect((await validator.validate(card.signature.certificateDer, 'signature')).ok).toBe(true);
  });

  it('when the intermediate CA itself is revoked in the root CRL', async () => {
    const local = await openPki();
    const card = await local.issuePractitioner('nurse', nurse);
    const personsSerial = local.describeCas().find((ca) => ca.id === 'persons')?.serialHex ?? '';
    await local.revoke(personsSerial, 'root');
    const { validator } = await validatorFor(local);
    expectFailure(await validator.validate(card.authentication.certificateDer, 'authentication'), 'CERTIFICATE_REVOKED', /CA certificate/);
  });
});

describe('REVOCATION_UNKNOWN (fail closed)', () => {
  const none: CrlSource = { currentCrl: async () => undefined };

  it('when no CRL is available', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    const { validator } = await validatorFor(pki, { crls: none });
    expectFailure(await validator.validate(card.authentication.certificateDer, 'authentication'), 'REVOCATION_UNKNOWN', /no CRL available/);
  });

  it('when the only CRL file is stale (a PKI whose clock was ten days back)', async () => {
    const past = await openPki({ clock: () => new Date(Date.now() - 10 * DAY) });
    const card = await past.issuePractitioner('doctor', doctor);
    const files = past.describeCas().map((ca) => ca.files.crlDer); // written at issue time, never renewed
    const validator = new CertificateValidator({
      trustAnchors: [past.caCertificate('root')],
      intermediates: [past.caCertificate('persons')],
      crls: new FileCrlSource(files),
    });
    expectFailure(await validator.validate(card.authentication.certificateDer, 'authentication'), 'REVOCATION_UNKNOWN');
  });

  it('when a source hands over a CRL that is past nextUpdate by the validator clock', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    const files = await crlFiles(pki);
    // The source's clock says the CRL is current; the validator's clock is 8 days later.
    const { validator } = await validatorFor(pki, { crls: new FileCrlSource(files), clock: () => new Date(Date.now() + 8 * DAY) });
    expectFailure(await validator.validate(card.authentication.certificateDer, 'authentication'), 'REVOCATION_UNKNOWN', /expired at/);
  });

  it('when the CRL is signed by another CA, is garbage, or the source throws', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    const organisationsCrl = await pki.crl('organisations');
    const cases: [CrlSource, RegExp][] = [
      [{ currentCrl: async () => organisationsCrl }, /issuer name|signature/],
      [{ currentCrl: async () => new Uint8Array([0x30, 0x80, 1, 2, 3]) }, /malformed CRL/],
      [{ currentCrl: async () => { throw new Error('disk on fire'); } }, /CRL source failed: disk on fire/],
    ];
    for (const [crls, reason] of cases) {
      const validator = new CertificateValidator({ trustAnchors: [pki.caCertificate('root')], intermediates: [pki.caCertificate('persons')], crls });
      expectFailure(await validator.validate(card.authentication.certificateDer, 'authentication'), 'REVOCATION_UNKNOWN', reason);
    }
  });

  it('when a CRL file holds a CRL of a rogue CA with the real CA name', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    // the persons CRL bytes with one signature byte changed
    const crl = new Uint8Array(await pki.crl('persons'));
    crl[crl.length - 3] = (crl[crl.length - 3] ?? 0) ^ 0xff;
    const path = join(freshDir(), 'persons.crl');
    writeFileSync(path, crl);
    const { validator } = await validatorFor(pki, { crls: new FileCrlSource([path]) });
    expectFailure(await validator.validate(card.authentication.certificateDer, 'authentication'), 'REVOCATION_UNKNOWN');
  });

  it('but not for an intermediate whose CRL is missing: only the end entity needs one', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    const personsCrl = pki.describeCas().find((ca) => ca.id === 'persons')?.files.crlDer ?? '';
    await pki.crl('persons');
    const { validator } = await validatorFor(pki, { crls: new FileCrlSource([personsCrl]) });
    expect((await validator.validate(card.authentication.certificateDer, 'authentication')).ok).toBe(true);
  });
});

describe('result cache', () => {
  it('answers the second validation from the cache and revalidates when the CRL changes', async () => {
    const local = await openPki();
    const card = await local.issuePractitioner('doctor', doctor);
    const other = await local.issuePractitioner('nurse', nurse);
    const { validator } = await validatorFor(local);
    expect(validator.cacheStats()).toEqual({ hits: 0, misses: 0, entries: 0 });
    expect((await validator.validate(card.authentication.certificateDer, 'authentication')).ok).toBe(true);
    expect(validator.cacheStats()).toEqual({ hits: 0, misses: 1, entries: 1 });
    const again = await validator.validate(card.authentication.certificateDer, 'authentication');
    expect(again.ok).toBe(true);
    expect(validator.cacheStats()).toEqual({ hits: 1, misses: 1, entries: 1 });

    // a new CRL (someone else revoked) invalidates the cached result: validated again, still ok
    await local.revoke(other.authentication.serialHex);
    expect((await validator.validate(card.authentication.certificateDer, 'authentication')).ok).toBe(true);
    expect(validator.cacheStats()).toMatchObject({ hits: 1, misses: 2 });
  });

  it('does not serve a cached result past the nextUpdate of the CRL it relied on', async () => {
    let now = new Date();
    const local = await openPki();
    const card = await local.issuePractitioner('doctor', doctor);
    const files = await crlFiles(local);
    const validator = new CertificateValidator({
      trustAnchors: [local.caCertificate('root')],
      intermediates: [local.caCertificate('persons')],
      crls: new FileCrlSource(files, { clock: () => now }),
      clock: () => now,
    });
    expect((await validator.validate(card.authentication.certificateDer, 'authentication')).ok).toBe(true);
    now = new Date(now.getTime() + 8 * DAY);
    expectFailure(await validator.validate(card.authentication.certificateDer, 'authentication'), 'REVOCATION_UNKNOWN');
    expect(validator.cacheStats().hits).toBe(0);
  });

  it('hands each caller its own copy of a cached result', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    const { validator } = await validatorFor(pki);
    const first = await validator.validate(card.authentication.certificateDer, 'authentication');
    if (!first.ok) throw new Error(first.reason);
    first.chain[0]?.fill(0);
    first.chain.length = 0;
    const second = await validator.validate(card.authentication.certificateDer, 'authentication');
    expect(second.ok && Buffer.from(second.chain[0] ?? []).equals(Buffer.from(card.authentication.certificateDer))).toBe(true);
  });

  it('refuses an over-long extra chain before any path building', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    const { validator } = await validatorFor(pki);
    const many = Array.from({ length: 9 }, () => pki.caCertificate('persons'));
    expectFailure(await validator.validate(card.authentication.certificateDer, 'authentication', many), 'CERTIFICATE_INVALID', /extra chain/);
  });

  it('keeps failures out of the cache and keys results by purpose', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    const { validator } = await validatorFor(pki);
    await validator.validate(card.authentication.certificateDer, 'signature');
    await validator.validate(card.authentication.certificateDer, 'signature');
    expect(validator.cacheStats()).toEqual({ hits: 0, misses: 2, entries: 0 });
    expect((await validator.validate(card.authentication.certificateDer, 'authentication')).ok).toBe(true);
    expectFailure(await validator.validate(card.authentication.certificateDer, 'signature'), 'CERTIFICATE_INVALID');
  });

  it('shares one validation between concurrent calls for the same certificate', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    let calls = 0;
    const inner = new FileCrlSource(await crlFiles(pki));
    const counting: CrlSource = { currentCrl: (issuer, subject) => ((calls += 1), inner.currentCrl(issuer, subject)) };
    const { validator } = await validatorFor(pki, { crls: counting });
    const results = await Promise.all(Array.from({ length: 10 }, () => validator.validate(card.authentication.certificateDer, 'authentication')));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(calls).toBe(2); // the leaf's CRL and the intermediate's, once
  });
});

describe('configuration', () => {
  it('refuses a validator without trust anchors or CRL source', () => {
    expect(() => new CertificateValidator({ trustAnchors: [], crls: { currentCrl: async () => undefined } })).toThrow(/trust anchor/);
    expect(() => new CertificateValidator({ trustAnchors: [pki.caCertificate('root')], crls: undefined as never })).toThrow(/CRL source/);
    expect(() => new CertificateValidator({ trustAnchors: [new Uint8Array([1, 2, 3])], crls: { currentCrl: async () => undefined } })).toThrow();
  });
});
