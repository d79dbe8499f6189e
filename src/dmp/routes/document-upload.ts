// Reading the multipart/form-data body of a document upload: exactly the parts `metadata` (JSON,
// as a field or a file), `content` (the document bytes, at most 10 MiB) and `signature` (the DER
// CMS SignedData), each once. Sizes are enforced while streaming (busboy limits), so an oversized
// document is refused without being held whole: 413 DOCUMENT_TOO_LARGE.
import type { FastifyRequest } from 'fastify';
import { DmpError } from '../errors.js';
import { MAX_DOCUMENT_BYTES } from '../records/index.js';

/** CMS signatures are a few KB; the verifier refuses more than this anyway. */
export const MAX_SIGNATURE_PART_BYTES = 1024 * 1024;
export const MAX_METADATA_BYTES = 64 * 1024;
/** The whole body: content + signature + metadata + multipart framing. */
export const MAX_UPLOAD_BYTES = MAX_DOCUMENT_BYTES + MAX_SIGNATURE_PART_BYTES + 2 * MAX_METADATA_BYTES;

/** Limits given to @fastify/multipart (busboy) for the document routes. */
export const UPLOAD_LIMITS = {
  fileSize: MAX_DOCUMENT_BYTES,
  fieldSize: MAX_METADATA_BYTES,
  files: 3,
  fields: 3,
  parts: 3,
  fieldNameSize: 32,
  headerPairs: 20,
} as const;

export interface UploadParts {
  readonly metadata: unknown;
  readonly content: Uint8Array;
  readonly signature: Uint8Array;
}

const PART_NAMES = new Set(['metadata', 'content', 'signature']);

function parseMetadata(value: unknown): unknown {
  if (typeof value !== 'string') return value; // a field sent as application/json is parsed by the plugin
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new DmpError('METADATA_INVALID', 'la partie metadata doit être du JSON');
  }
}

function mapPluginError(error: unknown, part: string | undefined): unknown {
  const code = (error as { code?: unknown })?.code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') {
    return part === 'content' || part === undefined
      ? new DmpError('DOCUMENT_TOO_LARGE', 'document de plus de 10 Mio', { cause: error })
      : new DmpError('PAYLOAD_TOO_LARGE', `partie ${part} trop volumineuse`, { cause: error });
  }
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return new DmpError('REQUEST_INVALID', 'parties attendues : metadata, content et signature, une fois chacune', { cause: error });
  }
  if (code === 'FST_INVALID_JSON_FIELD_ERROR') return new DmpError('METADATA_INVALID', 'la partie metadata doit être du JSON', { cause: error });
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return new DmpError('UNSUPPORTED_MEDIA_TYPE', 'multipart/form-data attendu', { cause: error });
  if (typeof code === 'string' && code.startsWith('FST_')) return new DmpError('REQUEST_INVALID', 'corps multipart/form-data invalide', { cause: error });
  return error;
}

/** The three parts of an upload; the rest of the body is discarded when refused. */
export async function readUpload(request: FastifyRequest): Promise<UploadParts> {
  if (!request.isMultipart()) throw new DmpError('UNSUPPORTED_MEDIA_TYPE', 'multipart/form-data attendu (parties metadata, content, signature)');
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_UPLOAD_BYTES) {
    throw new DmpError('DOCUMENT_TOO_LARGE', 'document de plus de 10 Mio', { headers: { Connection: 'close' } });
  }
  const found = new Map<string, unknown>();
  let current: string | undefined;
  try {
    for await (const part of request.parts()) {
      current = part.fieldname;
      if (!PART_NAMES.has(part.fieldname) || found.has(part.fieldname)) {
        throw new DmpError('REQUEST_INVALID', 'parties attendues : metadata, content et signature, une fois chacune');
      }
      if (part.type === 'file') {
        const bytes = await part.toBuffer();
        if (part.fieldname === 'signature' && bytes.byteLength > MAX_SIGNATURE_PART_BYTES) {
          throw new DmpError('DOCUMENT_SIGNATURE_INVALID', 'signature CMS trop volumineuse');
        }
        found.set(part.fieldname, part.fieldname === 'metadata' ? parseMetadata(bytes.toString('utf8')) : new Uint8Array(bytes));
      } else {
        if (part.fieldname !== 'metadata') throw new DmpError('REQUEST_INVALID', `la partie ${part.fieldname} doit être envoyée comme fichier (octets)`);
        if (part.valueTruncated) throw new DmpError('METADATA_INVALID', 'métadonnées trop longues');
        found.set('metadata', parseMetadata(part.value));
      }
    }
  } catch (error) {
    // whatever is left of the body is read and dropped, so the answer reaches the client
    request.raw.unpipe();
    request.raw.resume();
    throw mapPluginError(error, current);
  }
  const content = found.get('content');
  const signature = found.get('signature');
  if (!found.has('metadata') || !(content instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    throw new DmpError('REQUEST_INVALID', 'parties metadata, content et signature requises');
  }
  return { metadata: found.get('metadata'), content, signature };
}
