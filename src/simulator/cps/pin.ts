// A card PIN (or PUK): its value, try counter and blocked state. The value is compared as the
// PIN block the host sends, built from the PKCS#15 pinAttributes the card publishes.
import { timingSafeEqual } from 'node:crypto';

export interface PinState {
  value: string;
  triesLeft: number;
}

export interface PinPolicy {
  readonly reference: number;
  readonly maxTries: number;
  readonly minLength: number;
  readonly maxLength: number;
  /** The block length the card compares (storedLength); shorter PINs are padded with padChar. */
  readonly storedLength: number;
  readonly padChar: number;
}

export type PinCheck = { ok: true } | { ok: false; sw: number };

export class CardPin {
  constructor(
    readonly policy: PinPolicy,
    readonly state: PinState,
  ) {}

  get blocked(): boolean {
    return this.state.triesLeft === 0;
  }

  /** Encodes a PIN value the way the card stores it (ASCII digits padded to storedLength). */
  block(value: string): Uint8Array {
    const out = new Uint8Array(this.policy.storedLength).fill(this.policy.padChar);
    out.set(Buffer.from(value, 'ascii').subarray(0, this.policy.storedLength), 0);
    return out;
  }

  /** Accepts a candidate block: 63 Cx after a wrong value, 69 83 once blocked. */
  check(candidate: Uint8Array): PinCheck {
    if (this.blocked) return { ok: false, sw: 0x6983 };
    if (!this.wellFormed(candidate)) return { ok: false, sw: 0x6a80 };
    const expected = this.block(this.state.value);
    const padded = candidate.length === expected.length ? candidate : this.pad(candidate);
    if (padded.length === expected.length && timingSafeEqual(padded, expected)) {
      this.state.triesLeft = this.policy.maxTries;
      return { ok: true };
    }
    this.state.triesLeft = Math.max(0, this.state.triesLeft - 1);
    return { ok: false, sw: this.state.triesLeft === 0 ? 0x6983 : 0x63c0 | this.state.triesLeft };
  }

  /** The status a VERIFY without data reports. */
  status(verified: boolean): number {
    if (this.blocked) return 0x6983;
    return verified ? 0x9000 : 0x63c0 | this.state.triesLeft;
  }

  /** Length and character checks of a new value or a candidate block (digits, then padding). */
  wellFormed(candidate: Uint8Array): boolean {
    if (candidate.length < this.policy.minLength || candidate.length > Math.max(this.policy.storedLength, this.policy.maxLength)) return false;
    let digits = 0;
    let inPadding = false;
    for (const byte of candidate) {
      if (byte === this.policy.padChar) inPadding = true;
      else if (!inPadding && byte >= 0x30 && byte <= 0x39) digits++;
      else return false;
    }
    return digits >= this.policy.minLength && digits <= this.policy.maxLength;
  }

  digitsOf(candidate: Uint8Array): string {
    let end = candidate.indexOf(this.policy.padChar);
    if (end < 0) end = candidate.length;
    return Buffer.from(candidate.subarray(0, end)).toString('ascii');
  }

  setValue(value: string): void {
    this.state.value = value;
    this.state.triesLeft = this.policy.maxTries;
  }

  private pad(candidate: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.policy.storedLength).fill(this.policy.padChar);
    out.set(candidate.subarray(0, this.policy.storedLength), 0);
    return out;
  }
}
