// Virtual CPS3 card (IAS-ECC profile, T=0) as cards.md describes it: PKCS#15 files, signature key
// 81 (PSO CDS only), authentication key 82 (INTERNAL AUTHENTICATE and PSO DECIPHER), PIN 1 and
// PUK 2, MSE SET / PSO HASH / PSO CDS / PSO DECIPHER with chaining, GET DATA on the SDOs.
import { randomBytes } from 'node:crypto';
import { findTlv, type TlvNode } from '../../iso7816/tlv.js';
import { CardFileSystem } from '../file-system.js';
import { readBinary, select } from '../file-commands.js';
import { IsoCard, fail, parseCommandTlv, type CardCommand, type HandlerResult } from '../iso-card.js';
import { sha256DigestInfo } from './card-key.js';
import type { CpsCardModel, CpsKey } from './cps-model.js';
import { finishSha256 } from './sha256-resume.js';
import { sdoResponse } from './sdo.js';
import { PinCommands } from './pin-commands.js';

export const CPS3_ATR = Uint8Array.from([0x3b, 0xac, 0x00, 0x40, 0x2a, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x00, 0x03, 0x10, 0x00, 0x90, 0x00]);

/** Algorithm references (cards.md). */
export const ALG = {
  RSA_PKCS: 0x02,
  SHA1_RSA_PKCS: 0x12,
  SHA256_RSA_PKCS: 0x42,
  SHA1: 0x10,
  SHA256: 0x40,
  RSA_PKCS_DECIPHER: 0x1a,
} as const;

type SecurityEnvironment = {
  signature?: { alg: number; keyRef: number };
  authentication?: { alg: number; keyRef: number };
  decipher?: { alg: number; keyRef: number };
  hash?: { alg: number };
};

const INS = {
  SELECT: 0xa4,
  READ_BINARY: 0xb0,
  VERIFY: 0x20,
  CHANGE_REFERENCE_DATA: 0x24,
  RESET_RETRY_COUNTER: 0x2c,
  MSE: 0x22,
  PSO: 0x2a,
  INTERNAL_AUTHENTICATE: 0x88,
  GET_DATA: 0xcb,
  GET_CHALLENGE: 0x84,
} as const;

export class Cps3Card extends IsoCard {
  readonly family = 'CPS3' as const;
  readonly atr = CPS3_ATR;

  private readonly fs: CardFileSystem;
  private readonly verified = new Set<number>();
  private readonly pins: PinCommands;
  private se: SecurityEnvironment = {};
  /** Result of the last PSO HASH, consumed by the next PSO CDS. */
  private hashed: Uint8Array | undefined;

  constructor(private readonly model: CpsCardModel) {
    super({ protocol: 'T0', channels: [0] });
    this.fs = new CardFileSystem(model.mf);
    this.pins = new PinCommands(model, this.verified);
  }

  protected resetApplication(): void {
    this.verified.clear();
    this.pins.reset();
    this.se = {};
    this.hashed = undefined;
    this.fs.reset();
  }

  protected handle(c: CardCommand): HandlerResult {
    switch (c.ins) {
      case INS.SELECT:
        return select(this.fs, c, { acceptedP2: [0x04, 0x0c], mfByEfSelect: true });
      case INS.READ_BINARY:
        return readBinary(this.fs, c, (rule) => this.pins.mayRead(rule));
      case INS.VERIFY:
        return this.pins.verify(c);
      case INS.CHANGE_REFERENCE_DATA:
        return this.pins.changeReferenceData(c);
      case INS.RESET_RETRY_COUNTER:
        return this.pins.resetRetryCounter(c);
      case INS.MSE:
        return this.manageSecurityEnvironment(c);
      case INS.PSO:
        return this.performSecurityOperation(c);
      case INS.INTERNAL_AUTHENTICATE:
        return this.internalAuthenticate(c);
      case INS.GET_DATA:
        return this.getData(c);
      case INS.GET_CHALLENGE:
        if (c.p1 !== 0 || c.p2 !== 0) fail(0x6a86);
        if (c.le === undefined || c.le > 256) fail(0x6700);
        return randomBytes(c.le ?? 8);
      default:
        return fail(0x6d00);
    }
  }


  /** MSE SET (P1=41) for B6 signature, A4 authentication, B8 decipher, AA hash; F3 = restore. */
  private manageSecurityEnvironment(c: CardCommand): HandlerResult {
    if (c.p1 === 0xf3) {
      this.se = {};
      this.hashed = undefined;
      return new Uint8Array(0);
    }
    if (c.p1 !== 0x41) fail(0x6a86);
    const nodes = parseCommandTlv(c.data);
    const alg = single(findTlv(nodes, 0x80));
    const keyRef = single(findTlv(nodes, 0x84));
    switch (c.p2) {
      case 0xaa:
        if (alg !== ALG.SHA256 && alg !== ALG.SHA1) fail(0x6a80);
        this.se.hash = { alg: alg! };
        return new Uint8Array(0);
      case 0xb6:
        return this.setKey('signature', alg, keyRef, [ALG.SHA256_RSA_PKCS, ALG.SHA1_RSA_PKCS], 'sign');
      case 0xa4:
        return this.setKey('authentication', alg, keyRef, [ALG.RSA_PKCS], 'authenticate');
      case 0xb8:
        return this.setKey('decipher', alg, keyRef, [ALG.RSA_PKCS_DECIPHER, ALG.RSA_PKCS], 'decipher');
      default:
        return fail(0x6a86);
    }
  }

  private setKey(slot: 'signature' | 'authentication' | 'decipher', alg: number | undefined, keyRef: number | undefined, algs: number[], use: CpsKey['uses'][number]): HandlerResult {
    if (alg === undefined || keyRef === undefined) fail(0x6a80);
    if (!algs.includes(alg!)) fail(0x6a80);
    const key = this.model.keys.get(keyRef!);
    if (!key) fail(0x6a88);
    if (!key!.uses.includes(use)) fail(0x6a80);
    this.se[slot] = { alg: alg!, keyRef: keyRef! };
    if (slot === 'signature') this.hashed = undefined;
    return new Uint8Array(0);
  }

  private performSecurityOperation(c: CardCommand): HandlerResult {
    const p1p2 = (c.p1 << 8) | c.p2;
    switch (p1p2) {
      case 0x90a0:
        return this.psoHash(c);
      case 0x9e9a:
        return this.psoComputeSignature(c);
      case 0x8086:
        return this.psoDecipher(c);
      default:
        return fail(0x6a86);
    }
  }

  /** PSO HASH: tag 90 = intermediate SHA-256 state (+ optional 8-byte bit counter), tag 80 = last bytes. */
  private psoHash(c: CardCommand): HandlerResult {
    const alg = this.se.hash?.alg ?? (this.se.signature?.alg === ALG.SHA256_RSA_PKCS ? ALG.SHA256 : undefined);
    if (alg !== ALG.SHA256) fail(0x6985);
    const nodes = parseCommandTlv(c.data);
    const state = findTlv(nodes, 0x90)?.value;
    const rest = findTlv(nodes, 0x80)?.value ?? new Uint8Array(0);
    if (!state) fail(0x6a80);
    if (state!.length === 32 && rest.length === 0) {
      // The whole hash, computed by the host.
      this.hashed = state!.slice();
      return new Uint8Array(0);
    }
    if (state!.length !== 40 || rest.length > 64) fail(0x6a80);
    const bits = new DataView(state!.buffer, state!.byteOffset + 32, 8).getBigUint64(0);
    if (bits % 512n !== 0n) fail(0x6a80);
    this.hashed = finishSha256(state!.subarray(0, 32), Number(bits / 8n), rest);
    return new Uint8Array(0);
  }

  /** PSO COMPUTE DIGITAL SIGNATURE with the signature key: the hash from PSO HASH, or in the data. */
  private psoComputeSignature(c: CardCommand): HandlerResult {
    const env = this.se.signature;
    if (!env) return fail(0x6985);
    const key = this.pins.usableKey(env.keyRef);
    let hash = this.hashed;
    if (c.data.length > 0) hash = c.data;
    this.hashed = undefined;
    const expected = env.alg === ALG.SHA256_RSA_PKCS ? 32 : 20;
    if (!hash) return fail(0x6985);
    if (hash.length !== expected) fail(0x6700);
    if (env.alg !== ALG.SHA256_RSA_PKCS) fail(0x6a80); // SHA-1 signatures are no longer issued
    return key.rsa.signPkcs1(sha256DigestInfo(hash!));
  }

  /** INTERNAL AUTHENTICATE with alg 02: the card pads the DigestInfo (type 1) and signs it. */
  private internalAuthenticate(c: CardCommand): HandlerResult {
    if (c.p1 !== 0x00 || c.p2 !== 0x00) fail(0x6a86);
    const env = this.se.authentication;
    if (!env) return fail(0x6985);
    const key = this.pins.usableKey(env.keyRef);
    if (c.data.length === 0 || c.data.length > Math.floor(key.rsa.modulusBytes * 0.4)) fail(0x6700);
    return key.rsa.signPkcs1(c.data);
  }

  /** PSO DECIPHER: 81 (padding indicator) || cryptogram; the card removes the PKCS#1 v1.5 padding. */
  private psoDecipher(c: CardCommand): HandlerResult {
    const env = this.se.decipher;
    if (!env) return fail(0x6985);
    const key = this.pins.usableKey(env.keyRef);
    if (c.data[0] !== 0x81 || c.data.length !== key.rsa.modulusBytes + 1) fail(0x6a80);
    const plain = key.rsa.decipherPkcs1(c.data.subarray(1));
    if (!plain) return fail(0x6984);
    return plain;
  }


  /** GET DATA 3F FF: security data objects (PIN and key SDOs) for hosts such as OpenSC. */
  private getData(c: CardCommand): HandlerResult {
    if (c.p1 !== 0x3f || c.p2 !== 0xff) fail(0x6a86);
    // PIN SDOs live in the MF, key SDOs in the application DF: each is found from there.
    if (this.fs.currentDf !== this.model.mf && this.fs.currentDf !== this.model.application) fail(0x6a88);
    const answer = sdoResponse(this.model, c.data);
    if (!answer) return fail(0x6a88);
    return answer;
  }
}

function single(node: TlvNode | undefined): number | undefined {
  if (!node || node.value.length !== 1) return undefined;
  return node.value[0];
}
