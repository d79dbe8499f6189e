// What a personalised CPS card holds, independent of the CPS3 / CPS4 command set: its file tree,
// PINs and private keys. Built by cps-layout.ts from a persona and the test PKI.
import type { DedicatedFile } from '../file-system.js';
import type { CardRsaKey } from './card-key.js';
import type { CardPin } from './pin.js';

export type KeyUse = 'sign' | 'authenticate' | 'decipher';

export interface CpsKey {
  readonly reference: number;
  readonly label: string;
  readonly rsa: CardRsaKey;
  /** The PIN that must be verified before the key is used. */
  readonly pinReference: number;
  readonly uses: readonly KeyUse[];
}

export interface CpsCardModel {
  readonly mf: DedicatedFile;
  /** The IAS (PKCS#15) application DF. */
  readonly application: DedicatedFile;
  readonly pins: ReadonlyMap<number, CardPin>;
  readonly pinReference: number;
  readonly pukReference: number;
  readonly keys: ReadonlyMap<number, CpsKey>;
  /** Called whenever PIN state changes, so the owner can persist it. */
  onStateChange(): void;
}
