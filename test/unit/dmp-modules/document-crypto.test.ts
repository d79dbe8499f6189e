// Encryption at rest: per-document keys, the master key file, and typed refusals for every
// alteration. Nothing readable may be left in what the database stores.
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decryptDocument, encryptDocument, type EncryptedDocument } from '../../../src/dmp/crypto/document-cipher.js';
import { DocumentCryptoError, MasterKeyFileError } from '../../../src/dmp/crypto/errors.js';
import { LocalFileKeyProvider } from '../../../src/dmp/crypto/local-file-key-provider.js';

const dir = () => mkdtempSync(join(tmpdir(), 'cb-dmp-crypto-'));
const SENTENCE = 'Le patient présente une hypertension artérielle traitée depuis 2019.';
const document = new TextEncoder().encode(`<ClinicalDocument>${SENTENCE} ${SENTENCE}</ClinicalDocument>`);

async function provider(): Promise<LocalFileKeyProvider> {
  return LocalFileKeyProvider.open(join(dir(), 'keys', 'master.key'));
}

async function expectCryptoError(promise: Promise<unknown>, code: DocumentCryptoError['code']): Promise<void> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DocumentCryptoError);
  expect((error as DocumentCryptoError).code).toBe(code);
}

function altered(doc: EncryptedDocument, field: 'ciphertext' | 'iv' | 'tag' | 'wrappedKey', index = 0): EncryptedDocument {
  const bytes = new Uint8Array(doc[field]);
  bytes[index % bytes.length] = (bytes[index % bytes.length] ?? 0) ^ 0x01;
  return { ...doc, [field]: bytes };
}

describe('document encryption', () => {
  it('round-trips, with a fresh key and IV per document', async () => {
    const keys = await provider();
    const a = await encryptDocument(document, keys, 'doc-1');
    const b = await encryptDocument(document, keys, 'doc-1');
    expect(a.iv).toHaveLength(12);
    expect(a.tag).toHaveLength(16);
    expect(a.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(a.keyId).toBe(await keys.keyId());
    expect(Buffer.from(a.ciphertext).equals(Buffer.from(b.ciphertext))).toBe(false);
    expect(Buffer.from(a.wrappedKey).equals(Buffer.from(b.wrappedKey))).toBe(false);
    expect(Buffer.from(await decryptDocument(a, keys, 'doc-1')).equals(Buffer.from(document))).toBe(true);
    expect(await decryptDocument(await encryptDocument(new Uint8Array(0), keys, 'empty'), keys, 'empty')).toHaveLength(0);
  });

  it('leaves no trace of a known sentence in what would be stored', async () => {
    const keys = await provider();
    const stored = await encryptDocument(document, keys, 'doc-grep');
    const row = join(dir(), 'row.bin'); // what a database row would hold, written out and read back
    writeFileSync(row, Buffer.concat([stored.ciphertext, stored.iv, stored.tag, stored.wrappedKey, Buffer.from(stored.keyId)]));
    const bytes = readFileSync(row);
    for (const needle of [SENTENCE, 'hypertension', 'ClinicalDocument']) {
      expect(bytes.includes(Buffer.from(needle, 'utf8'))).toBe(false);
      expect(bytes.includes(Buffer.from(needle, 'latin1'))).toBe(false);
    }
    // the test would see the sentence if it were there
    expect(Buffer.concat([bytes, document]).includes(Buffer.from(SENTENCE, 'utf8'))).toBe(true);
  });

  it('refuses altered ciphertext, tag, IV or wrapped key, and another document id, as INTEGRITY', async () => {
    const keys = await provider();
    const stored = await encryptDocument(document, keys, 'doc-2');
    await expectCryptoError(decryptDocument(altered(stored, 'ciphertext', 17), keys, 'doc-2'), 'INTEGRITY');
    await expectCryptoError(decryptDocument(altered(stored, 'tag', 3), keys, 'doc-2'), 'INTEGRITY');
    await expectCryptoError(decryptDocument(altered(stored, 'iv', 5), keys, 'doc-2'), 'INTEGRITY');
    await expectCryptoError(decryptDocument(altered(stored, 'wrappedKey', 20), keys, 'doc-2'), 'INTEGRITY');
    await expectCryptoError(decryptDocument(stored, keys, 'doc-3'), 'INTEGRITY'); // moved to another row
    await expectCryptoError(decryptDocument({ ...stored, ciphertext: stored.ciphertext.subarray(1) }, keys, 'doc-2'), 'INTEGRITY');
  });

  it('refuses another master key as KEY_UNAVAILABLE and malformed fields as MALFORMED', async () => {
    const keys = await provider();
    const stored = await encryptDocument(document, keys, 'doc-4');
    await expectCryptoError(decryptDocument(stored, await provider(), 'doc-4'), 'KEY_UNAVAILABLE');
    await expectCryptoError(decryptDocument({ ...stored, keyId: '0000000000000000' }, keys, 'doc-4'), 'KEY_UNAVAILABLE');
    await expectCryptoError(decryptDocument({ ...stored, iv: stored.iv.subarray(0, 8) }, keys, 'doc-4'), 'MALFORMED');
    await expectCryptoError(decryptDocument({ ...stored, tag: stored.tag.subarray(0, 12) }, keys, 'doc-4'), 'MALFORMED');
    await expectCryptoError(decryptDocument({ ...stored, wrappedKey: stored.wrappedKey.subarray(1) }, keys, 'doc-4'), 'MALFORMED');
  });

  it('never returns plaintext for a randomly altered stored document', async () => {
    const keys = await provider();
    const stored = await encryptDocument(document, keys, 'doc-5');
    const field = fc.constantFrom('ciphertext' as const, 'iv' as const, 'tag' as const, 'wrappedKey' as const);
    await fc.assert(
      fc.asyncProperty(field, fc.nat(), async (name, index) => {
        // the wrapped key's first byte is its format version: changing it is MALFORMED
        const expected = name === 'wrappedKey' && index % stored.wrappedKey.length === 0 ? 'MALFORMED' : 'INTEGRITY';
        await expectCryptoError(decryptDocument(altered(stored, name, index), keys, 'doc-5'), expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe('LocalFileKeyProvider', () => {
  it('creates a 32-byte master key file with mode 0600 in a 0700 directory, and reuses it', async () => {
    const path = join(dir(), 'state', 'master.key');
    const first = await LocalFileKeyProvider.open(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(statSync(path).size).toBe(32);
    const stored = await encryptDocument(document, first, 'doc-6');
    const again = new LocalFileKeyProvider(path);
    expect(await again.keyId()).toBe(await first.keyId());
    expect(Buffer.from(await decryptDocument(stored, again, 'doc-6')).equals(Buffer.from(document))).toBe(true);
  });

  it('ends with one key when several processes create it at once', async () => {
    const path = join(dir(), 'master.key');
    const providers = await Promise.all(Array.from({ length: 8 }, () => LocalFileKeyProvider.open(path)));
    const ids = new Set(await Promise.all(providers.map((p) => p.keyId())));
    expect(ids.size).toBe(1);
  });

  it('refuses a key file readable by group or others, or of the wrong size', async () => {
    const readable = join(dir(), 'master.key');
    writeFileSync(readable, Buffer.alloc(32, 7));
    chmodSync(readable, 0o644);
    await expect(LocalFileKeyProvider.open(readable)).rejects.toBeInstanceOf(MasterKeyFileError);
    chmodSync(readable, 0o600);
    expect(await (await LocalFileKeyProvider.open(readable)).keyId()).toMatch(/^[0-9a-f]{16}$/);

    const short = join(dir(), 'short.key');
    writeFileSync(short, Buffer.alloc(16, 1), { mode: 0o600 });
    await expect(LocalFileKeyProvider.open(short)).rejects.toThrow(/exactly 32 bytes/);
  });

  it('wraps only 32-byte keys', async () => {
    const keys = await provider();
    await expect(keys.wrap(new Uint8Array(16))).rejects.toThrow(RangeError);
  });
});
