// The test PKI as the DMP service sees it in tests: the IGC-Santé-shaped test intermediates as
// trust anchors (dmp-service.md), their CRL files, and the personas' credentials (revoked ones
// revoked, as the virtual card factory does).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestPki, type PractitionerCredentials, type PractitionerIdentity, type PractitionerIssueOptions } from '../../../src/pki/test-pki.js';
import { personaCredentials } from '../../../src/simulator/cps/create-cps-card.js';
import { CPS_PERSONAS, type CpsPersonaId } from '../../../src/simulator/personas.js';

export interface DmpTestPki {
  readonly pki: TestPki;
  /** persons + organisations intermediates (DER). */
  readonly trustAnchors: Uint8Array[];
  /** The same, as DER files (for `cardbridge dmp --trust-anchors`). */
  readonly trustAnchorFiles: string[];
  /** The CA certificates, root included (DER). */
  readonly caCertificates: Uint8Array[];
  /** The PKI's CRL files (DER), kept current by the PKI and re-read by the service when they change. */
  readonly crlFiles: string[];
  /** A persona's credentials; `cps:revoked` comes back revoked. */
  persona(id: CpsPersonaId): Promise<PractitionerCredentials>;
  /** Credentials of an ad-hoc practitioner (e.g. without the profession extension). */
  practitioner(key: string, identity: PractitionerIdentity, options?: PractitionerIssueOptions): Promise<PractitionerCredentials>;
}

export function freshTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function openDmpTestPki(stateDir = freshTempDir('cardbridge-dmp-pki-')): Promise<DmpTestPki> {
  const pki = await TestPki.open(stateDir);
  // make sure every CRL file exists and is current
  for (const ca of ['root', 'persons', 'organisations'] as const) await pki.crl(ca);
  const crlFiles = pki.describeCas().map((ca) => ca.files.crlDer);
  return {
    pki,
    trustAnchors: [pki.caCertificate('persons'), pki.caCertificate('organisations')],
    trustAnchorFiles: pki.describeCas().filter((ca) => ca.id !== 'root').map((ca) => ca.files.certificateDer),
    caCertificates: [pki.caCertificate('root'), pki.caCertificate('persons'), pki.caCertificate('organisations')],
    crlFiles,
    persona: async (id) => {
      const persona = CPS_PERSONAS[id];
      const credentials = await personaCredentials(pki, persona);
      if (persona.certificates === 'revoked') {
        for (const cert of [credentials.authentication, credentials.signature]) {
          if (!pki.isRevoked(cert.serialHex)) await pki.revoke(cert.serialHex, 'persons');
        }
      }
      return credentials;
    },
    practitioner: (key, identity, options) => pki.issuePractitioner(key, identity, options),
  };
}
