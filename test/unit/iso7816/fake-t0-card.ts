// A scripted T=0 card for the transport-rule tests: records every APDU it receives and, like the
// CPS3, never returns data with the command itself: it answers 61xx and serves the bytes through
// GET RESPONSE, answering 6Cxx when a GET RESPONSE asks for more than it holds.

import { decodeCommandApdu, encodeResponseApdu, type DecodedCommandApdu } from '../../../src/iso7816/apdu.js';
import { hex } from '../../../src/iso7816/hex.js';

export interface CardAnswer {
  data?: Uint8Array;
  sw: number;
}

export class FakeT0Card {
  readonly sent: string[] = [];
  private pending: Uint8Array = new Uint8Array(0);

  constructor(private readonly handler: (c: DecodedCommandApdu) => CardAnswer) {}

  readonly transmit = async (apdu: Uint8Array): Promise<Uint8Array> => {
    this.sent.push(hex(apdu));
    const c = decodeCommandApdu(apdu);
    if (c.ins === 0xc0) return this.getResponse(c.le ?? 256);
    const answer = this.handler(c);
    const data = answer.data ?? new Uint8Array(0);
    if (data.length === 0 || answer.sw !== 0x9000) return encodeResponseApdu(new Uint8Array(0), answer.sw);
    this.pending = data;
    return encodeResponseApdu(new Uint8Array(0), 0x6100 | (Math.min(data.length, 256) & 0xff));
  };

  private getResponse(le: number): Uint8Array {
    if (this.pending.length === 0) return encodeResponseApdu(new Uint8Array(0), 0x6985);
    if (le > this.pending.length) return encodeResponseApdu(new Uint8Array(0), 0x6c00 | (this.pending.length & 0xff));
    const out = this.pending.subarray(0, le);
    this.pending = this.pending.subarray(le);
    const sw = this.pending.length === 0 ? 0x9000 : 0x6100 | (Math.min(this.pending.length, 256) & 0xff);
    return encodeResponseApdu(out, sw);
  }
}

/** A card driven by a plain list of raw answers, one per exchange (repeating the last one). */
export function scriptedCard(answers: readonly string[], toBytes: (h: string) => Uint8Array) {
  const sent: string[] = [];
  const transmit = async (apdu: Uint8Array): Promise<Uint8Array> => {
    const answer = answers[Math.min(sent.length, answers.length - 1)] ?? '6F 00';
    sent.push(hex(apdu));
    return toBytes(answer);
  };
  return { sent, transmit };
}
