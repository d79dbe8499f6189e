// SELECT and READ BINARY over a CardFileSystem, shared by the virtual cards. Each card passes
// the P2 values it accepts, since real cards differ there (CPS3 answers 6A 86 to P2=00).
import { CardFileSystem, fcpOf, type ElementaryFile, type ReadCondition } from './file-system.js';
import { fail, type CardCommand, type HandlerResult } from './iso-card.js';

export interface SelectRules {
  /** P2 values accepted (04 = return FCP, 0C = no response data, 00 = FCI). */
  readonly acceptedP2: readonly number[];
  /** What P2=00 returns when accepted: the FCP as well (most cards) or nothing. */
  readonly fciWithP2_00?: 'fcp' | 'none';
  /**
   * Whether 3F00 selected "as an EF" (P1=02) reaches the MF. IAS-ECC CPS3 cards allow it, and
   * OpenSC's CPx driver relies on it (`00 A4 02 04 3F00` before reading the PIN policy).
   */
  readonly mfByEfSelect?: boolean;
}

export function select(fs: CardFileSystem, command: CardCommand, rules: SelectRules): HandlerResult {
  const { p1, p2, data } = command;
  if (!rules.acceptedP2.includes(p2)) fail(0x6a86);
  let node;
  switch (p1) {
    case 0x00:
      if (data.length === 0) node = fs.selectByFid(0x3f00);
      else if (data.length === 2) node = fs.selectByFid(fid(data));
      else fail(0x6700);
      break;
    case 0x01:
    case 0x02:
      if (data.length !== 2) fail(0x6700);
      node = fs.selectByFid(fid(data), p1 === 0x01 || (rules.mfByEfSelect && fid(data) === 0x3f00) ? 'df' : 'ef');
      break;
    case 0x04:
      if (data.length < 1 || data.length > 16) fail(0x6700);
      node = fs.selectByAid(data);
      break;
    case 0x08:
    case 0x09:
      node = fs.selectByPath(data, p1 === 0x08);
      break;
    default:
      fail(0x6a86);
  }
  if (!node) return fail(0x6a82);
  if (p2 === 0x0c || (p2 === 0x00 && rules.fciWithP2_00 === 'none')) return new Uint8Array(0);
  return fcpOf(node);
}

export type AccessCheck = (condition: ReadCondition) => boolean;

/** READ BINARY (B0): offset in P1-P2, or P1 = 80|SFI and offset in P2. */
export function readBinary(fs: CardFileSystem, command: CardCommand, mayRead: AccessCheck): HandlerResult {
  let file: ElementaryFile | undefined;
  let offset: number;
  if (command.p1 & 0x80) {
    if (command.p1 & 0x60) fail(0x6a86);
    file = fs.efBySfi(command.p1 & 0x1f);
    if (!file) return fail(0x6a82);
    fs.setCurrentEf(file);
    offset = command.p2;
  } else {
    file = fs.currentEf;
    if (!file) return fail(0x6986);
    offset = ((command.p1 & 0x7f) << 8) | command.p2;
  }
  if (command.data.length > 0) fail(0x6700);
  if (!mayRead(file.read)) fail(0x6982);
  if (offset > file.content.length) fail(0x6b00);
  const want = command.le ?? 256;
  const available = file.content.length - offset;
  if (available === 0) fail(0x6b00);
  if (want > available) {
    // Fewer bytes than asked: T=0 cards say how many with 6C xx when Le was wrong; a T=1 host
    // gets the remaining bytes with 62 82 (end of file reached).
    return { data: file.content.subarray(offset), sw: command.le === undefined ? 0x9000 : 0x6282 };
  }
  return file.content.subarray(offset, offset + want);
}

function fid(data: Uint8Array): number {
  return ((data[0] ?? 0) << 8) | (data[1] ?? 0);
}
