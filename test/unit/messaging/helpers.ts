// Practitioners for the messaging tests: persona certificates and keys from a test PKI, and the
// persona's virtual CPS reached over APDUs (RawCardChannel + CpsSession, PIN verified) so that
// signing and deciphering go through the real card path: MSE + PSO CDS, MSE + PSO DECIPHER.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpsSession } from '../../../src/cards/cps-session.js';
import type { Practitioner, SecureMessage } from '../../../src/messaging/index.js';
import type { PractitionerCredentials, TestPki } from '../../../src/pki/test-pki.js';
import { TestPki as Pki } from '../../../src/pki/test-pki.js';
import { createPersonaCard } from '../../../src/simulator/card-factory.js';
import { personaCredentials } from '../../../src/simulator/cps/create-cps-card.js';
import { CPS_PERSONAS, type CpsPersonaId } from '../../../src/simulator/personas.js';
import { RawCardChannel } from '../../../src/transport/raw-channel.js';
import { samplePdf } from './sample-pdf.js';

export { samplePdf };

export function freshDir(prefix = 'cb-messaging-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function openPki(): Promise<TestPki> {
  return Pki.open(freshDir('cb-messaging-pki-'));
}

export interface CardHolder {
  readonly id: CpsPersonaId;
  readonly practitioner: Practitioner;
  readonly credentials: PractitionerCredentials;
  readonly session: CpsSession;
  /** Every command APDU sent to the card, as hex. */
  readonly apdus: string[];
  /** cps.sign as the agent does it: PSO COMPUTE DIGITAL SIGNATURE with the signature key. */
  readonly signHash: (hash: Uint8Array) => Promise<Uint8Array>;
  /** cps.decrypt as the agent does it: PSO DECIPHER with the authentication key. */
  readonly decryptKey: (encryptedKey: Uint8Array) => Promise<Uint8Array>;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

export async function cardHolder(pki: TestPki, id: CpsPersonaId): Promise<CardHolder> {
  const persona = CPS_PERSONAS[id];
  const credentials = await personaCredentials(pki, persona);
  const card = await createPersonaCard(id, { pki });
  const apdus: string[] = [];
  const channel = new RawCardChannel(`virtual ${id}`, card.atr, async (apdu) => {
    apdus.push(hex(apdu));
    return card.transmit(apdu);
  });
  const session = await CpsSession.open(channel);
  await session.verifyPin(persona.pin);
  return {
    id,
    practitioner: { nationalId: persona.rpps, name: `${persona.givenName} ${persona.surname}` },
    credentials,
    session,
    apdus,
    signHash: (hash) => session.signHash(hash),
    decryptKey: (encryptedKey) => session.decrypt(encryptedKey),
  };
}

export function letter(from: Practitioner, to: Practitioner[], overrides: Partial<SecureMessage> = {}): SecureMessage {
  return {
    from,
    to,
    subject: 'Compte rendu de consultation — Mme Hélène Dupré',
    date: new Date('2025-03-04T10:15:42Z'),
    body: 'Bonjour,\n\nVeuillez trouver ci-joint le compte rendu. Soins infirmiers à domicile : pansement quotidien.\n\nBien confraternellement,\nDr Martin',
    attachments: [{ filename: 'compte-rendu Dupré.pdf', mediaType: 'application/pdf', content: samplePdf() }],
    ...overrides,
  };
}

export function includes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return needle.length > 0 && Buffer.from(haystack).includes(Buffer.from(needle));
}
