// Host-side PKCS#15 (ISO 7816-15) parsers: EF.DIR, ODF, TokenInfo, PrKDF, CDF, AODF and DODF, as
// CPS cards write them. Tolerant of both encodings met so far: the real CPS3's (IDs = AID || nn,
// keys with the empty path `30 02 04 00`, 2-byte relative file ids, TokenInfo algorithms with an
// algId OID) and the simulator's (1-byte IDs, absolute 3F00 paths, Path with index and length).
// Unknown object types (EC keys, biometric templates…) are skipped; a malformed object fails the
// whole file with a CardError (CARD_ERROR), never anything else.
import { findTlv, type TlvNode } from '../iso7816/tlv.js';
import { bitStringBits, childrenOf, expectTag, parseNodes, TAG, text, unsignedInteger } from './ber.js';
import { cardDataError } from './errors.js';

// ---- common types ------------------------------------------------------------------------------

/** Path ::= SEQUENCE { efidOrPath OCTET STRING, index INTEGER OPTIONAL, length [0] INTEGER OPTIONAL } */
export interface Pkcs15Path {
  /** Empty = the application itself (a key with no file of its own). */
  readonly path: Uint8Array;
  readonly index?: number;
  readonly length?: number;
  /** [APPLICATION 15] aid, when the path is qualified by an application. */
  readonly aid?: Uint8Array;
}

/** ObjectValue: a reference to a file (the usual case) or the value itself. */
export type ObjectValue = { readonly path: Pkcs15Path } | { readonly direct: Uint8Array };

export interface CommonObjectAttributes {
  readonly label?: string;
  /** CommonObjectFlags: 0 private, 1 modifiable. */
  readonly flags: ReadonlySet<number>;
  /** The authentication object (PIN) that protects this object. */
  readonly authId?: Uint8Array;
}

/** KeyUsageFlags bit numbers. */
export const KEY_USAGE = {
  encrypt: 0,
  decrypt: 1,
  sign: 2,
  signRecover: 3,
  wrap: 4,
  unwrap: 5,
  verify: 6,
  verifyRecover: 7,
  derive: 8,
  nonRepudiation: 9,
} as const;

/** PinFlags bit numbers. */
export const PIN_FLAG = {
  caseSensitive: 0,
  local: 1,
  changeDisabled: 2,
  unblockDisabled: 3,
  initialized: 4,
  needsPadding: 5,
  unblockingPin: 6,
  soPin: 7,
} as const;

/** AlgorithmInfo.supportedOperations bit numbers. */
export const ALGORITHM_OPERATION = {
  computeChecksum: 0,
  computeSignature: 1,
  verifyChecksum: 2,
  verifySignature: 3,
  encipher: 4,
  decipher: 5,
  hash: 6,
  deriveKey: 7,
} as const;

/** PKCS#11 mechanism numbers, as AlgorithmInfo.algorithm carries them. */
export const MECHANISM = {
  RSA_PKCS: 0x0001,
  SHA1_RSA_PKCS: 0x0006,
  SHA256_RSA_PKCS: 0x0040,
  SHA_1: 0x0220,
  SHA256: 0x0250,
} as const;

// ---- EF.DIR --------------------------------------------------------------------------------------

export interface DirApplication {
  readonly aid: Uint8Array;
  readonly label?: string;
  /** Tag 51: the application's path, when given. */
  readonly path?: Uint8Array;
}

/** EF.DIR: concatenated `61 { 4F aid, 50 label?, 51 path?, 73 ddo? }` records, then padding. */
export function parseEfDir(bytes: Uint8Array): DirApplication[] {
  const apps: DirApplication[] = [];
  for (const record of parseNodes(bytes, 'EF.DIR')) {
    if (record.tag !== 0x61) continue;
    const children = childrenOf(record, 'EF.DIR record');
    const aid = findTlv(children, 0x4f)?.value;
    if (!aid || aid.length === 0 || aid.length > 16) throw cardDataError('EF.DIR : AID invalide', 'EF.DIR: invalid AID');
    const label = findTlv(children, 0x50);
    const path = findTlv(children, 0x51)?.value;
    apps.push({ aid, ...(label ? { label: text(label) } : {}), ...(path ? { path } : {}) });
  }
  return apps;
}

// ---- ODF ---------------------------------------------------------------------------------------

export interface Odf {
  readonly privateKeys: readonly Pkcs15Path[];
  readonly publicKeys: readonly Pkcs15Path[];
  /** certificates, trustedCertificates and usefulCertificates, in ODF order. */
  readonly certificates: readonly Pkcs15Path[];
  readonly dataObjects: readonly Pkcs15Path[];
  readonly authObjects: readonly Pkcs15Path[];
}

/** ODF: `A0` PrKDF, `A1`/`A2` PuKDF, `A4`/`A5`/`A6` CDF, `A7` DODF, `A8` AODF, each `{ Path }`. */
export function parseOdf(bytes: Uint8Array): Odf {
  const odf = { privateKeys: [] as Pkcs15Path[], publicKeys: [] as Pkcs15Path[], certificates: [] as Pkcs15Path[], dataObjects: [] as Pkcs15Path[], authObjects: [] as Pkcs15Path[] };
  for (const node of parseNodes(bytes, 'ODF')) {
    const list =
      node.tag === 0xa0 ? odf.privateKeys
      : node.tag === 0xa1 || node.tag === 0xa2 ? odf.publicKeys
      : node.tag === 0xa4 || node.tag === 0xa5 || node.tag === 0xa6 ? odf.certificates
      : node.tag === 0xa7 ? odf.dataObjects
      : node.tag === 0xa8 ? odf.authObjects
      : undefined;
    if (!list) continue;
    // PathOrObjects: only the `path` choice is used by cards; inline objects ([0]) are skipped.
    const path = childrenOf(node, 'ODF entry').find((c) => c.tag === TAG.SEQUENCE);
    if (path) list.push(parsePath(path));
  }
  return odf;
}

export function parsePath(node: TlvNode): Pkcs15Path {
  const children = childrenOf(expectTag(node, TAG.SEQUENCE, 'Path'), 'Path');
  const path = expectTag(children[0], TAG.OCTET_STRING, 'Path.efidOrPath').value;
  if (path.length % 2 !== 0 || path.length > 16) throw cardDataError('chemin de fichier invalide', 'invalid file path');
  let index: number | undefined;
  let length: number | undefined;
  let aid: Uint8Array | undefined;
  for (const child of children.slice(1)) {
    if (child.tag === TAG.INTEGER) index = unsignedInteger(child, 'Path.index');
    else if (child.tag === 0x80) length = unsignedInteger(child, 'Path.length');
    else if (child.tag === 0x4f) aid = child.value;
  }
  return { path, ...(index === undefined ? {} : { index }), ...(length === undefined ? {} : { length }), ...(aid ? { aid } : {}) };
}

// ---- TokenInfo -----------------------------------------------------------------------------------

export interface AlgorithmInfo {
  readonly reference: number;
  /** PKCS#11 mechanism (CKM_*). */
  readonly mechanism: number;
  readonly operations: ReadonlySet<number>;
  /** The byte the card expects in MSE (`80 01 <algRef>`), when given. */
  readonly algRef?: number;
}

export interface TokenInfo {
  readonly version: number;
  readonly serialNumber?: Uint8Array;
  readonly manufacturerId?: string;
  readonly label?: string;
  readonly tokenFlags: ReadonlySet<number>;
  readonly algorithms: readonly AlgorithmInfo[];
}

/**
 * TokenInfo ::= SEQUENCE { version, serialNumber OCTET STRING OPTIONAL, manufacturerID UTF8String
 * OPTIONAL, label [0] OPTIONAL, tokenflags BIT STRING, …, supportedAlgorithms [2] OPTIONAL, … }
 */
export function parseTokenInfo(bytes: Uint8Array): TokenInfo {
  const top = parseNodes(bytes, 'TokenInfo');
  const children = childrenOf(expectTag(top[0], TAG.SEQUENCE, 'TokenInfo'), 'TokenInfo');
  const version = unsignedInteger(expectTag(children[0], TAG.INTEGER, 'TokenInfo.version'), 'TokenInfo.version');
  let serialNumber: Uint8Array | undefined;
  let manufacturerId: string | undefined;
  let label: string | undefined;
  let tokenFlags: Set<number> | undefined;
  const algorithms: AlgorithmInfo[] = [];
  for (const child of children.slice(1)) {
    switch (child.tag) {
      case TAG.OCTET_STRING:
        serialNumber ??= child.value;
        break;
      case TAG.UTF8_STRING:
        manufacturerId ??= text(child);
        break;
      case 0x80:
        label ??= text(child);
        break;
      case TAG.BIT_STRING:
        tokenFlags ??= bitStringBits(child, 'TokenInfo.tokenflags');
        break;
      case 0xa2:
        for (const info of childrenOf(child, 'supportedAlgorithms')) {
          if (info.tag === TAG.SEQUENCE) algorithms.push(parseAlgorithmInfo(info));
        }
        break;
      default:
        break; // seInfo, recordInfo, issuerId, lastUpdate, preferredLanguage…: not needed
    }
  }
  if (!tokenFlags) throw cardDataError('TokenInfo sans tokenflags', 'TokenInfo without tokenflags');
  return {
    version,
    ...(serialNumber ? { serialNumber } : {}),
    ...(manufacturerId === undefined ? {} : { manufacturerId }),
    ...(label === undefined ? {} : { label }),
    tokenFlags,
    algorithms,
  };
}

/** AlgorithmInfo ::= SEQUENCE { reference, algorithm, parameters, supportedOperations, algId OPTIONAL, algRef OPTIONAL } */
function parseAlgorithmInfo(node: TlvNode): AlgorithmInfo {
  const children = childrenOf(node, 'AlgorithmInfo');
  const reference = unsignedInteger(expectTag(children[0], TAG.INTEGER, 'AlgorithmInfo.reference'), 'AlgorithmInfo.reference');
  const mechanism = unsignedInteger(expectTag(children[1], TAG.INTEGER, 'AlgorithmInfo.algorithm'), 'AlgorithmInfo.algorithm');
  // `parameters` is any type (NULL for RSA): the operations are the first BIT STRING after it.
  const opsIndex = children.findIndex((c, i) => i >= 2 && c.tag === TAG.BIT_STRING);
  if (opsIndex < 0) throw cardDataError('AlgorithmInfo sans opérations', 'AlgorithmInfo without supportedOperations');
  const operations = bitStringBits(children[opsIndex]!, 'AlgorithmInfo.supportedOperations');
  const algRefNode = children.slice(opsIndex + 1).find((c) => c.tag === TAG.INTEGER);
  const algRef = algRefNode ? unsignedInteger(algRefNode, 'AlgorithmInfo.algRef') : undefined;
  return { reference, mechanism, operations, ...(algRef === undefined ? {} : { algRef }) };
}

/** The card's algorithm reference for a mechanism and operation, as TokenInfo lists it. */
export function findAlgRef(tokenInfo: TokenInfo, mechanism: number, operation: number): number | undefined {
  return tokenInfo.algorithms.find((a) => a.mechanism === mechanism && a.operations.has(operation) && a.algRef !== undefined)?.algRef;
}

// ---- the object directories ----------------------------------------------------------------------

function parseCommonObjectAttributes(node: TlvNode | undefined): CommonObjectAttributes {
  const children = childrenOf(expectTag(node, TAG.SEQUENCE, 'CommonObjectAttributes'), 'CommonObjectAttributes');
  const label = children.find((c) => c.tag === TAG.UTF8_STRING);
  const flags = children.find((c) => c.tag === TAG.BIT_STRING);
  const authId = children.find((c) => c.tag === TAG.OCTET_STRING)?.value;
  return {
    ...(label ? { label: text(label) } : {}),
    flags: flags ? bitStringBits(flags, 'CommonObjectFlags') : new Set<number>(),
    ...(authId ? { authId } : {}),
  };
}

/** The `[1]` type attributes of a PKCS15Object: its last child, tagged A1. */
function typeAttributes(children: readonly TlvNode[], what: string): TlvNode[] {
  const node = children.find((c, i) => i >= 2 && c.tag === 0xa1);
  if (!node) throw cardDataError(`${what} sans attributs`, `${what} without type attributes`);
  return childrenOf(node, what);
}

/** ObjectValue ::= CHOICE { indirect ReferencedValue (a Path), direct [0] … }. */
function parseObjectValue(node: TlvNode | undefined, what: string): ObjectValue {
  if (node?.tag === TAG.SEQUENCE) return { path: parsePath(node) };
  if (node?.tag === 0xa0) {
    const inner = childrenOf(node, what)[0];
    if (!inner) throw cardDataError(`${what} vide`, `empty ${what}`);
    // The direct value is the DER of the object: re-encoded from its header and value.
    return { direct: encodeNode(inner) };
  }
  throw cardDataError(`${what} : valeur absente`, `${what}: no value`);
}

function encodeNode(node: TlvNode): Uint8Array {
  const tagBytes: number[] = [];
  for (let rest = node.tag; rest > 0; rest = Math.floor(rest / 256)) tagBytes.unshift(rest % 256);
  const n = node.value.length;
  const lengthBytes: number[] = [];
  if (n < 0x80) lengthBytes.push(n);
  else {
    for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) lengthBytes.unshift(rest % 256);
    lengthBytes.unshift(0x80 | lengthBytes.length);
  }
  const out = new Uint8Array(tagBytes.length + lengthBytes.length + n);
  out.set(tagBytes, 0);
  out.set(lengthBytes, tagBytes.length);
  out.set(node.value, tagBytes.length + lengthBytes.length);
  return out;
}

// ---- PrKDF ---------------------------------------------------------------------------------------

export interface PrivateKeyInfo extends CommonObjectAttributes {
  readonly id: Uint8Array;
  readonly usage: ReadonlySet<number>;
  /** The key's reference for MSE (`84 01 <ref>`), when given. */
  readonly keyReference?: number;
  readonly path: Pkcs15Path;
  readonly modulusLength?: number;
}

/** PrKDF: PrivateRSAKeyObjects `30 { CommonObjectAttributes, CommonKeyAttributes, [0]?, [1] { 30 { Path, modulusLength } } }`. */
export function parsePrkdf(bytes: Uint8Array): PrivateKeyInfo[] {
  const keys: PrivateKeyInfo[] = [];
  for (const entry of parseNodes(bytes, 'PrKDF')) {
    if (entry.tag !== TAG.SEQUENCE) continue; // EC and other key types: [0], [1]…
    const children = childrenOf(entry, 'PrKDF entry');
    const common = parseCommonObjectAttributes(children[0]);
    const keyAttrs = childrenOf(expectTag(children[1], TAG.SEQUENCE, 'CommonKeyAttributes'), 'CommonKeyAttributes');
    const id = expectTag(keyAttrs[0], TAG.OCTET_STRING, 'CommonKeyAttributes.iD').value;
    const usage = bitStringBits(expectTag(keyAttrs[1], TAG.BIT_STRING, 'CommonKeyAttributes.usage'), 'KeyUsageFlags');
    const refNode = keyAttrs.slice(2).find((c) => c.tag === TAG.INTEGER);
    const keyReference = refNode ? unsignedInteger(refNode, 'keyReference') : undefined;
    const rsa = childrenOf(expectTag(typeAttributes(children, 'PrKDF entry')[0], TAG.SEQUENCE, 'PrivateRSAKeyAttributes'), 'PrivateRSAKeyAttributes');
    const value = parseObjectValue(rsa[0], 'PrivateRSAKeyAttributes.value');
    if (!('path' in value)) throw cardDataError('clé privée sans chemin', 'private key without a path');
    const modulus = rsa.slice(1).find((c) => c.tag === TAG.INTEGER);
    const modulusLength = modulus ? unsignedInteger(modulus, 'modulusLength') : undefined;
    keys.push({ ...common, id, usage, ...(keyReference === undefined ? {} : { keyReference }), path: value.path, ...(modulusLength === undefined ? {} : { modulusLength }) });
  }
  return keys;
}

// ---- CDF -----------------------------------------------------------------------------------------

export interface CertificateInfo extends CommonObjectAttributes {
  readonly id: Uint8Array;
  readonly authority: boolean;
  readonly value: ObjectValue;
}

/** CDF: X509CertificateObjects `30 { CommonObjectAttributes, 30 { iD, authority? }, [1] { 30 { value } } }`. */
export function parseCdf(bytes: Uint8Array): CertificateInfo[] {
  const certs: CertificateInfo[] = [];
  for (const entry of parseNodes(bytes, 'CDF')) {
    if (entry.tag !== TAG.SEQUENCE) continue; // attribute and SPKI certificates
    const children = childrenOf(entry, 'CDF entry');
    const common = parseCommonObjectAttributes(children[0]);
    const certAttrs = childrenOf(expectTag(children[1], TAG.SEQUENCE, 'CommonCertificateAttributes'), 'CommonCertificateAttributes');
    const id = expectTag(certAttrs[0], TAG.OCTET_STRING, 'CommonCertificateAttributes.iD').value;
    const authorityNode = certAttrs.find((c) => c.tag === TAG.BOOLEAN);
    const authority = authorityNode !== undefined && authorityNode.value[0] !== undefined && authorityNode.value[0] !== 0;
    const x509 = childrenOf(expectTag(typeAttributes(children, 'CDF entry')[0], TAG.SEQUENCE, 'X509CertificateAttributes'), 'X509CertificateAttributes');
    certs.push({ ...common, id, authority, value: parseObjectValue(x509[0], 'X509CertificateAttributes.value') });
  }
  return certs;
}

// ---- AODF ----------------------------------------------------------------------------------------

export type PinType = 'bcd' | 'ascii-numeric' | 'utf8' | 'half-nibble-bcd' | 'iso9564-1';
const PIN_TYPES: readonly PinType[] = ['bcd', 'ascii-numeric', 'utf8', 'half-nibble-bcd', 'iso9564-1'];

export interface PinAttributes {
  readonly pinFlags: ReadonlySet<number>;
  readonly pinType: PinType;
  readonly minLength: number;
  readonly storedLength: number;
  /** Absent: storedLength is the maximum. */
  readonly maxLength?: number;
  /** `pinReference [0]`, default 0. */
  readonly pinReference: number;
  readonly padChar?: number;
  /** Where the PIN lives; absent for a global PIN, or the application DF when `local`. */
  readonly path?: Pkcs15Path;
}

export interface AuthObjectInfo extends CommonObjectAttributes {
  /** The object's own identifier (CommonAuthenticationObjectAttributes.authId). */
  readonly id: Uint8Array;
  readonly pin: PinAttributes;
}

/** AODF: PIN objects `30 { CommonObjectAttributes, 30 { authId }, [1] { 30 { PinAttributes } } }`. */
export function parseAodf(bytes: Uint8Array): AuthObjectInfo[] {
  const pins: AuthObjectInfo[] = [];
  for (const entry of parseNodes(bytes, 'AODF')) {
    if (entry.tag !== TAG.SEQUENCE) continue; // biometric templates, auth keys, external
    const children = childrenOf(entry, 'AODF entry');
    const common = parseCommonObjectAttributes(children[0]);
    const authAttrs = childrenOf(expectTag(children[1], TAG.SEQUENCE, 'CommonAuthenticationObjectAttributes'), 'CommonAuthenticationObjectAttributes');
    const id = expectTag(authAttrs[0], TAG.OCTET_STRING, 'CommonAuthenticationObjectAttributes.authId').value;
    const attrs = typeAttributes(children, 'AODF entry')[0];
    pins.push({ ...common, id, pin: parsePinAttributes(attrs) });
  }
  return pins;
}

function parsePinAttributes(node: TlvNode | undefined): PinAttributes {
  const c = childrenOf(expectTag(node, TAG.SEQUENCE, 'PinAttributes'), 'PinAttributes');
  const pinFlags = bitStringBits(expectTag(c[0], TAG.BIT_STRING, 'PinAttributes.pinFlags'), 'PinFlags');
  const typeValue = unsignedInteger(expectTag(c[1], TAG.ENUMERATED, 'PinAttributes.pinType'), 'pinType');
  const pinType = PIN_TYPES[typeValue];
  if (!pinType) throw cardDataError(`type de code porteur inconnu (${typeValue})`, `unknown PIN type (${typeValue})`);
  const integers = c.slice(2).filter((n) => n.tag === TAG.INTEGER);
  const minLength = unsignedInteger(expectTag(integers[0], TAG.INTEGER, 'PinAttributes.minLength'), 'minLength');
  const storedLength = unsignedInteger(expectTag(integers[1], TAG.INTEGER, 'PinAttributes.storedLength'), 'storedLength');
  const maxLength = integers[2] ? unsignedInteger(integers[2], 'maxLength') : undefined;
  const refNode = c.find((n) => n.tag === 0x80);
  const pinReference = refNode ? unsignedInteger(refNode, 'pinReference') : 0;
  const padNode = c.find((n, i) => i >= 2 && n.tag === TAG.OCTET_STRING);
  if (padNode && padNode.value.length !== 1) throw cardDataError('padChar invalide', 'invalid padChar');
  const pathNode = c.find((n, i) => i >= 2 && n.tag === TAG.SEQUENCE);
  const max = maxLength ?? storedLength;
  if (minLength > max || storedLength > 64 || max > 64) throw cardDataError('longueurs du code porteur incohérentes', 'inconsistent PIN lengths');
  return {
    pinFlags,
    pinType,
    minLength,
    storedLength,
    ...(maxLength === undefined ? {} : { maxLength }),
    pinReference,
    ...(padNode ? { padChar: padNode.value[0]! } : {}),
    ...(pathNode ? { path: parsePath(pathNode) } : {}),
  };
}

// ---- DODF ----------------------------------------------------------------------------------------

export interface DataObjectInfo extends CommonObjectAttributes {
  readonly applicationName?: string;
  readonly value: ObjectValue;
}

/** DODF: opaque data objects `30 { CommonObjectAttributes, 30 { applicationName? … }, [1] { value } }`. */
export function parseDodf(bytes: Uint8Array): DataObjectInfo[] {
  const objects: DataObjectInfo[] = [];
  for (const entry of parseNodes(bytes, 'DODF')) {
    if (entry.tag !== TAG.SEQUENCE) continue; // external and OID data objects
    const children = childrenOf(entry, 'DODF entry');
    const common = parseCommonObjectAttributes(children[0]);
    const dataAttrs = childrenOf(expectTag(children[1], TAG.SEQUENCE, 'CommonDataObjectAttributes'), 'CommonDataObjectAttributes');
    const appName = dataAttrs.find((n) => n.tag === TAG.UTF8_STRING);
    const value = parseObjectValue(typeAttributes(children, 'DODF entry')[0], 'DataObject.value');
    objects.push({ ...common, ...(appName ? { applicationName: text(appName) } : {}), value });
  }
  return objects;
}
