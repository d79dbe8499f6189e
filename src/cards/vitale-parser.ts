// Parsers of the Vitale 2 files (cards.md): EF POINTERS (2001), the beneficiary templates `65`,
// the card template `66` and EF PAN. Public tags only are required; the simulator's own tags
// (C0 own NIR … C8 AMO rights, docs/simulator-vitale.md) are read when present and never needed.
// Every failure is a CardError (CARD_ERROR).
import { InsError } from '../ins/ins-error.js';
import { computeInsC } from '../ins/ins-c.js';
import { nirKey } from '../ins/nir.js';
import type { TlvNode } from '../iso7816/tlv.js';
import { childrenOf, latin1, parseNodes, toHex } from './ber.js';
import { cardDataError } from './errors.js';

export interface VitaleAmo {
  /** 2 digits, e.g. `01` régime général. */
  readonly regime?: string;
  readonly caisse?: string;
  readonly centre?: string;
  /** Rights start and end, `YYYYMMDD` as on the card. */
  readonly start?: string;
  readonly end?: string;
}

/** One beneficiary, in the shape of agent-protocol.md's `vitale.read`. */
export interface VitaleBeneficiary {
  /** Tag 93: the insured's ("ouvrant droit") NIR, 15 characters. */
  readonly nir: string;
  readonly nirKeyValid: boolean;
  /** The beneficiary's own certified NIR when the card holds it, else null. */
  readonly ownNir: string | null;
  readonly surname: string;
  readonly birthSurname?: string;
  readonly givenName: string;
  /** `YYYYMMDD` exactly as on the card (lunar dates included). */
  readonly birthDateRaw: string;
  /** ISO date when the raw date is a real calendar date, else null. */
  readonly birthDate: string | null;
  readonly birthRank?: number;
  readonly quality?: number;
  /** 22-digit INS-C, only with the own NIR. */
  readonly insC: string | null;
  readonly amo?: VitaleAmo;
}

export interface VitaleApplicationEntry {
  /** Application index (bytes 0-1 of an `82` entry). */
  readonly index: number;
  /** The AID, from byte 4 of the entry. */
  readonly aid: Uint8Array;
}

export interface VitaleFileEntry {
  /** 8 characters, space padded on the card (trimmed here). */
  readonly name: string;
  readonly applicationIndex: number;
  readonly fid: number;
}

export interface VitalePointers {
  readonly applications: readonly VitaleApplicationEntry[];
  readonly files: readonly VitaleFileEntry[];
}

const TAG = {
  pointers: 0xe0,
  applications: 0xa0,
  applicationEntry: 0x82,
  fileEntry: 0x80,
  beneficiary: 0x65,
  card: 0x66,
  surname: 0x80,
  givenName: 0x81,
  birthDate: 0x82,
  nir: 0x93,
  validityStart: 0x80,
  pan: 0x5a,
} as const;

/** The simulator's own tags inside `65` (absent on a real card). */
const SIM_TAG = {
  ownNir: 0xc0,
  quality: 0xc1,
  birthRank: 0xc2,
  birthSurname: 0xc3,
  amoRegime: 0xc4,
  amoCaisse: 0xc5,
  amoCentre: 0xc6,
  amoStart: 0xc7,
  amoEnd: 0xc8,
} as const;

const u16 = (bytes: Uint8Array, offset: number): number => ((bytes[offset] ?? 0) << 8) | (bytes[offset + 1] ?? 0);

/** EF POINTERS: `E0 { A0 { 82 index(2) ??(2) AID }, 80 name(8) index(2) EF id(2) … }`. */
export function parsePointers(bytes: Uint8Array): VitalePointers {
  const root = parseNodes(bytes, 'EF POINTERS').find((n) => n.tag === TAG.pointers);
  if (!root) throw cardDataError('EF POINTERS sans gabarit E0', 'EF POINTERS without an E0 template');
  const applications: VitaleApplicationEntry[] = [];
  const files: VitaleFileEntry[] = [];
  for (const node of childrenOf(root, 'EF POINTERS')) {
    if (node.tag === TAG.applications) {
      for (const entry of childrenOf(node, 'EF POINTERS A0')) {
        if (entry.tag !== TAG.applicationEntry) continue;
        if (entry.value.length < 5 || entry.value.length > 20) throw cardDataError('entrée d’application invalide', 'invalid application entry');
        applications.push({ index: u16(entry.value, 0), aid: entry.value.slice(4) });
      }
    } else if (node.tag === TAG.fileEntry) {
      if (node.value.length !== 12) throw cardDataError('entrée de fichier invalide', 'invalid file entry');
      files.push({ name: latin1(node.value.subarray(0, 8)).trimEnd(), applicationIndex: u16(node.value, 8), fid: u16(node.value, 10) });
    }
  }
  return { applications, files };
}

/** The first value of `tag` among `nodes`, as ISO-8859-1 text without trailing spaces. */
function field(nodes: readonly TlvNode[], tag: number): string | undefined {
  const node = nodes.find((n) => n.tag === tag && !n.constructed);
  return node ? latin1(node.value).trimEnd() : undefined;
}

function singleDigit(value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined || !/^[0-9]$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

/** `YYYYMMDD` -> `YYYY-MM-DD` when it is a real date; null for lunar or malformed dates. */
export function isoDateOrNull(raw: string): string | null {
  const m = /^([0-9]{4})([0-9]{2})([0-9]{2})$/.exec(raw);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1) return null;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return null;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

function nirKeyIsValid(nir: string): boolean {
  if (nir.length !== 15 || !/^[0-9]{2}$/.test(nir.slice(13))) return false;
  try {
    return nirKey(nir.slice(0, 13)) === nir.slice(13);
  } catch (error) {
    if (error instanceof InsError) return false;
    throw error;
  }
}

function insCOf(givenName: string, birthDateRaw: string, ownNir: string | null): string | null {
  if (ownNir === null || ownNir.length !== 15 || !/^[0-9]{8}$/.test(birthDateRaw)) return null;
  try {
    return computeInsC(givenName, birthDateRaw.slice(2, 8), ownNir.slice(0, 13));
  } catch (error) {
    if (error instanceof InsError) return null;
    throw error;
  }
}

/** One `65` template. */
export function parseBeneficiary(template: TlvNode): VitaleBeneficiary {
  const c = childrenOf(template, 'bénéficiaire');
  const nir = field(c, TAG.nir);
  if (nir === undefined) throw cardDataError('bénéficiaire sans NIR', 'beneficiary without a NIR');
  const birthDateRaw = field(c, TAG.birthDate) ?? '';
  const givenName = field(c, TAG.givenName) ?? '';
  const ownNir = field(c, SIM_TAG.ownNir) ?? null;
  const birthSurname = field(c, SIM_TAG.birthSurname);
  const quality = singleDigit(field(c, SIM_TAG.quality), 0, 9);
  const birthRank = singleDigit(field(c, SIM_TAG.birthRank), 1, 6);
  const amoFields = {
    regime: field(c, SIM_TAG.amoRegime),
    caisse: field(c, SIM_TAG.amoCaisse),
    centre: field(c, SIM_TAG.amoCentre),
    start: field(c, SIM_TAG.amoStart),
    end: field(c, SIM_TAG.amoEnd),
  };
  const amo = Object.fromEntries(Object.entries(amoFields).filter(([, v]) => v !== undefined)) as VitaleAmo;
  return {
    nir,
    nirKeyValid: nirKeyIsValid(nir),
    ownNir,
    surname: field(c, TAG.surname) ?? '',
    ...(birthSurname === undefined ? {} : { birthSurname }),
    givenName,
    birthDateRaw,
    birthDate: isoDateOrNull(birthDateRaw),
    ...(birthRank === undefined ? {} : { birthRank }),
    ...(quality === undefined ? {} : { quality }),
    insC: insCOf(givenName, birthDateRaw, ownNir),
    ...(Object.keys(amo).length > 0 ? { amo } : {}),
  };
}

export interface VitaleDataFile {
  readonly beneficiaries: readonly VitaleBeneficiary[];
  /** `66/80`, as an ISO date when valid. */
  readonly validFrom?: string;
}

/** A data EF of the VITALE application: any `65` templates and the `66` card template it holds. */
export function parseVitaleDataFile(bytes: Uint8Array): VitaleDataFile {
  const nodes = parseNodes(bytes, 'fichier Vitale');
  const beneficiaries = nodes.filter((n) => n.tag === TAG.beneficiary).map(parseBeneficiary);
  const card = nodes.find((n) => n.tag === TAG.card);
  const start = card ? field(childrenOf(card, 'carte'), TAG.validityStart) : undefined;
  const validFrom = start === undefined ? null : isoDateOrNull(start);
  return { beneficiaries, ...(validFrom === null ? {} : { validFrom }) };
}

/** EF PAN: `5A <card number, BCD, F-padded>`. */
export function parsePan(bytes: Uint8Array): string | undefined {
  const pan = parseNodes(bytes, 'EF PAN').find((n) => n.tag === TAG.pan)?.value;
  if (!pan || pan.length === 0) return undefined;
  const digits = toHex(pan).replace(/F+$/, '');
  return /^[0-9]+$/.test(digits) ? digits : undefined;
}
