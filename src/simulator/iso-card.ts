// Behaviour every virtual ISO 7816 card shares: decoding the command, class checks, command
// chaining, and the transmission-protocol rules for returning data (T=0: `61 xx` + GET RESPONSE,
// `6C xx` for a wrong Le; T=1: data directly). Card applications only implement `handle`.
import { decodeCommandApdu, type CommandApdu } from '../iso7816/apdu.js';
import { Iso7816ParseError } from '../iso7816/errors.js';
import { parseTlv, type TlvNode } from '../iso7816/tlv.js';
import type { VirtualCard, VirtualCardFamily } from './virtual-card.js';

/** Thrown by card handlers to answer a status word; never escapes `transmit`. */
export class CardStatus extends Error {
  constructor(readonly sw: number) {
    super(`SW ${sw.toString(16).padStart(4, '0')}`);
  }
}

export const fail = (sw: number): never => {
  throw new CardStatus(sw);
};

export interface CardCommand {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  readonly data: Uint8Array;
  /** Expected response length (1..65536) or undefined when the command has no Le field. */
  readonly le: number | undefined;
  /** The logical channel (0..3) from the class byte. */
  readonly channel: number;
}

/** What a handler returns: response data (status 90 00) or data with an explicit status word. */
export type HandlerResult = Uint8Array | { data: Uint8Array; sw: number };

const INS_GET_RESPONSE = 0xc0;
const CHAINING_BIT = 0x10;

export interface IsoCardOptions {
  readonly protocol: 'T0' | 'T1';
  /** Logical channels this card accepts commands on (CPS3 and Vitale: 0; CPS4: 0 and 1). */
  readonly channels: readonly number[];
}

export abstract class IsoCard implements VirtualCard {
  abstract readonly family: VirtualCardFamily;
  abstract readonly atr: Uint8Array;

  /** T=0 data waiting for GET RESPONSE. */
  private pending: Uint8Array | undefined;
  /** Command chaining in progress: header of the chain and data received so far. */
  private chain: { cla: number; ins: number; p1: number; p2: number; data: Uint8Array[] } | undefined;

  protected constructor(private readonly options: IsoCardOptions) {}

  /** The card application: one command in, data out, or a CardStatus thrown. */
  protected abstract handle(command: CardCommand): HandlerResult;

  /** Clears the card's volatile application state (verified PINs, selection, SE). */
  protected abstract resetApplication(): void;

  reset(): void {
    this.pending = undefined;
    this.chain = undefined;
    this.resetApplication();
  }

  transmit(bytes: Uint8Array): Uint8Array {
    let apdu: CommandApdu;
    try {
      apdu = decodeCommandApdu(bytes);
    } catch (error) {
      if (error instanceof Iso7816ParseError) return sw(0x6700);
      return sw(0x6f00);
    }
    try {
      return this.process(apdu);
    } catch (error) {
      if (error instanceof CardStatus) return sw(error.sw);
      // A bug in a virtual card must look like a card fault to the host, never crash the link.
      return sw(0x6f00);
    }
  }

  private process(apdu: CommandApdu): Uint8Array {
    const claType = apdu.cla & ~(0x03 | CHAINING_BIT);
    if (claType !== 0x00) return sw(0x6e00);
    const channel = apdu.cla & 0x03;
    if (!this.options.channels.includes(channel)) return sw(0x6881);

    if (apdu.ins === INS_GET_RESPONSE && this.options.protocol === 'T0') return this.getResponse(apdu);
    this.pending = undefined;

    const command = this.collectChain(apdu, channel);
    if (!command) return sw(0x9000);
    const result = this.handle(command);
    const data = result instanceof Uint8Array ? result : result.data;
    const status = result instanceof Uint8Array ? 0x9000 : result.sw;
    return this.shape(command, data, status);
  }

  /** ISO 7816-4 §5.3.3: links of a chain are acknowledged, the last one runs the command. */
  private collectChain(apdu: CommandApdu, channel: number): CardCommand | undefined {
    const data = apdu.data ?? new Uint8Array(0);
    const chained = (apdu.cla & CHAINING_BIT) !== 0;
    const header = { cla: apdu.cla & ~CHAINING_BIT, ins: apdu.ins, p1: apdu.p1, p2: apdu.p2 };
    if (this.chain) {
      const c = this.chain;
      if (c.cla !== header.cla || c.ins !== header.ins || c.p1 !== header.p1 || c.p2 !== header.p2) {
        this.chain = undefined;
        fail(0x6883); // last command of the chain expected
      }
      c.data.push(data);
    } else if (chained) {
      this.chain = { ...header, data: [data] };
    }
    if (chained) {
      if (apdu.le !== undefined) {
        this.chain = undefined;
        fail(0x6700);
      }
      return undefined;
    }
    const all = this.chain ? concat(this.chain.data) : data;
    this.chain = undefined;
    return { ...header, data: all, le: apdu.le, channel };
  }

  private shape(command: CardCommand, data: Uint8Array, status: number): Uint8Array {
    if (data.length === 0 || (status !== 0x9000 && (status & 0xff00) !== 0x6200)) return sw(status);
    if (this.options.protocol === 'T1') {
      const max = command.le ?? data.length;
      return withSw(data.subarray(0, Math.min(max, data.length)), status);
    }
    // T=0: a case-4 command (data in) or a command without Le cannot return data directly.
    if (command.data.length > 0 || command.le === undefined) {
      this.pending = data;
      return sw(0x6100 | Math.min(data.length, 256) % 256);
    }
    return this.directT0(data, command.le, status);
  }

  /** T=0 case 2: the right Le gets the data, a wrong one `6C xx` with the available length. */
  private directT0(data: Uint8Array, le: number, status: number): Uint8Array {
    if (le === data.length || (le === 256 && data.length > 256)) {
      const now = data.subarray(0, le);
      const rest = data.subarray(le);
      if (rest.length > 0) {
        this.pending = rest;
        return withSw(now, 0x6100 | Math.min(rest.length, 256) % 256);
      }
      return withSw(now, status);
    }
    if (data.length < 256) return sw(0x6c00 | data.length);
    return sw(0x6700);
  }

  private getResponse(apdu: CommandApdu): Uint8Array {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return sw(0x6985);
    if (apdu.p1 !== 0 || apdu.p2 !== 0) return sw(0x6a86);
    const want = apdu.le ?? 256;
    if (want > pending.length && want !== 256) {
      this.pending = pending;
      return sw(0x6c00 | pending.length);
    }
    const now = pending.subarray(0, Math.min(want, pending.length));
    const rest = pending.subarray(now.length);
    if (rest.length > 0) {
      this.pending = rest;
      return withSw(now, 0x6100 | Math.min(rest.length, 256) % 256);
    }
    return withSw(now, 0x9000);
  }
}

/** Command data as BER-TLV; malformed data is the card's `6A 80` (incorrect parameters in data). */
export function parseCommandTlv(data: Uint8Array): TlvNode[] {
  try {
    return parseTlv(data);
  } catch (error) {
    if (error instanceof Iso7816ParseError) return fail(0x6a80);
    throw error;
  }
}

export function sw(status: number): Uint8Array {
  return Uint8Array.of((status >> 8) & 0xff, status & 0xff);
}

export function withSw(data: Uint8Array, status: number): Uint8Array {
  const out = new Uint8Array(data.length + 2);
  out.set(data, 0);
  out[data.length] = (status >> 8) & 0xff;
  out[data.length + 1] = status & 0xff;
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
