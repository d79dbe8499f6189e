// Object identifiers used by the test PKI (X.520 attribute types, RFC 5280 extensions, key
// purposes) and the project's own profession extension.

export const ATTRIBUTE_TYPE_OID = {
  C: '2.5.4.6',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  title: '2.5.4.12',
  SN: '2.5.4.4',
  GN: '2.5.4.42',
  CN: '2.5.4.3',
} as const;

export type AttributeTypeName = keyof typeof ATTRIBUTE_TYPE_OID;

export const EXTENSION_OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  crlNumber: '2.5.29.20',
  crlDistributionPoints: '2.5.29.31',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
} as const;

export const KEY_PURPOSE_OID = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

export const SHA256_WITH_RSA_OID = '1.2.840.113549.1.1.11';

/**
 * The project's profession extension (cards.md, "Test PKI"): a UUID OID under 2.25, value
 * `SEQUENCE { professionCode UTF8String, specialtyCode UTF8String OPTIONAL }`, never critical.
 */
export const PROFESSION_EXTENSION_OID = '2.25.166827519201625141612859933623803847396';
