// Builds the browser bundles of the client libraries: dist/browser/agent-client.js and
// dist/browser/dmp-client.js, ES modules for `<script type="module">` (the DMP service's
// practitioner page uses them), every dependency inlined. esbuild with platform=browser refuses
// to resolve a Node built-in, and the bundles are checked afterwards for any `require(` or
// `node:` import: what the browser needs stays free of Node-only code (architecture.md).
// Type declarations come from tsc (`npm run build`), not from here.
//
//   npm run build:browser            (tsx scripts/build-browser-bundle.ts [outDir])
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const BROWSER_ENTRIES = {
  'agent-client': join(root, 'src/client/agent-client/index.ts'),
  'dmp-client': join(root, 'src/client/dmp-client/index.ts'),
} as const;

export interface BundleReport {
  name: string;
  file: string;
  bytes: number;
}

/** What must never appear in a browser bundle. */
const NODE_ONLY = [/\brequire\s*\(/, /["']node:[a-z_/]+["']/, /\bfrom\s*["'](?:fs|path|crypto|http|https|net|tls|os|buffer|stream|child_process)["']/];

export function nodeOnlyCode(source: string): string | undefined {
  for (const pattern of NODE_ONLY) {
    const match = pattern.exec(source);
    if (match) return match[0];
  }
  return undefined;
}

export interface BuildOptions {
  minify?: boolean;
  /** Other entry points (tests of the build's own refusals). */
  entries?: Record<string, string>;
}

export async function buildBrowserBundles(outDir = join(root, 'dist/browser'), options: BuildOptions = {}): Promise<BundleReport[]> {
  const entries = options.entries ?? BROWSER_ENTRIES;
  await build({
    entryPoints: entries,
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
    minify: options.minify ?? true,
    sourcemap: true,
    legalComments: 'linked',
    // one file per entry: the two pages that use both load pkijs twice, which is fine for their size
    splitting: false,
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const reports: BundleReport[] = [];
  for (const name of Object.keys(entries)) {
    const file = join(outDir, `${name}.js`);
    const found = nodeOnlyCode(await readFile(file, 'utf8'));
    if (found !== undefined) throw new Error(`${file} contains Node-only code: ${found}`);
    reports.push({ name, file, bytes: (await stat(file)).size });
  }
  return reports;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const reports = await buildBrowserBundles(process.argv[2] === undefined ? undefined : resolve(process.argv[2]));
  for (const r of reports) console.log(`${r.file}  ${(r.bytes / 1024).toFixed(1)} KiB`);
}
