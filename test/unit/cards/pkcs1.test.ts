// The PKCS#1 v1.5 pieces the host builds (type-1 block) and checks (type-2 removal), against
// node:crypto's own implementation.
import { constants, createHash, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes, verify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pkcs1Type1Block, removePkcs1Type2Padding, sha256DigestInfo } from '../../../src/cards/pkcs1.js';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
const raw = (block: Uint8Array) => new Uint8Array(privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, block));

describe('PKCS#1 v1.5', () => {
  it('a raw RSA over the type-1 block of a SHA-256 DigestInfo is an RS256 signature', () => {
    const message = Buffer.from('jeton');
    const hash = new Uint8Array(createHash('sha256').update(message).digest());
    const block = pkcs1Type1Block(sha256DigestInfo(hash), 128);
    expect(block.subarray(0, 2)).toEqual(Uint8Array.of(0x00, 0x01));
    expect(verify('sha256', message, publicKey, raw(block))).toBe(true);
    expect(() => pkcs1Type1Block(new Uint8Array(118), 128)).toThrow(RangeError);
  });

  it('removes type-2 padding from what node:crypto encrypts, for any message length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 117 }), (message) => {
        const em = raw(publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, message));
        expect(removePkcs1Type2Padding(em, 128)).toEqual(message);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects every malformed block the same way (undefined)', () => {
    const good = raw(publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, randomBytes(16)));
    const cases: Uint8Array[] = [
      Uint8Array.from([0x01, ...good.subarray(1)]), // first byte not 00
      Uint8Array.from([0x00, 0x01, ...good.subarray(2)]), // type 1
      Uint8Array.from([0x00, 0x02, ...new Uint8Array(126).fill(0x11)]), // no separator
      Uint8Array.from([0x00, 0x02, 1, 2, 3, 4, 5, 6, 7, 0x00, ...new Uint8Array(118).fill(9)]), // 7 padding bytes
      good.subarray(1), // wrong length
      raw(publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING }, randomBytes(16))),
    ];
    for (const block of cases) expect(removePkcs1Type2Padding(block, 128)).toBeUndefined();
    expect(removePkcs1Type2Padding(Uint8Array.from([0x00, 0x02, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, ...new Uint8Array(117).fill(9)]), 128)).toHaveLength(117);
  });
});
