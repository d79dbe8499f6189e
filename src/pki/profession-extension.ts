// The profession extension (cards.md, "Test PKI"): the TRE_G15 profession code and the optional
// specialty code, carried in a non-critical extension so that a service reads the profession
// from the certificate instead of trusting what a client claims.
//
//   ProfessionInfo ::= SEQUENCE { professionCode UTF8String, specialtyCode UTF8String OPTIONAL }
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { bytesEqual, toArrayBuffer } from './bytes.js';
import { PROFESSION_EXTENSION_OID } from './oids.js';

export { PROFESSION_EXTENSION_OID };

export interface ProfessionInfo {
  /** TRE_G15 profession code, e.g. "10" (médecin). */
  professionCode: string;
  /** Specialty code (e.g. a TRE_R38 code), when the certificate carries one. */
  specialtyCode?: string;
}

export class ProfessionExtensionError extends Error {
  override readonly name = 'ProfessionExtensionError';
}

const MAX_CODE_LENGTH = 64;

function checkCode(field: string, value: string): void {
  if (value.length === 0 || value.length > MAX_CODE_LENGTH || value.trim() !== value) {
    throw new ProfessionExtensionError(`${field} must be 1 to ${MAX_CODE_LENGTH} characters without surrounding spaces`);
  }
}

/** DER of the extension value. */
export function encodeProfessionExtensionValue(info: ProfessionInfo): Uint8Array {
  checkCode('professionCode', info.professionCode);
  const fields = [new asn1js.Utf8String({ value: info.professionCode })];
  if (info.specialtyCode !== undefined) {
    checkCode('specialtyCode', info.specialtyCode);
    fields.push(new asn1js.Utf8String({ value: info.specialtyCode }));
  }
  return new Uint8Array(new asn1js.Sequence({ value: fields }).toBER(false));
}

function isUtf8String(block: asn1js.AsnType | undefined): block is asn1js.Utf8String {
  return block instanceof asn1js.Utf8String && block.idBlock.tagClass === 1 && !block.idBlock.isConstructed;
}

/**
 * Decodes the extension value. Strict: DER only (BER variants such as indefinite lengths or
 * constructed strings are refused), no trailing bytes, no extra fields.
 */
export function decodeProfessionExtensionValue(der: Uint8Array): ProfessionInfo {
  const bytes = new Uint8Array(der); // own copy: asn1js keeps views on its input
  const parsed = asn1js.fromBER(bytes);
  if (parsed.offset === -1 || parsed.offset !== bytes.byteLength) {
    throw new ProfessionExtensionError('profession extension: not a single DER value');
  }
  const sequence = parsed.result;
  if (!(sequence instanceof asn1js.Sequence) || sequence.idBlock.tagClass !== 1) {
    throw new ProfessionExtensionError('profession extension: SEQUENCE expected');
  }
  const fields = sequence.valueBlock.value;
  if (fields.length < 1 || fields.length > 2 || !fields.every((f) => isUtf8String(f))) {
    throw new ProfessionExtensionError('profession extension: one or two UTF8String fields expected');
  }
  const [profession, specialty] = fields as asn1js.Utf8String[];
  const info: ProfessionInfo = { professionCode: profession?.valueBlock.value ?? '' };
  if (specialty !== undefined) info.specialtyCode = specialty.valueBlock.value;
  try {
    checkCode('professionCode', info.professionCode);
    if (info.specialtyCode !== undefined) checkCode('specialtyCode', info.specialtyCode);
  } catch (error) {
    throw new ProfessionExtensionError(`profession extension: ${(error as Error).message}`);
  }
  // DER is canonical: the value must be byte for byte what the encoder writes for it.
  if (!bytesEqual(encodeProfessionExtensionValue(info), bytes)) {
    throw new ProfessionExtensionError('profession extension: not DER encoded');
  }
  return info;
}

/** The extension, non-critical, ready to go into a certificate. */
export function professionExtension(info: ProfessionInfo): pkijs.Extension {
  const value = encodeProfessionExtensionValue(info);
  return new pkijs.Extension({
    extnID: PROFESSION_EXTENSION_OID,
    critical: false,
    extnValue: toArrayBuffer(value),
  });
}

/**
 * asn1js prints OID arcs above 2^53 in its own hex form when it parses them, so a parsed
 * extension's `extnID` is not the dotted decimal string. Both spellings are recognised.
 */
const PROFESSION_EXTENSION_ID_FORMS: ReadonlySet<string> = new Set([
  PROFESSION_EXTENSION_OID,
  (asn1js.fromBER(new asn1js.ObjectIdentifier({ value: PROFESSION_EXTENSION_OID }).toBER(false))
    .result as asn1js.ObjectIdentifier).valueBlock.toString(),
]);

export function isProfessionExtensionId(extnID: string): boolean {
  return PROFESSION_EXTENSION_ID_FORMS.has(extnID);
}

/** The profession extension of a parsed certificate, if present. */
export function findProfessionExtension(certificate: pkijs.Certificate): pkijs.Extension | undefined {
  return certificate.extensions?.find((extension) => isProfessionExtensionId(extension.extnID));
}

/**
 * The profession carried by a certificate (DER or parsed), or null when it has no profession
 * extension (a real CPS certificate: use the subject `title` then). Throws
 * ProfessionExtensionError when the extension is present but malformed or repeated.
 */
export function readProfessionExtension(certificate: Uint8Array | pkijs.Certificate): ProfessionInfo | null {
  const parsed = certificate instanceof Uint8Array ? pkijs.Certificate.fromBER(toArrayBuffer(certificate)) : certificate;
  const matches = (parsed.extensions ?? []).filter((extension) => isProfessionExtensionId(extension.extnID));
  if (matches.length === 0) return null;
  if (matches.length > 1) throw new ProfessionExtensionError('profession extension: present more than once');
  return decodeProfessionExtensionValue((matches[0] as pkijs.Extension).extnValue.valueBlock.valueHexView);
}
