// The access decision on its own (src/dmp/records/access-decision.ts): each rule of
// dmp-service.md "Patients and access" with the refusal and, beside it, the case it allows.
import { describe, expect, it } from 'vitest';
import { loadMatrix } from '../../../src/dmp/policy/index.js';
import {
  accessRequestFromHeaders,
  decideAccess,
  documentVisibility,
  type AccessInput,
  type AllowedAccess,
  type AuthorizationFacts,
  type DocumentFacts,
} from '../../../src/dmp/records/index.js';

const matrix = loadMatrix();
const NOW = Date.UTC(2025, 2, 12, 9, 30);
const DOCTOR = { kind: 'practitioner', nationalId: '899900000101', professionCode: '10' } as const;
const NURSE = { kind: 'practitioner', nationalId: '899900000103', professionCode: '60' } as const;
const PODOLOGUE = { kind: 'practitioner', nationalId: '899900000105', professionCode: '80' } as const;
const ACTIVE = { status: 'active', medecinTraitantId: null, opposesBrisDeGlace: false, opposesCentre15: false } as const;
const GRANTED: AuthorizationFacts = { status: 'granted', blocked: false, sameRightsAsMedecinTraitant: false, expiresAt: null };

function input(overrides: Partial<AccessInput> = {}): AccessInput {
  return { reader: DOCTOR, request: { mode: 'normal', reason: null }, patient: ACTIVE, authorization: GRANTED, matrix, now: NOW, ...overrides };
}

function allowed(overrides: Partial<AccessInput> = {}): AllowedAccess {
  const decision = decideAccess(input(overrides));
  if (!decision.allowed) throw new Error(`refused: ${decision.code}`);
  return decision;
}

function refusal(overrides: Partial<AccessInput>): string {
  const decision = decideAccess(input(overrides));
  return decision.allowed ? 'allowed' : decision.code;
}

const doc = (overrides: Partial<DocumentFacts> = {}): DocumentFacts => ({
  typeCode: '11488-4',
  status: 'approved',
  maskedPs: false,
  authorKind: 'practitioner',
  authorId: '899900000999',
  ...overrides,
});

describe('access decision', () => {
  it('normal reading needs a granted, unexpired authorisation', () => {
    expect(refusal({ authorization: null })).toBe('AUTHORIZATION_REQUIRED');
    expect(refusal({ authorization: { ...GRANTED, status: 'expired' } })).toBe('AUTHORIZATION_REQUIRED');
    expect(refusal({ authorization: { ...GRANTED, status: 'denied' } })).toBe('AUTHORIZATION_REQUIRED');
    expect(refusal({ authorization: { ...GRANTED, expiresAt: NOW } })).toBe('AUTHORIZATION_REQUIRED');
    expect(allowed({ authorization: { ...GRANTED, expiresAt: NOW + 1 } })).toMatchObject({ mode: 'normal', emergency: false });
    expect(allowed()).toMatchObject({ allowed: true, readerId: DOCTOR.nationalId });
  });

  it('a blocked practitioner reads nothing, whatever else holds (mode, médecin traitant, same rights)', () => {
    const blocked = { ...GRANTED, blocked: true, sameRightsAsMedecinTraitant: true };
    const mt = { ...ACTIVE, medecinTraitantId: DOCTOR.nationalId };
    expect(refusal({ authorization: blocked, patient: mt })).toBe('BLOCKED_BY_PATIENT');
    expect(refusal({ authorization: blocked, request: { mode: 'bris_de_glace', reason: 'urgence vitale' } })).toBe('BLOCKED_BY_PATIENT');
    expect(refusal({ authorization: blocked, request: { mode: 'centre_15', reason: null } })).toBe('BLOCKED_BY_PATIENT');
    // the same practitioner, unblocked
    expect(allowed({ authorization: { ...blocked, blocked: false }, patient: mt })).toMatchObject({ isMedecinTraitant: true, seesMasked: true });
  });

  it('an establishment session never reads', () => {
    expect(refusal({ reader: { kind: 'establishment' } })).toBe('ESTABLISHMENT_READ_FORBIDDEN');
    expect(refusal({ reader: { kind: 'establishment' }, request: { mode: 'centre_15', reason: null } })).toBe('ESTABLISHMENT_READ_FORBIDDEN');
    expect(allowed({ reader: DOCTOR }).allowed).toBe(true);
  });

  it('a closed DMP is not read', () => {
    expect(refusal({ patient: { ...ACTIVE, status: 'closed' } })).toBe('DMP_CLOSED');
    expect(allowed({ patient: ACTIVE }).allowed).toBe(true);
  });

  it('break-glass: no authorisation needed, but a reason, and not against the patient’s opposition', () => {
    expect(refusal({ authorization: null, request: { mode: 'bris_de_glace', reason: null } })).toBe('REASON_REQUIRED');
    expect(refusal({ authorization: null, request: { mode: 'bris_de_glace', reason: 'coma' }, patient: { ...ACTIVE, opposesBrisDeGlace: true } })).toBe(
      'BRIS_DE_GLACE_OPPOSED',
    );
    expect(allowed({ authorization: null, request: { mode: 'bris_de_glace', reason: 'coma' } })).toMatchObject({ mode: 'bris_de_glace', reason: 'coma', emergency: true });
    // an opposition to centre 15 does not stop break-glass
    expect(allowed({ authorization: null, request: { mode: 'bris_de_glace', reason: 'coma' }, patient: { ...ACTIVE, opposesCentre15: true } }).emergency).toBe(true);
  });

  it('centre 15: doctors only, no authorisation check, not against the patient’s opposition', () => {
    expect(refusal({ reader: NURSE, authorization: null, request: { mode: 'centre_15', reason: null } })).toBe('CENTRE_15_NOT_ALLOWED');
    expect(refusal({ authorization: null, request: { mode: 'centre_15', reason: null }, patient: { ...ACTIVE, opposesCentre15: true } })).toBe('CENTRE_15_OPPOSED');
    expect(allowed({ authorization: null, request: { mode: 'centre_15', reason: null } })).toMatchObject({ mode: 'centre_15', emergency: true, reason: null });
    expect(allowed({ authorization: null, request: { mode: 'centre_15', reason: null }, patient: { ...ACTIVE, opposesBrisDeGlace: true } }).emergency).toBe(true);
  });

  it('same rights as the médecin traitant count only with a granted authorisation', () => {
    const sameRights = { ...GRANTED, sameRightsAsMedecinTraitant: true };
    expect(allowed({ authorization: sameRights }).seesMasked).toBe(true);
    expect(allowed({ authorization: GRANTED }).seesMasked).toBe(false);
    expect(allowed({ authorization: { ...sameRights, status: 'expired' }, request: { mode: 'bris_de_glace', reason: 'x' } }).seesMasked).toBe(false);
  });
});

describe('document visibility', () => {
  it('the matrix: a podologue does not see discharge letters (11490-0, 34133-9), a doctor does', () => {
    const podologue = allowed({ reader: PODOLOGUE });
    expect(documentVisibility(podologue, doc({ typeCode: '11490-0' }))).toMatchObject({ visible: false, code: 'MATRIX_DENIED' });
    expect(documentVisibility(podologue, doc({ typeCode: '34133-9' }))).toMatchObject({ visible: false, code: 'MATRIX_DENIED' });
    expect(documentVisibility(podologue, doc({ typeCode: '34829-2' }))).toEqual({ visible: true });
    expect(documentVisibility(allowed(), doc({ typeCode: '11490-0' }))).toEqual({ visible: true });
  });

  it('the matrix: a nurse does not see psychiatric summaries (59259-2), a doctor does; it binds the author too', () => {
    const nurse = allowed({ reader: NURSE });
    expect(documentVisibility(nurse, doc({ typeCode: '59259-2' }))).toMatchObject({ visible: false, code: 'MATRIX_DENIED' });
    expect(documentVisibility(nurse, doc({ typeCode: '59259-2', authorId: NURSE.nationalId }))).toMatchObject({ visible: false, code: 'MATRIX_DENIED' });
    expect(documentVisibility(nurse, doc({ typeCode: '34746-8' }))).toEqual({ visible: true });
    expect(documentVisibility(allowed(), doc({ typeCode: '59259-2' }))).toEqual({ visible: true });
  });

  it('MASQUE_PS: hidden (as absent) from professionals, seen by its author, the médecin traitant and same-rights practitioners', () => {
    const masked = doc({ maskedPs: true });
    expect(documentVisibility(allowed(), masked)).toEqual({ visible: false, code: 'DOCUMENT_NOT_FOUND', reason: 'masked' });
    expect(documentVisibility(allowed(), doc({ maskedPs: true, authorId: DOCTOR.nationalId }))).toEqual({ visible: true });
    expect(documentVisibility(allowed({ patient: { ...ACTIVE, medecinTraitantId: DOCTOR.nationalId } }), masked)).toEqual({ visible: true });
    expect(documentVisibility(allowed({ authorization: { ...GRANTED, sameRightsAsMedecinTraitant: true } }), masked)).toEqual({ visible: true });
    // break-glass does not lift masking
    expect(documentVisibility(allowed({ authorization: null, request: { mode: 'bris_de_glace', reason: 'coma' } }), masked)).toMatchObject({ visible: false });
    // an establishment author with the same id is not the practitioner author
    expect(documentVisibility(allowed(), doc({ maskedPs: true, authorKind: 'establishment', authorId: DOCTOR.nationalId }))).toMatchObject({ visible: false });
  });

  it('a masked document the reader may not see is hidden before the matrix speaks (no MATRIX_DENIED leak)', () => {
    expect(documentVisibility(allowed({ reader: PODOLOGUE }), doc({ typeCode: '11490-0', maskedPs: true }))).toMatchObject({ code: 'DOCUMENT_NOT_FOUND' });
  });

  it('deleted documents are seen by nobody, author included', () => {
    expect(documentVisibility(allowed(), doc({ status: 'deleted', authorId: DOCTOR.nationalId }))).toMatchObject({ visible: false, code: 'DOCUMENT_NOT_FOUND' });
    expect(documentVisibility(allowed(), doc({ status: 'archived' }))).toEqual({ visible: true });
  });
});

describe('access request headers', () => {
  it('reads the mode and the reason (trimmed, percent-decoded UTF-8, control characters dropped), refuses unknown modes', () => {
    expect(accessRequestFromHeaders({})).toEqual({ mode: 'normal', reason: null });
    expect(accessRequestFromHeaders({ 'x-access-mode': 'bris_de_glace', 'x-access-reason': '   ' })).toEqual({ mode: 'bris_de_glace', reason: null });
    expect(accessRequestFromHeaders({ 'x-access-mode': 'bris_de_glace', 'x-access-reason': encodeURIComponent('Arrêt cardiaque – aux urgences') })).toEqual({
      mode: 'bris_de_glace',
      reason: 'Arrêt cardiaque – aux urgences',
    });
    expect(accessRequestFromHeaders({ 'x-access-mode': 'centre_15', 'x-access-reason': 'a\u0000b' }).reason).toBe('a b');
    expect(accessRequestFromHeaders({ 'x-access-reason': 'x'.repeat(2000) }).reason).toHaveLength(500);
    expect(() => accessRequestFromHeaders({ 'x-access-mode': 'admin' })).toThrow(expect.objectContaining({ code: 'ACCESS_MODE_INVALID' }));
  });
});
