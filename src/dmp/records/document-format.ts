// What a sent document is (dmp-service.md, "Documents"): a CDA R2 XML document (well-formed, in
// UTF-8, root ClinicalDocument in the HL7 v3 namespace, whose patient —
// recordTarget/patientRole/id @root=<INS OID> @extension=<INS value> — is the DMP's), or a plain
// PDF (starting with `%PDF-`). The type is decided from the bytes, never from what the client
// declares; anything else is 415. A PDF may also travel inside a CDA R2 "N1" document (non
// structured body), which is then a CDA like any other.
import { INS_OIDS, type Ins } from '../../ins/index.js';
import { DmpError } from '../errors.js';
import { XmlError, checkWellFormedXml } from './xml-wellformed.js';

export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;
export const HL7_V3_NAMESPACE = 'urn:hl7-org:v3';

export type DocumentFormat = 'cda-r2' | 'pdf';

export interface DetectedFormat {
  readonly format: DocumentFormat;
  /** What the document is served as. */
  readonly mimeType: 'text/xml' | 'application/pdf';
}

const PDF_MAGIC = Buffer.from('%PDF-', 'latin1');
const UTF8_BOM = [0xef, 0xbb, 0xbf];
const INS_OID_SET = new Set<string>(INS_OIDS);

function startsWith(bytes: Uint8Array, prefix: readonly number[] | Uint8Array): boolean {
  if (bytes.byteLength < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** The first significant byte is `<` (after a UTF-8 BOM and whitespace): the document claims to be XML. */
function looksLikeXml(bytes: Uint8Array): boolean {
  let i = startsWith(bytes, UTF8_BOM) ? 3 : 0;
  while (i < bytes.byteLength && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return bytes[i] === 0x3c;
}

function unsupported(): DmpError {
  return new DmpError('UNSUPPORTED_MEDIA_TYPE', 'formats acceptés : CDA R2 (XML en UTF-8) et PDF');
}

function utf8Text(bytes: Uint8Array): string {
  try {
    // fatal: invalid UTF-8 is refused rather than replaced; ignoreBOM false drops a leading BOM
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DmpError('CDA_MALFORMED', 'document XML qui n’est pas en UTF-8 valide');
  }
}

/**
 * Checks a CDA R2 document against the DMP's INS: 415 when it is well-formed XML but not a CDA,
 * 422 CDA_MALFORMED when it is not well-formed (or carries a DOCTYPE), 422 INS_MISMATCH when its
 * single patient's INS is absent or another one.
 */
export function checkCdaDocument(bytes: Uint8Array, ins: Ins): void {
  const text = utf8Text(bytes);
  let root: { namespace: string | null; localName: string } | undefined;
  let recordTargets = 0;
  const insIds: { root: string; extension: string | undefined }[] = [];
  try {
    checkWellFormedXml(text, {
      onStartElement: (element, ancestors) => {
        const depth = ancestors.length;
        if (depth === 0) {
          root = element;
          return;
        }
        if (root?.namespace !== HL7_V3_NAMESPACE || root.localName !== 'ClinicalDocument' || element.namespace !== HL7_V3_NAMESPACE) return;
        if (depth === 1 && element.localName === 'recordTarget') recordTargets++;
        if (
          depth === 3 &&
          element.localName === 'id' &&
          ancestors[1]?.localName === 'recordTarget' &&
          ancestors[1].namespace === HL7_V3_NAMESPACE &&
          ancestors[2]?.localName === 'patientRole' &&
          ancestors[2].namespace === HL7_V3_NAMESPACE
        ) {
          const idRoot = element.attributes.get('root');
          if (idRoot !== undefined && INS_OID_SET.has(idRoot)) insIds.push({ root: idRoot, extension: element.attributes.get('extension') });
        }
      },
    });
  } catch (error) {
    if (error instanceof XmlError) {
      throw new DmpError('CDA_MALFORMED', `XML mal formé (position ${error.offset}) : ${error.message}`);
    }
    throw error;
  }
  if (root?.namespace !== HL7_V3_NAMESPACE || root.localName !== 'ClinicalDocument') {
    throw new DmpError('UNSUPPORTED_MEDIA_TYPE', 'document XML qui n’est pas un CDA R2 (élément racine ClinicalDocument de urn:hl7-org:v3 attendu)');
  }
  if (recordTargets !== 1) throw new DmpError('INS_MISMATCH', `un seul patient (recordTarget) attendu dans le document, ${recordTargets} trouvé(s)`);
  if (insIds.length === 0) throw new DmpError('INS_MISMATCH', 'le document ne porte pas l’INS du patient (recordTarget/patientRole/id)');
  if (!insIds.some((id) => id.root === ins.oid && id.extension === ins.value) || insIds.some((id) => id.root !== ins.oid || id.extension !== ins.value)) {
    throw new DmpError('INS_MISMATCH', 'l’INS du patient du document ne correspond pas à celui du DMP');
  }
}

/** The format of the content, decided from its bytes (and checked: CDA against the INS). */
export function detectDocumentFormat(bytes: Uint8Array, ins: Ins): DetectedFormat {
  if (bytes.byteLength > MAX_DOCUMENT_BYTES) throw new DmpError('DOCUMENT_TOO_LARGE', 'document de plus de 10 Mio');
  if (startsWith(bytes, PDF_MAGIC)) return { format: 'pdf', mimeType: 'application/pdf' };
  if (looksLikeXml(bytes)) {
    checkCdaDocument(bytes, ins);
    return { format: 'cda-r2', mimeType: 'text/xml' };
  }
  throw unsupported();
}
