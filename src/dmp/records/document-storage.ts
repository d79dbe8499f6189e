// Storing and reading back document contents. A sent document is encrypted under its own fresh
// AES-256-GCM key with its id as associated data (src/dmp/crypto), then its metadata (in clear,
// queryable), the encrypted content, the CMS signature beside it, the RPLC deprecation of the
// document it replaces and its trace are written in ONE transaction: a crash leaves all of it or
// none, and an acknowledged document is committed (synchronous commit on both stores).
import { createHash, randomUUID } from 'node:crypto';
import { decryptDocument, encryptDocument, type KeyProvider } from '../crypto/index.js';
import { DmpError } from '../errors.js';
import type { DmpStore, RecordsDocument, RecordsDocumentContent, RecordsPatient } from '../store/index.js';
import { authorIdOf, type Caller } from './caller.js';
import type { DetectedFormat } from './document-format.js';
import { confidentialityFlags, type DocumentMetadataInput } from './document-metadata.js';
import type { PatientTrail } from './record-trace.js';

export function requireKeyProvider(keyProvider: KeyProvider | undefined): KeyProvider {
  if (keyProvider === undefined) {
    throw new DmpError('DOCUMENT_ENCRYPTION_UNAVAILABLE', 'aucune clé maîtresse configurée (--master-key) : les documents ne peuvent être ni chiffrés ni lus');
  }
  return keyProvider;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface DocumentToStore {
  readonly patient: RecordsPatient;
  readonly caller: Caller;
  readonly metadata: DocumentMetadataInput;
  readonly format: DetectedFormat;
  readonly content: Uint8Array;
  readonly signatureCms: Uint8Array;
  readonly signerFingerprint: string;
  readonly trail: PatientTrail;
  readonly now: Date;
}

function authorOf(caller: Caller): Pick<RecordsDocument, 'authorKind' | 'authorId' | 'authorName' | 'authorProfessionCode' | 'establishmentId'> {
  if (caller.kind === 'practitioner') {
    return { authorKind: 'practitioner', authorId: caller.nationalId, authorName: caller.displayName, authorProfessionCode: caller.professionCode, establishmentId: null };
  }
  const user = caller.user ? ` (${caller.user.name})` : '';
  return {
    authorKind: 'establishment',
    authorId: caller.establishmentId,
    authorName: `${caller.establishmentName}${user}`.slice(0, 512),
    authorProfessionCode: null,
    establishmentId: caller.establishmentId,
  };
}

/** Encrypts and stores a checked document with its trace; the stored metadata back. */
export async function storeDocument(store: DmpStore, keyProvider: KeyProvider, input: DocumentToStore): Promise<RecordsDocument> {
  const { patient, caller, metadata, format, content, trail, now } = input;
  const id = randomUUID();
  const encrypted = await encryptDocument(content, keyProvider, id);
  const flags = confidentialityFlags(metadata.confidentiality);
  const at = now.getTime();
  const document: RecordsDocument = {
    id,
    patientId: patient.id,
    classCode: metadata.classCode,
    typeCode: metadata.typeCode,
    confidentiality: flags.json,
    format: format.format,
    mimeType: format.mimeType,
    title: metadata.title,
    creationTime: metadata.creationTime,
    submittedAt: at,
    updatedAt: at,
    ...authorOf(caller),
    status: 'approved',
    replacesId: metadata.replaces,
    replacedById: null,
    maskedPs: flags.maskedPs,
    invisiblePatient: flags.invisiblePatient,
    invisibleRepresentants: flags.invisibleRepresentants,
    deletionRequestedAt: null,
    deletedAt: null,
    contentSha256: sha256Hex(content),
    contentSize: content.byteLength,
  };
  const stored: RecordsDocumentContent = {
    keyId: encrypted.keyId,
    wrappedKey: encrypted.wrappedKey,
    iv: encrypted.iv,
    tag: encrypted.tag,
    ciphertext: encrypted.ciphertext,
    signatureCms: input.signatureCms,
  };

  await store.transaction(async (tx) => {
    const current = await tx.records.getPatientById(patient.id);
    if (current?.status !== 'active') throw new DmpError('DMP_CLOSED', 'ce DMP est fermé');
    if (metadata.replaces !== null) {
      const old = await tx.records.getDocument(metadata.replaces);
      if (!old || old.patientId !== patient.id || old.status === 'deleted') {
        throw new DmpError('DOCUMENT_NOT_FOUND', 'le document à remplacer (replaces) n’existe pas dans ce DMP');
      }
      if (old.authorKind !== document.authorKind || old.authorId !== document.authorId) {
        throw new DmpError('NOT_AUTHOR', 'seul l’auteur d’un document peut le remplacer');
      }
    }
    await tx.records.insertDocument(document, stored);
    if (metadata.replaces !== null && !(await tx.records.deprecateReplacedDocument(metadata.replaces, id, at))) {
      throw new DmpError('DOCUMENT_STATE_CONFLICT', 'le document à remplacer est déjà remplacé ou n’est plus publié');
    }
    await trail.ok(tx, {
      action: 'document.send',
      target: `document:${id}`,
      detail: {
        typeCode: document.typeCode,
        classCode: document.classCode,
        format: document.format,
        size: document.contentSize,
        sha256: document.contentSha256,
        confidentiality: metadata.confidentiality,
        replaces: metadata.replaces,
        signer: input.signerFingerprint,
        author: authorIdOf(caller),
        ...(caller.kind === 'establishment' && caller.user ? { user: caller.user } : {}),
      },
    });
  });
  return document;
}

/** The plaintext content, checked against its stored SHA-256 (never served otherwise). */
export async function readDocumentContent(store: DmpStore, keyProvider: KeyProvider, document: RecordsDocument): Promise<Uint8Array> {
  const stored = await store.records.getDocumentContent(document.id);
  if (!stored) throw new DmpError('DOCUMENT_NOT_FOUND', 'document introuvable');
  const content = await decryptDocument(
    { ciphertext: stored.ciphertext, iv: stored.iv, tag: stored.tag, wrappedKey: stored.wrappedKey, keyId: stored.keyId },
    keyProvider,
    document.id,
  );
  if (content.byteLength !== document.contentSize || sha256Hex(content) !== document.contentSha256) {
    throw new Error(`document ${document.id}: decrypted content does not match its recorded hash`);
  }
  return content;
}
