// vpcd slots shared by several suites (one pcscd per machine): a slot is held while some
// simulator keeps a TCP connection to its port. Used by test/pcscd/agent-e2e.test.ts and the
// benchmarks to wait for a free slot instead of failing.
import { readFileSync } from 'node:fs';

/** An ESTABLISHED TCP connection to or from `port` on this machine (/proc/net/tcp{,6}). */
export function vpcdSlotHeld(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '01' && (f[1]?.endsWith(hex) || f[2]?.endsWith(hex))) return true;
    }
  }
  return false;
}

/** Waits until none of `ports` is held; says so once on stderr while waiting. */
export async function waitForFreeVpcdSlots(ports: readonly number[], timeoutMs = 240_000, who = 'agent e2e'): Promise<void> {
  const end = Date.now() + timeoutMs;
  let warned = false;
  while (ports.some(vpcdSlotHeld)) {
    if (!warned) process.stderr.write(`${who}: a vpcd slot (${ports.join(', ')}) is held by another suite; waiting for it\n`);
    warned = true;
    if (Date.now() > end) throw new Error(`vpcd slots ${ports.join(', ')} still busy after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
