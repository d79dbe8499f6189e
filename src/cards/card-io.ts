// APDU plumbing shared by the card sessions: one CLA for every command (the CPS4 runs on logical
// channel 1), SELECT by AID / file id / path, and READ BINARY of a whole EF in chunks. Malformed
// exchanges (a card answering 61xx forever, fewer than 2 bytes) become CardErrors; TransportErrors
// (card removed, reader gone) pass through unchanged for the agent to report.
import type { CommandApdu, ResponseApdu } from '../iso7816/apdu.js';
import { Iso7816ParseError, Iso7816ProtocolError } from '../iso7816/errors.js';
import type { CardChannel } from '../transport/card-channel.js';
import { cardDataError, CardError, cardStatusError, pinRequired, type CardErrorMessages } from './errors.js';

export const INS = {
  VERIFY: 0x20,
  MSE: 0x22,
  CHANGE_REFERENCE_DATA: 0x24,
  PSO: 0x2a,
  RESET_RETRY_COUNTER: 0x2c,
  INTERNAL_AUTHENTICATE: 0x88,
  SELECT: 0xa4,
  READ_BINARY: 0xb0,
} as const;

export const SW_SUCCESS = 0x9000;
const SW_END_OF_FILE = 0x6282;
const SW_WRONG_P1P2 = 0x6b00;
const SW_SECURITY_STATUS = 0x6982;

/** READ BINARY offsets are 15 bits (P1 b8 set means an SFI). */
const MAX_OFFSET = 0x7fff;

export type Command = Omit<CommandApdu, 'cla'>;

export interface ReadOptions {
  /** Bytes per READ BINARY. */
  readonly chunk: number;
  /** Where to start (a PKCS#15 Path index). */
  readonly offset?: number;
  /** The exact length when known (a Path length, an FCP size). */
  readonly length?: number;
  /** The file holds one DER value: take the length from its header after the first chunk. */
  readonly derLength?: boolean;
  /** Read the first chunk by short file identifier (P1 = 80 | sfi) instead of the current EF. */
  readonly sfi?: number;
}

export class CardIo {
  constructor(
    private readonly channel: CardChannel,
    readonly cla: number,
  ) {}

  async send(command: Command): Promise<ResponseApdu> {
    try {
      return await this.channel.transmit({ cla: this.cla, ...command });
    } catch (error) {
      if (error instanceof Iso7816ProtocolError || error instanceof Iso7816ParseError) {
        throw new CardError('CARD_ERROR', { fr: `Échange avec la carte invalide : ${error.message}`, en: `Invalid exchange with the card: ${error.message}` }, { cause: error });
      }
      throw error;
    }
  }

  /** SELECT by DF name (P1=04); P2=0C asks for no response data. */
  selectAid(aid: Uint8Array, p2 = 0x0c): Promise<ResponseApdu> {
    return this.send({ ins: INS.SELECT, p1: 0x04, p2, data: aid, ...(p2 === 0x0c ? {} : { le: 256 }) });
  }

  /**
   * SELECT a file by its PKCS#15 path bytes: a 2-byte file id (other than 3F00) with P1=02 under
   * the current DF; a longer path, or 3F00, with P1=09 (IAS-ECC reads a leading 3F00 as absolute).
   */
  selectPath(path: Uint8Array, p2 = 0x0c): Promise<ResponseApdu> {
    const isFid = path.length === 2 && !(path[0] === 0x3f && path[1] === 0x00);
    return this.send({ ins: INS.SELECT, p1: isFid ? 0x02 : 0x09, p2, data: path, ...(p2 === 0x0c ? {} : { le: 256 }) });
  }

  /** SELECT by file id with P1=00 (any file: MF, DF or EF), as Vitale readers do. */
  selectFid(fid: number, p2 = 0x0c): Promise<ResponseApdu> {
    return this.send({ ins: INS.SELECT, p1: 0x00, p2, data: Uint8Array.of(fid >> 8, fid & 0xff), ...(p2 === 0x0c ? {} : { le: 256 }) });
  }

  /**
   * Reads the current EF (or the EF named by `sfi`) to its end: chunk after chunk until a short
   * answer, `62 82`, `6B 00` past the end, or the known length. T=0 `6C xx` is resolved below us.
   * @throws CardError PIN_REQUIRED on `69 82`, CARD_ERROR on any other status.
   */
  async readBinary(opts: ReadOptions, operation: CardErrorMessages): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let offset = opts.offset ?? 0;
    let read = 0;
    let total = opts.length;
    let first = true;
    for (;;) {
      if (total !== undefined && read >= total) break;
      const want = total === undefined ? opts.chunk : Math.min(opts.chunk, total - read);
      const bySfi = first && opts.sfi !== undefined;
      if (!bySfi && offset > MAX_OFFSET) throw cardDataError('fichier trop long', 'file too long');
      const r = await this.send({
        ins: INS.READ_BINARY,
        p1: bySfi ? 0x80 | (opts.sfi! & 0x1f) : offset >> 8,
        p2: offset & 0xff, // by SFI, P2 is the offset (0..255)
        le: want,
      });
      if (r.sw === SW_WRONG_P1P2 && !first && total === undefined) break; // offset at the end
      if (r.sw === SW_SECURITY_STATUS) throw pinRequired();
      if (r.sw !== SW_SUCCESS && r.sw !== SW_END_OF_FILE) throw cardStatusError(operation, r.sw);
      first = false;
      parts.push(r.data);
      offset += r.data.length;
      read += r.data.length;
      if (opts.derLength && total === undefined) total = derTotalLength(concat(parts));
      if (r.data.length === 0 || r.sw === SW_END_OF_FILE || r.data.length < want) break;
    }
    return concat(parts);
  }
}

/** Header + content length of the DER value at the start of `bytes`, or undefined while unknown. */
export function derTotalLength(bytes: Uint8Array): number | undefined {
  let i = 1;
  if (bytes.length < 2) return undefined;
  if ((bytes[0]! & 0x1f) === 0x1f) {
    while (i < bytes.length && (bytes[i]! & 0x80) !== 0) i++;
    i++;
  }
  if (i >= bytes.length) return undefined;
  const first = bytes[i]!;
  if (first < 0x80) return i + 1 + first;
  const count = first & 0x7f;
  if (count === 0 || count > 3) return undefined; // indefinite or absurd: read to the end instead
  if (i + 1 + count > bytes.length) return undefined;
  let length = 0;
  for (let k = 1; k <= count; k++) length = length * 256 + bytes[i + k]!;
  return i + 1 + count + length;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
