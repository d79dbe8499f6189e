// A session with a Vitale 2 card: `read()` gives the card's beneficiaries in the shape of
// agent-protocol.md's `vitale.read`. The file layout is discovered as cardpeek does: select the
// VITALE application, read EF POINTERS (by SFI), then every EF it lists for that application.
// Nothing is cached between reads: a read is cheap and the card may be updated by other software.
import type { ResponseApdu } from '../iso7816/apdu.js';
import type { CardChannel } from '../transport/card-channel.js';
import { cardFamilyFromAtr } from './atr.js';
import { bytesEqual } from './ber.js';
import { CardIo, concat, INS, SW_SUCCESS } from './card-io.js';
import { CardError, cardDataError, cardStatusError, unsupportedCard, type CardErrorMessages } from './errors.js';
import { parsePan, parsePointers, parseVitaleDataFile, type VitaleBeneficiary } from './vitale-parser.js';

export interface VitaleReadResult {
  readonly family: 'VITALE2';
  readonly serial?: string;
  /** Start of validity of the card (`66/80`), ISO date. */
  readonly validFrom?: string;
  readonly beneficiaries: readonly VitaleBeneficiary[];
}

export const AID_VITALE = Uint8Array.of(0xd2, 0x50, 0x00, 0x00, 0x02, 0x56, 0x49, 0x54, 0x41, 0x4c, 0x45);
const FID_MF = 0x3f00;
const FID_PAN = 0x2f02;
const FID_POINTERS = 0x2001;
/** EF POINTERS by short file identifier: the low 5 bits of 2001. */
const SFI_POINTERS = 0x01;
const CHUNK = 256;
/** Largest data EF we read: twice any size seen, and far below the READ BINARY offset limit. */
const MAX_FILE = 0x1000;

const OP: Record<'select' | 'read', CardErrorMessages> = {
  select: { fr: "Sélection de l'application Vitale", en: 'Selecting the Vitale application' },
  read: { fr: 'Lecture de la carte Vitale', en: 'Reading the Vitale card' },
};

export class VitaleSession {
  private readonly io: CardIo;
  /** SELECT P2: 0C (no answer data) until the card refuses it with 6A 86, then 00 (FCI). */
  private selectP2 = 0x0c;

  private constructor(channel: CardChannel) {
    this.io = new CardIo(channel, 0x00);
  }

  /** @throws CardError UNSUPPORTED_CARD unless the ATR is a Vitale 2's (Vitale 1 is out of scope). */
  static async open(channel: CardChannel): Promise<VitaleSession> {
    const family = cardFamilyFromAtr(channel.atr);
    if (family !== 'VITALE2') throw unsupportedCard(family);
    return new VitaleSession(channel);
  }

  async read(): Promise<VitaleReadResult> {
    const serial = await this.readSerial();
    const r = await this.select(0x04, AID_VITALE);
    if (r.sw !== SW_SUCCESS) throw cardStatusError(OP.select, r.sw);
    const pointers = parsePointers(await this.readPointers());
    const app = pointers.applications.find((a) => bytesEqual(a.aid, AID_VITALE));
    if (!app) throw cardDataError("application VITALE absente d'EF POINTERS", 'VITALE application missing from EF POINTERS');

    const beneficiaries: VitaleBeneficiary[] = [];
    let validFrom: string | undefined;
    for (const file of pointers.files.filter((f) => f.applicationIndex === app.index)) {
      const selected = await this.select(0x00, Uint8Array.of(file.fid >> 8, file.fid & 0xff));
      if (selected.sw !== SW_SUCCESS) throw cardStatusError(OP.read, selected.sw);
      const content = await this.readTemplates();
      if (!content) continue; // not a beneficiary or card file (the CV certificate)
      const data = parseVitaleDataFile(content);
      beneficiaries.push(...data.beneficiaries);
      validFrom ??= data.validFrom;
    }
    if (beneficiaries.length === 0) throw cardDataError('aucun bénéficiaire', 'no beneficiary');
    return {
      family: 'VITALE2',
      ...(serial === undefined ? {} : { serial }),
      ...(validFrom === undefined ? {} : { validFrom }),
      beneficiaries,
    };
  }

  /** SELECT, P2=0C unless the card wants 00. */
  private async select(p1: number, data: Uint8Array): Promise<ResponseApdu> {
    const send = (p2: number) => this.io.send({ ins: INS.SELECT, p1, p2, data, ...(p2 === 0x0c ? {} : { le: 256 }) });
    const r = await send(this.selectP2);
    if (r.sw !== 0x6a86 || this.selectP2 !== 0x0c) return r;
    this.selectP2 = 0x00;
    return send(this.selectP2);
  }

  /** EF PAN in the MF: the card number. Optional: any failure leaves it out. */
  private async readSerial(): Promise<string | undefined> {
    try {
      if ((await this.select(0x00, Uint8Array.of(FID_MF >> 8, FID_MF & 0xff))).sw !== SW_SUCCESS) return undefined;
      if ((await this.select(0x00, Uint8Array.of(FID_PAN >> 8, FID_PAN & 0xff))).sw !== SW_SUCCESS) return undefined;
      return parsePan(await this.io.readBinary({ chunk: CHUNK }, OP.read));
    } catch (error) {
      if (error instanceof CardError) return undefined;
      throw error;
    }
  }

  /** EF POINTERS by SFI; by file id when the card does not take the SFI. */
  private async readPointers(): Promise<Uint8Array> {
    const bySfi = await this.readTlvFile({ sfi: SFI_POINTERS });
    if (bySfi.sw === SW_SUCCESS && bySfi.data) return bySfi.data;
    const r = await this.select(0x00, Uint8Array.of(FID_POINTERS >> 8, FID_POINTERS & 0xff));
    if (r.sw !== SW_SUCCESS) throw cardStatusError(OP.read, r.sw);
    const byFid = await this.readTlvFile({});
    if (byFid.sw !== SW_SUCCESS || !byFid.data) throw cardStatusError(OP.read, byFid.sw);
    return byFid.data;
  }

  /** The current EF when it starts with a `65` or `66` template, read to its end; else undefined. */
  private async readTemplates(): Promise<Uint8Array | undefined> {
    const r = await this.readTlvFile({ wanted: (tag) => tag === 0x65 || tag === 0x66 });
    if (r.sw !== SW_SUCCESS) throw cardStatusError(OP.read, r.sw);
    return r.data;
  }

  /**
   * Reads 256-byte chunks until the file's TLVs are complete (the padding after the last one, or
   * the end of the file), so a file is usually read in one READ BINARY. `wanted` sees the first
   * tag and may stop the read (undefined data) for files the caller does not need.
   */
  private async readTlvFile(opts: { sfi?: number; wanted?: (firstTag: number) => boolean }): Promise<{ sw: number; data: Uint8Array | undefined }> {
    const parts: Uint8Array[] = [];
    let offset = 0;
    for (;;) {
      const bySfi = offset === 0 && opts.sfi !== undefined;
      const r = await this.io.send({ ins: INS.READ_BINARY, p1: bySfi ? 0x80 | opts.sfi! : offset >> 8, p2: offset & 0xff, le: CHUNK });
      if (r.sw === 0x6b00 && offset > 0) break; // at the end of the file
      if (r.sw !== SW_SUCCESS && r.sw !== 0x6282) return { sw: r.sw, data: undefined };
      parts.push(r.data);
      offset += r.data.length;
      const data = concat(parts);
      if (offset === r.data.length && opts.wanted && data.length > 0 && !opts.wanted(data[0]!)) return { sw: SW_SUCCESS, data: undefined };
      if (r.sw === 0x6282 || r.data.length < CHUNK || tlvsComplete(data)) break;
      if (offset >= MAX_FILE) throw cardDataError('fichier trop long', 'file too long');
    }
    return { sw: SW_SUCCESS, data: concat(parts) };
  }
}

/**
 * True when the top-level TLVs of `bytes` end before its last byte with 00/FF padding (the rest of
 * the file is padding). False while a TLV is cut or the data ends exactly on a TLV boundary.
 */
export function tlvsComplete(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === 0x00 || b === 0xff) return i > 0;
    let j = i + 1;
    if ((b & 0x1f) === 0x1f) {
      while (j < bytes.length && (bytes[j]! & 0x80) !== 0) j++;
      j++;
    }
    if (j >= bytes.length) return false;
    const first = bytes[j]!;
    let length = first;
    let header = j + 1 - i;
    if (first >= 0x80) {
      const count = first & 0x7f;
      if (count === 0 || count > 3) return true; // not parseable: let the parser report it
      if (j + count >= bytes.length) return false;
      length = 0;
      for (let k = 1; k <= count; k++) length = length * 256 + bytes[j + k]!;
      header += count;
    }
    i += header + length;
  }
  return false;
}
