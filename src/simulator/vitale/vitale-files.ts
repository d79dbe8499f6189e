// Personalises the Vitale 2 file tree from a persona: MF (named MF_VITALE) with EF DIR and EF PAN,
// and the VITALE application with EF POINTERS, the card EF (66), the certificate EF (7F21) and
// one EF per beneficiary (65). Every EF has a fixed size: its TLVs, then zero padding.
import { createHash } from 'node:crypto';
import { encodeTlv } from '../../iso7816/tlv.js';
import { df, ef, u16, type DedicatedFile } from '../file-system.js';
import type { VitaleBeneficiary, VitalePersona } from './personas.js';
import {
  AID_MF_VITALE,
  AID_VITALE,
  APP_INDEX_MF_VITALE,
  APP_INDEX_VITALE,
  EF_SIZE,
  FID_CARD,
  FID_CERTIFICATE,
  FID_DF_VITALE,
  FID_DIR,
  FID_FIRST_BENEFICIARY,
  FID_MF,
  FID_PAN,
  FID_POINTERS,
  FILE_NAME,
  MAX_BENEFICIARIES,
  SFI_CARD,
  SFI_CERTIFICATE,
  SFI_DIR,
  SFI_FIRST_BENEFICIARY,
  SFI_PAN,
  SFI_POINTERS,
  SIM_TAG,
  TAG,
} from './vitale-layout.js';

/** Card text: one byte per character (ISO-8859-1); persona data is plain upper-case ASCII. */
function text(value: string): Uint8Array {
  for (const c of value) {
    if (c.charCodeAt(0) > 0xff) throw new RangeError(`character not storable on a Vitale card: ${c}`);
  }
  return Uint8Array.from([...value].map((c) => c.charCodeAt(0)));
}

/** The file's content padded with zeros to its allocated size. */
function padded(tlvs: readonly Uint8Array[], size: number, what: string): Uint8Array {
  const total = tlvs.reduce((n, t) => n + t.length, 0);
  if (total > size) throw new RangeError(`${what}: ${total} bytes do not fit its ${size}-byte EF`);
  const out = new Uint8Array(size);
  let offset = 0;
  for (const t of tlvs) {
    out.set(t, offset);
    offset += t.length;
  }
  return out;
}

/** Deterministic filler for the certificate fields: SHA-256 in counter mode over a label. */
function pseudoRandom(label: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let block = 0; block * 32 < length; block++) {
    const digest = createHash('sha256').update(`cardbridge vitale simulator|${label}|${block}`).digest();
    out.set(digest.subarray(0, Math.min(32, length - block * 32)), block * 32);
  }
  return out;
}

function bcd(digits: string): Uint8Array {
  const even = digits.length % 2 === 0 ? digits : `${digits}F`;
  const out = new Uint8Array(even.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(even.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function beneficiaryTemplate(b: VitaleBeneficiary): Uint8Array {
  const fields: Uint8Array[] = [
    encodeTlv(TAG.surname, text(b.surname)),
    encodeTlv(TAG.givenName, text(b.givenName)),
    encodeTlv(TAG.birthDate, text(b.birthDateRaw)),
    encodeTlv(TAG.nationality, text(b.nationality)),
    encodeTlv(TAG.nir, text(b.nir)),
  ];
  if (b.ownNir !== null) fields.push(encodeTlv(SIM_TAG.ownNir, text(b.ownNir)));
  fields.push(encodeTlv(SIM_TAG.quality, text(String(b.quality))));
  fields.push(encodeTlv(SIM_TAG.birthRank, text(String(b.birthRank))));
  if (b.birthSurname !== undefined) fields.push(encodeTlv(SIM_TAG.birthSurname, text(b.birthSurname)));
  fields.push(
    encodeTlv(SIM_TAG.amoRegime, text(b.amo.regime)),
    encodeTlv(SIM_TAG.amoCaisse, text(b.amo.caisse)),
    encodeTlv(SIM_TAG.amoCentre, text(b.amo.centre)),
    encodeTlv(SIM_TAG.amoStart, text(b.amo.start)),
    encodeTlv(SIM_TAG.amoEnd, text(b.amo.end)),
  );
  if (b.medecinTraitant) {
    fields.push(
      encodeTlv(SIM_TAG.medecinTraitantRpps, text(b.medecinTraitant.rpps)),
      encodeTlv(SIM_TAG.medecinTraitantName, text(b.medecinTraitant.name)),
    );
  }
  return encodeTlv(TAG.beneficiary, fields);
}

/**
 * EF POINTERS: E0 { A0 { 82 per application }, 80 per file }.
 * 82 = application index (2) + the application DF's file id (2, simulator choice: cardpeek reads
 * the AID from offset 4) + AID. 80 = 8-character file name + application index (2) + EF id (2).
 */
export function pointersContent(beneficiaryCount: number): Uint8Array {
  const app = (index: number, fid: number, aid: Uint8Array): Uint8Array =>
    encodeTlv(TAG.applicationEntry, [u16(index), u16(fid), aid]);
  const file = (name: string, fid: number): Uint8Array => encodeTlv(TAG.fileEntry, [text(name), u16(APP_INDEX_VITALE), u16(fid)]);
  const files = [file(FILE_NAME.card, FID_CARD), file(FILE_NAME.certificate, FID_CERTIFICATE)];
  for (let i = 0; i < beneficiaryCount; i++) files.push(file(FILE_NAME.beneficiary(i), FID_FIRST_BENEFICIARY + i));
  return encodeTlv(TAG.pointers, [
    encodeTlv(TAG.applications, [app(APP_INDEX_MF_VITALE, FID_MF, AID_MF_VITALE), app(APP_INDEX_VITALE, FID_DF_VITALE, AID_VITALE)]),
    ...files,
  ]);
}

/** 7F21 { 5F37 CA signature (128 bytes), 5F38 public-key remainder (42 bytes) }: filler only. */
export function certificateContent(cardSerial: string): Uint8Array {
  return encodeTlv(TAG.cvCertificate, [
    encodeTlv(TAG.caSignature, pseudoRandom(`${cardSerial}|5F37`, 128)),
    encodeTlv(TAG.publicKeyRemainder, pseudoRandom(`${cardSerial}|5F38`, 42)),
  ]);
}

/** EF DIR: one `61 { 4F AID, 50 label }` record per application (simulator choice). */
function dirContent(): Uint8Array[] {
  return [
    encodeTlv(0x61, [encodeTlv(0x4f, AID_MF_VITALE), encodeTlv(0x50, text('MF_VITALE'))]),
    encodeTlv(0x61, [encodeTlv(0x4f, AID_VITALE), encodeTlv(0x50, text('VITALE'))]),
  ];
}

/** The whole personalised tree, rooted at the MF. */
export function buildVitaleFiles(persona: VitalePersona): DedicatedFile {
  const { beneficiaries } = persona;
  if (beneficiaries.length === 0 || beneficiaries.length > MAX_BENEFICIARIES) {
    throw new RangeError(`a Vitale card holds 1..${MAX_BENEFICIARIES} beneficiaries, not ${beneficiaries.length}`);
  }
  if (!/^[0-9]{10}$/.test(persona.cardSerial)) throw new RangeError('the card serial is 10 digits');
  const vitale = df(
    FID_DF_VITALE,
    [
      ef(FID_POINTERS, padded([pointersContent(beneficiaries.length)], EF_SIZE.pointers, 'POINTERS'), { sfi: SFI_POINTERS }),
      ef(FID_CARD, padded([encodeTlv(TAG.card, [encodeTlv(TAG.validityStart, text(persona.validityStart))])], EF_SIZE.card, 'CARTE'), {
        sfi: SFI_CARD,
      }),
      ef(FID_CERTIFICATE, padded([certificateContent(persona.cardSerial)], EF_SIZE.certificate, 'CERTIF'), { sfi: SFI_CERTIFICATE }),
      ...beneficiaries.map((b, i) =>
        ef(FID_FIRST_BENEFICIARY + i, padded([beneficiaryTemplate(b)], EF_SIZE.beneficiary, `beneficiary ${i + 1}`), {
          sfi: SFI_FIRST_BENEFICIARY + i,
        }),
      ),
    ],
    AID_VITALE,
  );
  return df(
    FID_MF,
    [
      ef(FID_DIR, padded(dirContent(), EF_SIZE.dir, 'DIR'), { sfi: SFI_DIR }),
      ef(FID_PAN, padded([encodeTlv(0x5a, bcd(persona.cardSerial))], EF_SIZE.pan, 'PAN'), { sfi: SFI_PAN }),
      vitale,
    ],
    AID_MF_VITALE,
  );
}
