// Loading the optional `pcsclite` module: clear French/English errors when it is missing or broken.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TransportError } from '../../../src/transport/errors.js';
import { loadPcsclite } from '../../../src/transport/load-pcsclite.js';
import { REPO_ROOT } from '../../support/system.js';

function notFound(): Error {
  const err = new Error("Cannot find package 'pcsclite' imported from /app/dist/transport/load-pcsclite.js") as Error & { code: string };
  err.code = 'ERR_MODULE_NOT_FOUND';
  return err;
}

describe('loadPcsclite', () => {
  it('resolves with the module factory (default export of the CommonJS module)', async () => {
    const factory = (): unknown => ({});
    const provider = await loadPcsclite((specifier) => {
      expect(specifier).toBe('pcsclite');
      return Promise.resolve({ default: factory });
    });
    expect(provider).toBe(factory);
  });

  it('says in French and English that the module is not installed', async () => {
    const err = await loadPcsclite(() => Promise.reject(notFound())).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('PCSC_UNAVAILABLE');
    expect((err as TransportError).message).toMatch(/n'est pas installé/);
    expect((err as TransportError).message).toMatch(/is not installed/);
    expect((err as TransportError).message).toMatch(/libpcsclite-dev/);
  });

  it('tells a module that is there but does not load (native addon) from a missing one', async () => {
    const broken = new Error('Could not locate the bindings file. Tried: build/Release/pcsclite.node');
    const err = (await loadPcsclite(() => Promise.reject(broken)).catch((e: unknown) => e)) as TransportError;
    expect(err.code).toBe('PCSC_UNAVAILABLE');
    expect(err.message).toMatch(/ne se charge pas/);
    expect(err.message).toMatch(/does not load/);
    expect(err.message).toMatch(/bindings file/);
    expect(err.cause).toBe(broken);
  });

  it('refuses a module without the expected factory', async () => {
    const err = (await loadPcsclite(() => Promise.resolve({ default: 42 })).catch((e: unknown) => e)) as TransportError;
    expect(err.code).toBe('PCSC_UNAVAILABLE');
  });

  it('loads the real module when it is built here, else fails with the clear error', async () => {
    const built = existsSync(path.join(REPO_ROOT, 'node_modules', 'pcsclite', 'build', 'Release', 'pcsclite.node'));
    const result = await loadPcsclite().then(
      (f) => typeof f,
      (e: unknown) => (e instanceof TransportError ? e.code : e),
    );
    expect(result).toBe(built ? 'function' : 'PCSC_UNAVAILABLE');
    if (built) expect(await loadPcsclite()).toBe(await loadPcsclite()); // loaded once
  });
});
