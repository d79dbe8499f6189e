// Where cardbridge keeps its state (test PKI, virtual card states) unless told otherwise:
// $CARDBRIDGE_STATE_DIR, else $XDG_STATE_HOME/cardbridge, else ~/.local/state/cardbridge.
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export const STATE_DIR_ENV = 'CARDBRIDGE_STATE_DIR';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const override = env[STATE_DIR_ENV];
  if (override !== undefined && override.trim() !== '') return resolve(override);
  const xdgStateHome = env.XDG_STATE_HOME;
  // the XDG base directory spec says to ignore relative paths
  if (xdgStateHome !== undefined && isAbsolute(xdgStateHome)) return join(xdgStateHome, 'cardbridge');
  return join(home, '.local', 'state', 'cardbridge');
}
