// A tiny VirtualCard for transport tests (mock pcsclite, vpcd link, control API): enough behaviour
// to see APDUs go through, a PIN with a try counter that survives resets, a verified state that
// does not, and a command that reports that state. Not a CPS or Vitale card.
import type { VirtualCard, VirtualCardFamily } from '../../src/simulator/virtual-card.js';

/** ATR with T=0 and T=1 offered and `historical` bytes (≤ 15), TCK computed. */
export function testAtr(historical: Uint8Array = new TextEncoder().encode('CBTEST')): Uint8Array {
  if (historical.length > 15) throw new Error('at most 15 historical bytes');
  const body = [0x80 | historical.length, 0x80, 0x01, ...historical];
  const tck = body.reduce((a, b) => a ^ b, 0);
  return Uint8Array.from([0x3b, ...body, tck]);
}

export interface TestCardState {
  readonly pin: string;
  readonly tries: number;
}

export interface TestCardOptions {
  readonly atr?: Uint8Array;
  readonly pin?: string;
  readonly state?: TestCardState;
  readonly onStateChange?: (state: TestCardState) => void;
}

const MAX_TRIES = 3;

export class TestCard implements VirtualCard {
  readonly family: VirtualCardFamily = 'CPS3';
  readonly atr: Uint8Array;
  verified = false;
  resets = 0;
  readonly commands: Uint8Array[] = [];
  private pin: string;
  private tries: number;
  private readonly onStateChange: ((state: TestCardState) => void) | undefined;

  constructor(options: TestCardOptions = {}) {
    this.atr = options.atr ?? testAtr();
    this.pin = options.state?.pin ?? options.pin ?? '1234';
    this.tries = options.state?.tries ?? MAX_TRIES;
    this.onStateChange = options.onStateChange;
  }

  get triesLeft(): number {
    return this.tries;
  }

  state(): TestCardState {
    return { pin: this.pin, tries: this.tries };
  }

  reset(): void {
    this.verified = false;
    this.resets++;
  }

  transmit(command: Uint8Array): Uint8Array {
    this.commands.push(Uint8Array.from(command));
    const [cla = 0, ins = 0, p1 = 0, p2 = 0] = command;
    if (command.length < 4) return sw(0x6700);
    if (cla !== 0x00 && cla !== 0x80) return sw(0x6e00);
    const lc = command.length > 5 ? (command[4] ?? 0) : 0;
    const data = command.subarray(5, 5 + lc);
    switch (ins) {
      case 0xa4: // SELECT: anything exists
        return sw(0x9000);
      case 0x20: // VERIFY, P2 = 01
        if (p1 !== 0x00 || p2 !== 0x01) return sw(0x6a86);
        return this.verify(command.length <= 5 ? null : data);
      case 0xb0: {
        // READ BINARY: Le bytes of 0x00, 0x01, ... (Le 00 = 256)
        const le = command.length === 5 ? (command[4] ?? 0) || 256 : 0;
        const out = new Uint8Array(le + 2);
        for (let i = 0; i < le; i++) out[i] = i & 0xff;
        out[le] = 0x90;
        return out;
      }
      case 0xca: // GET DATA: verified, tries left, resets seen
        return Uint8Array.from([this.verified ? 1 : 0, this.tries, this.resets & 0xff, 0x90, 0x00]);
      default:
        return sw(0x6d00);
    }
  }

  private verify(data: Uint8Array | null): Uint8Array {
    if (this.tries === 0) return sw(0x6983);
    if (data === null) return this.verified ? sw(0x9000) : sw(0x63c0 | this.tries);
    // PIN in ASCII, padded with FF (or not padded)
    let end = data.length;
    while (end > 0 && data[end - 1] === 0xff) end--;
    const given = new TextDecoder().decode(data.subarray(0, end));
    if (given === this.pin) {
      this.verified = true;
      if (this.tries !== MAX_TRIES) {
        this.tries = MAX_TRIES;
        this.onStateChange?.(this.state());
      }
      return sw(0x9000);
    }
    this.verified = false;
    this.tries--;
    this.onStateChange?.(this.state());
    return this.tries === 0 ? sw(0x6983) : sw(0x63c0 | this.tries);
  }
}

function sw(value: number): Uint8Array {
  return Uint8Array.from([value >> 8, value & 0xff]);
}
