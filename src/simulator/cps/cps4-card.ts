// Virtual CPS4 card (NXP ChipDoc applet, T=1) per cards.md and the ANS Cryptolib: every command
// on logical channel 1 (CLA 01, 11 when chaining); the applet (80 25 00 00 01 FF 01 00) must be
// selected first, otherwise `69 85`; inside it the same PKCS#15 application as a CPS3. Signature
// through MSE `81 B6 { 91 02 <alg> <key|80> }` (28 SHA-256 PKCS#1, 2C SHA-256 PSS) + PSO CDS of the
// hash. The authentication key (20) only does raw RSA through `2A 80 86` after MSE `41 B8
// { 83 01 20 }`: the host pads a type-1 block to authenticate, and strips the type-2 padding of
// what it deciphers (no `81` padding-indicator byte).
import { findTlv } from '../../iso7816/tlv.js';
import { CardFileSystem } from '../file-system.js';
import { readBinary, select } from '../file-commands.js';
import { IsoCard, fail, parseCommandTlv, type CardCommand, type HandlerResult } from '../iso-card.js';
import { sha256DigestInfo } from './card-key.js';
import { CPS4_APPLET_AID } from './cps-layout.js';
import type { CpsCardModel } from './cps-model.js';
import { PinCommands } from './pin-commands.js';

export const CPS4_ATR = Uint8Array.from([0x3b, 0x9b, 0x18, 0x80, 0x01, 0x00, 0x12, 0x25, 0x00, 0x64, 0x80, 0x04, 0x01, 0x00, 0x00, 0x90, 0x44]);

export const CPS4_ALG = {
  SHA1_RSA_PKCS: 0x0a,
  SHA256_RSA_PKCS: 0x28,
  SHA1_RSA_PSS: 0x15,
  SHA256_RSA_PSS: 0x2c,
} as const;

const APPLICATION_CHANNEL = 1;

export class Cps4Card extends IsoCard {
  readonly family = 'CPS4' as const;
  readonly atr = CPS4_ATR;

  private readonly fs: CardFileSystem;
  private readonly verified = new Set<number>();
  private readonly pins: PinCommands;
  private appletSelected = false;
  private signatureEnv: { alg: number; keyRef: number } | undefined;
  private rawEnv: { keyRef: number } | undefined;

  constructor(private readonly model: CpsCardModel) {
    super({ protocol: 'T1', channels: [0, APPLICATION_CHANNEL] });
    this.fs = new CardFileSystem(model.mf);
    this.pins = new PinCommands(model, this.verified);
  }

  protected resetApplication(): void {
    this.verified.clear();
    this.pins.reset();
    this.appletSelected = false;
    this.signatureEnv = undefined;
    this.rawEnv = undefined;
    this.fs.reset();
  }

  protected handle(c: CardCommand): HandlerResult {
    if (c.channel !== APPLICATION_CHANNEL) return this.basicChannel(c);
    if (c.ins === 0xa4 && c.p1 === 0x04 && sameBytes(c.data, CPS4_APPLET_AID)) {
      if (c.p2 !== 0x0c && c.p2 !== 0x04) fail(0x6a86);
      this.appletSelected = true;
      this.fs.reset();
      return new Uint8Array(0);
    }
    if (!this.appletSelected) return fail(0x6985);
    if (c.ins === 0xa4) return select(this.fs, c, { acceptedP2: [0x04, 0x0c], mfByEfSelect: true });
    switch (c.ins) {
      case 0xb0:
        return readBinary(this.fs, c, (rule) => this.pins.mayRead(rule));
      case 0x20:
        return this.pins.verify(c);
      case 0x24:
        return this.pins.changeReferenceData(c);
      case 0x2c:
        return this.pins.resetRetryCounter(c);
      case 0x22:
        return this.manageSecurityEnvironment(c);
      case 0x2a:
        return this.performSecurityOperation(c);
      default:
        return fail(0x6d00);
    }
  }

  /** On the basic channel the card only answers MANAGE CHANNEL (open/close channel 1). */
  private basicChannel(c: CardCommand): HandlerResult {
    if (c.ins !== 0x70) return fail(0x6985);
    if (c.p1 === 0x00 && c.p2 === 0x00) return Uint8Array.of(APPLICATION_CHANNEL);
    if (c.p1 === 0x80 && c.p2 === APPLICATION_CHANNEL) {
      this.appletSelected = false;
      return new Uint8Array(0);
    }
    return fail(0x6a86);
  }


  /**
   * MSE SET: `81 B6` (signature) with `91 02 <alg> <key ref or 80 = default signature key>`;
   * `41 B8` with `83 01 <key ref>` for the raw RSA of the authentication key.
   */
  private manageSecurityEnvironment(c: CardCommand): HandlerResult {
    const nodes = parseCommandTlv(c.data);
    if (c.p1 === 0x81 && c.p2 === 0xb6) {
      const spec = findTlv(nodes, 0x91)?.value;
      if (!spec || spec.length !== 2) return fail(0x6a80);
      const alg = spec[0]!;
      const keyRef = spec[1] === 0x80 ? this.signatureKeyRef() : spec[1]!;
      if (!Object.values(CPS4_ALG).includes(alg as never)) fail(0x6a80);
      const key = this.model.keys.get(keyRef);
      if (!key || !key.uses.includes('sign')) fail(0x6a88);
      this.signatureEnv = { alg, keyRef };
      return new Uint8Array(0);
    }
    if (c.p1 === 0x41 && c.p2 === 0xb8) {
      const ref = findTlv(nodes, 0x83)?.value;
      if (!ref || ref.length !== 1) return fail(0x6a80);
      const key = this.model.keys.get(ref[0]!);
      if (!key || !key.uses.includes('authenticate')) fail(0x6a88);
      this.rawEnv = { keyRef: ref[0]! };
      return new Uint8Array(0);
    }
    return fail(0x6a86);
  }

  private signatureKeyRef(): number {
    for (const key of this.model.keys.values()) if (key.uses.includes('sign')) return key.reference;
    return fail(0x6a88);
  }

  private performSecurityOperation(c: CardCommand): HandlerResult {
    if (c.p1 === 0x9e && c.p2 === 0x9a) return this.computeSignature(c);
    if (c.p1 === 0x80 && c.p2 === 0x86) return this.rawRsa(c);
    return fail(0x6a86);
  }

  private computeSignature(c: CardCommand): HandlerResult {
    const env = this.signatureEnv;
    if (!env) return fail(0x6985);
    const key = this.pins.usableKey(env.keyRef);
    const sha256 = env.alg === CPS4_ALG.SHA256_RSA_PKCS || env.alg === CPS4_ALG.SHA256_RSA_PSS;
    if (!sha256) fail(0x6a80); // SHA-1 is refused for new signatures
    if (c.data.length !== 32) fail(0x6700);
    if (env.alg === CPS4_ALG.SHA256_RSA_PSS) return key.rsa.signPssSha256(c.data);
    return key.rsa.signPkcs1(sha256DigestInfo(c.data));
  }

  /** Raw RSA with the authentication key over a block of the modulus length (sign or decipher). */
  private rawRsa(c: CardCommand): HandlerResult {
    const env = this.rawEnv;
    if (!env) return fail(0x6985);
    const key = this.pins.usableKey(env.keyRef);
    if (c.data.length !== key.rsa.modulusBytes) fail(0x6700);
    try {
      return key.rsa.raw(c.data);
    } catch {
      return fail(0x6a80); // input not smaller than the modulus
    }
  }

}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
