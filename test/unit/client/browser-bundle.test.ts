// The browser bundles (npm run build:browser): built with esbuild for the browser platform, free
// of Node-only code, and usable in a fresh JS context that has only what a page has.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as agentApi from '../../../src/client/agent-client/index.js';
import * as dmpApi from '../../../src/client/dmp-client/index.js';
import { buildBrowserBundles, nodeOnlyCode, type BundleReport } from '../../../scripts/build-browser-bundle.js';

const checker = fileURLToPath(new URL('./support/bundle-context-check.mjs', import.meta.url));

let dir: string;
let reports: BundleReport[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cardbridge-bundle-'));
  reports = await buildBrowserBundles(dir);
});

describe('browser bundles', () => {
  it('are one ES module per library (whether anything is left to import: the fresh-context test links none)', () => {
    expect(reports.map((r) => r.name)).toEqual(['agent-client', 'dmp-client']);
    for (const report of reports) {
      const source = readFileSync(report.file, 'utf8');
      expect(report.bytes).toBeGreaterThan(1000);
      const code = source.replace(/\/\*![^]*?\*\/|\/\/# sourceMappingURL=\S+/g, '').trimEnd();
      expect(/export\s*\{[^}]*\};?$/.test(code)).toBe(true);
    }
  });

  it('contain no require( and no node: import', () => {
    for (const report of reports) {
      const source = readFileSync(report.file, 'utf8');
      expect(nodeOnlyCode(source)).toBeUndefined();
      expect(source.includes('require(')).toBe(false);
      expect(/["']node:/.test(source)).toBe(false);
    }
  });

  it('the check finds Node-only code, and the build refuses a Node built-in', async () => {
    expect(nodeOnlyCode('const fs = require("fs")')).toMatch(/require/);
    expect(nodeOnlyCode('import { createHash } from "node:crypto"')).toBe('"node:crypto"');
    expect(nodeOnlyCode('import x from "crypto"')).toBeDefined();
    const entry = join(dir, 'uses-node.ts');
    writeFileSync(entry, "import { createHash } from 'node:crypto';\nexport const h = createHash('sha256');\n");
    await expect(buildBrowserBundles(join(dir, 'refused'), { entries: { 'uses-node': entry } })).rejects.toThrow(/node:crypto/);
  });

  it('load in a fresh JS context without Node globals, exposing the classes, and work there', () => {
    const run = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings', checker, dir], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(result.error).toBeUndefined();
    expect(result.absent).toBe('undefined,undefined,undefined,undefined,undefined');
    // the same public names as the library entry points
    expect(result.agentExports).toEqual(Object.keys(agentApi).sort());
    expect(result.dmpExports).toEqual(Object.keys(dmpApi).sort());
    expect(result.inContext).toEqual({
      url: 'ws://127.0.0.1:24820/v1',
      info: { version: 'ctx', protocol: 1, pcsc: 'ok', caller: 'unpaired' },
      classes: true,
      errorClass: 'CARD_ABSENT',
      dmpError: 404,
      keyExtractable: false,
      proofParts: 3,
      proofHeader: { typ: 'dpop+jwt', alg: 'ES256', jwk: expect.objectContaining({ kty: 'EC', crv: 'P-256' }) },
      cdaStart: '<?xml version="1.0" encoding="UTF-8"?>',
      loggedIn: false,
    });
  });
});
