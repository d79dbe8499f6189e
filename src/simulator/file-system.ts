// An ISO 7816-4 file tree for virtual cards: DFs (optionally named by an AID) holding EFs with
// transparent content, selection by AID / file id / path, and FCP templates as real cards answer
// them. Access conditions are kept coarse (always / after PIN n) because that is all the CPS and
// Vitale layouts need.
import { encodeTlv } from '../iso7816/tlv.js';

/** Who may read an EF: anyone, or only once the given PIN reference is verified. */
export type ReadCondition = { kind: 'always' } | { kind: 'pin'; reference: number } | { kind: 'never' };

export const ALWAYS: ReadCondition = { kind: 'always' };
export const NEVER: ReadCondition = { kind: 'never' };
export const afterPin = (reference: number): ReadCondition => ({ kind: 'pin', reference });

export interface ElementaryFile {
  readonly kind: 'EF';
  readonly fid: number;
  readonly sfi?: number;
  content: Uint8Array;
  readonly read: ReadCondition;
  parent?: DedicatedFile;
}

export interface DedicatedFile {
  readonly kind: 'DF';
  readonly fid: number;
  readonly aid?: Uint8Array;
  readonly children: FileNode[];
  parent?: DedicatedFile;
}

export type FileNode = ElementaryFile | DedicatedFile;

export const MF_FID = 0x3f00;

export function ef(fid: number, content: Uint8Array, options: { sfi?: number; read?: ReadCondition } = {}): ElementaryFile {
  return { kind: 'EF', fid, content, read: options.read ?? ALWAYS, ...(options.sfi !== undefined ? { sfi: options.sfi } : {}) };
}

export function df(fid: number, children: FileNode[], aid?: Uint8Array): DedicatedFile {
  const node: DedicatedFile = { kind: 'DF', fid, children, ...(aid ? { aid } : {}) };
  for (const child of children) child.parent = node;
  return node;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((byte, i) => byte === b[i]);

/**
 * The card's file tree plus the selection state (current DF and EF), which a reset clears.
 * Lookups never throw: they return undefined and the card maps that to 6A 82.
 */
export class CardFileSystem {
  currentDf: DedicatedFile;
  currentEf: ElementaryFile | undefined;

  constructor(readonly mf: DedicatedFile) {
    this.currentDf = mf;
  }

  reset(): void {
    this.currentDf = this.mf;
    this.currentEf = undefined;
  }

  /** SELECT by DF name (P1=04): searches the whole tree, as IAS-ECC and Vitale cards do. */
  selectByAid(aid: Uint8Array): DedicatedFile | undefined {
    const found = this.findDf(this.mf, (d) => d.aid !== undefined && sameBytes(d.aid, aid));
    if (found) this.enter(found);
    return found;
  }

  /**
   * SELECT by file id (P1=00 any file, P1=01 child DF, P1=02 EF under the current DF).
   * 3F00 is always the MF; otherwise children of the current DF, then the current DF itself,
   * then its parent's children (ISO 7816-4 search order, enough for flat card layouts).
   */
  selectByFid(fid: number, scope: 'any' | 'df' | 'ef' = 'any'): FileNode | undefined {
    if (fid === MF_FID && scope !== 'ef') {
      this.enter(this.mf);
      return this.mf;
    }
    const candidates: FileNode[] = [...this.currentDf.children];
    if (scope === 'any') {
      candidates.push(this.currentDf);
      if (this.currentDf.parent) candidates.push(...this.currentDf.parent.children);
    }
    const found = candidates.find((n) => n.fid === fid && (scope === 'any' || (scope === 'df' ? n.kind === 'DF' : n.kind === 'EF')));
    if (found) this.enter(found);
    return found;
  }

  /**
   * SELECT by path: P1=08 from the MF, P1=09 from the current DF. A path that starts with 3F00
   * starts at the MF either way: IAS-ECC cards (CPS3) take `00 A4 09 04 3F00 …` as an absolute path.
   */
  selectByPath(path: Uint8Array, fromMf: boolean): FileNode | undefined {
    if (path.length === 0 || path.length % 2 !== 0) return undefined;
    const ids: number[] = [];
    for (let i = 0; i < path.length; i += 2) ids.push(((path[i] ?? 0) << 8) | (path[i + 1] ?? 0));
    const absolute = fromMf || ids[0] === MF_FID;
    let dir = absolute ? this.mf : this.currentDf;
    if (ids[0] === MF_FID) ids.shift();
    if (ids.length === 0) {
      this.enter(this.mf);
      return this.mf;
    }
    let node: FileNode = dir;
    for (const id of ids) {
      if (node.kind !== 'DF') return undefined;
      dir = node;
      const next: FileNode | undefined = dir.children.find((c) => c.fid === id);
      if (!next) return undefined;
      node = next;
    }
    this.enter(node);
    return node;
  }

  /** The EF named by a short file identifier under the current DF (READ BINARY with P1 = 80|sfi). */
  efBySfi(sfi: number): ElementaryFile | undefined {
    return this.currentDf.children.find((n): n is ElementaryFile => n.kind === 'EF' && n.sfi === sfi);
  }

  /** Makes an EF current (an SFI read does that too, ISO 7816-4 §7.2.2). */
  setCurrentEf(file: ElementaryFile): void {
    this.currentEf = file;
    if (file.parent) this.currentDf = file.parent;
  }

  private enter(node: FileNode): void {
    if (node.kind === 'DF') {
      this.currentDf = node;
      this.currentEf = undefined;
    } else {
      this.setCurrentEf(node);
    }
  }

  private findDf(from: DedicatedFile, match: (d: DedicatedFile) => boolean): DedicatedFile | undefined {
    if (match(from)) return from;
    for (const child of from.children) {
      if (child.kind !== 'DF') continue;
      const found = this.findDf(child, match);
      if (found) return found;
    }
    return undefined;
  }
}

/**
 * FCP template (tag 62) the way IAS-ECC cards answer SELECT with P2=04: size (80), descriptor
 * (82: 01 transparent EF, 38 DF), id (83), DF name (84), SFI (88), life cycle (8A: 05 operational
 * activated) and the security attributes in compact form (A1 { 8C AM SCB… }), which OpenSC's
 * IAS-ECC driver requires for every EF.
 */
export function fcpOf(node: FileNode): Uint8Array {
  const parts: Uint8Array[] = [];
  if (node.kind === 'EF') {
    parts.push(encodeTlv(0x80, u16(node.content.length)));
    parts.push(encodeTlv(0x82, Uint8Array.of(0x01)));
    parts.push(encodeTlv(0x83, u16(node.fid)));
    if (node.sfi !== undefined) parts.push(encodeTlv(0x88, Uint8Array.of(node.sfi << 3)));
  } else {
    parts.push(encodeTlv(0x82, Uint8Array.of(0x38)));
    parts.push(encodeTlv(0x83, u16(node.fid)));
    if (node.aid) parts.push(encodeTlv(0x84, node.aid));
  }
  parts.push(encodeTlv(0x8a, Uint8Array.of(0x05)));
  parts.push(encodeTlv(0xa1, [encodeTlv(0x8c, compactAccessRules(node))]));
  return encodeTlv(0x62, parts);
}

/** Security condition bytes: 00 always, FF never, 1n user authentication in security environment n. */
const SCB_ALWAYS = 0x00;
const SCB_NEVER = 0xff;
const SCB_USER_AUTH = 0x10;

/**
 * Compact access rules (ISO 7816-4 §9.3.1): access-mode byte 7B (delete, terminate, activate,
 * deactivate, update, read / for a DF: create EF instead of read) then one SCB per set bit.
 * Nothing may be changed on a personalised card; reading follows the file's read condition.
 */
function compactAccessRules(node: FileNode): Uint8Array {
  const read = node.kind === 'DF' ? SCB_ALWAYS : scbOf(node.read);
  return Uint8Array.of(0x7b, SCB_NEVER, SCB_NEVER, SCB_NEVER, SCB_NEVER, SCB_NEVER, node.kind === 'DF' ? SCB_NEVER : read);
}

function scbOf(rule: ReadCondition): number {
  if (rule.kind === 'always') return SCB_ALWAYS;
  if (rule.kind === 'never') return SCB_NEVER;
  return SCB_USER_AUTH | (rule.reference & 0x0f);
}

export function u16(value: number): Uint8Array {
  return Uint8Array.of((value >> 8) & 0xff, value & 0xff);
}
