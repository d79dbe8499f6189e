// The personas of simulator.md: fixed identities (names, RPPS, NIR), keys generated on demand.
// Definitions only; src/simulator/card-factory.ts turns a persona into a VirtualCard.

export type CpsPersonaId =
  | 'cps:medecin'
  | 'cps:medecin-cps4'
  | 'cps:infirmier'
  | 'cps:pharmacien'
  | 'cps:podologue'
  | 'cps:medecin-travail'
  | 'cps:revoked'
  | 'cps:expired'
  | 'cps:blocked';

export type VitalePersonaId = 'vitale:famille' | 'vitale:corse' | 'vitale:lunaire' | 'vitale:ayant-droit';

export type PersonaId = CpsPersonaId | VitalePersonaId;
