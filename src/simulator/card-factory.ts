// Turns a persona id into a personalised virtual card: keys and certificates from the test PKI,
// identity from the persona, and (optionally) the card's saved state (PIN tries, changed PIN).
import type { TestPki } from '../pki/test-pki.js';
import { CPS_PERSONAS, type PersonaId } from './personas.js';
import { VITALE_PERSONAS } from './vitale/personas.js';
import { createCpsCard } from './cps/create-cps-card.js';
import { Vitale2Card } from './vitale/vitale2-card.js';
import type { VirtualCard } from './virtual-card.js';

export interface PersonaCardOptions {
  readonly pki: TestPki;
  /** State exported earlier by the same persona's card (`onStateChange`), to resume from. */
  readonly savedState?: unknown;
  /** Called after every change of persistent state (PIN tries, PIN value), with a JSON-able value. */
  readonly onStateChange?: (state: unknown) => void;
}

export const PERSONA_IDS: readonly PersonaId[] = [
  ...(Object.keys(CPS_PERSONAS) as PersonaId[]),
  ...(Object.keys(VITALE_PERSONAS) as PersonaId[]),
];

export function isPersonaId(value: string): value is PersonaId {
  return (PERSONA_IDS as readonly string[]).includes(value);
}

export async function createPersonaCard(persona: PersonaId, options: PersonaCardOptions): Promise<VirtualCard> {
  if (persona.startsWith('cps:')) {
    return createCpsCard(CPS_PERSONAS[persona as keyof typeof CPS_PERSONAS], options);
  }
  return new Vitale2Card(VITALE_PERSONAS[persona as keyof typeof VITALE_PERSONAS]);
}
