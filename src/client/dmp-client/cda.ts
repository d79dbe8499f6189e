// A PDF as the non-structured body of a CDA R2 "N1" document (dmp-service.md: the form in
// which a PDF travels to the DMP): a minimal CDA R2 header — document type (LOINC typeCode, with
// the class as a translation), patient by INS, author by national identifier (IdNat_PS: `8` +
// RPPS or `0` + ADELI under 1.2.250.1.71.4.2.1), custodian — and the PDF in base64 inside
// `<nonXMLBody>`. Every value is escaped; the result is well-formed XML in UTF-8.
import { asBytes, randomBytes, toBase64 } from '../shared/bytes.js';
import type { Ins } from './types.js';
import { element, textElement } from './xml.js';

export const OID = {
  /** HL7 CDA R2 typeId root. */
  cdaTypeId: '2.16.840.1.113883.1.3',
  /** IHE XDS-SD (scanned documents: a PDF in a CDA non-XML body). */
  xdsSdTemplate: '1.3.6.1.4.1.19376.1.2.20',
  loinc: '2.16.840.1.113883.6.1',
  /** XDS classCode of the French DMP. */
  dmpClassCode: '1.2.250.1.213.1.1.4.1',
  confidentiality: '2.16.840.1.113883.5.25',
  administrativeGender: '2.16.840.1.113883.5.1',
  /** IdNat_PS: national identifier of health professionals. */
  idNatPs: '1.2.250.1.71.4.2.1',
  /** IdNat_Struct: national identifier of structures. */
  idNatStruct: '1.2.250.1.71.4.2.2',
  /** TRE_G15 professions. */
  professionG15: '1.2.250.1.71.1.2.7',
} as const;

/** The format code of a PDF in a CDA N1 document (IHE XDS-SD). */
export const CDA_N1_PDF_FORMAT = 'urn:ihe:iti:xds-sd:pdf:2008';

export interface CdaAuthor {
  idType: 'RPPS' | 'ADELI' | (string & {});
  /** With or without its type digit (`99900000101` or `899900000101` for an RPPS). */
  nationalId: string;
  surname: string;
  givenName: string;
  professionCode?: string;
  professionLabel?: string;
}

/** The patient's traits (the names of the DMP's `traits`: the same object fits). */
export interface CdaPatient {
  /** Birth surname (`<family qualifier="BR">`). */
  birthSurname?: string;
  /** Birth first names (`<given>`). */
  firstNames?: string;
  /** YYYY-MM-DD. */
  birthDate?: string;
  sex?: 'M' | 'F' | 'U' | (string & {});
}

export interface CdaOrganization {
  /** IdNat_Struct. */
  id?: string;
  name?: string;
}

export interface CdaN1Input {
  ins: Ins;
  pdf: Uint8Array;
  title: string;
  /** LOINC document type (the DMP's typeCode). */
  typeCode: string;
  /** The XDS classCode (written as a translation of the type; left out when absent). */
  classCode?: string;
  author: CdaAuthor;
  patient?: CdaPatient;
  organization?: CdaOrganization;
  /** Default now. */
  effectiveTime?: Date;
  /** HL7 confidentiality (N, R, V); default N. The DMP's masking codes travel in the metadata. */
  confidentialityCode?: 'N' | 'R' | 'V';
  /** Root of the document id (an OID); default a fresh `2.25.<UUID>`. */
  documentId?: string;
}

/** IdNat_PS of an author: `8` + RPPS, `0` + ADELI (kept as is when the type digit is already there). */
export function idNatPs(author: Pick<CdaAuthor, 'idType' | 'nationalId'>): string {
  const id = author.nationalId.trim();
  if (author.idType === 'RPPS') return /^8\d{11}$/.test(id) ? id : `8${id}`;
  if (author.idType === 'ADELI') return /^0\d{9}$/.test(id) ? id : `0${id}`;
  return id;
}

/** `2.25.<decimal UUID>` (ITU-T X.667): a unique OID without a registration. */
export function uuidOid(): string {
  const bytes = randomBytes(16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40; // version 4
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80; // RFC 4122 variant
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return `2.25.${value.toString(10)}`;
}

/** HL7 TS in UTC: `YYYYMMDDHHMMSS+0000`. */
export function hl7Time(date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return (
    `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}` +
    `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}+0000`
  );
}

function birthTime(date: string | undefined): string | undefined {
  if (date === undefined) return undefined;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  return match ? `${match[1]}${match[2]}${match[3]}` : undefined;
}

function personName(family: string | undefined, given: string | undefined, familyQualifier?: string): string {
  if (family === undefined && given === undefined) return element('name', { nullFlavor: 'UNK' });
  return element(
    'name',
    {},
    ...(given === undefined ? [] : [textElement('given', given)]),
    ...(family === undefined ? [] : [textElement('family', family, { qualifier: familyQualifier })]),
  );
}

function organization(tag: string, org: CdaOrganization | undefined): string {
  return element(
    tag,
    {},
    org?.id ? element('id', { root: OID.idNatStruct, extension: org.id }) : element('id', { nullFlavor: 'UNK' }),
    ...(org?.name ? [textElement('name', org.name)] : []),
  );
}

/** The CDA R2 N1 document, as a string (encode it as UTF-8). */
export function buildCdaN1(input: CdaN1Input): string {
  const { ins, author, patient } = input;
  const pdf = asBytes(input.pdf, 'pdf');
  if (typeof ins?.oid !== 'string' || typeof ins.value !== 'string' || ins.oid === '' || ins.value === '') throw new TypeError('ins must be { oid, value }');
  const time = hl7Time(input.effectiveTime ?? new Date());
  const documentId = input.documentId ?? uuidOid();
  const professionCode =
    author.professionCode === undefined
      ? []
      : [element('code', { code: author.professionCode, codeSystem: OID.professionG15, displayName: author.professionLabel })];

  const header = [
    element('realmCode', { code: 'FR' }),
    element('typeId', { root: OID.cdaTypeId, extension: 'POCD_HD000040' }),
    element('templateId', { root: OID.xdsSdTemplate }),
    element('id', { root: documentId }),
    element(
      'code',
      { code: input.typeCode, codeSystem: OID.loinc, codeSystemName: 'LOINC', displayName: input.title },
      ...(input.classCode === undefined ? [] : [element('translation', { code: input.classCode, codeSystem: OID.dmpClassCode, codeSystemName: 'classCode' })]),
    ),
    textElement('title', input.title),
    element('effectiveTime', { value: time }),
    element('confidentialityCode', { code: input.confidentialityCode ?? 'N', codeSystem: OID.confidentiality }),
    element('languageCode', { code: 'fr-FR' }),
    element('setId', { root: documentId }),
    element('versionNumber', { value: '1' }),
    element(
      'recordTarget',
      {},
      element(
        'patientRole',
        {},
        element('id', { root: ins.oid, extension: ins.value }),
        element(
          'patient',
          {},
          personName(patient?.birthSurname, patient?.firstNames, patient?.birthSurname === undefined ? undefined : 'BR'),
          patient?.sex === undefined
            ? element('administrativeGenderCode', { nullFlavor: 'UNK' })
            : element('administrativeGenderCode', { code: patient.sex, codeSystem: OID.administrativeGender }),
          birthTime(patient?.birthDate) === undefined ? element('birthTime', { nullFlavor: 'UNK' }) : element('birthTime', { value: birthTime(patient?.birthDate) }),
        ),
      ),
    ),
    element(
      'author',
      {},
      element('time', { value: time }),
      element(
        'assignedAuthor',
        {},
        element('id', { root: OID.idNatPs, extension: idNatPs(author) }),
        ...professionCode,
        element('assignedPerson', {}, personName(author.surname, author.givenName)),
        ...(input.organization ? [organization('representedOrganization', input.organization)] : []),
      ),
    ),
    element('custodian', {}, element('assignedCustodian', {}, organization('representedCustodianOrganization', input.organization))),
    element('documentationOf', {}, element('serviceEvent', {}, element('effectiveTime', { value: time }))),
  ];
  const body = element(
    'component',
    {},
    element('nonXMLBody', {}, element('text', { mediaType: 'application/pdf', representation: 'B64' }, toBase64(pdf))),
  );
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    element('ClinicalDocument', { xmlns: 'urn:hl7-org:v3', 'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance' }, ...header, body) +
    '\n'
  );
}
