// Bad input into the validator and the CRL handling: whatever the bytes, a typed result and never
// an exception, and never a pass for a certificate that was not issued as it is.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestPki } from '../../../src/pki/test-pki.js';
import type { CertificateValidator } from '../../../src/pki/validation/certificate-validator.js';
import { parseCrl } from '../../../src/pki/validation/crl.js';
import { practitionerFromCertificate } from '../../../src/pki/validation/practitioner.js';
import { doctor, openPki, validatorFor } from './helpers.js';

let pki: TestPki;
let validator: CertificateValidator;
let leaf: Uint8Array;

beforeAll(async () => {
  pki = await openPki();
  leaf = (await pki.issuePractitioner('doctor', doctor)).authentication.certificateDer;
  ({ validator } = await validatorFor(pki));
});

const purposes = fc.constantFrom('authentication' as const, 'signature' as const, 'establishment' as const);

describe('validator under random input', () => {
  it('answers random bytes with CERTIFICATE_INVALID, never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), purposes, fc.array(fc.uint8Array({ maxLength: 256 }), { maxLength: 3 }), async (bytes, purpose, extra) => {
        const result = await validator.validate(bytes, purpose, extra);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.code).toBe('CERTIFICATE_INVALID');
      }),
      { numRuns: 2000 },
    );
  });

  it('never accepts a certificate with a byte of its signed part changed', async () => {
    // Skip the outer SEQUENCE and TBS headers (8 bytes): everything after is covered by the
    // CA signature or is the signature itself.
    const mutation = fc.record({
      index: fc.integer({ min: 8, max: leaf.length - 1 }),
      xor: fc.integer({ min: 1, max: 255 }),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ index, xor }) => {
        const bytes = new Uint8Array(leaf);
        bytes[index] = (bytes[index] ?? 0) ^ xor;
        const result = await validator.validate(bytes, 'authentication');
        expect(result.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the validator usable: the genuine certificate still passes afterwards', async () => {
    expect((await validator.validate(leaf, 'authentication')).ok).toBe(true);
  });

  it('never throws anything but an Error from CRL parsing or identity reading', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1024 }), (bytes) => {
        for (const run of [() => parseCrl(bytes), () => practitionerFromCertificate(bytes)]) {
          try {
            run();
          } catch (error) {
            expect(error).toBeInstanceOf(Error);
          }
        }
      }),
      { numRuns: 5000 },
    );
  });
});
