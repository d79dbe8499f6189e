// A session with the practitioner's CPS (CPS3 or CPS4), in the spirit of yubikit's PivSession: one
// object per card insertion, every method one card operation. The card's PKCS#15 files and its
// certificates are read once and kept (they do not change while the card stays in the reader);
// every operation re-selects the application and re-sets the security environment it needs,
// because another PC/SC application may use the card between two of ours.
//
// Secrets: PIN and PUK values are checked, turned into the block the AODF describes, sent, and the
// block is zeroed as soon as the exchange is over; nothing here logs or keeps them.
import { createHash, verify as verifySignature, X509Certificate, type KeyObject } from 'node:crypto';
import type { ResponseApdu } from '../iso7816/apdu.js';
import type { CardChannel } from '../transport/card-channel.js';
import { cardFamilyFromAtr } from './atr.js';
import { authenticationSignedData, checkChallenge, checkOrigin, AUTH_TOKEN_FORMAT, type AuthenticationToken } from './auth-token.js';
import { bytesEqual, parseNodes, text, toHex } from './ber.js';
import { CardIo, concat, INS, SW_SUCCESS, type Command } from './card-io.js';
import { identityFromCertificate, rsaModulusBytes } from './certificate-identity.js';
import { CPS3, CPS3_ALG, CPS4, CPS4_ALG, CPS4_DEFAULT_SIGNATURE_KEY, CPS_PKCS15_AID, FALLBACK_PUK, type CpsFamily, type CpsProfile } from './cps-profile.js';
import {
  cardDataError,
  CardError,
  cardStatusError,
  decryptFailed,
  invalidParams,
  pinBlocked,
  pinIncorrect,
  pinRequired,
  unsupportedAlgorithm,
  unsupportedCard,
  type CardErrorMessages,
  type SecretKind,
} from './errors.js';
import { buildPinBlock, checkPinValue } from './pin-block.js';
import { removePkcs1Type2Padding, pkcs1Type1Block, sha256DigestInfo, SHA256_LENGTH } from './pkcs1.js';
import {
  ALGORITHM_OPERATION,
  findAlgRef,
  KEY_USAGE,
  MECHANISM,
  parseAodf,
  parseCdf,
  parseDodf,
  parseEfDir,
  parseOdf,
  parsePrkdf,
  parseTokenInfo,
  PIN_FLAG,
  type AuthObjectInfo,
  type CertificateInfo,
  type DataObjectInfo,
  type Odf,
  type Pkcs15Path,
  type PinAttributes,
  type PrivateKeyInfo,
  type TokenInfo,
} from './pkcs15.js';

export interface CpsCertificates {
  /** DER of the authentication certificate (key for cps.authenticate and cps.decrypt). */
  readonly authentication: Uint8Array;
  /** DER of the signature (non-repudiation) certificate. */
  readonly signature: Uint8Array;
}

export interface CpsIdentity {
  readonly family: CpsFamily;
  /** Card serial (EF.SN.ICC, as the TokenInfo label `CPS3v3-<serial>` shows it). */
  readonly serial: string;
  readonly nationalId: string;
  readonly idType: 'RPPS' | 'ADELI';
  readonly surname: string;
  readonly givenName: string;
  readonly professionCode?: string;
  readonly professionLabel: string;
  readonly specialtyCode?: string;
  /** ISO 8601 (UTC) end of validity of the authentication certificate. */
  readonly notAfter: string;
}

export interface CpsActivity {
  /** nn of `CPS_ACTIVITY_nn_PS`. */
  readonly index: number;
  readonly structureId: string;
  readonly structureName: string;
  readonly sector: string;
  readonly role: string;
}

export interface PinStatus {
  readonly triesRemaining: number;
  readonly maxTries: number;
  readonly blocked: boolean;
  /** The card holds a verified state for the PIN (whoever verified it). */
  readonly verified: boolean;
}

export interface SignOptions {
  /** PKCS#1 v1.5 (RS256, default) or PSS with a 32-byte salt (PS256, CPS4 only). */
  readonly padding?: 'PKCS1' | 'PSS';
}

export interface LogoutResult {
  /** True when the card kept the verified state: only a card reset ends it. */
  readonly resetRequired: boolean;
}

/** The card answered 69 85 on the CPS4: the applet is no longer selected on channel 1. */
class SelectionLost extends Error {}

const OP = {
  files: { fr: 'Lecture de la carte', en: 'Reading the card' },
  select: { fr: "Sélection de l'application de la carte", en: 'Selecting the card application' },
  verify: { fr: 'Vérification du code porteur', en: 'PIN verification' },
  change: { fr: 'Changement du code porteur', en: 'PIN change' },
  unblock: { fr: 'Déblocage du code porteur', en: 'PIN unblock' },
  logout: { fr: 'Fin de session', en: 'Logout' },
  sign: { fr: 'Signature', en: 'Signature' },
  authenticate: { fr: 'Authentification', en: 'Authentication' },
  mse: { fr: "Préparation de l'environnement de sécurité", en: 'Setting the security environment' },
  decrypt: { fr: 'Déchiffrement', en: 'Decryption' },
} as const satisfies Record<string, CardErrorMessages>;

const ACTIVITY_LABEL = /^CPS_ACTIVITY_([0-9]{2})_PS$/;
const SW_CONDITIONS_NOT_SATISFIED = 0x6985;
const EF_DIR_PATH = Uint8Array.of(0x3f, 0x00, 0x2f, 0x00);
const EF_SN_ICC_PATH = Uint8Array.of(0x3f, 0x00, 0xd0, 0x03);
const ODF_FID = Uint8Array.of(0x50, 0x31);
const TOKEN_INFO_FID = Uint8Array.of(0x50, 0x32);
/** `80 25 00 00 01`: the ANS issuer prefix of the card number in EF.SN.ICC. */
const ANS_ISSUER = Uint8Array.of(0x80, 0x25, 0x00, 0x00, 0x01);

interface Cache {
  aid?: Uint8Array;
  odf?: Odf;
  tokenInfo?: TokenInfo;
  prkdf?: PrivateKeyInfo[];
  cdf?: CertificateInfo[];
  aodf?: AuthObjectInfo[];
  dodf?: DataObjectInfo[];
  certificates?: CpsCertificates;
  serial?: string;
}

export class CpsSession {
  readonly family: CpsFamily;
  private readonly io: CardIo;
  private readonly cache: Cache = {};
  /** Within the current operation: whether the PKCS#15 application DF is the current DF. */
  private inApplication = false;
  private authPublicKey: KeyObject | undefined;

  private constructor(
    channel: CardChannel,
    private readonly profile: CpsProfile,
  ) {
    this.family = profile.family;
    this.io = new CardIo(channel, profile.cla);
  }

  /**
   * A session for the CPS in `channel`. Sends nothing: files are read when first needed.
   * @throws CardError UNSUPPORTED_CARD when the ATR is not a CPS3's or a CPS4's.
   */
  static async open(channel: CardChannel): Promise<CpsSession> {
    const family = cardFamilyFromAtr(channel.atr);
    if (family === 'CPS3') return new CpsSession(channel, CPS3);
    if (family === 'CPS4') return new CpsSession(channel, CPS4);
    throw unsupportedCard(family);
  }

  // ---- certificates and identity ------------------------------------------------------------

  /** Both certificates (DER), read once per session: later calls send no APDU. */
  async getCertificates(): Promise<CpsCertificates> {
    const certificates =
      this.cache.certificates ??
      (await this.run(async () => {
        await this.begin();
        return this.getCertificatesWithin();
      }));
    return { authentication: certificates.authentication.slice(), signature: certificates.signature.slice() };
  }

  /** The practitioner as the authentication certificate names them, and the card serial. No PIN. */
  async getIdentity(): Promise<CpsIdentity> {
    const { authentication } = await this.getCertificates();
    const identity = identityFromCertificate(authentication);
    const serial = await this.getSerial();
    return { family: this.family, serial, ...identity };
  }

  // ---- PIN -------------------------------------------------------------------------------------

  /** The cardholder PIN's counter, from an empty VERIFY (sends no PIN). */
  async pinStatus(): Promise<PinStatus> {
    return this.run(async () => {
      await this.begin();
      const pin = await this.userPin();
      const r = await this.send({ ins: INS.VERIFY, p1: 0x00, p2: pin.pin.pinReference });
      const maxTries = this.profile.pinMaxTries;
      if (r.sw === SW_SUCCESS) return { triesRemaining: maxTries, maxTries, blocked: false, verified: true };
      if ((r.sw & 0xfff0) === 0x63c0) {
        const tries = r.sw & 0x0f;
        return { triesRemaining: tries, maxTries: Math.max(maxTries, tries), blocked: tries === 0, verified: false };
      }
      if (r.sw === 0x6983) return { triesRemaining: 0, maxTries, blocked: true, verified: false };
      throw cardStatusError(OP.verify, r.sw);
    });
  }

  /**
   * Verifies the cardholder PIN. The value is checked against the AODF (digits, length) before
   * anything is sent.
   * @throws CardError INVALID_PARAMS, PIN_INCORRECT (with triesRemaining), PIN_BLOCKED.
   */
  async verifyPin(pin: string): Promise<void> {
    const { pin: attrs } = await this.pinObjects();
    checkPinValue(pin, attrs, 'PIN');
    await this.run(async () => {
      await this.begin();
      await this.presentSecret(INS.VERIFY, 0x00, attrs.pinReference, [[pin, attrs]], 'PIN', OP.verify);
    });
  }

  /**
   * Changes the cardholder PIN. CPS3: CHANGE REFERENCE DATA with old || new; CPS4 (as the ANS
   * Cryptolib does): VERIFY of the old PIN, then CHANGE REFERENCE DATA P1=01 with the new one.
   */
  async changePin(oldPin: string, newPin: string): Promise<void> {
    const { pin: attrs } = await this.pinObjects();
    checkPinValue(oldPin, attrs, 'PIN');
    checkPinValue(newPin, attrs, 'PIN');
    await this.run(async () => {
      await this.begin();
      if (this.family === 'CPS3') {
        await this.presentSecret(INS.CHANGE_REFERENCE_DATA, 0x00, attrs.pinReference, [[oldPin, attrs], [newPin, attrs]], 'PIN', OP.change);
      } else {
        await this.presentSecret(INS.VERIFY, 0x00, attrs.pinReference, [[oldPin, attrs]], 'PIN', OP.change);
        await this.presentSecret(INS.CHANGE_REFERENCE_DATA, 0x01, attrs.pinReference, [[newPin, attrs]], 'PIN', OP.change);
      }
    });
  }

  /**
   * Unblocks the PIN with the PUK and sets a new PIN. CPS3: RESET RETRY COUNTER P1=00 with
   * PUK || new PIN; CPS4: VERIFY of the PUK, RESET RETRY COUNTER P1=03, CHANGE REFERENCE DATA P1=01.
   * @throws CardError PIN_INCORRECT / PIN_BLOCKED about the PUK.
   */
  async unblockPin(puk: string, newPin: string): Promise<void> {
    const { pin: pinAttrs, puk: pukAttrs } = await this.pinObjects();
    checkPinValue(puk, pukAttrs, 'PUK');
    checkPinValue(newPin, pinAttrs, 'PIN');
    const ref = pinAttrs.pinReference;
    await this.run(async () => {
      await this.begin();
      if (this.family === 'CPS3') {
        await this.presentSecret(INS.RESET_RETRY_COUNTER, 0x00, ref, [[puk, pukAttrs], [newPin, pinAttrs]], 'PUK', OP.unblock);
      } else {
        await this.presentSecret(INS.VERIFY, 0x00, pukAttrs.pinReference, [[puk, pukAttrs]], 'PUK', OP.unblock);
        const r = await this.send({ ins: INS.RESET_RETRY_COUNTER, p1: 0x03, p2: ref });
        if (r.sw !== SW_SUCCESS) throw cardStatusError(OP.unblock, r.sw);
        await this.presentSecret(INS.CHANGE_REFERENCE_DATA, 0x01, ref, [[newPin, pinAttrs]], 'PIN', OP.unblock);
      }
    });
  }

  /**
   * Ends the card's verified state of the PIN with VERIFY P1=FF (IAS-ECC), then checks with an
   * empty VERIFY that it is gone. When the card does not support it, the caller must reset the
   * card (PC/SC disconnect with SCARD_RESET_CARD).
   */
  async logout(): Promise<LogoutResult> {
    return this.run(async () => {
      await this.begin();
      const ref = (await this.userPin()).pin.pinReference;
      const r = await this.send({ ins: INS.VERIFY, p1: 0xff, p2: ref });
      if (r.sw !== SW_SUCCESS) return { resetRequired: true };
      const status = await this.send({ ins: INS.VERIFY, p1: 0x00, p2: ref });
      return { resetRequired: status.sw === SW_SUCCESS };
    });
  }

  // ---- data objects --------------------------------------------------------------------------

  /** The practitioner's activities (CPS_ACTIVITY_nn_PS data objects). Needs the verified PIN. */
  async getActivities(): Promise<CpsActivity[]> {
    return this.run(async () => {
      await this.begin();
      const objects = (await this.dodf())
        .map((o) => ({ o, m: ACTIVITY_LABEL.exec(o.label ?? '') }))
        .filter((x): x is { o: DataObjectInfo; m: RegExpExecArray } => x.m !== null);
      const activities: CpsActivity[] = [];
      for (const { o, m } of objects) {
        const content = 'direct' in o.value ? o.value.direct : await this.readFile(o.value.path);
        activities.push({ index: Number(m[1]), ...parseActivity(content) });
      }
      return activities.sort((a, b) => a.index - b.index);
    });
  }

  // ---- private-key operations ----------------------------------------------------------------

  /**
   * Signs a SHA-256 hash with the signature (non-repudiation) key: PKCS#1 v1.5 (RS256) or, on a
   * CPS4, PSS with a 32-byte salt (PS256). The card builds the DigestInfo and the padding.
   * @throws CardError UNSUPPORTED_ALGORITHM (not 32 bytes; PSS on a CPS3), PIN_REQUIRED.
   */
  async signHash(hash: Uint8Array, options: SignOptions = {}): Promise<Uint8Array> {
    const padding = options.padding ?? 'PKCS1';
    if (padding !== 'PKCS1' && padding !== 'PSS') throw invalidParams('Remplissage inconnu (PKCS1 ou PSS)', 'Unknown padding (PKCS1 or PSS)');
    if (!(hash instanceof Uint8Array) || hash.length !== SHA256_LENGTH) {
      throw unsupportedAlgorithm('seul SHA-256 (32 octets) est accepté', 'only SHA-256 (32 bytes) is accepted');
    }
    if (padding === 'PSS' && this.family === 'CPS3') throw unsupportedAlgorithm('PSS sur une CPS3', 'PSS on a CPS3');
    return this.run(async () => {
      await this.begin();
      if (this.family === 'CPS3') {
        const key = await this.signatureKey();
        const alg = (await this.algRef(MECHANISM.SHA256_RSA_PKCS, ALGORITHM_OPERATION.computeSignature)) ?? CPS3_ALG.SHA256_RSA_PKCS;
        await this.mse(0x41, 0xb6, Uint8Array.of(0x84, 0x01, this.keyRef(key, 'signature'), 0x80, 0x01, alg));
      } else {
        const alg = padding === 'PSS' ? CPS4_ALG.SHA256_RSA_PSS : CPS4_ALG.SHA256_RSA_PKCS;
        await this.mse(0x81, 0xb6, Uint8Array.of(0x91, 0x02, alg, CPS4_DEFAULT_SIGNATURE_KEY));
      }
      const r = await this.send({ ins: INS.PSO, p1: 0x9e, p2: 0x9a, data: hash, le: 256 });
      return this.result(r, OP.sign);
    });
  }

  /**
   * The origin-bound authentication token (agent-protocol.md): RS256 with the authentication key
   * over SHA-256(UTF-8(origin)) || SHA-256(UTF-8(challenge)). This is the only signature the
   * authentication key makes: no method signs a caller's hash with it.
   * @throws CardError INVALID_PARAMS (origin, challenge), PIN_REQUIRED.
   */
  async authenticate(origin: string, challenge: string, appVersion: string): Promise<AuthenticationToken> {
    checkOrigin(origin);
    checkChallenge(challenge);
    if (typeof appVersion !== 'string' || appVersion.length === 0 || appVersion.length > 100) {
      throw invalidParams('Version applicative invalide', 'Invalid application version');
    }
    const { authentication: certificate } = await this.getCertificates();
    const signed = authenticationSignedData(origin, challenge);
    const digestInfo = sha256DigestInfo(createHash('sha256').update(signed).digest());
    const signature = await this.run(async () => {
      await this.begin();
      const key = await this.authenticationKey();
      if (this.family === 'CPS3') {
        const alg = (await this.algRef(MECHANISM.RSA_PKCS, ALGORITHM_OPERATION.computeSignature)) ?? CPS3_ALG.RSA_PKCS;
        await this.mse(0x41, 0xa4, Uint8Array.of(0x84, 0x01, this.keyRef(key, 'authentication'), 0x80, 0x01, alg));
        const r = await this.send({ ins: INS.INTERNAL_AUTHENTICATE, p1: 0x00, p2: 0x00, data: digestInfo, le: 256 });
        return this.result(r, OP.authenticate);
      }
      await this.mse(0x41, 0xb8, Uint8Array.of(0x83, 0x01, this.keyRef(key, 'authentication')));
      const modulusBytes = key.modulusLength !== undefined ? Math.ceil(key.modulusLength / 8) : rsaModulusBytes(certificate);
      const block = pkcs1Type1Block(digestInfo, modulusBytes);
      const r = await this.send({ ins: INS.PSO, p1: 0x80, p2: 0x86, data: block, le: 256 });
      return this.result(r, OP.authenticate);
    });
    // A card fault must not turn into a token the service would reject for an unclear reason.
    this.authPublicKey ??= new X509Certificate(certificate).publicKey;
    if (!verifySignature('sha256', signed, this.authPublicKey, signature)) {
      throw new CardError('CARD_ERROR', { fr: 'La carte a produit une signature invalide', en: 'The card produced an invalid signature' });
    }
    return {
      format: AUTH_TOKEN_FORMAT,
      algorithm: 'RS256',
      origin,
      unverifiedCertificate: Buffer.from(certificate).toString('base64'),
      signature: Buffer.from(signature).toString('base64'),
      appVersion,
    };
  }

  /**
   * Deciphers a PKCS#1 v1.5 cryptogram with the authentication key (key transport). Every failure
   * that could depend on the cryptogram is the same DECRYPT_FAILED; only a missing PIN
   * (PIN_REQUIRED, checked by the card before it deciphers) and transport errors show through.
   */
  async decrypt(ciphertext: Uint8Array): Promise<Uint8Array> {
    try {
      return await this.run(async () => {
        await this.begin();
        const key = await this.authenticationKey();
        const modulusBytes = key.modulusLength !== undefined ? Math.ceil(key.modulusLength / 8) : rsaModulusBytes((await this.getCertificatesWithin()).authentication);
        if (!(ciphertext instanceof Uint8Array) || ciphertext.length !== modulusBytes) throw decryptFailed();
        if (this.family === 'CPS3') {
          const alg = (await this.algRef(MECHANISM.RSA_PKCS, ALGORITHM_OPERATION.decipher)) ?? CPS3_ALG.RSA_PKCS_DECIPHER;
          await this.mse(0x41, 0xb8, Uint8Array.of(0x84, 0x01, this.keyRef(key, 'authentication'), 0x80, 0x01, alg));
          // 81: padding-indicator byte; 257 bytes, so the channel chains the command.
          const r = await this.send({ ins: INS.PSO, p1: 0x80, p2: 0x86, data: concat([Uint8Array.of(0x81), ciphertext]), le: 256 });
          return this.result(r, OP.decrypt);
        }
        await this.mse(0x41, 0xb8, Uint8Array.of(0x83, 0x01, this.keyRef(key, 'authentication')));
        const r = await this.send({ ins: INS.PSO, p1: 0x80, p2: 0x86, data: ciphertext, le: 256 });
        const block = this.result(r, OP.decrypt);
        const plain = removePkcs1Type2Padding(block, modulusBytes);
        block.fill(0);
        if (!plain) throw decryptFailed();
        return plain;
      });
    } catch (error) {
      if (error instanceof CardError && (error.code === 'PIN_REQUIRED' || error.code === 'DECRYPT_FAILED')) throw error;
      if (error instanceof CardError) throw decryptFailed();
      throw error; // TransportError and bugs
    }
  }

  // ---- operation plumbing --------------------------------------------------------------------

  /** Runs one operation; on a CPS4 whose applet was deselected meanwhile (69 85), once more. */
  private async run<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      if (!(error instanceof SelectionLost)) throw error;
    }
    try {
      return await body();
    } catch (error) {
      if (error instanceof SelectionLost) throw cardStatusError(OP.select, SW_CONDITIONS_NOT_SATISFIED);
      throw error;
    }
  }

  private async send(command: Command): Promise<ResponseApdu> {
    const r = await this.io.send(command);
    if (this.profile.applet && r.sw === SW_CONDITIONS_NOT_SATISFIED) throw new SelectionLost();
    return r;
  }

  /**
   * Start of every operation: the CPS4 applet, or the CPS3's PKCS#15 application (unless the
   * operation only reads files by absolute path).
   */
  private async begin(options: { application?: boolean } = {}): Promise<void> {
    this.inApplication = false;
    if (this.profile.applet) {
      const r = await this.send({ ins: INS.SELECT, p1: 0x04, p2: 0x0c, data: this.profile.applet });
      if (r.sw !== SW_SUCCESS) throw this.selectError(r.sw);
      return;
    }
    if (options.application !== false) await this.enterApplication();
  }

  /** Makes the PKCS#15 application DF current (its AID from EF.DIR, read once). */
  private async enterApplication(): Promise<void> {
    if (this.inApplication) return;
    const aid = this.cache.aid ?? (this.cache.aid = await this.findApplication());
    const r = await this.send({ ins: INS.SELECT, p1: 0x04, p2: 0x0c, data: aid });
    if (r.sw !== SW_SUCCESS) throw this.selectError(r.sw);
    this.inApplication = true;
  }

  private selectError(sw: number): CardError {
    if (sw === 0x6a82) {
      return new CardError('UNSUPPORTED_CARD', { fr: "Application CPS introuvable sur la carte", en: 'CPS application not found on the card' }, { sw });
    }
    return cardStatusError(OP.select, sw);
  }

  /** EF.DIR -> the contact IAS application (listed first or not); the known AID when there is no EF.DIR. */
  private async findApplication(): Promise<Uint8Array> {
    const r = await this.send({ ins: INS.SELECT, p1: 0x09, p2: 0x0c, data: EF_DIR_PATH });
    if (r.sw === 0x6a82) return CPS_PKCS15_AID;
    if (r.sw !== SW_SUCCESS) throw cardStatusError(OP.files, r.sw);
    const apps = parseEfDir(await this.io.readBinary({ chunk: this.profile.readChunk }, OP.files));
    const app = apps.find((a) => bytesEqual(a.aid, CPS_PKCS15_AID)) ?? apps[0];
    return app?.aid ?? CPS_PKCS15_AID;
  }

  /** Selects and reads a file named by a PKCS#15 path (relative paths are under the application). */
  private async readFile(path: Pkcs15Path, derLength = false): Promise<Uint8Array> {
    const absolute = path.path.length >= 2 && path.path[0] === 0x3f && path.path[1] === 0x00;
    if (path.aid) {
      const r = await this.send({ ins: INS.SELECT, p1: 0x04, p2: 0x0c, data: path.aid });
      if (r.sw !== SW_SUCCESS) throw cardStatusError(OP.files, r.sw);
      this.inApplication = false;
    } else if (!absolute) {
      await this.enterApplication();
    }
    if (path.path.length > 0) {
      const r = await this.send({ ins: INS.SELECT, p1: path.path.length === 2 && !absolute ? 0x02 : 0x09, p2: 0x0c, data: path.path });
      if (r.sw !== SW_SUCCESS) throw cardStatusError(OP.files, r.sw);
      // An absolute path may leave the application: the next relative access selects it again.
      if (absolute || path.path.length > 2) this.inApplication = false;
    }
    return this.io.readBinary(
      {
        chunk: this.profile.readChunk,
        ...(path.index === undefined ? {} : { offset: path.index }),
        ...(path.length === undefined ? {} : { length: path.length }),
        derLength,
      },
      OP.files,
    );
  }

  private async odf(): Promise<Odf> {
    return (this.cache.odf ??= parseOdf(await this.readFile({ path: ODF_FID })));
  }

  private async tokenInfo(): Promise<TokenInfo> {
    return (this.cache.tokenInfo ??= parseTokenInfo(await this.readFile({ path: TOKEN_INFO_FID })));
  }

  private async directory<T>(paths: (odf: Odf) => readonly Pkcs15Path[], parse: (bytes: Uint8Array) => T[]): Promise<T[]> {
    const out: T[] = [];
    for (const path of paths(await this.odf())) out.push(...parse(await this.readFile(path)));
    return out;
  }

  private async prkdf(): Promise<PrivateKeyInfo[]> {
    return (this.cache.prkdf ??= await this.directory((o) => o.privateKeys, parsePrkdf));
  }

  private async cdf(): Promise<CertificateInfo[]> {
    return (this.cache.cdf ??= await this.directory((o) => o.certificates, parseCdf));
  }

  private async aodf(): Promise<AuthObjectInfo[]> {
    return (this.cache.aodf ??= await this.directory((o) => o.authObjects, parseAodf));
  }

  private async dodf(): Promise<DataObjectInfo[]> {
    return (this.cache.dodf ??= await this.directory((o) => o.dataObjects, parseDodf));
  }

  private async algRef(mechanism: number, operation: number): Promise<number | undefined> {
    return findAlgRef(await this.tokenInfo(), mechanism, operation);
  }

  /** The non-repudiation key; by label when no key says nonRepudiation. */
  private async signatureKey(): Promise<PrivateKeyInfo> {
    const keys = await this.prkdf();
    const key = keys.find((k) => k.usage.has(KEY_USAGE.nonRepudiation)) ?? keys.find((k) => k.label === 'CPS_PRIV_SIG');
    if (!key) throw cardDataError('clé de signature absente', 'no signature key');
    return key;
  }

  /** The key that signs (INTERNAL AUTHENTICATE) and deciphers, without non-repudiation. */
  private async authenticationKey(): Promise<PrivateKeyInfo> {
    const keys = await this.prkdf();
    const key =
      keys.find((k) => !k.usage.has(KEY_USAGE.nonRepudiation) && (k.usage.has(KEY_USAGE.decrypt) || k.usage.has(KEY_USAGE.sign))) ??
      keys.find((k) => k.label === 'CPS_PRIV_AUT');
    if (!key) throw cardDataError("clé d'authentification absente", 'no authentication key');
    return key;
  }

  /** MSE key reference: the PrKDF's, with the IAS-ECC local bit (80) on a CPS3; cards.md's otherwise. */
  private keyRef(key: PrivateKeyInfo, use: 'signature' | 'authentication'): number {
    const ref = key.keyReference ?? this.profile.fallbackKeyRef[use];
    if (ref > 0xff) throw cardDataError('référence de clé invalide', 'invalid key reference');
    return this.family === 'CPS3' ? ref | 0x80 : ref;
  }

  private async mse(p1: number, p2: number, data: Uint8Array): Promise<void> {
    const r = await this.send({ ins: INS.MSE, p1, p2, data });
    if (r.sw !== SW_SUCCESS) throw cardStatusError(OP.mse, r.sw);
  }

  /** Response data of a private-key operation, or the matching error. */
  private result(r: ResponseApdu, operation: CardErrorMessages): Uint8Array {
    if (r.sw === SW_SUCCESS && r.data.length > 0) return r.data;
    if (r.sw === 0x6982) throw pinRequired();
    if (r.sw === 0x6983) throw pinBlocked('PIN');
    throw cardStatusError(operation, r.sw);
  }

  /** Certificates inside an operation that already began (no nested run/begin). */
  private async getCertificatesWithin(): Promise<CpsCertificates> {
    if (this.cache.certificates) return this.cache.certificates;
    const cdf = await this.cdf();
    const signature = await this.readCertificate(certificateFor(cdf, await this.signatureKey(), 'signature'));
    const authentication = await this.readCertificate(certificateFor(cdf, await this.authenticationKey(), 'authentication'));
    return (this.cache.certificates = { authentication, signature });
  }

  private async readCertificate(info: CertificateInfo): Promise<Uint8Array> {
    if ('direct' in info.value) return info.value.direct;
    const der = await this.readFile(info.value.path, info.value.path.length === undefined);
    if (der[0] !== 0x30) throw cardDataError('certificat illisible', 'unreadable certificate');
    return der;
  }

  /** The card serial: EF.SN.ICC (`5A` card number after the ANS prefix), else TokenInfo. */
  /** The card serial (EF.SN.ICC, else TokenInfo): a few APDUs, without reading the certificates. */
  async getSerial(): Promise<string> {
    if (this.cache.serial !== undefined) return this.cache.serial;
    const serial = await this.run(async () => {
      await this.begin({ application: false });
      let fromSn: string | undefined;
      try {
        fromSn = serialFromSnIcc(await this.readFile({ path: EF_SN_ICC_PATH }));
      } catch (error) {
        if (!(error instanceof CardError)) throw error;
      }
      if (fromSn) return fromSn;
      const info = await this.tokenInfo();
      const fromLabel = /-([0-9]{6,})$/.exec(info.label ?? '')?.[1];
      if (fromLabel) return fromLabel;
      if (info.serialNumber) return toHex(info.serialNumber);
      throw cardDataError('numéro de série absent', 'no card serial');
    });
    return (this.cache.serial = serial);
  }

  // ---- PIN plumbing --------------------------------------------------------------------------

  /** The cardholder PIN object: the AODF's PIN that is neither an unblocking nor an SO PIN. */
  private async userPin(): Promise<AuthObjectInfo> {
    const pins = await this.aodf();
    const pin = pins.find((p) => !p.pin.pinFlags.has(PIN_FLAG.unblockingPin) && !p.pin.pinFlags.has(PIN_FLAG.soPin));
    if (!pin) throw cardDataError('code porteur absent de l’AODF', 'no cardholder PIN in the AODF');
    return pin;
  }

  /**
   * The PIN and PUK attributes, from the AODF (read in an operation of its own the first time), so
   * values are checked before any APDU of the operation that presents them.
   */
  private async pinObjects(): Promise<{ pin: PinAttributes; puk: PinAttributes }> {
    if (!this.cache.aodf) {
      await this.run(async () => {
        await this.begin();
        await this.aodf();
      });
    }
    const pin = await this.userPin();
    return { pin: pin.pin, puk: await this.pukAttributes(pin) };
  }

  /** The PUK: the unblocking PIN the PIN object points to, else the AODF's only one, else cards.md's. */
  private async pukAttributes(pin: AuthObjectInfo): Promise<PinAttributes> {
    const unblocking = (await this.aodf()).filter((p) => p.pin.pinFlags.has(PIN_FLAG.unblockingPin));
    const puk = (pin.authId && unblocking.find((p) => bytesEqual(p.id, pin.authId!))) || unblocking[0];
    if (puk) return puk.pin;
    return {
      pinFlags: new Set(),
      pinType: 'ascii-numeric',
      minLength: FALLBACK_PUK.length,
      storedLength: FALLBACK_PUK.length,
      pinReference: FALLBACK_PUK.reference,
    };
  }

  /**
   * Sends `ins p1 ref` with the blocks of `secrets` concatenated, zeroes them whatever happens,
   * and maps the answer (63Cx, 6983…) to PIN errors about `kind`.
   */
  private async presentSecret(
    ins: number,
    p1: number,
    ref: number,
    secrets: readonly (readonly [string, PinAttributes])[],
    kind: SecretKind,
    operation: CardErrorMessages,
  ): Promise<void> {
    const blocks = secrets.map(([value, attrs]) => buildPinBlock(value, attrs));
    const data = concat(blocks);
    let r: ResponseApdu;
    try {
      r = await this.send({ ins, p1, p2: ref, data });
    } finally {
      data.fill(0);
      for (const b of blocks) b.fill(0);
    }
    if (r.sw === SW_SUCCESS) return;
    if ((r.sw & 0xfff0) === 0x63c0) {
      const tries = r.sw & 0x0f;
      throw tries === 0 ? pinBlocked(kind) : pinIncorrect(kind, tries);
    }
    if (r.sw === 0x6983 || r.sw === 0x6984) throw pinBlocked(kind);
    if (r.sw === 0x6982) throw pinRequired();
    throw cardStatusError(operation, r.sw);
  }
}

function certificateFor(cdf: readonly CertificateInfo[], key: PrivateKeyInfo, use: 'signature' | 'authentication'): CertificateInfo {
  const byId = cdf.find((c) => !c.authority && bytesEqual(c.id, key.id));
  const label = use === 'signature' ? 'Certificat de Signature CPS' : "Certificat d'Authentification CPS";
  const found = byId ?? cdf.find((c) => c.label === label);
  if (!found) {
    throw cardDataError(`certificat de ${use === 'signature' ? 'signature' : 'authentification'} absent`, `no ${use} certificate`);
  }
  return found;
}

/** `5A len <80 25 00 00 01> <card number, BCD>`; some cards put 2 RFU bytes first (CPS4). */
export function serialFromSnIcc(content: Uint8Array): string | undefined {
  for (const start of [0, 2]) {
    let nodes;
    try {
      nodes = parseNodes(content.subarray(start), 'EF.SN.ICC');
    } catch {
      continue;
    }
    const pan = nodes.find((n) => n.tag === 0x5a)?.value;
    if (!pan || pan.length <= ANS_ISSUER.length || !bytesEqual(pan.subarray(0, ANS_ISSUER.length), ANS_ISSUER)) continue;
    const digits = toHex(pan.subarray(ANS_ISSUER.length)).replace(/F+$/, '');
    if (/^[0-9]+$/.test(digits)) return digits;
  }
  return undefined;
}

/** The simulator's activity layout `E3 { 80 structure id, 81 name, 82 sector, 83 role }` (the real one is not public). */
export function parseActivity(content: Uint8Array): Omit<CpsActivity, 'index'> {
  const e3 = parseNodes(content, 'activité').find((n) => n.tag === 0xe3);
  if (!e3?.children) throw cardDataError("format d'activité inconnu", 'unknown activity format');
  const field = (tag: number): string => {
    const node = e3.children!.find((n) => n.tag === tag);
    return node ? text(node) : '';
  };
  return { structureId: field(0x80), structureName: field(0x81), sector: field(0x82), role: field(0x83) };
}
