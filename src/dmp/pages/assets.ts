// The files the pages load: their own scripts and style sheet (./assets, next to this module in
// the source tree), and the browser bundles of the client libraries (`npm run build:browser`:
// dist/browser/agent-client.js and dmp-client.js; CARDBRIDGE_BROWSER_DIR names another
// directory). A missing bundle is built once on demand when the build script and esbuild are
// there (a source checkout); otherwise the page says to run `npm run build:browser`.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The package root: the nearest directory above this module holding cardbridge's package.json. */
export function packageRoot(start = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'cardbridge') return dir;
      } catch {
        // not ours: keep climbing
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json de cardbridge introuvable au-dessus de src/dmp/pages');
    dir = parent;
  }
}

export interface PageAsset {
  readonly file: string;
  readonly type: string;
}

const JS = 'text/javascript; charset=utf-8';

/** The pages' own files, by the name they are served under (/pages/<name>). */
export const OWN_ASSETS: Readonly<Record<string, PageAsset>> = {
  'pages.css': { file: 'pages.css', type: 'text/css; charset=utf-8' },
  'commun.js': { file: 'commun.js', type: JS },
  'praticien.js': { file: 'praticien.js', type: JS },
  'portail.js': { file: 'portail.js', type: JS },
};

/** The client libraries' browser bundles. */
export const BUNDLES = ['agent-client.js', 'dmp-client.js'] as const;
export type BundleName = (typeof BUNDLES)[number];

export function ownAssetsDir(root = packageRoot()): string {
  return join(root, 'src', 'dmp', 'pages', 'assets');
}

export function bundleDir(root = packageRoot(), env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.CARDBRIDGE_BROWSER_DIR;
  return configured !== undefined && configured !== '' ? resolve(configured) : join(root, 'dist', 'browser');
}

export class BundleUnavailableError extends Error {
  override readonly name = 'BundleUnavailableError';
}

type BuildBundles = (outDir: string) => Promise<unknown>;

/** Reads the pages' files, and the bundles (building them once when they are missing). */
export class PageAssets {
  private readonly own = new Map<string, Buffer>();
  private building: Promise<void> | undefined;

  constructor(
    private readonly root = packageRoot(),
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async ownAsset(name: string): Promise<{ body: Buffer; type: string } | undefined> {
    const asset = OWN_ASSETS[name];
    if (!asset) return undefined;
    let body = this.own.get(name);
    if (!body) {
      body = await readFile(join(ownAssetsDir(this.root), asset.file));
      this.own.set(name, body);
    }
    return { body, type: asset.type };
  }

  async bundle(name: BundleName): Promise<{ body: Buffer; type: string }> {
    const dir = bundleDir(this.root, this.env);
    const file = join(dir, name);
    if (!existsSync(file)) await this.buildOnce(dir);
    try {
      // read at each request: a rebuilt bundle (npm run build:browser) is served at once
      return { body: await readFile(file), type: JS };
    } catch (error) {
      throw new BundleUnavailableError(`${name} absent de ${dir} : lancez « npm run build:browser » (${(error as NodeJS.ErrnoException).code ?? 'erreur'})`);
    }
  }

  private buildOnce(dir: string): Promise<void> {
    this.building ??= (async () => {
      const script = join(this.root, 'scripts', 'build-browser-bundle.ts');
      if (!existsSync(script)) return;
      try {
        // a .ts module: importable when running under tsx (npm run cardbridge / demo), not from a plain build
        const module = (await import(pathToFileURL(script).href)) as { buildBrowserBundles?: BuildBundles };
        await module.buildBrowserBundles?.(dir);
      } catch {
        // left to the caller: the file is still missing, the answer says what to run
      }
    })();
    return this.building;
  }
}
