// The local token and the console key: created once at first start, one line, 0600 in a 0700
// directory; a file others can read is refused rather than trusted.
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { defaultConfigDir } from '../../../src/agent/config.js';
import { startAgent } from '../../../src/agent/daemon.js';
import { CONSOLE_KEY_FILE, loadLocalToken, TOKEN_FILE } from '../../../src/agent/security/local-secrets.js';
import { secretEquals } from '../../../src/agent/security/secret-compare.js';
import { FakeCardService } from '../../support/agent/fake-card-service.js';
import { startTestAgent } from '../../support/agent/test-agent.js';

const roots: string[] = [];
function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'cardbridge-secrets-'));
  roots.push(root);
  return root;
}
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('token file', () => {
  test('created at first start: one line, mode 0600, directory 0700; the same at the next start', async () => {
    const t = await startTestAgent();
    try {
      const tokenPath = join(t.configDir, TOKEN_FILE);
      expect(statSync(tokenPath).mode & 0o777).toBe(0o600);
      expect(statSync(join(t.configDir, CONSOLE_KEY_FILE)).mode & 0o777).toBe(0o600);
      expect(statSync(t.configDir).mode & 0o777).toBe(0o700);
      const content = readFileSync(tokenPath, 'utf8');
      expect(content).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
      expect(t.token()).not.toBe(t.consoleKey());
      expect(loadLocalToken(t.configDir).matches(content.trim())).toBe(true);
      const again = await startTestAgent({ configDir: t.configDir });
      await again.close();
      expect(readFileSync(tokenPath, 'utf8')).toBe(content);
    } finally {
      await t.close();
    }
  });

  test('a token file others can read is refused: the agent does not start', async () => {
    const configDir = join(tempRoot(), 'cfg');
    mkdirSync(configDir, { mode: 0o700 });
    writeFileSync(join(configDir, TOKEN_FILE), `${'a'.repeat(43)}\n`, { mode: 0o644 });
    chmodSync(join(configDir, TOKEN_FILE), 0o644);
    await expect(startAgent({ port: 0, configDir, stateDir: join(configDir, 's'), cardService: new FakeCardService(), logDestination: join(configDir, 'l') })).rejects.toThrow(
      /lisible par d'autres/,
    );
  });

  test('an empty or short token file is refused', () => {
    const configDir = join(tempRoot(), 'cfg');
    mkdirSync(configDir, { mode: 0o700 });
    writeFileSync(join(configDir, TOKEN_FILE), 'short\n', { mode: 0o600 });
    expect(() => loadLocalToken(configDir)).toThrow(/secret valable/);
  });

  test('a config directory others can enter is tightened to 0700', () => {
    const configDir = join(tempRoot(), 'open');
    mkdirSync(configDir, { mode: 0o755 });
    chmodSync(configDir, 0o755);
    loadLocalToken(configDir);
    expect(statSync(configDir).mode & 0o777).toBe(0o700);
  });

  test('default location: $XDG_CONFIG_HOME/cardbridge, else ~/.config/cardbridge (relative XDG ignored)', () => {
    expect(defaultConfigDir({ XDG_CONFIG_HOME: '/x/cfg' }, '/home/u')).toBe('/x/cfg/cardbridge');
    expect(defaultConfigDir({}, '/home/u')).toBe('/home/u/.config/cardbridge');
    expect(defaultConfigDir({ XDG_CONFIG_HOME: 'rel' }, '/home/u')).toBe('/home/u/.config/cardbridge');
  });

  test('secret comparison', () => {
    expect(secretEquals('abc', 'abc')).toBe(true);
    expect(secretEquals('abc', 'abd')).toBe(false);
    expect(secretEquals('abc', 'abcd')).toBe(false);
    expect(secretEquals('', 'a')).toBe(false);
  });
});
