// PIN_VERIFY_STRUCTURE, reduced to what the pinpad needs to build the APDU.
// TEMPORARY local decoding until src/iso7816/part10.ts (parseVerifyPinDirect) is committed.
import type { PinBlockFormat } from './pin-block.js';

export interface VerifyPinStructure extends PinBlockFormat {
  readonly minDigits: number;
  readonly maxDigits: number;
  /** The VERIFY command template (abData). */
  readonly apdu: Uint8Array;
}

export function decodeVerifyPinStructure(bytes: Uint8Array): VerifyPinStructure {
  if (bytes.length < 19) throw new Error('PIN_VERIFY_STRUCTURE shorter than its 19-byte header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataLength = view.getUint32(15, true);
  if (bytes.length !== 19 + dataLength) throw new Error('PIN_VERIFY_STRUCTURE: ulDataLength does not match');
  return {
    formatString: bytes[2] ?? 0,
    pinBlockString: bytes[3] ?? 0,
    pinLengthFormat: bytes[4] ?? 0,
    maxDigits: bytes[5] ?? 0,
    minDigits: bytes[6] ?? 0,
    apdu: bytes.slice(19),
  };
}
