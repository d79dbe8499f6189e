// Identifiers of the simulated Vitale 2 file layout. The AIDs, EF 2001/2F00/2F02 and the public
// tags follow cards.md (cardpeek's vitale_2.lua); every other value here is the simulator's own
// choice, listed in docs/simulator-vitale.md.

const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

/** `VITALE` application. */
export const AID_VITALE = Uint8Array.of(0xd2, 0x50, 0x00, 0x00, 0x02, ...ascii('VITALE'));
/** `MF_VITALE`: the MF's DF name. */
export const AID_MF_VITALE = Uint8Array.of(0xd2, 0x50, 0x00, 0x00, 0x02, ...ascii('MF_VITALE'));

export const ATR_VITALE2 = Uint8Array.of(0x3b, 0x75, 0x13, 0x00, 0x00, 0x47, 0x09, 0xea, 0x90, 0x00);

/** Application indexes written in EF POINTERS (2 bytes each). */
export const APP_INDEX_MF_VITALE = 0x0001;
export const APP_INDEX_VITALE = 0x0002;

export const FID_MF = 0x3f00;
/** Simulator choice: the file id of the VITALE application DF. */
export const FID_DF_VITALE = 0x2000;

export const FID_DIR = 0x2f00;
export const FID_PAN = 0x2f02;
export const FID_POINTERS = 0x2001;
export const FID_CARD = 0x2002;
export const FID_CERTIFICATE = 0x2003;
/** Beneficiary n (0-based) lives in EF 2004 + n, SFI 4 + n. */
export const FID_FIRST_BENEFICIARY = 0x2004;
/** Keeps EF POINTERS within its 256 bytes (14 bytes per file entry). */
export const MAX_BENEFICIARIES = 12;

export const SFI_DIR = 0x1e;
export const SFI_PAN = 0x02;
export const SFI_POINTERS = 0x01;
export const SFI_CARD = 0x02;
export const SFI_CERTIFICATE = 0x03;
export const SFI_FIRST_BENEFICIARY = 0x04;

/** Allocated EF sizes: content, then zero padding. The certificate EF spans two 256-byte chunks. */
export const EF_SIZE = {
  dir: 0x80,
  pan: 0x20,
  pointers: 0x100,
  card: 0x40,
  certificate: 0x140,
  beneficiary: 0x180,
} as const;

/** Public tags (cards.md). */
export const TAG = {
  pointers: 0xe0,
  applications: 0xa0,
  applicationEntry: 0x82,
  fileEntry: 0x80,
  beneficiary: 0x65,
  surname: 0x80,
  givenName: 0x81,
  birthDate: 0x82,
  nationality: 0x90,
  nir: 0x93,
  card: 0x66,
  validityStart: 0x80,
  cvCertificate: 0x7f21,
  caSignature: 0x5f37,
  publicKeyRemainder: 0x5f38,
} as const;

/** Simulator-specific private-class tags inside each `65` template (not a real card's layout). */
export const SIM_TAG = {
  ownNir: 0xc0,
  quality: 0xc1,
  birthRank: 0xc2,
  birthSurname: 0xc3,
  amoRegime: 0xc4,
  amoCaisse: 0xc5,
  amoCentre: 0xc6,
  amoStart: 0xc7,
  amoEnd: 0xc8,
  medecinTraitantRpps: 0xc9,
  medecinTraitantName: 0xca,
} as const;

/** 8-character names of the EFs listed in EF POINTERS. */
export const FILE_NAME = {
  card: 'CARTE   ',
  certificate: 'CERTIF  ',
  beneficiary: (index: number): string => `BENEF${(index + 1).toString().padStart(2, '0')} `,
} as const;
