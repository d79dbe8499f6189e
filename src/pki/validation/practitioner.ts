// The practitioner a CPS certificate names (cards.md, "Test PKI"): subject
// `C=FR, O=<structure name>, OU=<structure id>, title=<profession label>, SN=, GN=, CN=<id>`,
// where the CN is the national identifier: `8` + RPPS (11 digits) or `0` + ADELI (9 characters).
// The profession comes from the project's extension when present (the service never trusts a
// profession a client claims), else from the `title` label as on real CPS certificates; when
// neither gives a TRE_G15 code, professionCode is undefined and the DMP refuses the login.
import * as pkijs from 'pkijs';
import { ATTRIBUTE_TYPE_OID } from '../oids.js';
import { readProfessionExtension } from '../profession-extension.js';
import { professionCodeFromLabel, professionLabel as labelOfCode } from '../professions.js';
import { nameValues, parseCertificate } from './x509.js';

export interface PractitionerIdentityFromCertificate {
  /** The national identifier as written in the CN: `8` + RPPS or `0` + ADELI. Unique across both. */
  nationalId: string;
  idType: 'RPPS' | 'ADELI';
  /** The RPPS or ADELI number alone (the CN without its type digit). */
  identifier: string;
  surname: string;
  givenName: string;
  /** TRE_G15 code; undefined when neither the extension nor the title gives one. */
  professionCode?: string;
  specialtyCode?: string;
  /** The subject `title`, or the code's label when the title is absent. */
  professionLabel: string;
  structureId?: string;
  structureName?: string;
}

export class PractitionerCertificateError extends Error {
  override readonly name = 'PractitionerCertificateError';
}

function single(name: pkijs.RelativeDistinguishedNames, oid: string, label: string): string | undefined {
  const values = nameValues(name, oid);
  if (values.length > 1) throw new PractitionerCertificateError(`subject has ${values.length} ${label} attributes`);
  const value = values[0]?.trim();
  return value === '' ? undefined : value;
}

/**
 * Reads the practitioner identity of a certificate (DER). Throws PractitionerCertificateError when
 * the certificate does not name a practitioner (no RPPS/ADELI CN, no surname) or carries a
 * malformed profession extension. Does not validate the certificate: call the validator first.
 */
export function practitionerFromCertificate(der: Uint8Array): PractitionerIdentityFromCertificate {
  let certificate: pkijs.Certificate;
  try {
    certificate = parseCertificate(der).certificate;
  } catch (error) {
    throw new PractitionerCertificateError((error as Error).message);
  }
  const subject = certificate.subject;
  const cn = single(subject, ATTRIBUTE_TYPE_OID.CN, 'CN');
  let idType: 'RPPS' | 'ADELI';
  if (cn !== undefined && /^8\d{11}$/.test(cn)) idType = 'RPPS';
  else if (cn !== undefined && /^0[0-9AB]\d{8}$/.test(cn)) idType = 'ADELI'; // ADELI: department (2A/2B for Corsica) + 7 digits
  else throw new PractitionerCertificateError(`subject CN ${JSON.stringify(cn ?? '')} is not a practitioner national identifier`);

  const surname = single(subject, ATTRIBUTE_TYPE_OID.SN, 'surname');
  const givenName = single(subject, ATTRIBUTE_TYPE_OID.GN, 'given name');
  if (surname === undefined || givenName === undefined) throw new PractitionerCertificateError('subject lacks the surname or given name');
  const title = single(subject, ATTRIBUTE_TYPE_OID.title, 'title');

  let extension;
  try {
    extension = readProfessionExtension(certificate);
  } catch (error) {
    // Present but malformed: refusing beats silently falling back to the title.
    throw new PractitionerCertificateError((error as Error).message);
  }
  const professionCode = extension?.professionCode ?? (title === undefined ? undefined : professionCodeFromLabel(title));
  const identity: PractitionerIdentityFromCertificate = {
    nationalId: cn,
    idType,
    identifier: cn.slice(1),
    surname,
    givenName,
    professionLabel: title ?? (professionCode === undefined ? '' : (labelOfCode(professionCode) ?? '')),
  };
  if (professionCode !== undefined) identity.professionCode = professionCode;
  if (extension?.specialtyCode !== undefined) identity.specialtyCode = extension.specialtyCode;
  const structureId = single(subject, ATTRIBUTE_TYPE_OID.OU, 'OU');
  const structureName = single(subject, ATTRIBUTE_TYPE_OID.O, 'O');
  if (structureId !== undefined) identity.structureId = structureId;
  if (structureName !== undefined) identity.structureName = structureName;
  return identity;
}
