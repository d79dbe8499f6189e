// The agent's settings (agent-protocol.md "Transport"): where it listens, where its secrets and
// state live, and the card-side switches the CLI passes through. Defaults follow the XDG base
// directory spec; the listening address is loopback or nothing.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isIP } from 'node:net';
import { defaultStateDir } from '../pki/state-dir.js';

export const DEFAULT_AGENT_PORT = 24820;
export const DEFAULT_AGENT_HOST = '127.0.0.1';
export const PROTOCOL_VERSION = 1;

export class AgentConfigError extends Error {
  override readonly name = 'AgentConfigError';
}

/** `$XDG_CONFIG_HOME/cardbridge`, else `~/.config/cardbridge` (relative XDG paths are ignored, as the spec says). */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'cardbridge');
  return join(home, '.config', 'cardbridge');
}

export function defaultAgentStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return defaultStateDir(env);
}

/**
 * The address to bind, when it is a loopback one: `127.0.0.0/8`, `::1`, or `localhost` (taken as
 * 127.0.0.1, never resolved). Anything else throws: the agent never listens on a network interface.
 */
export function loopbackBindAddress(host: string): string {
  const h = host.trim();
  if (h === 'localhost') return '127.0.0.1';
  const bare = h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
  const family = isIP(bare);
  if (family === 4 && /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare) && bare.split('.').every((p) => Number(p) <= 255)) return bare;
  if (family === 6 && isIpv6Loopback(bare)) return '::1';
  throw new AgentConfigError(`Adresse d'écoute refusée : ${host} n'est pas une adresse de bouclage (127.0.0.1 ou ::1).`);
}

function isIpv6Loopback(address: string): boolean {
  // ::1 in any of its spellings (0:0:0:0:0:0:0:1, ::0:1 …); IPv4-mapped addresses are refused.
  const parts = address.split('::');
  if (parts.length > 2) return false;
  const groups = (s: string | undefined): string[] => (s === undefined || s === '' ? [] : s.split(':'));
  const head = groups(parts[0]);
  const tail = groups(parts[1]);
  const fill = parts.length === 2 ? 8 - head.length - tail.length : 0;
  const all = [...head, ...Array<string>(Math.max(fill, 0)).fill('0'), ...tail];
  if (all.length !== 8) return false;
  return all.every((g, i) => /^[0-9a-fA-F]{1,4}$/.test(g) && parseInt(g, 16) === (i === 7 ? 1 : 0));
}

export function validPort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AgentConfigError(`Port invalide : ${port}.`);
  return port;
}

let cachedRoot: { dir: string; version: string } | undefined;

/** cardbridge's package directory and version, found from this module upward (works from src/ and dist/). */
function findPackage(): { dir: string; version: string } {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i += 1) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'cardbridge' && typeof pkg.version === 'string') {
        cachedRoot = { dir, version: pkg.version };
        return cachedRoot;
      }
    } catch {
      // not here: go up
    }
    dir = resolve(dir, '..');
  }
  throw new AgentConfigError("package.json de cardbridge introuvable au-dessus de ce module.");
}

export function agentVersion(): string {
  try {
    return findPackage().version;
  } catch {
    return '0.0.0';
  }
}

/** The directory holding cardbridge's package.json (and scripts/, bin/). */
export function packageRoot(): string {
  return findPackage().dir;
}
