// The personas of simulator.md: fixed identities (names, RPPS, NIR), keys generated on demand by
// the test PKI. Test RPPS numbers start with 99 (cards.md). Specialty codes follow the TRE_R38
// naming (SM..); `SM43` stands for occupational medicine in this project's test data.

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

export interface CpsPersona {
  readonly id: CpsPersonaId;
  readonly family: 'CPS3' | 'CPS4';
  readonly rpps: string;
  readonly surname: string;
  readonly givenName: string;
  readonly professionCode: string;
  readonly professionLabel: string;
  readonly specialtyCode?: string;
  readonly structureId: string;
  readonly structureName: string;
  /** 10-digit card serial, also in the TokenInfo label `CPS3v3-<serial>`. */
  readonly cardSerial: string;
  readonly pin: string;
  readonly puk: string;
  readonly pinBlocked?: boolean;
  readonly certificates?: 'revoked' | 'expired';
  /** Activities (CPS_ACTIVITY_xx_PS): where and as what the practitioner works. */
  readonly activities: readonly { structureId: string; structureName: string; sector: string; role: string }[];
}

const cabinet = (id: string, name: string) => [{ structureId: id, structureName: name, sector: 'SA07', role: 'FON-01' }];

const doctor = (id: CpsPersonaId, rpps: string, surname: string, givenName: string, serial: string, extra: Partial<CpsPersona> = {}): CpsPersona => ({
  id,
  family: 'CPS3',
  rpps,
  surname,
  givenName,
  professionCode: '10',
  professionLabel: 'Médecin',
  specialtyCode: 'SM54',
  structureId: '499900001000001',
  structureName: `CABINET DU DR ${surname}`,
  cardSerial: serial,
  pin: '1234',
  puk: '12345678',
  activities: cabinet('499900001000001', `CABINET DU DR ${surname}`),
  ...extra,
});

export const CPS_PERSONAS: Readonly<Record<CpsPersonaId, CpsPersona>> = {
  'cps:medecin': doctor('cps:medecin', '99900000101', 'MARTIN', 'SOPHIE', '2500000101'),
  'cps:medecin-cps4': doctor('cps:medecin-cps4', '99900000102', 'DURAND', 'PIERRE', '2500000102', { family: 'CPS4' }),
  'cps:infirmier': {
    ...doctor('cps:infirmier', '99900000103', 'PETIT', 'CLAIRE', '2500000103'),
    professionCode: '60',
    professionLabel: 'Infirmier',
    specialtyCode: undefined,
    structureName: 'CABINET INFIRMIER PETIT',
    activities: cabinet('499900001000003', 'CABINET INFIRMIER PETIT'),
  },
  'cps:pharmacien': {
    ...doctor('cps:pharmacien', '99900000104', 'LEROY', 'THOMAS', '2500000104'),
    professionCode: '21',
    professionLabel: 'Pharmacien',
    specialtyCode: undefined,
    structureName: 'PHARMACIE LEROY',
    activities: cabinet('499900001000004', 'PHARMACIE LEROY'),
  },
  'cps:podologue': {
    ...doctor('cps:podologue', '99900000105', 'MOREAU', 'JULIE', '2500000105'),
    professionCode: '80',
    professionLabel: 'Pédicure-podologue',
    specialtyCode: undefined,
    structureName: 'CABINET DE PODOLOGIE MOREAU',
    activities: cabinet('499900001000005', 'CABINET DE PODOLOGIE MOREAU'),
  },
  'cps:medecin-travail': doctor('cps:medecin-travail', '99900000106', 'BERNARD', 'LUC', '2500000106', {
    specialtyCode: 'SM43',
    structureName: 'SERVICE DE SANTE AU TRAVAIL BERNARD',
    activities: [{ structureId: '499900001000006', structureName: 'SERVICE DE SANTE AU TRAVAIL', sector: 'SA33', role: 'FON-01' }],
  }),
  'cps:revoked': doctor('cps:revoked', '99900000107', 'ROUX', 'MARC', '2500000107', { certificates: 'revoked' }),
  'cps:expired': doctor('cps:expired', '99900000108', 'FOURNIER', 'ANNE', '2500000108', { certificates: 'expired' }),
  'cps:blocked': doctor('cps:blocked', '99900000109', 'GIRARD', 'PAUL', '2500000109', { pinBlocked: true }),
};
