// What each pairing scope lets a site do, in the words the user reads before approving.
import type { Scope } from '../caller.js';

export const SCOPE_LABEL_FR: Record<Scope, string> = {
  'cps.read': 'lire la carte CPS (identité, certificats, situations) et gérer son code porteur',
  'cps.sign': 'signer des documents avec la carte CPS',
  'cps.authenticate': "s'authentifier auprès de services avec la carte CPS",
  'cps.decrypt': 'déchiffrer des messages avec la carte CPS',
  'vitale.read': 'lire la carte Vitale du patient',
};

export function describeScopesFr(scopes: readonly Scope[]): string {
  return scopes.map((s) => `${s} (${SCOPE_LABEL_FR[s]})`).join(', ');
}
