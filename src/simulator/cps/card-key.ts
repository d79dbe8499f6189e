// An RSA private key as it lives inside a card: it signs DigestInfo blocks with PKCS#1 v1.5 type-1
// padding, performs raw RSA, and deciphers PKCS#1 v1.5 cryptograms by removing the padding
// itself, since Node 20 refuses PKCS#1 v1.5 in privateDecrypt (CVE-2023-46809 hardening).
import { constants, createHash, createPrivateKey, privateDecrypt, privateEncrypt, randomBytes, type KeyObject } from 'node:crypto';

const SHA256_DIGEST_INFO_PREFIX = Uint8Array.from([
  0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
]);

export function sha256DigestInfo(hash: Uint8Array): Uint8Array {
  const out = new Uint8Array(SHA256_DIGEST_INFO_PREFIX.length + hash.length);
  out.set(SHA256_DIGEST_INFO_PREFIX, 0);
  out.set(hash, SHA256_DIGEST_INFO_PREFIX.length);
  return out;
}

export class CardRsaKey {
  private readonly key: KeyObject;
  readonly modulusBytes: number;

  constructor(pkcs8Der: Uint8Array) {
    this.key = createPrivateKey({ key: Buffer.from(pkcs8Der), format: 'der', type: 'pkcs8' });
    const bits = this.key.asymmetricKeyDetails?.modulusLength ?? 2048;
    this.modulusBytes = bits / 8;
  }

  /** PKCS#1 v1.5 type-1 padding + RSA private operation over `payload` (e.g. a DigestInfo). */
  signPkcs1(payload: Uint8Array): Uint8Array {
    if (payload.length > this.modulusBytes - 11) throw new RangeError('payload too long for PKCS#1 v1.5');
    return new Uint8Array(privateEncrypt({ key: this.key, padding: constants.RSA_PKCS1_PADDING }, payload));
  }

  /** Raw RSA (m^d mod n) over a block of exactly the modulus length, smaller than the modulus. */
  raw(block: Uint8Array): Uint8Array {
    if (block.length !== this.modulusBytes) throw new RangeError('raw RSA input must be the modulus length');
    return new Uint8Array(privateDecrypt({ key: this.key, padding: constants.RSA_NO_PADDING }, block));
  }

  /** EMSA-PSS (SHA-256, MGF1-SHA-256, salt of 32 bytes) over a precomputed hash, then raw RSA. */
  signPssSha256(hash: Uint8Array): Uint8Array {
    return this.raw(emsaPssEncode(hash, this.modulusBytes * 8 - 1));
  }

  /**
   * Deciphers a PKCS#1 v1.5 cryptogram. Returns undefined for any padding failure; the padding is
   * examined in full whatever its content so the time does not depend on where it is wrong.
   */
  decipherPkcs1(cryptogram: Uint8Array): Uint8Array | undefined {
    if (cryptogram.length !== this.modulusBytes) return undefined;
    let em: Uint8Array;
    try {
      em = this.raw(cryptogram);
    } catch {
      return undefined;
    }
    let bad = (em[0] ?? 1) | ((em[1] ?? 0) ^ 0x02);
    let separator = 0;
    let found = 0;
    for (let i = 2; i < em.length; i++) {
      const isZero = ((em[i]! - 1) >> 31) & 1; // 1 when em[i] === 0, without branching on it
      const first = isZero & (found ^ 1);
      separator |= first * i;
      found |= isZero;
    }
    bad |= (found ^ 1) | (separator < 10 ? 1 : 0); // at least 8 non-zero padding bytes
    return bad === 0 ? em.subarray(separator + 1) : undefined;
  }
}

function mgf1Sha256(seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  for (let counter = 0; done < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash('sha256').update(seed).update(c).digest();
    out.set(block.subarray(0, Math.min(block.length, length - done)), done);
    done += block.length;
  }
  return out;
}

/** RFC 8017 §9.1.1 with SHA-256 and a 32-byte salt. */
function emsaPssEncode(mHash: Uint8Array, emBits: number): Uint8Array {
  const emLen = Math.ceil(emBits / 8);
  const sLen = 32;
  if (mHash.length !== 32 || emLen < mHash.length + sLen + 2) throw new RangeError('bad PSS input');
  const salt = randomBytes(sLen);
  const mPrime = Buffer.concat([Buffer.alloc(8), mHash, salt]);
  const h = createHash('sha256').update(mPrime).digest();
  const db = new Uint8Array(emLen - h.length - 1);
  db[db.length - sLen - 1] = 0x01;
  db.set(salt, db.length - sLen);
  const mask = mgf1Sha256(h, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const em = new Uint8Array(emLen);
  em.set(db, 0);
  em.set(h, db.length);
  em[emLen - 1] = 0xbc;
  return em;
}
