// GET DATA 3F FF answers for IAS-ECC security data objects (SDO): the PIN's policy and counters
// (class 81: BF 81 <ref>) and a private key's description (class 90: BF 90 <ref>). OpenSC reads
// them before a VERIFY and before an MSE. The request is a 4D header list naming one SDO.
import { encodeTlv, findTlv, parseTlv, type TlvNode } from '../../iso7816/tlv.js';
import { Iso7816ParseError } from '../../iso7816/errors.js';
import type { CpsCardModel } from './cps-model.js';

const SDO_CLASS_PIN = 0x81;
const SDO_CLASS_RSA_PRIVATE = 0x90;

/** Returns the response data, or undefined when the SDO does not exist (6A 88). */
export function sdoResponse(model: CpsCardModel, request: Uint8Array, inScope: boolean, _isVerified: (ref: number) => boolean): Uint8Array | undefined {
  let nodes: TlvNode[];
  try {
    nodes = parseTlv(request);
  } catch (error) {
    if (error instanceof Iso7816ParseError) return undefined;
    throw error;
  }
  const header = findTlv(nodes, 0x4d);
  if (!header?.children?.[0]) return undefined;
  const wanted = header.children[0];
  const sdoClass = (wanted.tag >> 8) & 0x7f;
  const reference = wanted.tag & 0x7f;
  if ((wanted.tag >> 16) !== 0xbf || !inScope) return undefined;
  if (sdoClass === (SDO_CLASS_PIN & 0x7f)) {
    const pin = model.pins.get(reference);
    if (!pin) return undefined;
    return encodeTlv(wanted.tag, [
      encodeTlv(0xa0, [
        encodeTlv(0x9a, Uint8Array.of(pin.policy.maxTries)),
        encodeTlv(0x9b, Uint8Array.of(pin.state.triesLeft)),
      ]),
      encodeTlv(0xa1, [encodeTlv(0x8a, Uint8Array.of(0x05))]),
    ]);
  }
  if (sdoClass === (SDO_CLASS_RSA_PRIVATE & 0x7f)) {
    const key = model.keys.get(reference | 0x80);
    if (!key) return undefined;
    return encodeTlv(wanted.tag, [encodeTlv(0xa0, [encodeTlv(0x80, Uint8Array.of(key.rsa.modulusBytes >> 8 & 0xff, key.rsa.modulusBytes & 0xff))])]);
  }
  return undefined;
}
