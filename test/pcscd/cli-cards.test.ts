// The card commands of the CLI (`cards list`, `cps …`, `vitale read`) against virtual cards in the
// real pcscd + vpcd readers, run as a user would run them (a child process).
import { execFile, spawn } from 'node:child_process';
import { verify, X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeInsC } from '../../src/ins/ins-c.js';
import { TestPki } from '../../src/pki/test-pki.js';
import { createPersonaCard } from '../../src/simulator/card-factory.js';
import { VpcdLink } from '../../src/simulator/vpcd/vpcd-link.js';
import { pcscdAvailable, REPO_ROOT, requireSystem, VPCD_PORT } from '../support/system.js';

const run = promisify(execFile);
const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');

/** Runs the CLI; resolves with its output and exit code (never rejects on a non-zero exit). */
function cli(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(TSX, [MAIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, CARDBRIDGE_ALLOW_VIRTUAL_READERS: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(stdin ?? '');
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const ready = requireSystem('pcscd with vsmartcard-vpcd', pcscdAvailable(), 'scripts/start-pcscd.sh');

describe.skipIf(!ready)('cardbridge cards / cps / vitale through pcscd + vpcd', () => {
  const links: VpcdLink[] = [];
  let pki: TestPki;

  beforeAll(async () => {
    pki = await TestPki.open(mkdtempSync(join(tmpdir(), 'cb-cli-')));
    const cps = new VpcdLink({ port: VPCD_PORT });
    cps.insert(await createPersonaCard('cps:medecin', { pki }));
    const vitale = new VpcdLink({ port: VPCD_PORT + 1 });
    vitale.insert(await createPersonaCard('vitale:famille', { pki }));
    links.push(cps, vitale);
    for (let i = 0; i < 50 && !(cps.connected && vitale.connected); i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 300));
  });

  afterAll(async () => {
    await Promise.all(links.map((l) => l.close()));
  });

  it('cards list shows both cards with --allow-virtual-readers and ignores virtual readers without it', async () => {
    const listed = await cli(['cards', 'list', '--allow-virtual-readers', '--json']);
    expect(listed.code).toBe(0);
    const readers = JSON.parse(listed.stdout) as { name: string; card: { family: string } | null }[];
    expect(readers.find((r) => r.name.endsWith('00 00'))?.card?.family).toBe('CPS3');
    expect(readers.find((r) => r.name.endsWith('00 01'))?.card?.family).toBe('VITALE2');
    const hidden = await cli(['cards', 'list', '--json']);
    expect(JSON.parse(hidden.stdout)).toEqual([]);
    const info = await cli(['cps', 'info']);
    expect(info.code).toBe(1);
    expect(info.stderr).toMatch(/Aucun lecteur de carte détecté.*--allow-virtual-readers/);
  });

  it('cps info and certs read the practitioner without a PIN', async () => {
    const info = await cli(['cps', 'info', '--allow-virtual-readers']);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain('SOPHIE MARTIN — Médecin (10)');
    expect(info.stdout).toContain('RPPS 99900000101');
    const certs = await cli(['cps', 'certs', '--allow-virtual-readers', '--json']);
    const parsed = JSON.parse(certs.stdout) as { authentication: string };
    expect(new X509Certificate(Buffer.from(parsed.authentication, 'base64')).subject).toContain('CN=899900000101');
  });

  it('verify-pin counts tries, pin-status reports them, a good PIN restores them', async () => {
    const bad = await cli(['cps', 'verify-pin', '--allow-virtual-readers', '--pin-stdin'], '9999\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/essais restants : 2/);
    const status = await cli(['cps', 'pin-status', '--allow-virtual-readers', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ triesRemaining: 2, maxTries: 3, blocked: false });
    const good = await cli(['cps', 'verify-pin', '--allow-virtual-readers', '--pin-stdin'], '1234\n');
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('Code porteur correct');
  });

  it('cps sign signs a SHA-256 hash with the signature key', async () => {
    const signed = await cli(['cps', 'sign', '--allow-virtual-readers', '--pin-stdin', '--json', '--hash', '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'], '1234\n');
    expect(signed.code).toBe(0);
    const r = JSON.parse(signed.stdout) as { signature: string; certificate: string; algorithm: string };
    expect(r.algorithm).toBe('RS256');
    const cert = new X509Certificate(Buffer.from(r.certificate, 'base64'));
    expect(verify('sha256', Buffer.from('test'), cert.publicKey, Buffer.from(r.signature, 'base64'))).toBe(true);
  });

  it('vitale read lists the family with INS-C', async () => {
    const read = await cli(['vitale', 'read', '--allow-virtual-readers', '--json']);
    expect(read.code).toBe(0);
    const card = JSON.parse(read.stdout) as { beneficiaries: { givenName: string; ownNir: string; birthDateRaw: string; insC: string | null }[] };
    expect(card.beneficiaries).toHaveLength(3);
    for (const b of card.beneficiaries) expect(b.insC).toBe(computeInsC(b.givenName, b.birthDateRaw.slice(2), b.ownNir.slice(0, 13)));
    const text = await cli(['vitale', 'read', '--allow-virtual-readers']);
    expect(text.stdout).toContain('INS-C');
  });
});

describe('cardbridge ins-c', () => {
  it('prints the 22-digit INS-C and refuses a bad NIR clearly', async () => {
    const { stdout } = await run(TSX, [MAIN, 'ins-c', 'Jean', '780415', '1780475112123'], { cwd: REPO_ROOT });
    expect(stdout.trim()).toBe(computeInsC('Jean', '780415', '1780475112123'));
    expect(stdout.trim()).toMatch(/^\d{22}$/);
    const bad = await cli(['ins-c', 'Jean', '780415', '12AB']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Erreur : /);
  });
});
