// The PIN block a VERIFY (or CHANGE / RESET RETRY COUNTER) carries, built from the PIN object's
// PKCS#15 pinAttributes (type, lengths, padding) — never from a hard-coded format: the real CPS3's
// AODF and the simulator's differ (stored length 4 without padding vs 8 padded with FF).
// Callers zero the returned block once the APDU exchange is over.
import { CardError, invalidParams, type SecretKind } from './errors.js';
import { PIN_FLAG, type PinAttributes } from './pkcs15.js';

/** Largest length any PIN attribute may claim before we refuse to believe it. */
const MAX_PIN_LENGTH = 64;

export function pinMaxLength(attrs: PinAttributes): number {
  return attrs.maxLength ?? attrs.storedLength;
}

/**
 * Checks a PIN value against the card's rules before anything is sent (a badly formed value must
 * not cost a try): numeric types take digits only; the length must be within min..max.
 * @throws CardError INVALID_PARAMS (the message never repeats the value).
 */
export function checkPinValue(value: unknown, attrs: PinAttributes, kind: SecretKind): asserts value is string {
  const name = kind === 'PIN' ? { fr: 'Le code porteur', en: 'The PIN' } : { fr: 'Le code de déblocage', en: 'The unblocking code' };
  if (typeof value !== 'string') throw invalidParams(`${name.fr} doit être une chaîne`, `${name.en} must be a string`);
  const numeric = attrs.pinType !== 'utf8';
  if (numeric && !/^[0-9]*$/.test(value)) {
    throw invalidParams(`${name.fr} ne doit contenir que des chiffres`, `${name.en} must contain digits only`);
  }
  if (!numeric && !/^[\x20-\x7e]*$/.test(value)) {
    throw invalidParams(`${name.fr} contient des caractères non admis`, `${name.en} contains characters that are not allowed`);
  }
  const min = attrs.minLength;
  const max = Math.min(pinMaxLength(attrs), MAX_PIN_LENGTH);
  if (value.length < min || value.length > max) {
    throw invalidParams(
      `${name.fr} doit comporter de ${min} à ${max} caractères`,
      `${name.en} must be ${min} to ${max} characters long`,
    );
  }
}

function unsupportedFormat(fr: string, en: string): CardError {
  return new CardError('UNSUPPORTED_CARD', { fr: `Format de code porteur non pris en charge : ${fr}`, en: `Unsupported PIN format: ${en}` });
}

/** Digits packed two per byte; an odd count ends with the low nibble of `fill`. */
function packBcd(digits: string, fill: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(digits.length / 2));
  for (let i = 0; i < digits.length; i++) {
    const d = digits.charCodeAt(i) - 0x30;
    out[i >> 1]! |= i % 2 === 0 ? d << 4 : d;
  }
  if (digits.length % 2 === 1) out[out.length - 1]! |= fill & 0x0f;
  return out;
}

/**
 * The PIN block for `value` (already checked with checkPinValue).
 * @throws CardError UNSUPPORTED_CARD when the attributes describe a block this host cannot build
 *   (padding asked without a pad character, a PIN longer than its stored length).
 */
export function buildPinBlock(value: string, attrs: PinAttributes): Uint8Array {
  const needsPadding = attrs.pinFlags.has(PIN_FLAG.needsPadding);
  let core: Uint8Array;
  switch (attrs.pinType) {
    case 'ascii-numeric':
    case 'utf8':
      core = new TextEncoder().encode(value);
      break;
    case 'bcd':
      core = packBcd(value, attrs.padChar ?? 0xff);
      break;
    case 'half-nibble-bcd':
      core = Uint8Array.from(value, (c) => 0xf0 | (c.charCodeAt(0) - 0x30));
      break;
    case 'iso9564-1': {
      // Format 2 block: 2L, the digits, F fill, 8 bytes in all.
      if (value.length > 14) throw unsupportedFormat('bloc ISO 9564 de plus de 14 chiffres', 'ISO 9564 block over 14 digits');
      const block = new Uint8Array(8).fill(0xff);
      block[0] = 0x20 | value.length;
      block.set(packBcd(value, 0x0f), 1);
      return block;
    }
  }
  if (!needsPadding) return core;
  if (attrs.padChar === undefined) {
    core.fill(0);
    throw unsupportedFormat('remplissage demandé sans caractère de remplissage', 'padding required without a pad character');
  }
  if (core.length > attrs.storedLength) {
    core.fill(0);
    throw unsupportedFormat('code plus long que sa longueur stockée', 'PIN longer than its stored length');
  }
  const block = new Uint8Array(attrs.storedLength).fill(attrs.padChar);
  block.set(core, 0);
  core.fill(0);
  return block;
}
