// The pkijs crypto engine backed by Node's WebCrypto. Passed explicitly to pkijs calls so the
// PKI does not depend on (or fight over) pkijs's global engine; installPkijsEngine() is there
// for code that relies on the global one.
import { webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';

export const pkiCryptoEngine: pkijs.CryptoEngine = new pkijs.CryptoEngine({
  name: 'node',
  crypto: webcrypto as unknown as Crypto,
});

let installed = false;

/** Makes Node's WebCrypto pkijs's global engine (idempotent). */
export function installPkijsEngine(): void {
  if (installed) return;
  pkijs.setEngine('node', pkiCryptoEngine);
  installed = true;
}
