// GET DATA 3F FF answers for IAS-ECC security data objects (SDO), which OpenSC's IAS-ECC driver
// reads before a VERIFY (PIN SDO, class 01: BF 81 <ref>) and before an MSE (private key SDO,
// class 10: BF 90 <ref>). The request is a header list `4D { 70 { BF cc rr L <tag> 80 } }` naming
// one SDO and the one part wanted: its data (7F41 for a PIN, 7F48 for a private key) or its
// DOCP (A0: access rules 8C, size 80, tries 9A/9B). The answer is `BF cc rr L <that part>`.
// The header list is not strict BER (80 stands for "all of it"), so it is read by hand here.
import { encodeLength, encodeTlv } from '../../iso7816/tlv.js';
import type { CpsCardModel } from './cps-model.js';

const SDO_CLASS_CHV = 0x01;
const SDO_CLASS_RSA_PRIVATE = 0x10;
const TAG_DOCP = 0xa0;
const TAG_CHV_DATA = 0x7f41;
const TAG_PRIVATE_KEY_DATA = 0x7f48;

/** SCBs: 00 always, FF never, 1n user authentication (PIN of SE n). */
const ALWAYS = 0x00;
const NEVER = 0xff;
const USER_AUTH_PUK = 0x12;
const USER_AUTH_PIN = 0x11;

interface SdoRequest {
  readonly sdoClass: number;
  readonly reference: number;
  readonly part: number;
}

/** Parses `4D L [70 L] BF cc rr L <tag> 80`; undefined when it is not that shape. */
export function parseSdoRequest(data: Uint8Array): SdoRequest | undefined {
  let i = 0;
  if (data[i++] !== 0x4d) return undefined;
  if (data[i++] !== data.length - 2) return undefined;
  if (data[i] === 0x70) i += 2;
  if (data[i] !== 0xbf || i + 5 > data.length) return undefined;
  const sdoClass = data[i + 1]! & 0x7f;
  const reference = data[i + 2]! & 0x3f;
  const length = data[i + 3]!;
  i += 4;
  if (i + length !== data.length || length < 2) return undefined;
  const twoByteTag = data[i] === 0x7f || data[i] === 0x5f;
  const part = twoByteTag ? (data[i]! << 8) | data[i + 1]! : data[i]!;
  if (i + (twoByteTag ? 2 : 1) >= data.length) return undefined;
  return { sdoClass, reference, part };
}

/** Returns the response data, or undefined when the SDO or the part does not exist (6A 88). */
export function sdoResponse(model: CpsCardModel, request: Uint8Array): Uint8Array | undefined {
  const wanted = parseSdoRequest(request);
  if (!wanted) return undefined;
  const header = Uint8Array.of(0xbf, wanted.sdoClass | 0x80, wanted.reference);
  const answer = (part: Uint8Array) => {
    const length = encodeLength(part.length);
    const out = new Uint8Array(header.length + length.length + part.length);
    out.set(header, 0);
    out.set(length, header.length);
    out.set(part, header.length + length.length);
    return out;
  };
  if (wanted.sdoClass === SDO_CLASS_CHV) {
    const pin = model.pins.get(wanted.reference);
    if (!pin) return undefined;
    if (wanted.part === TAG_CHV_DATA) {
      return answer(encodeTlv(TAG_CHV_DATA, [encodeTlv(0x80, Uint8Array.of(pin.policy.maxLength)), encodeTlv(0x81, Uint8Array.of(pin.policy.minLength))]));
    }
    if (wanted.part === TAG_DOCP) {
      const isPuk = wanted.reference === model.pukReference;
      // change, verify, reset (unblock: after the PUK), -, -, put data, get data
      const acls = Uint8Array.of(0x7f, ALWAYS, ALWAYS, isPuk ? NEVER : USER_AUTH_PUK, NEVER, NEVER, NEVER, ALWAYS);
      return answer(
        encodeTlv(TAG_DOCP, [
          encodeTlv(0xa1, [encodeTlv(0x8c, acls)]),
          encodeTlv(0x9a, Uint8Array.of(pin.policy.maxTries)),
          encodeTlv(0x9b, Uint8Array.of(pin.state.triesLeft)),
          encodeTlv(0x80, Uint8Array.of(0x00, pin.policy.storedLength)),
        ]),
      );
    }
    return undefined;
  }
  if (wanted.sdoClass === SDO_CLASS_RSA_PRIVATE) {
    const key = model.keys.get(wanted.reference | 0x80) ?? model.keys.get(wanted.reference);
    if (!key) return undefined;
    // DOCP size of a key SDO: the modulus length in bytes (OpenSC uses it as the Le of PSO CDS).
    const size = key.rsa.modulusBytes;
    if (wanted.part === TAG_PRIVATE_KEY_DATA) return answer(encodeTlv(TAG_PRIVATE_KEY_DATA, [encodeTlv(0x80, Uint8Array.of(0x00))]));
    if (wanted.part === TAG_DOCP) {
      const sign = key.uses.includes('sign') ? USER_AUTH_PIN : NEVER;
      const auth = key.uses.includes('authenticate') ? USER_AUTH_PIN : NEVER;
      const decipher = key.uses.includes('decipher') ? USER_AUTH_PIN : NEVER;
      // PSO sign, internal authenticate, PSO decipher, generate, -, put data, get data
      const acls = Uint8Array.of(0x7f, sign, auth, decipher, NEVER, NEVER, NEVER, ALWAYS);
      return answer(
        encodeTlv(TAG_DOCP, [
          encodeTlv(0xa1, [encodeTlv(0x8c, acls)]),
          encodeTlv(0x80, Uint8Array.of(size >> 8, size & 0xff)),
        ]),
      );
    }
    return undefined;
  }
  return undefined;
}
