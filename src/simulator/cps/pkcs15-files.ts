// PKCS#15 (ISO 7816-15) directory files of a CPS card: EF.DIR record, ODF, TokenInfo, PrKDF, CDF,
// AODF and DODF. Hosts (OpenSC, our CpsSession) discover keys, certificates and the PIN's block
// format from these rather than from hard-coded file ids.
import { encodeTlv } from '../../iso7816/tlv.js';
import { concat } from '../iso-card.js';
import { bitString, bool, ctx, enumerated, integer, octets, path, seq, utf8 } from './der.js';

export interface DirEntry {
  readonly aid: Uint8Array;
  readonly label: string;
  readonly path: Uint8Array;
}

/** EF.DIR application template: 61 { 4F AID, 50 label, 51 path }. */
export function dirRecord(entry: DirEntry): Uint8Array {
  return encodeTlv(0x61, [
    encodeTlv(0x4f, entry.aid),
    encodeTlv(0x50, new TextEncoder().encode(entry.label)),
    encodeTlv(0x51, entry.path),
  ]);
}

export interface OdfPaths {
  readonly prkdf: Uint8Array;
  readonly cdf: Uint8Array;
  readonly dodf: Uint8Array;
  readonly aodf: Uint8Array;
}

/** ODF: A0 privateKeys, A4 certificates, A7 dataObjects, A8 authObjects, each a Path. */
export function odf(paths: OdfPaths): Uint8Array {
  return concatAll([ctx(0xa0, path(paths.prkdf)), ctx(0xa4, path(paths.cdf)), ctx(0xa7, path(paths.dodf)), ctx(0xa8, path(paths.aodf))]);
}

export interface TokenInfo {
  readonly serialNumber: Uint8Array;
  readonly manufacturer: string;
  readonly label: string;
}

/** supportedOperations bits (ISO 7816-15 AlgorithmInfo). */
const OPERATION = { computeSignature: 1, decipher: 5, hash: 6 } as const;
/** PKCS#11 mechanism numbers, as AlgorithmInfo.algorithm carries them. */
const MECHANISM = { RSA_PKCS: 0x0001, SHA1_RSA_PKCS: 0x0006, SHA256_RSA_PKCS: 0x0040, SHA_1: 0x0220, SHA256: 0x0250 } as const;

/**
 * The card's algorithms with their on-card references (cards.md): the host matches a PKCS#11
 * mechanism to the reference it puts in MSE (80 01 <algRef>).
 */
const SUPPORTED_ALGORITHMS: readonly { mechanism: number; operations: number[]; algRef: number }[] = [
  { mechanism: MECHANISM.RSA_PKCS, operations: [OPERATION.computeSignature], algRef: 0x02 },
  { mechanism: MECHANISM.SHA256, operations: [OPERATION.hash], algRef: 0x40 },
  { mechanism: MECHANISM.SHA256_RSA_PKCS, operations: [OPERATION.computeSignature], algRef: 0x42 },
  { mechanism: MECHANISM.RSA_PKCS, operations: [OPERATION.decipher], algRef: 0x1a },
  { mechanism: MECHANISM.SHA_1, operations: [OPERATION.hash], algRef: 0x10 },
  { mechanism: MECHANISM.SHA1_RSA_PKCS, operations: [OPERATION.computeSignature], algRef: 0x12 },
];

/**
 * TokenInfo ::= SEQUENCE { version, serialNumber, manufacturerID, label [0], tokenflags,
 * supportedAlgorithms [2] SEQUENCE OF AlgorithmInfo }.
 */
export function tokenInfo(info: TokenInfo): Uint8Array {
  const algorithms = SUPPORTED_ALGORITHMS.map((a, i) =>
    seq(integer(i + 1), integer(a.mechanism), encodeTlv(0x05, new Uint8Array(0)), bitString(a.operations), integer(a.algRef)),
  );
  return seq(
    integer(0),
    octets(info.serialNumber),
    utf8(info.manufacturer),
    encodeTlv(0x80, new TextEncoder().encode(info.label)),
    bitString([0, 2]), // TokenFlags: readOnly, prnGeneration (GET CHALLENGE)
    ctx(0xa2, ...algorithms),
  );
}

/** KeyUsageFlags bit numbers (ISO 7816-15). */
export const KEY_USAGE = { decrypt: 1, sign: 2, signRecover: 3, unwrap: 5, nonRepudiation: 9 } as const;

export interface PrivateKeyEntry {
  readonly label: string;
  readonly id: Uint8Array;
  readonly usage: readonly number[];
  readonly keyReference: number;
  readonly authId: Uint8Array;
  readonly path: Uint8Array;
  readonly modulusLength: number;
}

export function privateRsaKey(k: PrivateKeyEntry): Uint8Array {
  return seq(
    seq(utf8(k.label), bitString([0]) /* private */, octets(k.authId)),
    seq(octets(k.id), bitString(k.usage), bool(true) /* native */, bitString([0, 2, 3, 4]) /* sensitive, alwaysSensitive, neverExtractable, local */, integer(k.keyReference)),
    ctx(0xa1, seq(path(k.path), integer(k.modulusLength))),
  );
}

export interface CertificateEntry {
  readonly label: string;
  readonly id: Uint8Array;
  readonly path: Uint8Array;
  readonly length: number;
}

export function x509Certificate(c: CertificateEntry): Uint8Array {
  return seq(seq(utf8(c.label), bitString([])), seq(octets(c.id)), ctx(0xa1, seq(path(c.path, { index: 0, length: c.length }))));
}

export interface PinEntry {
  readonly label: string;
  readonly authId: Uint8Array;
  readonly reference: number;
  readonly minLength: number;
  readonly storedLength: number;
  readonly maxLength: number;
  readonly padChar: number;
  /** Omitted for global PINs (the MF's), which hosts verify without selecting anything. */
  readonly path?: Uint8Array;
  readonly unblockingPin?: boolean;
}

/** PinFlags bit numbers (ISO 7816-15). */
const PIN_FLAG = { local: 1, initialized: 4, needsPadding: 5, unblockingPin: 6 } as const;

export function pinObject(p: PinEntry): Uint8Array {
  const flags: number[] = [PIN_FLAG.local, PIN_FLAG.initialized, PIN_FLAG.needsPadding];
  if (p.unblockingPin) flags.push(PIN_FLAG.unblockingPin);
  return seq(
    seq(utf8(p.label), bitString([0]) /* private */),
    seq(octets(p.authId)),
    ctx(
      0xa1,
      seq(
        bitString(flags),
        enumerated(1), // ascii-numeric
        integer(p.minLength),
        integer(p.storedLength),
        integer(p.maxLength),
        integer(p.reference, 0x80),
        octets(Uint8Array.of(p.padChar)),
        ...(p.path ? [path(p.path)] : []),
      ),
    ),
  );
}

export interface DataObjectEntry {
  readonly label: string;
  readonly application: string;
  readonly path: Uint8Array;
  readonly authId?: Uint8Array;
}

/** DODF opaque data object: CommonObjectAttributes, CommonDataObjectAttributes, [1] Path. */
export function dataObject(d: DataObjectEntry): Uint8Array {
  const common = d.authId ? seq(utf8(d.label), bitString([0]), octets(d.authId)) : seq(utf8(d.label), bitString([]));
  return seq(common, seq(utf8(d.application)), ctx(0xa1, path(d.path)));
}

/** Concatenates byte strings (the simulator's one helper, in iso-card). */
export const concatAll = concat;
