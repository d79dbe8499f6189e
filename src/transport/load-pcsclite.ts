// The real `pcsclite` module, loaded on first need: it is an optionalDependency (a native addon
// that builds only where libpcsclite-dev is installed), so nothing may import it statically.
import { TransportError } from './errors.js';
import type { PcscProvider } from './pcsc-types.js';

// A variable specifier keeps TypeScript and bundlers from resolving the optional module.
const MODULE_NAME = 'pcsclite';

let loading: Promise<PcscProvider> | null = null;

function isModuleNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((err as Error).message).includes(`'${MODULE_NAME}'`);
}

/** How the module is imported; replaceable in tests to simulate a missing or broken install. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

const nativeImport: ModuleImporter = (specifier) => import(specifier);

async function load(importer: ModuleImporter): Promise<PcscProvider> {
  let mod: unknown;
  try {
    mod = await importer(MODULE_NAME);
  } catch (err) {
    if (isModuleNotFound(err)) {
      throw new TransportError(
        'PCSC_UNAVAILABLE',
        "Le module « pcsclite » n'est pas installé : installez libpcsclite-dev puis `npm install pcsclite` (ou utilisez les cartes virtuelles). " +
          'The "pcsclite" module is not installed: install libpcsclite-dev, then `npm install pcsclite` (or use the virtual cards).',
        { cause: err },
      );
    }
    throw new TransportError(
      'PCSC_UNAVAILABLE',
      `Le module « pcsclite » est installé mais ne se charge pas (module natif non compilé ou libpcsclite absente) : ${String((err as Error)?.message ?? err)}. ` +
        'The "pcsclite" module is installed but does not load (native addon not built, or libpcsclite missing): reinstall it with libpcsclite-dev present.',
      { cause: err },
    );
  }
  const factory = (mod as { default?: unknown }).default ?? mod;
  if (typeof factory !== 'function') {
    throw new TransportError(
      'PCSC_UNAVAILABLE',
      "Le module « pcsclite » chargé n'a pas l'API attendue. The loaded \"pcsclite\" module does not have the expected API.",
    );
  }
  return factory as PcscProvider;
}

/**
 * Loads the real `pcsclite` (once per process) and resolves with its factory. `importer` is for
 * tests only (its result is not cached).
 * @throws TransportError PCSC_UNAVAILABLE with a French and English explanation when the module is
 *   not installed or its native part does not load. pcscd itself is not contacted here.
 */
export function loadPcsclite(importer?: ModuleImporter): Promise<PcscProvider> {
  if (importer) return load(importer); // not cached: a test double
  loading ??= load(nativeImport).catch((err: unknown) => {
    loading = null; // a later call may succeed once the module is installed
    throw err;
  });
  return loading;
}
