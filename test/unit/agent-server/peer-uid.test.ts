// Another user of the machine gets nothing from the agent, not even agent.info: the peer socket's
// UID (from /proc/net/tcp) must be the agent's.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { addressBytes, createPeerUidCheck, parseProcNetTcp, peerUid, readProcNet, type ProcNetReader } from '../../../src/agent/security/peer-uid.js';
import { requireSystem } from '../../support/system.js';
import { startTestAgent, type TestAgent } from '../../support/agent/test-agent.js';
import { TestClient } from '../../support/agent/ws-client.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const NOBODY = 65534;

describe('/proc/net/tcp parsing', () => {
  // 127.0.0.1:50000 -> 127.0.0.1:24820, ESTABLISHED, uid 1000 (little-endian host)
  const v4 = `${HEADER}   0: 0100007F:C350 0100007F:60F4 01 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 20 4 30 10 -1\n`;
  const peer = { remoteAddress: '127.0.0.1', remotePort: 50000, localAddress: '127.0.0.1', localPort: 24820 };

  test('an entry decodes to addresses, ports, state, uid and inode', () => {
    const [entry] = parseProcNetTcp(v4, true);
    expect(entry).toMatchObject({ localPort: 50000, remotePort: 24820, state: 1, uid: 1000, inode: 4242 });
    expect(entry?.localAddress).toEqual(Buffer.from([127, 0, 0, 1]));
    expect(parseProcNetTcp(v4, false)[0]?.localAddress).toEqual(Buffer.from([1, 0, 0, 127]));
  });

  test('the peer is found by its own end (address and port) facing ours', async () => {
    const read: ProcNetReader = async (table) => (table === 'tcp' ? v4 : '');
    expect(await peerUid(peer, read)).toBe(1000);
    expect(await peerUid({ ...peer, remotePort: 50001 }, read)).toBeUndefined();
    expect(await peerUid({ ...peer, localPort: 24821 }, read)).toBeUndefined();
  });

  test('IPv6 ::1 entries in tcp6, and IPv4 peers through their v4-mapped tcp6 entries', async () => {
    const loop6 = '00000000000000000000000001000000';
    const mapped = '0000000000000000FFFF00000100007F';
    const tcp6 = `${HEADER}   0: ${loop6}:C350 ${loop6}:60F4 01 0:0 0:0 0 1001 0 77 1\n   1: ${mapped}:C351 ${mapped}:60F4 01 0:0 0:0 0 1002 0 78 1\n`;
    const read: ProcNetReader = async (table) => (table === 'tcp6' ? tcp6 : HEADER);
    expect(await peerUid({ remoteAddress: '::1', remotePort: 50000, localAddress: '::1', localPort: 24820 }, read)).toBe(1001);
    expect(await peerUid({ ...peer, remotePort: 50001 }, read)).toBe(1002);
    expect(addressBytes('::1')).toEqual(Buffer.from('00000000000000000000000000000001', 'hex'));
  });

  test('a socket that is not ESTABLISHED, or orphaned (inode 0), belongs to nobody', async () => {
    const timeWait = v4.replace(' 01 ', ' 06 ');
    const orphan = v4.replace(' 4242 ', ' 0 ');
    expect(await peerUid(peer, async (t) => (t === 'tcp' ? timeWait : ''))).toBeUndefined();
    expect(await peerUid(peer, async (t) => (t === 'tcp' ? orphan : ''))).toBeUndefined();
  });

  test('a reader that fails means refusal, not acceptance', async () => {
    const check = createPeerUidCheck({ uid: 1000, read: async () => Promise.reject(new Error('EACCES')) });
    expect(await check(peer)).toBe(false);
  });
});

/** Connects, sends a WebSocket upgrade for /v1, and reports what came back before the socket closed. */
function rawUpgrade(port: number): Promise<{ bytes: number; text: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    socket.on('connect', () =>
      socket.write(
        `GET /v1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    socket.on('data', (d) => {
      text += d.toString('latin1');
      socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ bytes: text.length, text }));
  });
}

// Switching a child to nobody needs root (the tests' normal case); on CI its absence fails the run.
const canSwitchUser = requireSystem('root (to run a child process as nobody)', process.getuid?.() === 0, 'run the tests as root');

describe('connections from another UID', () => {
  let t: TestAgent;
  beforeAll(async () => {
    t = await startTestAgent();
  });
  afterAll(async () => {
    await t.close();
  });

  test('the real check accepts this process (same UID)', async () => {
    expect((await rawUpgrade(t.port)).text).toMatch(/^HTTP\/1\.1 101/);
    const client = await t.connect();
    expect((await client.result<{ caller: string }>('agent.info')).caller).toBe('local');
  });

  test.skipIf(!canSwitchUser)('a real process running as nobody gets nothing at all; the same program as root is answered', async () => {
    const script = `
      const net = require('node:net');
      const port = Number(process.argv[1]);
      const s = net.connect({ host: '127.0.0.1', port });
      let got = '';
      let connected = false;
      s.on('connect', () => (connected = true) && s.write('GET /v1 HTTP/1.1\\r\\nHost: 127.0.0.1:' + port + '\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n'));
      s.on('data', (d) => { got += d.toString('latin1'); if (got.includes('\\r\\n\\r\\n')) { s.write(Buffer.from([0x81, 0x80, 1, 2, 3, 4])); s.destroy(); } });
      s.on('error', (e) => { process.stdout.write(JSON.stringify({ uid: process.getuid(), connected, got, error: e.code })); process.exit(0); });
      s.on('close', () => { process.stdout.write(JSON.stringify({ uid: process.getuid(), connected, got })); process.exit(0); });
      setTimeout(() => { process.stdout.write(JSON.stringify({ uid: process.getuid(), connected, got, timeout: true })); process.exit(0); }, 3000);
    `;
    const run = (asUser: number | undefined): Promise<{ uid: number; connected: boolean; got: string }> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['-e', script, String(t.port)], {
          cwd: '/',
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
          ...(asUser === undefined ? {} : { uid: asUser, gid: asUser }),
        });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.on('error', reject);
        child.on('close', () => {
          try {
            resolve(JSON.parse(out) as { uid: number; connected: boolean; got: string });
          } catch {
            reject(new Error(`child output: ${out}`));
          }
        });
      });
    const asNobody = await run(NOBODY);
    expect(asNobody.uid).toBe(NOBODY);
    expect(asNobody.connected).toBe(true); // TCP reached the agent…
    expect(asNobody.got).toBe(''); // …which said nothing and closed

    const asRoot = await run(undefined);
    expect(asRoot.uid).toBe(0);
    expect(asRoot.got).toMatch(/^HTTP\/1\.1 101/);

    expect(t.logText()).toContain("le pair n'appartient pas à l'utilisateur de l'agent");
  });
});

describe('an agent whose user is someone else', () => {
  test('every connection is dropped before any answer, HTTP or WebSocket', async () => {
    const t = await startTestAgent({ peerCheck: createPeerUidCheck({ uid: 4242, read: readProcNet }) });
    try {
      expect(await rawUpgrade(t.port)).toEqual({ bytes: 0, text: '' });
      await expect(TestClient.connect(t.url)).rejects.toThrow();
      expect(t.card.calls).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
