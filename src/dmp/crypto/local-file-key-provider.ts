// The default KeyProvider: a master key of 32 random bytes in a local file, owner-only (0600),
// created on first use. DEKs are wrapped with AES-256-GCM under it, with a random 96-bit IV per
// wrap (one IV per document: far below the 2^32 random-IV limit of one GCM key) and the key id
// as associated data.
//
// Losing this file loses every document; leaking it (with a database dump) leaks them all. So
// it is created atomically (written to a temporary file, fsynced, then hard-linked into place:
// two processes starting together end up with one key) and refused when group or others can
// read it. keyId = the first 8 bytes of SHA-256(master key) in hex: stored with each document,
// it says which master key wrapped its DEK without revealing anything usable about it.
import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { link, mkdir, open, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DocumentCryptoError, MasterKeyFileError } from './errors.js';
import { DEK_BYTES, type KeyProvider } from './key-provider.js';

export const MASTER_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Format byte of a wrapped key: v1 = AES-256-GCM, layout version || iv || ciphertext || tag. */
const WRAP_V1 = 0x01;
const WRAPPED_BYTES = 1 + IV_BYTES + DEK_BYTES + TAG_BYTES;

interface MasterKey {
  readonly key: KeyObject;
  readonly keyId: string;
}

function wrapAad(keyId: string): Buffer {
  return Buffer.from(`cardbridge/dek-wrap/v1|${keyId}`, 'utf8');
}

async function readMasterKey(path: string): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new MasterKeyFileError(`master key ${path} is not a regular file`);
    if ((info.mode & 0o077) !== 0) {
      throw new MasterKeyFileError(`master key ${path} is readable by group or others (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`);
    }
    if (info.size !== MASTER_KEY_BYTES) throw new MasterKeyFileError(`master key ${path} must hold exactly ${MASTER_KEY_BYTES} bytes, not ${info.size}`);
    const bytes = Buffer.alloc(MASTER_KEY_BYTES);
    const { bytesRead } = await handle.read(bytes, 0, MASTER_KEY_BYTES, 0);
    if (bytesRead !== MASTER_KEY_BYTES) throw new MasterKeyFileError(`master key ${path}: short read`);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** Creates the key file if absent; a concurrent creator's key wins if it got there first. */
async function createMasterKey(path: string): Promise<void> {
  const directory = dirname(path);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.chmod(0o600); // whatever the umask
    await handle.writeFile(randomBytes(MASTER_KEY_BYTES));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, path); // atomic "create if absent"
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  // Make the new directory entry durable: a key the documents depend on must survive a crash.
  const dir = await open(directory, 'r').catch(() => undefined);
  if (dir) await dir.sync().catch(() => undefined).finally(() => dir.close());
}

export class LocalFileKeyProvider implements KeyProvider {
  readonly path: string;
  private loaded: Promise<MasterKey> | undefined;

  /** Lazy: the file is read (or created) on first use. Use open() to fail fast at start-up. */
  constructor(path: string) {
    if (typeof path !== 'string' || path.length === 0) throw new TypeError('LocalFileKeyProvider needs the master key file path');
    this.path = path;
  }

  /** A provider whose key file has been read or created (errors surface here, at start-up). */
  static async open(path: string): Promise<LocalFileKeyProvider> {
    const provider = new LocalFileKeyProvider(path);
    await provider.keyId();
    return provider;
  }

  async keyId(): Promise<string> {
    return (await this.masterKey()).keyId;
  }

  async wrap(dek: Uint8Array): Promise<{ keyId: string; wrapped: Uint8Array }> {
    if (!(dek instanceof Uint8Array) || dek.byteLength !== DEK_BYTES) throw new RangeError(`a DEK is ${DEK_BYTES} bytes`);
    const { key, keyId } = await this.masterKey();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(wrapAad(keyId));
    const ciphertext = Buffer.concat([cipher.update(dek), cipher.final()]);
    const wrapped = Buffer.concat([Buffer.of(WRAP_V1), iv, ciphertext, cipher.getAuthTag()]);
    return { keyId, wrapped: new Uint8Array(wrapped) };
  }

  async unwrap(keyId: string, wrapped: Uint8Array): Promise<Uint8Array> {
    const { key, keyId: ownId } = await this.masterKey();
    if (keyId !== ownId) throw new DocumentCryptoError('KEY_UNAVAILABLE', `key ${String(keyId)} is not this provider's master key (${ownId})`);
    if (!(wrapped instanceof Uint8Array) || wrapped.byteLength !== WRAPPED_BYTES || wrapped[0] !== WRAP_V1) {
      throw new DocumentCryptoError('MALFORMED', 'wrapped key of unknown format');
    }
    const bytes = Buffer.from(wrapped);
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(wrapAad(keyId));
    decipher.setAuthTag(bytes.subarray(WRAPPED_BYTES - TAG_BYTES));
    try {
      return new Uint8Array(Buffer.concat([decipher.update(bytes.subarray(1 + IV_BYTES, WRAPPED_BYTES - TAG_BYTES)), decipher.final()]));
    } catch {
      throw new DocumentCryptoError('INTEGRITY', 'wrapped key failed authentication');
    }
  }

  private masterKey(): Promise<MasterKey> {
    this.loaded ??= this.load().catch((error: unknown) => {
      this.loaded = undefined; // a later call may succeed once the operator fixed the file
      throw error;
    });
    return this.loaded;
  }

  private async load(): Promise<MasterKey> {
    let bytes = await readMasterKey(this.path);
    if (bytes === undefined) {
      await createMasterKey(this.path);
      bytes = await readMasterKey(this.path);
      if (bytes === undefined) throw new MasterKeyFileError(`master key ${this.path} vanished right after creation`);
    }
    const keyId = createHash('sha256').update(bytes).digest().subarray(0, 8).toString('hex');
    const key = createSecretKey(bytes);
    bytes.fill(0);
    return { key, keyId };
  }
}
