// PKCS#1 v1.5 pieces the host builds or checks (RFC 8017 §9.2 and §7.2.2): the SHA-256
// DigestInfo, the type-1 block a CPS4 signs with raw RSA, and the removal of type-2 padding from
// what a CPS4 deciphers raw. The card does all of this itself on a CPS3.

const SHA256_DIGEST_INFO_PREFIX = Uint8Array.of(
  0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
);

export const SHA256_LENGTH = 32;

/** DER DigestInfo { sha256, hash } (51 bytes). */
export function sha256DigestInfo(hash: Uint8Array): Uint8Array {
  if (hash.length !== SHA256_LENGTH) throw new RangeError('a SHA-256 hash is 32 bytes');
  const out = new Uint8Array(SHA256_DIGEST_INFO_PREFIX.length + SHA256_LENGTH);
  out.set(SHA256_DIGEST_INFO_PREFIX, 0);
  out.set(hash, SHA256_DIGEST_INFO_PREFIX.length);
  return out;
}

/** `00 01 FF…FF 00 payload`, `modulusBytes` long (at least 8 FF bytes). */
export function pkcs1Type1Block(payload: Uint8Array, modulusBytes: number): Uint8Array {
  const padding = modulusBytes - payload.length - 3;
  if (padding < 8) throw new RangeError('payload too long for the modulus');
  const block = new Uint8Array(modulusBytes).fill(0xff);
  block[0] = 0x00;
  block[1] = 0x01;
  block[2 + padding] = 0x00;
  block.set(payload, 3 + padding);
  return block;
}

/**
 * Removes PKCS#1 v1.5 type-2 padding (`00 02 PS 00 M`, PS at least 8 non-zero bytes). The whole
 * block is examined whatever its content, without branching on secret bytes, so the time does
 * not tell where the padding is wrong; only the final valid/invalid outcome is a branch.
 * Returns undefined for any invalid block.
 */
export function removePkcs1Type2Padding(block: Uint8Array, modulusBytes: number): Uint8Array | undefined {
  if (block.length !== modulusBytes || modulusBytes < 11) return undefined;
  let bad = block[0]! | (block[1]! ^ 0x02);
  let separator = 0;
  let found = 0;
  for (let i = 2; i < block.length; i++) {
    const isZero = ((block[i]! - 1) >> 31) & 1; // 1 exactly when the byte is 0
    const first = isZero & (found ^ 1);
    separator |= -first & i;
    found |= isZero;
  }
  bad |= found ^ 1;
  bad |= ((separator - 10) >> 31) & 1; // separator < 10: fewer than 8 padding bytes
  if (bad !== 0) return undefined;
  return block.slice(separator + 1);
}
