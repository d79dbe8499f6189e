// Distinguished names of the test PKI: the CA pattern, the practitioner (CPS) layout and the
// server layout. One attribute per RDN, in the order given (C first), as in IGC-Santé names.
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toArrayBuffer } from './bytes.js';
import { ATTRIBUTE_TYPE_OID, type AttributeTypeName } from './oids.js';

export interface NameAttribute {
  readonly type: AttributeTypeName;
  readonly value: string;
}

/** The organisation part shared by every CA of the test PKI. */
export const TEST_PKI_ORGANISATION = 'ASIP-SANTE';
export const TEST_PKI_ORGANISATIONAL_UNIT = 'IGC-SANTE TEST';

const MAX_ATTRIBUTE_LENGTH = 64; // ub-common-name, ub-organization-name, ub-title (X.520)

function attributeValue(attribute: NameAttribute): asn1js.BaseStringBlock {
  const { type, value } = attribute;
  if (value.length === 0 || value.trim() !== value) {
    throw new RangeError(`DN attribute ${type} must be non-empty, without surrounding spaces: ${JSON.stringify(value)}`);
  }
  if ([...value].length > MAX_ATTRIBUTE_LENGTH) {
    throw new RangeError(`DN attribute ${type} is longer than ${MAX_ATTRIBUTE_LENGTH} characters`);
  }
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new RangeError(`DN attribute ${type} contains control characters`);
  }
  if (type === 'C') {
    if (!/^[A-Z]{2}$/.test(value)) throw new RangeError(`country must be two capital letters: ${value}`);
    return new asn1js.PrintableString({ value });
  }
  return new asn1js.Utf8String({ value });
}

/** DER of a Name: SEQUENCE OF (SET of one AttributeTypeAndValue), in the given order. */
export function encodeName(attributes: readonly NameAttribute[]): Uint8Array {
  if (attributes.length === 0) throw new RangeError('a distinguished name needs at least one attribute');
  const rdns = attributes.map(
    (attribute) =>
      new asn1js.Set({
        value: [
          new asn1js.Sequence({
            value: [new asn1js.ObjectIdentifier({ value: ATTRIBUTE_TYPE_OID[attribute.type] }), attributeValue(attribute)],
          }),
        ],
      }),
  );
  return new Uint8Array(new asn1js.Sequence({ value: rdns }).toBER(false));
}

/**
 * A pkijs name built from the attributes. (pkijs's own RelativeDistinguishedNames encoder puts
 * every attribute in a single multi-valued RDN, so the encoding is made here and parsed back:
 * pkijs then re-emits these exact bytes.)
 */
export function buildName(attributes: readonly NameAttribute[]): pkijs.RelativeDistinguishedNames {
  return pkijs.RelativeDistinguishedNames.fromBER(toArrayBuffer(encodeName(attributes)));
}

/** `C=FR, O=ASIP-SANTE, OU=IGC-SANTE TEST, CN=<commonName>` */
export function caNameAttributes(commonName: string): NameAttribute[] {
  return [
    { type: 'C', value: 'FR' },
    { type: 'O', value: TEST_PKI_ORGANISATION },
    { type: 'OU', value: TEST_PKI_ORGANISATIONAL_UNIT },
    { type: 'CN', value: commonName },
  ];
}

export interface PractitionerNameFields {
  /** 11-digit RPPS number; test values start with 99. */
  readonly rpps: string;
  readonly surname: string;
  readonly givenName: string;
  readonly professionLabel: string;
  readonly structureId: string;
  readonly structureName: string;
}

/** Test RPPS numbers: 11 digits starting with 99 (cards.md), so no real practitioner is named. */
export function assertTestRpps(rpps: string): void {
  if (!/^99\d{9}$/.test(rpps)) {
    throw new RangeError(`test RPPS must be 11 digits starting with 99, got ${JSON.stringify(rpps)}`);
  }
}

/** CN of a CPS certificate: the national-identifier type digit 8 (RPPS) followed by the RPPS. */
export function practitionerCommonName(rpps: string): string {
  assertTestRpps(rpps);
  return `8${rpps}`;
}

/** `C=FR, O=<structure name>, OU=<structure id>, title=<profession>, SN=, GN=, CN=8<RPPS>` */
export function practitionerNameAttributes(fields: PractitionerNameFields): NameAttribute[] {
  return [
    { type: 'C', value: 'FR' },
    { type: 'O', value: fields.structureName },
    { type: 'OU', value: fields.structureId },
    { type: 'title', value: fields.professionLabel },
    { type: 'SN', value: fields.surname },
    { type: 'GN', value: fields.givenName },
    { type: 'CN', value: practitionerCommonName(fields.rpps) },
  ];
}

export interface ServerNameFields {
  readonly hostname: string;
  readonly organisationName?: string;
  readonly organisationId?: string;
}

/** `C=FR, O=<organisation>, [OU=<organisation id>,] CN=<host name>` */
export function serverNameAttributes(fields: ServerNameFields): NameAttribute[] {
  const attributes: NameAttribute[] = [
    { type: 'C', value: 'FR' },
    { type: 'O', value: fields.organisationName ?? 'ETABLISSEMENT DE TEST' },
  ];
  if (fields.organisationId !== undefined) attributes.push({ type: 'OU', value: fields.organisationId });
  attributes.push({ type: 'CN', value: fields.hostname });
  return attributes;
}

const SHORT_NAME_BY_OID = new Map<string, string>(
  Object.entries(ATTRIBUTE_TYPE_OID).map(([short, oid]) => [oid, short]),
);

/** `C=FR, O=…, CN=…` (attributes in encoded order), for messages and CLI output. */
export function formatName(attributes: readonly NameAttribute[]): string {
  return attributes.map((a) => `${a.type}=${a.value}`).join(', ');
}

/** The attributes of a parsed pkijs name, in encoded order (unknown types by OID). */
export function nameAttributesOf(name: pkijs.RelativeDistinguishedNames): { type: string; value: string }[] {
  return name.typesAndValues.map((tv) => {
    const block = tv.value as { valueBlock?: { value?: unknown } };
    const value = typeof block.valueBlock?.value === 'string' ? block.valueBlock.value : '';
    return { type: SHORT_NAME_BY_OID.get(tv.type) ?? tv.type, value };
  });
}
