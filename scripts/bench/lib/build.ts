// The TypeScript sources transpiled file by file (esbuild, no bundling: the same modules as
// `npm run build` emits) into bench-results/.build, so that the agent's memory can be measured
// under plain `node`, as installed, without the tsx loader in the process.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT } from './paths.js';

export const BUILD_ROOT = join(REPO_ROOT, 'bench-results', '.build');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Transpiles src/, native-mocks/ and the agent fixture; returns the root of the output tree. */
export async function transpileForNode(): Promise<string> {
  rmSync(BUILD_ROOT, { recursive: true, force: true });
  const entryPoints = [
    ...tsFiles(join(REPO_ROOT, 'src')),
    ...tsFiles(join(REPO_ROOT, 'native-mocks')),
    join(REPO_ROOT, 'test', 'unit', 'agent-e2e', 'fixtures', 'agent-process.ts'),
  ];
  await build({
    entryPoints,
    outdir: BUILD_ROOT,
    outbase: REPO_ROOT,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    bundle: false,
    logLevel: 'error',
  });
  return BUILD_ROOT;
}

export const relativeToRepo = (path: string): string => relative(REPO_ROOT, path);
