// The vpcd wire protocol (vsmartcard's vpcd driver <-> a virtual card): every message is a 2-byte
// big-endian length then the payload. vpcd listens; the card connects. A 1-byte payload from vpcd
// is a control byte (only "get ATR" expects an answer: the ATR); anything longer is a command APDU,
// answered with the response APDU.

/** vpcd's first slot; slot n listens on this + n. */
export const VPCD_DEFAULT_PORT = 35963;

export const VPCD_CTRL_OFF = 0x00;
export const VPCD_CTRL_ON = 0x01;
export const VPCD_CTRL_RESET = 0x02;
export const VPCD_CTRL_ATR = 0x04;

export const VPCD_MAX_PAYLOAD = 0xffff;

/** Length prefix + payload, as one buffer (one write: no Nagle/delayed-ACK stall on our side). */
export function encodeFrame(payload: Uint8Array): Buffer {
  if (payload.length > VPCD_MAX_PAYLOAD) throw new RangeError(`vpcd message too long: ${payload.length} bytes`);
  const frame = Buffer.allocUnsafe(2 + payload.length);
  frame.writeUInt16BE(payload.length, 0);
  frame.set(payload, 2);
  return frame;
}

/** Reassembles frames from a TCP byte stream (messages may arrive split or several at once). */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds received bytes; returns the complete payloads they finish, in order. */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    let offset = 0;
    while (this.pending.length - offset >= 2) {
      const length = this.pending.readUInt16BE(offset);
      if (this.pending.length - offset - 2 < length) break;
      frames.push(Buffer.from(this.pending.subarray(offset + 2, offset + 2 + length)));
      offset += 2 + length;
    }
    this.pending = offset === this.pending.length ? Buffer.alloc(0) : Buffer.from(this.pending.subarray(offset));
    return frames;
  }

  /** Bytes received that do not make a whole frame yet. */
  get buffered(): number {
    return this.pending.length;
  }
}
