// The Vitale 2 personas of simulator.md. Identities are fictitious test data: NIRs are made up
// (with valid keys), names are common ones, AMO organisation codes are invented. Strings are upper
// case without accents, as Vitale cards print and store them.
import type { VitalePersonaId } from '../personas.js';

/**
 * cards.md: 0 assuré, 1 ascendant/descendant/collatéral, 2 conjoint, 3 conjoint divorcé,
 * 4 concubin, 5 conjoint séparé, 6 enfant, 7 bénéficiaire hors art. 313, 8 conjoint veuf,
 * 9 autre ayant droit.
 */
export type VitaleQualityCode = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

/** Birth rank among children born the same day to the same insured (twins): 1..6. */
export type VitaleBirthRank = 1 | 2 | 3 | 4 | 5 | 6;

/** Mandatory health-insurance (AMO) rights of a beneficiary. */
export interface VitaleAmoRights {
  /** 2 digits, e.g. `01` régime général. */
  readonly regime: string;
  /** 3 digits: the managing fund (caisse). */
  readonly caisse: string;
  /** 4 digits: the managing centre. */
  readonly centre: string;
  /** YYYYMMDD */
  readonly start: string;
  /** YYYYMMDD */
  readonly end: string;
}

export interface VitaleMedecinTraitant {
  /** 11-digit RPPS (test values start with 99). */
  readonly rpps: string;
  readonly name: string;
}

export interface VitaleBeneficiary {
  readonly surname: string;
  readonly birthSurname?: string;
  readonly givenName: string;
  /** YYYYMMDD exactly as on the card; may be lunar (day or month 00, or month > 12). */
  readonly birthDateRaw: string;
  /** As stored in tag 90 (the simulator writes the ISO 3166 alpha-3 code). */
  readonly nationality: string;
  /** 15 characters: the insured's ("ouvrant droit") NIR with its key, the same for every beneficiary. */
  readonly nir: string;
  /** 15 characters: the beneficiary's own certified NIR, or null when the card does not hold it. */
  readonly ownNir: string | null;
  readonly quality: VitaleQualityCode;
  readonly birthRank: VitaleBirthRank;
  readonly amo: VitaleAmoRights;
  readonly medecinTraitant?: VitaleMedecinTraitant;
}

export interface VitalePersona {
  readonly id: VitalePersonaId;
  /** 10 digits, written in EF PAN. */
  readonly cardSerial: string;
  /** YYYYMMDD, tag 66/80. */
  readonly validityStart: string;
  /** The insured first when present, then the other beneficiaries. */
  readonly beneficiaries: readonly VitaleBeneficiary[];
}

const rights = (caisse: string, centre: string): VitaleAmoRights => ({ regime: '01', caisse, centre, start: '20240101', end: '20271231' });

/** cps:medecin, so that a demo links the patient's card to the practitioner persona. */
const DR_MARTIN: VitaleMedecinTraitant = { rpps: '99900000101', name: 'MARTIN SOPHIE' };

const DUPONT_NIR = '178047511212393';
const SANTONI_NIR = '285062A00407867';
const BENALI_NIR = '162209935012338';
const MOREL_NIR = '175063155504285';

export const VITALE_PERSONAS: Readonly<Record<VitalePersonaId, VitalePersona>> = {
  /** Insured adult, spouse and child, each with their own NIR. */
  'vitale:famille': {
    id: 'vitale:famille',
    cardSerial: '0123456701',
    validityStart: '20230115',
    beneficiaries: [
      {
        surname: 'DUPONT',
        givenName: 'JEAN',
        birthDateRaw: '19780415',
        nationality: 'FRA',
        nir: DUPONT_NIR,
        ownNir: DUPONT_NIR,
        quality: 0,
        birthRank: 1,
        amo: rights('751', '0101'),
        medecinTraitant: DR_MARTIN,
      },
      {
        surname: 'DUPONT',
        birthSurname: 'LEFEBVRE',
        givenName: 'MARIE',
        birthDateRaw: '19800922',
        nationality: 'FRA',
        nir: DUPONT_NIR,
        ownNir: '280096912304532',
        quality: 2,
        birthRank: 1,
        amo: rights('751', '0101'),
        medecinTraitant: DR_MARTIN,
      },
      {
        surname: 'DUPONT',
        givenName: 'LUCAS',
        birthDateRaw: '20120305',
        nationality: 'FRA',
        nir: DUPONT_NIR,
        ownNir: '112033306321008',
        quality: 6,
        birthRank: 1,
        amo: rights('751', '0101'),
      },
    ],
  },
  /** Born in Corsica: 2A for the insured (Ajaccio), 2B for her son (Bastia). */
  'vitale:corse': {
    id: 'vitale:corse',
    cardSerial: '0123456702',
    validityStart: '20220601',
    beneficiaries: [
      {
        surname: 'SANTONI',
        givenName: 'PAOLA',
        birthDateRaw: '19850610',
        nationality: 'FRA',
        nir: SANTONI_NIR,
        ownNir: SANTONI_NIR,
        quality: 0,
        birthRank: 1,
        amo: rights('201', '0201'),
      },
      {
        surname: 'SANTONI',
        givenName: 'MATTEU',
        birthDateRaw: '20150921',
        nationality: 'FRA',
        nir: SANTONI_NIR,
        ownNir: '115092B03301106',
        quality: 6,
        birthRank: 1,
        amo: rights('201', '0201'),
      },
    ],
  },
  /** Born abroad with incomplete civil status: lunar dates (00 day and month; month 32). */
  'vitale:lunaire': {
    id: 'vitale:lunaire',
    cardSerial: '0123456703',
    validityStart: '20210301',
    beneficiaries: [
      {
        surname: 'BENALI',
        givenName: 'YOUSSEF',
        birthDateRaw: '19620000',
        nationality: 'MAR',
        nir: BENALI_NIR,
        ownNir: BENALI_NIR,
        quality: 0,
        birthRank: 1,
        amo: rights('931', '0301'),
      },
      {
        surname: 'BENALI',
        givenName: 'FATIMA',
        birthDateRaw: '19673205',
        nationality: 'MAR',
        nir: BENALI_NIR,
        ownNir: '267329935008768',
        quality: 2,
        birthRank: 1,
        amo: rights('931', '0301'),
      },
    ],
  },
  /** A child's own card as ayant droit: the parent's NIR in tag 93, no own NIR, so no INS-C. */
  'vitale:ayant-droit': {
    id: 'vitale:ayant-droit',
    cardSerial: '0123456704',
    validityStart: '20240902',
    beneficiaries: [
      {
        surname: 'MOREL',
        givenName: 'LEA',
        birthDateRaw: '20110614',
        nationality: 'FRA',
        nir: MOREL_NIR,
        ownNir: null,
        quality: 6,
        birthRank: 1,
        amo: rights('311', '0401'),
      },
    ],
  },
};
