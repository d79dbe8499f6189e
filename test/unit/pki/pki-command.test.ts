import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerPkiCommand } from '../../../src/cli/commands/pki.js';
import { freshDir, parseCrl } from './helpers.js';

function program(): Command {
  const root = new Command('cardbridge').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerPkiCommand(root);
  return root;
}

async function run(args: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  try {
    await program().parseAsync(['node', 'cardbridge', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('cardbridge pki init', () => {
  it('creates the PKI, then reopens it, and says so in French with the CA subjects and files', async () => {
    const stateDir = freshDir();
    const first = await run(['pki', 'init', '--state-dir', stateDir]);
    expect(first).toContain(`PKI de test créée dans ${stateDir}/pki`);
    for (const cn of ['TEST AC IGC-SANTE RACINE', 'TEST AC IGC-SANTE FORT PERSONNES', 'TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS']) {
      expect(first).toContain(`C=FR, O=ASIP-SANTE, OU=IGC-SANTE TEST, CN=${cn}`);
    }
    expect(first).toContain(`${stateDir}/pki/ca/test-ac-igc-sante-racine.pem`);
    expect(first).toContain('http://127.0.0.1:35990/crl/test-ac-igc-sante-fort-personnes.crl');
    const second = await run(['pki', 'init', '--state-dir', stateDir]);
    expect(second).toContain('PKI de test existante ouverte');
  });

  it('prints machine-readable JSON with --json', async () => {
    const stateDir = freshDir();
    const output = JSON.parse(await run(['pki', 'init', '--state-dir', stateDir, '--json'])) as {
      created: boolean;
      stateDir: string;
      cas: { id: string; subject: string; files: Record<string, string> }[];
    };
    expect(output.created).toBe(true);
    expect(output.stateDir).toBe(stateDir);
    expect(output.cas.map((ca) => ca.id)).toEqual(['root', 'persons', 'organisations']);
    for (const ca of output.cas) {
      for (const file of Object.values(ca.files)) expect(existsSync(file), file).toBe(true);
    }
  });

  it('uses CARDBRIDGE_STATE_DIR when no --state-dir is given', async () => {
    const stateDir = freshDir();
    vi.stubEnv('CARDBRIDGE_STATE_DIR', stateDir);
    try {
      const output = JSON.parse(await run(['pki', 'init', '--json'])) as { stateDir: string };
      expect(output.stateDir).toBe(stateDir);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('fails cleanly when the state directory was made with another CRL URL', async () => {
    const stateDir = freshDir();
    await run(['pki', 'init', '--state-dir', stateDir]);
    await expect(run(['pki', 'init', '--state-dir', stateDir, '--crl-base-url', 'http://127.0.0.1:1/crl'])).rejects.toThrow(
      CommanderError,
    );
  });
});

describe('cardbridge pki serve', () => {
  it('refuses a non-loopback address', async () => {
    await expect(run(['pki', 'serve', '--state-dir', freshDir(), '--host', '0.0.0.0'])).rejects.toThrow(/boucle locale/);
    await expect(run(['pki', 'serve', '--state-dir', freshDir(), '--port', 'abc'])).rejects.toThrow(CommanderError);
  });

  it('serves CRLs until interrupted (real process)', async () => {
    const stateDir = freshDir();
    const cli = fileURLToPath(new URL('./fixtures/cli.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'pki', 'serve', '--state-dir', stateDir, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /publiés sur (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (match?.[1]) resolve(match[1]);
        });
        child.on('close', () => reject(new Error(`serve exited early: ${err}`)));
      });
      const response = await fetch(`${url}/crl/test-ac-igc-sante-fort-personnes.crl`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/pkix-crl');
      expect(parseCrl(new Uint8Array(await response.arrayBuffer())).version).toBe(1);
      expect(out).toContain('Attention'); // port 0 is not the port the certificates announce
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('Service des LCR arrêté.');
  }, 30_000);
});
