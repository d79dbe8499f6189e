// Every CPS persona of simulator.md becomes a working card whose certificates say what the
// persona is for: profession codes, occupational medicine, revoked, expired, blocked PIN.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromHex } from '../../../../src/iso7816/hex.js';
import { readProfessionExtension } from '../../../../src/pki/profession-extension.js';
import { TestPki } from '../../../../src/pki/test-pki.js';
import { createPersonaCard, PERSONA_IDS } from '../../../../src/simulator/card-factory.js';
import { personaCredentials } from '../../../../src/simulator/cps/create-cps-card.js';
import { CPS_PERSONAS, type CpsPersonaId } from '../../../../src/simulator/personas.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await TestPki.open(mkdtempSync(join(tmpdir(), 'cb-personas-')));
});

const pinStatus = (card: { family: string; transmit(b: Uint8Array): Uint8Array }) => {
  if (card.family === 'CPS4') card.transmit(fromHex('01 A4 04 0C 08 80 25 00 00 01 FF 01 00'));
  const r = card.transmit(fromHex(card.family === 'CPS4' ? '01 20 00 01' : '00 20 00 01'));
  return (r[0]! << 8) | r[1]!;
};

describe('CPS personas', () => {
  it('lists the thirteen personas of simulator.md', () => {
    expect([...PERSONA_IDS].sort()).toEqual(
      ['cps:blocked', 'cps:expired', 'cps:infirmier', 'cps:medecin', 'cps:medecin-cps4', 'cps:medecin-travail', 'cps:pharmacien', 'cps:podologue', 'cps:revoked', 'vitale:ayant-droit', 'vitale:corse', 'vitale:famille', 'vitale:lunaire'],
    );
  });

  const expected: Record<CpsPersonaId, { family: string; profession: string; specialty?: string; pin: number }> = {
    'cps:medecin': { family: 'CPS3', profession: '10', specialty: 'SM54', pin: 0x63c3 },
    'cps:medecin-cps4': { family: 'CPS4', profession: '10', specialty: 'SM54', pin: 0x63c3 },
    'cps:infirmier': { family: 'CPS3', profession: '60', pin: 0x63c3 },
    'cps:pharmacien': { family: 'CPS3', profession: '21', pin: 0x63c3 },
    'cps:podologue': { family: 'CPS3', profession: '80', pin: 0x63c3 },
    'cps:medecin-travail': { family: 'CPS3', profession: '10', specialty: 'SM43', pin: 0x63c3 },
    'cps:revoked': { family: 'CPS3', profession: '10', specialty: 'SM54', pin: 0x63c3 },
    'cps:expired': { family: 'CPS3', profession: '10', specialty: 'SM54', pin: 0x63c3 },
    'cps:blocked': { family: 'CPS3', profession: '10', specialty: 'SM54', pin: 0x6983 },
  };

  it.each(Object.keys(expected) as CpsPersonaId[])('%s: family, profession extension, CN and PIN state', async (id) => {
    const want = expected[id];
    const card = await createPersonaCard(id, { pki });
    expect(card.family).toBe(want.family);
    expect(pinStatus(card)).toBe(want.pin);
    const creds = await personaCredentials(pki, CPS_PERSONAS[id]);
    for (const der of [creds.authentication.certificateDer, creds.signature.certificateDer]) {
      const ext = readProfessionExtension(der);
      expect(ext?.professionCode).toBe(want.profession);
      expect(ext?.specialtyCode).toBe(want.specialty);
      expect(new X509Certificate(Buffer.from(der)).subject).toContain(`CN=8${CPS_PERSONAS[id].rpps}`);
    }
  });

  it('cps:revoked has both certificates in the CRL, the others none', async () => {
    await createPersonaCard('cps:revoked', { pki });
    const revoked = await personaCredentials(pki, CPS_PERSONAS['cps:revoked']);
    expect(pki.isRevoked(revoked.authentication.serialHex)).toBe(true);
    expect(pki.isRevoked(revoked.signature.serialHex)).toBe(true);
    const fine = await personaCredentials(pki, CPS_PERSONAS['cps:medecin']);
    expect(pki.isRevoked(fine.authentication.serialHex)).toBe(false);
  });

  it('cps:expired has certificates past their notAfter; cps:medecin is valid now', async () => {
    const now = Date.now();
    const expired = await personaCredentials(pki, CPS_PERSONAS['cps:expired']);
    expect(Date.parse(new X509Certificate(Buffer.from(expired.authentication.certificateDer)).validTo)).toBeLessThan(now);
    const valid = await personaCredentials(pki, CPS_PERSONAS['cps:medecin']);
    expect(Date.parse(new X509Certificate(Buffer.from(valid.authentication.certificateDer)).validTo)).toBeGreaterThan(now);
  });
});
