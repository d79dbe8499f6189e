// VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER over a CPS card's PINs, shared by the
// CPS3 and CPS4 command sets. The verified set belongs to the card object and is cleared on reset.
import { fail, type CardCommand, type HandlerResult } from '../iso-card.js';
import type { ReadCondition } from '../file-system.js';
import type { CpsCardModel, CpsKey } from './cps-model.js';
import type { CardPin } from './pin.js';

export class PinCommands {
  constructor(
    private readonly model: CpsCardModel,
    private readonly verified: Set<number>,
  ) {}

  private readonly unblocked = new Set<number>();

  pin(reference: number): CardPin {
    const pin = this.model.pins.get(reference);
    if (!pin) return fail(0x6a88);
    return pin;
  }

  verify(c: CardCommand): HandlerResult {
    if (c.p1 === 0xff) {
      // IAS-ECC: P1=FF resets the verified state of the reference.
      this.pin(c.p2);
      this.verified.delete(c.p2);
      return new Uint8Array(0);
    }
    if (c.p1 !== 0x00) fail(0x6a86);
    const pin = this.pin(c.p2);
    if (c.data.length === 0) return { data: new Uint8Array(0), sw: pin.status(this.verified.has(c.p2)) };
    const result = pin.check(c.data);
    this.model.onStateChange();
    if (!result.ok) {
      this.verified.delete(c.p2);
      return fail(result.sw);
    }
    this.verified.add(c.p2);
    return new Uint8Array(0);
  }

  /** CHANGE REFERENCE DATA, P1=00: old block || new block, both of the stored length. */
  changeReferenceData(c: CardCommand): HandlerResult {
    if (c.p1 === 0x01) return this.setNewValueOnly(c);
    if (c.p1 !== 0x00) fail(0x6a86);
    const pin = this.pin(c.p2);
    const n = pin.policy.storedLength;
    if (c.data.length !== 2 * n) fail(0x6700);
    const next = c.data.subarray(n);
    if (!pin.wellFormed(next)) fail(0x6a80);
    const result = pin.check(c.data.subarray(0, n));
    this.model.onStateChange();
    if (!result.ok) {
      this.verified.delete(c.p2);
      return fail(result.sw);
    }
    pin.setValue(pin.digitsOf(next));
    this.verified.add(c.p2);
    this.model.onStateChange();
    return new Uint8Array(0);
  }

  private setNewValueOnly(c: CardCommand): HandlerResult {
    const pin = this.pin(c.p2);
    // ISO 7816-4: P1=01 carries the new value only, allowed once the current PIN is verified (the
    // CPS4 changes its PIN this way, VERIFY first) or right after an unblock.
    if (!this.unblocked.has(c.p2) && !this.verified.has(c.p2)) fail(0x6982);
    if (c.data.length !== pin.policy.storedLength || !pin.wellFormed(c.data)) fail(0x6a80);
    pin.setValue(pin.digitsOf(c.data));
    this.unblocked.delete(c.p2);
    this.model.onStateChange();
    return new Uint8Array(0);
  }

  /** Whether a file's read condition is met by the PINs verified so far. */
  mayRead(rule: ReadCondition): boolean {
    if (rule.kind === 'always') return true;
    if (rule.kind === 'never') return false;
    return this.verified.has(rule.reference);
  }

  /** The key, once the PIN that guards it is verified (6A 88 unknown key, 69 82 PIN needed). */
  usableKey(reference: number): CpsKey {
    const key = this.model.keys.get(reference);
    if (!key) return fail(0x6a88);
    if (!this.verified.has(key.pinReference)) fail(0x6982);
    return key;
  }

  /** Forgets unblock permissions (card reset). */
  reset(): void {
    this.unblocked.clear();
  }

  /**
   * RESET RETRY COUNTER of the PIN (P2) with the PUK: P1=00 PUK || new PIN, P1=01 PUK only (tries
   * reset, value kept), P1=02 new PIN only once the PUK has been verified.
   */
  resetRetryCounter(c: CardCommand): HandlerResult {
    const pin = this.pin(c.p2);
    const puk = this.pin(this.model.pukReference);
    const n = puk.policy.storedLength;
    let newPin: Uint8Array | undefined;
    if (c.p1 === 0x00 || c.p1 === 0x01) {
      const pukBlock = c.data.subarray(0, n);
      if (c.p1 === 0x00) {
        if (c.data.length !== n + pin.policy.storedLength) fail(0x6700);
        newPin = c.data.subarray(n);
        if (!pin.wellFormed(newPin)) fail(0x6a80);
      } else if (c.data.length !== n) {
        fail(0x6700);
      }
      const result = puk.check(pukBlock);
      this.model.onStateChange();
      if (!result.ok) return fail(result.sw);
    } else if (c.p1 === 0x03) {
      // CPS4: unblock (tries reset) once the PUK is verified; the host then sets a new PIN with
      // CHANGE REFERENCE DATA P1=01 (new value only), allowed once after an unblock.
      if (!this.verified.has(this.model.pukReference)) fail(0x6982);
      if (c.data.length !== 0) fail(0x6700);
      this.unblocked.add(c.p2);
    } else if (c.p1 === 0x02) {
      if (!this.verified.has(this.model.pukReference)) fail(0x6982);
      if (c.data.length !== pin.policy.storedLength) fail(0x6700);
      newPin = c.data;
      if (!pin.wellFormed(newPin)) fail(0x6a80);
    } else {
      fail(0x6a86);
    }
    if (newPin) pin.setValue(pin.digitsOf(newPin));
    else pin.state.triesLeft = pin.policy.maxTries;
    this.verified.delete(this.model.pukReference);
    this.model.onStateChange();
    return new Uint8Array(0);
  }

}
