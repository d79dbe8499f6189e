// A CPS persona made into a virtual card: credentials from the test PKI (revoked or expired per
// the persona), the persona's saved PIN state if any, and the CPS3 or CPS4 command set.
import type { PractitionerCredentials, TestPki } from '../../pki/test-pki.js';
import type { PersonaCardOptions } from '../card-factory.js';
import type { CpsPersona } from '../personas.js';
import type { VirtualCard } from '../virtual-card.js';
import { buildCpsModel, CPS3_PROFILE, CPS4_PROFILE, issuedState, type CpsCardState } from './cps-layout.js';
import { Cps3Card } from './cps3-card.js';
import { Cps4Card } from './cps4-card.js';

/** The persona's certificates and keys (issued once per PKI state directory, then reused). */
export function personaCredentials(pki: TestPki, persona: CpsPersona): Promise<PractitionerCredentials> {
  return pki.issuePractitioner(
    persona.id,
    {
      rpps: persona.rpps,
      surname: persona.surname,
      givenName: persona.givenName,
      professionCode: persona.professionCode,
      professionLabel: persona.professionLabel,
      ...(persona.specialtyCode ? { specialtyCode: persona.specialtyCode } : {}),
      structureId: persona.structureId,
      structureName: persona.structureName,
    },
    { expired: persona.certificates === 'expired' },
  );
}

export async function createCpsCard(persona: CpsPersona, options: PersonaCardOptions): Promise<VirtualCard> {
  const credentials = await personaCredentials(options.pki, persona);
  if (persona.certificates === 'revoked') {
    for (const cert of [credentials.authentication, credentials.signature]) {
      if (!options.pki.isRevoked(cert.serialHex)) await options.pki.revoke(cert.serialHex, 'persons');
    }
  }
  const state: CpsCardState = isCpsState(options.savedState) ? structuredClone(options.savedState) : issuedState(persona);
  const cps4 = persona.family === 'CPS4';
  const model = buildCpsModel(cps4 ? CPS4_PROFILE : CPS3_PROFILE, persona, credentials, state, () => options.onStateChange?.(structuredClone(state)));
  return cps4 ? new Cps4Card(model) : new Cps3Card(model);
}

function isCpsState(value: unknown): value is CpsCardState {
  const v = value as CpsCardState | undefined;
  return (
    typeof v === 'object' && v !== null &&
    typeof v.pin?.value === 'string' && Number.isInteger(v.pin?.triesLeft) &&
    typeof v.puk?.value === 'string' && Number.isInteger(v.puk?.triesLeft)
  );
}
