// The local token (agent-protocol.md "Who may call what": desktop callers prove they run as the
// user by reading it) and the console key (the secret in `/console?k=…`), both beside each other
// in the config directory.
import { join } from 'node:path';
import { readOrCreateSecret } from './private-files.js';
import { secretEquals } from './secret-compare.js';

export const TOKEN_FILE = 'token';
export const CONSOLE_KEY_FILE = 'console-key';

export interface Secret {
  /** Where it is stored. */
  readonly path: string;
  /** Constant-time check of a candidate value. */
  matches(candidate: string): boolean;
  /** The value itself, for the CLI that presents it (never logged). */
  reveal(): string;
}

function secretAt(path: string): Secret {
  const value = readOrCreateSecret(path);
  return { path, matches: (candidate) => secretEquals(candidate, value), reveal: () => value };
}

export function localTokenPath(configDir: string): string {
  return join(configDir, TOKEN_FILE);
}

export function consoleKeyPath(configDir: string): string {
  return join(configDir, CONSOLE_KEY_FILE);
}

/** `<configDir>/token`: created at first start (0600 in a 0700 directory), then read. */
export function loadLocalToken(configDir: string): Secret {
  return secretAt(localTokenPath(configDir));
}

/** `<configDir>/console-key`, same rules as the token. */
export function loadConsoleKey(configDir: string): Secret {
  return secretAt(consoleKeyPath(configDir));
}
