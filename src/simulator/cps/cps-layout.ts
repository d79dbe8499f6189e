// The file tree and secrets of a personalised CPS3/CPS4 card: EF.DIR, EF.ATR, EF.SN.ICC, the IAS
// application DF with its PKCS#15 files, both certificates, the CPS data objects, two RSA keys,
// the PIN and the PUK. File ids inside the application are the simulator's choice (documented in
// docs/simulator.md); hosts find them through EF.DIR -> ODF like on a real card.
import { encodeTlv } from '../../iso7816/tlv.js';
import type { PractitionerCredentials } from '../../pki/test-pki.js';
import { afterPin, df, ef } from '../file-system.js';
import type { CpsPersona } from '../personas.js';
import { CardRsaKey } from './card-key.js';
import type { CpsCardModel, CpsKey } from './cps-model.js';
import { CardPin, type PinPolicy, type PinState } from './pin.js';
import { concatAll, dataObject, dirRecord, KEY_USAGE, odf, pinObject, privateRsaKey, tokenInfo, x509Certificate } from './pkcs15-files.js';

export const CPS_AID_CONTACT = Uint8Array.from([0xe8, 0x28, 0xbd, 0x08, 0x0f, 0x80, 0x25, 0x00, 0x00, 0x01, 0xff, 0x00, 0x10]);

/** File ids of the simulated layout. */
export const FID = {
  DIR: 0x2f00,
  ATR: 0x2f01,
  SN_ICC: 0xd003,
  APPLICATION: 0x0001,
  ODF: 0x5031,
  TOKEN_INFO: 0x5032,
  PRKDF: 0x7001,
  CDF: 0x7002,
  AODF: 0x7003,
  DODF: 0x7004,
  CERT_AUTHENTICATION: 0xe001,
  CERT_SIGNATURE: 0xe002,
  CPS_ID_CARD: 0xe101,
  CPS_NAME_PS: 0xe102,
  /** Activity ("situation") objects: D120…D12F, as the ANS Cryptolib reads them. */
  CPS_ACTIVITY_BASE: 0xd120,
} as const;

/** The CPS4 ChipDoc applet, selected on logical channel 1 before the PKCS#15 application. */
export const CPS4_APPLET_AID = Uint8Array.from([0x80, 0x25, 0x00, 0x00, 0x01, 0xff, 0x01, 0x00]);

/** What differs between the CPS3 and CPS4 personalisations (both carry the same PKCS#15 AID). */
export interface CpsProfile {
  readonly signatureKeyRef: number;
  readonly authenticationKeyRef: number;
  readonly tokenLabelPrefix: string;
}

export const CPS3_PROFILE: CpsProfile = { signatureKeyRef: 0x81, authenticationKeyRef: 0x82, tokenLabelPrefix: 'CPS3v3' };
/** CPS4: authentication key 20 (cards.md); the signature key reference 10 is the simulator's choice. */
export const CPS4_PROFILE: CpsProfile = { signatureKeyRef: 0x10, authenticationKeyRef: 0x20, tokenLabelPrefix: 'CPS4' };
export const PIN_REF = { PIN: 0x01, PUK: 0x02 } as const;

export const PIN_POLICY: PinPolicy = { reference: PIN_REF.PIN, maxTries: 3, minLength: 4, maxLength: 8, storedLength: 8, padChar: 0xff };
export const PUK_POLICY: PinPolicy = { reference: PIN_REF.PUK, maxTries: 10, minLength: 8, maxLength: 8, storedLength: 8, padChar: 0xff };

/** Persistent state of a CPS card: what survives a reset and moves with the card. */
export interface CpsCardState {
  pin: PinState;
  puk: PinState;
}

export function issuedState(persona: CpsPersona): CpsCardState {
  return {
    pin: { value: persona.pin, triesLeft: persona.pinBlocked ? 0 : PIN_POLICY.maxTries },
    puk: { value: persona.puk, triesLeft: PUK_POLICY.maxTries },
  };
}

const u16 = (v: number) => Uint8Array.of(v >> 8, v & 0xff);
const text = (s: string) => new TextEncoder().encode(s);
const fidPath = (...ids: number[]) => concatAll(ids.map(u16));

/** Card serial (10 digits) as 5 BCD bytes. */
export function serialBcd(serial: string): Uint8Array {
  const out = new Uint8Array(5);
  for (let i = 0; i < 5; i++) out[i] = parseInt(serial.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function buildCpsModel(profile: CpsProfile, persona: CpsPersona, credentials: PractitionerCredentials, state: CpsCardState, onStateChange: () => void): CpsCardModel {
  const appPath = fidPath(0x3f00, FID.APPLICATION);
  const authId = Uint8Array.of(PIN_REF.PIN);
  const keyIdAuth = Uint8Array.of(0x02);
  const keyIdSign = Uint8Array.of(0x01);
  const authCert = credentials.authentication.certificateDer;
  const signCert = credentials.signature.certificateDer;

  const prkdf = concatAll([
    privateRsaKey({ label: 'CPS_PRIV_AUT', id: keyIdAuth, usage: [KEY_USAGE.decrypt, KEY_USAGE.sign, KEY_USAGE.unwrap], keyReference: profile.authenticationKeyRef, authId, path: appPath, modulusLength: 2048 }),
    privateRsaKey({ label: 'CPS_PRIV_SIG', id: keyIdSign, usage: [KEY_USAGE.nonRepudiation], keyReference: profile.signatureKeyRef, authId, path: appPath, modulusLength: 2048 }),
  ]);
  const cdf = concatAll([
    x509Certificate({ label: "Certificat d'Authentification CPS", id: keyIdAuth, path: fidPath(0x3f00, FID.APPLICATION, FID.CERT_AUTHENTICATION), length: authCert.length }),
    x509Certificate({ label: 'Certificat de Signature CPS', id: keyIdSign, path: fidPath(0x3f00, FID.APPLICATION, FID.CERT_SIGNATURE), length: signCert.length }),
  ]);
  const aodf = concatAll([
    pinObject({ label: 'PIN CPS', authId, ...PIN_POLICY }),
    pinObject({ label: 'PUK CPS', authId: Uint8Array.of(PIN_REF.PUK), ...PUK_POLICY, unblockingPin: true }),
  ]);

  const dataObjects: { label: string; fid: number; content: Uint8Array }[] = [
    { label: 'CPS_ID_CARD', fid: FID.CPS_ID_CARD, content: idCardObject(persona) },
    { label: 'CPS_NAME_PS', fid: FID.CPS_NAME_PS, content: nameObject(persona) },
    ...persona.activities.map((a, i) => ({
      label: `CPS_ACTIVITY_${String(i + 1).padStart(2, '0')}_PS`,
      fid: FID.CPS_ACTIVITY_BASE + i,
      content: activityObject(a),
    })),
  ];
  const dodf = concatAll(dataObjects.map((d) => dataObject({ label: d.label, application: 'CPS', path: fidPath(0x3f00, FID.APPLICATION, d.fid), authId })));

  const application = df(
    FID.APPLICATION,
    [
      ef(FID.ODF, odf({ prkdf: fidPath(0x3f00, FID.APPLICATION, FID.PRKDF), cdf: fidPath(0x3f00, FID.APPLICATION, FID.CDF), dodf: fidPath(0x3f00, FID.APPLICATION, FID.DODF), aodf: fidPath(0x3f00, FID.APPLICATION, FID.AODF) })),
      ef(FID.TOKEN_INFO, tokenInfo({ serialNumber: serialBcd(persona.cardSerial), manufacturer: 'ASIP SANTE', label: `${profile.tokenLabelPrefix}-${persona.cardSerial}` })),
      ef(FID.PRKDF, prkdf),
      ef(FID.CDF, cdf),
      ef(FID.AODF, aodf),
      ef(FID.DODF, dodf),
      ef(FID.CERT_AUTHENTICATION, authCert),
      ef(FID.CERT_SIGNATURE, signCert),
      ...dataObjects.map((d) => ef(d.fid, d.content, { read: afterPin(PIN_REF.PIN) })),
    ],
    CPS_AID_CONTACT,
  );
  const mf = df(0x3f00, [
    ef(FID.DIR, dirRecord({ aid: CPS_AID_CONTACT, label: 'CPS', path: appPath })),
    ef(FID.ATR, efAtr()),
    ef(FID.SN_ICC, encodeTlv(0x5a, concatAll([Uint8Array.of(0x80, 0x25, 0x00, 0x00, 0x01), serialBcd(persona.cardSerial)])), { sfi: 0x1c }),
    application,
  ]);

  const keys = new Map<number, CpsKey>([
    [profile.signatureKeyRef, { reference: profile.signatureKeyRef, label: 'CPS_PRIV_SIG', rsa: new CardRsaKey(credentials.signature.privateKeyPkcs8Der), pinReference: PIN_REF.PIN, uses: ['sign'] }],
    [profile.authenticationKeyRef, { reference: profile.authenticationKeyRef, label: 'CPS_PRIV_AUT', rsa: new CardRsaKey(credentials.authentication.privateKeyPkcs8Der), pinReference: PIN_REF.PIN, uses: ['authenticate', 'decipher'] }],
  ]);
  const pins = new Map<number, CardPin>([
    [PIN_REF.PIN, new CardPin(PIN_POLICY, state.pin)],
    [PIN_REF.PUK, new CardPin(PUK_POLICY, state.puk)],
  ]);
  return { mf, application, pins, pinReference: PIN_REF.PIN, pukReference: PIN_REF.PUK, keys, onStateChange };
}

/**
 * EF.ATR/INFO: a leading 80 byte (as on real CPS3 cards), then card capabilities and the
 * maximum command/response sizes (E0 template, IAS-ECC) so hosts size their reads.
 */
function efAtr(): Uint8Array {
  return concatAll([
    Uint8Array.of(0x80),
    encodeTlv(0x43, Uint8Array.of(0xb8)),
    encodeTlv(0x47, Uint8Array.of(0x00, 0x00, 0x00)),
    // Pre-issuing data: IC manufacturer, IC type, OS version, IAS-ECC version (OpenSC needs 4 bytes).
    encodeTlv(0x46, Uint8Array.of(0x05, 0x25, 0x03, 0x10)),
    encodeTlv(0xe0, [encodeTlv(0x02, u16(0x00ff)), encodeTlv(0x02, u16(0x0100)), encodeTlv(0x02, u16(0x00ff)), encodeTlv(0x02, u16(0x0100))]),
  ]);
}

// The CPS data objects' inner layout is not public: the simulator stores simple BER-TLV
// (simulator-specific tags, listed in docs/simulator.md).
function idCardObject(p: CpsPersona): Uint8Array {
  return encodeTlv(0xe1, [encodeTlv(0x80, text(p.cardSerial)), encodeTlv(0x81, text(p.family)), encodeTlv(0x82, text('8' + p.rpps))]);
}

function nameObject(p: CpsPersona): Uint8Array {
  return encodeTlv(0xe2, [encodeTlv(0x80, text(p.surname)), encodeTlv(0x81, text(p.givenName)), encodeTlv(0x82, text(p.professionCode)), ...(p.specialtyCode ? [encodeTlv(0x83, text(p.specialtyCode))] : [])]);
}

function activityObject(a: CpsPersona['activities'][number]): Uint8Array {
  return encodeTlv(0xe3, [encodeTlv(0x80, text(a.structureId)), encodeTlv(0x81, text(a.structureName)), encodeTlv(0x82, text(a.sector)), encodeTlv(0x83, text(a.role))]);
}
