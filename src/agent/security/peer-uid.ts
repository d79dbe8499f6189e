// Only the agent's own user may talk to it (agent-protocol.md "Transport"): on a shared host
// (terminal server) every user reaches 127.0.0.1. For each accepted TCP connection the agent
// finds the peer's socket in /proc/net/tcp (or tcp6) — the entry whose local end is the peer's
// address and port and whose remote end is the agent's — and accepts it only when that socket
// is ESTABLISHED and owned by the agent's UID. Orphaned sockets (closed by their process, shown
// with UID 0 and inode 0) never match.
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { isIPv4, isIPv6 } from 'node:net';

export type ProcNetTable = 'tcp' | 'tcp6';
/** Reads `/proc/net/<table>`; replaceable in tests. An absent table (no IPv6) reads as ''. */
export type ProcNetReader = (table: ProcNetTable) => Promise<string>;

export interface PeerSocketInfo {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

export type PeerCheck = (socket: PeerSocketInfo) => Promise<boolean>;

export interface ProcNetEntry {
  readonly localAddress: Buffer;
  readonly localPort: number;
  readonly remoteAddress: Buffer;
  readonly remotePort: number;
  /** TCP state as the kernel numbers it (1 = ESTABLISHED). */
  readonly state: number;
  readonly uid: number;
  readonly inode: number;
}

const TCP_ESTABLISHED = 1;

export const readProcNet: ProcNetReader = async (table) => {
  try {
    return await readFile(`/proc/net/${table}`, 'latin1');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
};

/** The kernel prints each 32-bit word of an address in host byte order. */
function decodeAddress(hex: string, littleEndian: boolean): Buffer | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return undefined;
  const raw = Buffer.from(hex, 'hex');
  if (littleEndian) for (let i = 0; i < raw.length; i += 4) raw.subarray(i, i + 4).reverse();
  return raw;
}

function decodeEndpoint(text: string | undefined, littleEndian: boolean): { address: Buffer; port: number } | undefined {
  if (text === undefined) return undefined;
  const [addressHex, portHex] = text.split(':');
  if (addressHex === undefined || portHex === undefined || !/^[0-9A-Fa-f]{4}$/.test(portHex)) return undefined;
  const address = decodeAddress(addressHex, littleEndian);
  return address === undefined ? undefined : { address, port: parseInt(portHex, 16) };
}

/** Parses the text of /proc/net/tcp or tcp6; malformed lines are skipped. */
export function parseProcNetTcp(text: string, littleEndian: boolean = endianness() === 'LE'): ProcNetEntry[] {
  const entries: ProcNetEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
    const local = decodeEndpoint(f[1], littleEndian);
    const remote = decodeEndpoint(f[2], littleEndian);
    const state = parseInt(f[3] ?? '', 16);
    const uid = Number(f[7]);
    const inode = Number(f[9]);
    if (!local || !remote || !Number.isInteger(state) || !Number.isInteger(uid) || !Number.isInteger(inode)) continue;
    entries.push({ localAddress: local.address, localPort: local.port, remoteAddress: remote.address, remotePort: remote.port, state, uid, inode });
  }
  return entries;
}

/** The 4 (IPv4) or 16 (IPv6) bytes of an address as Node reports it. */
export function addressBytes(address: string): Buffer | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const v4 = mapped?.[1] ?? address;
  if (isIPv4(v4)) return Buffer.from(v4.split('.').map(Number));
  if (!isIPv6(address)) return undefined;
  const [head = '', tail] = address.split('::');
  const words = (s: string): number[] => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const h = words(head);
  const t = tail === undefined ? [] : words(tail);
  const all = tail === undefined ? h : [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  if (all.length !== 8 || all.some((w) => !Number.isInteger(w))) return undefined;
  const out = Buffer.alloc(16);
  all.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

/** The IPv4-mapped IPv6 form (::ffff:a.b.c.d) of a 4-byte address. */
function mapped(v4: Buffer): Buffer {
  return Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), v4]);
}

/** The UID owning the peer's end of this connection, or undefined when no live socket matches. */
export async function peerUid(peer: PeerSocketInfo, read: ProcNetReader = readProcNet): Promise<number | undefined> {
  const { remoteAddress, remotePort, localAddress, localPort } = peer;
  if (remoteAddress === undefined || remotePort === undefined || localAddress === undefined || localPort === undefined) return undefined;
  const peerBytes = addressBytes(remoteAddress);
  const ourBytes = addressBytes(localAddress);
  if (!peerBytes || !ourBytes) return undefined;
  const candidates: { table: ProcNetTable; peer: Buffer; ours: Buffer }[] =
    peerBytes.length === 4
      ? [
          { table: 'tcp', peer: peerBytes, ours: ourBytes },
          { table: 'tcp6', peer: mapped(peerBytes), ours: ourBytes.length === 4 ? mapped(ourBytes) : ourBytes },
        ]
      : [{ table: 'tcp6', peer: peerBytes, ours: ourBytes }];
  for (const candidate of candidates) {
    const entry = parseProcNetTcp(await read(candidate.table)).find(
      (e) =>
        e.localPort === remotePort &&
        e.remotePort === localPort &&
        e.localAddress.equals(candidate.peer) &&
        e.remoteAddress.equals(candidate.ours),
    );
    if (entry) return entry.state === TCP_ESTABLISHED && entry.inode !== 0 ? entry.uid : undefined;
  }
  return undefined;
}

/** Accepts a connection only when its peer socket belongs to `uid` (default: the agent's own). */
export function createPeerUidCheck(options: { read?: ProcNetReader; uid?: number } = {}): PeerCheck {
  const uid = options.uid ?? process.getuid?.();
  const read = options.read ?? readProcNet;
  if (uid === undefined) throw new Error('peer-uid: process.getuid() is not available on this platform');
  return async (socket) => {
    try {
      return (await peerUid(socket, read)) === uid;
    } catch {
      return false;
    }
  };
}
