// Files only the agent's user may read: the config directory (0700), the local token and the
// console key (0600, created atomically at first start), the pairing store (0600, replaced by
// rename). A secret file that others can read, or that belongs to someone else, is refused
// rather than used: it may already have leaked.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export class PrivateFileError extends Error {
  override readonly name = 'PrivateFileError';
}

const myUid = (): number | undefined => (typeof process.getuid === 'function' ? process.getuid() : undefined);

/** Creates `dir` (and parents) and makes sure only its owner can enter it. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = statSync(dir);
  if (!stat.isDirectory()) throw new PrivateFileError(`${dir} n'est pas un répertoire.`);
  const uid = myUid();
  if (uid !== undefined && stat.uid !== uid) throw new PrivateFileError(`Le répertoire ${dir} appartient à un autre utilisateur (uid ${stat.uid}).`);
  if ((stat.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** Refuses a file that is not a regular file of ours with mode 0600 (or stricter). */
export function assertPrivateFile(path: string): void {
  const stat = lstatSync(path);
  if (!stat.isFile()) throw new PrivateFileError(`${path} n'est pas un fichier ordinaire.`);
  const uid = myUid();
  if (uid !== undefined && stat.uid !== uid) throw new PrivateFileError(`${path} appartient à un autre utilisateur (uid ${stat.uid}).`);
  if ((stat.mode & 0o077) !== 0) {
    throw new PrivateFileError(
      `${path} est lisible par d'autres utilisateurs (mode ${(stat.mode & 0o777).toString(8)}) : supprimez-le, l'agent en créera un nouveau (mode 600).`,
    );
  }
}

/**
 * The one-line secret in `path`, created with `bytes` random bytes (base64url) when absent. The
 * file is created with O_EXCL and mode 0600, so two agents starting at once agree on one value.
 */
export function readOrCreateSecret(path: string, bytes = 32): string {
  ensurePrivateDir(dirname(path));
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, `${randomBytes(bytes).toString('base64url')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  assertPrivateFile(path);
  const value = readFileSync(path, 'utf8').split('\n')[0]?.trim() ?? '';
  if (value.length < 32) throw new PrivateFileError(`${path} ne contient pas de secret valable (une ligne d'au moins 32 caractères) : supprimez-le.`);
  return value;
}

/** Replaces `path` with `content` (mode 0600) through a temporary file and a rename. */
export function writePrivateFileAtomic(path: string, content: string): void {
  ensurePrivateDir(dirname(path));
  const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}
