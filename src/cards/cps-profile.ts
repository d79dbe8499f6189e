// What differs between driving a CPS3 (IAS-ECC, T=0, channel 0) and a CPS4 (NXP ChipDoc applet on
// logical channel 1), as cards.md and the ANS Cryptolib facts (docs/research/opensc-cpx.md §8)
// describe them. The sessions read everything else (key references, PIN format, algorithm
// references) from the card's PKCS#15 files; the values here are the fallbacks and the commands
// that PKCS#15 does not describe.

export type CpsFamily = 'CPS3' | 'CPS4';

/** The IAS (PKCS#15) application of both generations, contact interface. */
export const CPS_PKCS15_AID = Uint8Array.of(0xe8, 0x28, 0xbd, 0x08, 0x0f, 0x80, 0x25, 0x00, 0x00, 0x01, 0xff, 0x00, 0x10);

/** The CPS4 ChipDoc applet, selected on channel 1 before anything else. */
export const CPS4_APPLET_AID = Uint8Array.of(0x80, 0x25, 0x00, 0x00, 0x01, 0xff, 0x01, 0x00);

export interface CpsProfile {
  readonly family: CpsFamily;
  /** CLA of every command: 00, or 01 for logical channel 1 (11 when chained, set by the channel). */
  readonly cla: number;
  /** READ BINARY chunk: 0xE7 as OpenSC and the Cryptolib read IAS-ECC cards. */
  readonly readChunk: number;
  /** Selected (on the CPS4) before the PKCS#15 application, at the start of every operation. */
  readonly applet?: Uint8Array;
  /** Key references when the PrKDF gives none (cards.md). */
  readonly fallbackKeyRef: { readonly signature: number; readonly authentication: number };
  /** Tries of the cardholder PIN: not in PKCS#15; 3 on both (cards.md; the Cryptolib assumes 3 on CPS4). */
  readonly pinMaxTries: number;
}

export const CPS3: CpsProfile = {
  family: 'CPS3',
  cla: 0x00,
  readChunk: 0xe7,
  fallbackKeyRef: { signature: 0x81, authentication: 0x82 },
  pinMaxTries: 3,
};

export const CPS4: CpsProfile = {
  family: 'CPS4',
  cla: 0x01,
  readChunk: 0xe7,
  applet: CPS4_APPLET_AID,
  fallbackKeyRef: { signature: 0x80, authentication: 0x20 },
  pinMaxTries: 3,
};

/** CPS3 algorithm references (cards.md), used when TokenInfo does not list them. */
export const CPS3_ALG = {
  RSA_PKCS: 0x02,
  SHA256_RSA_PKCS: 0x42,
  RSA_PKCS_DECIPHER: 0x1a,
} as const;

/** CPS4 signature algorithms in `MSE 81 B6 { 91 02 <alg> <key> }`; key 80 = the card's signature key. */
export const CPS4_ALG = {
  SHA256_RSA_PKCS: 0x28,
  SHA256_RSA_PSS: 0x2c,
} as const;
export const CPS4_DEFAULT_SIGNATURE_KEY = 0x80;

/** The PUK when the AODF does not describe it (cards.md: reference 2, 8 digits, 10 tries). */
export const FALLBACK_PUK = { reference: 0x02, length: 8 } as const;
