// The rules a patient's secret code must follow (chosen at activation). The code protects a
// medical record, together with a one-time password: long enough, not trivially guessable, not
// derived from the INS the attacker already types. Each refusal reason is a French sentence the
// portal page can show as is.

export const SECRET_CODE_MIN_LENGTH = 8;
export const SECRET_CODE_MAX_LENGTH = 128;
const MIN_DISTINCT_CHARACTERS = 4;

/** Codes people pick first (compared after lower-casing and removing spaces). */
const COMMON_CODES = new Set([
  'password',
  'password1',
  'motdepasse',
  'motdepasse1',
  'azertyuiop',
  'azertyui',
  'qwertyuiop',
  'qwertyui',
  'iloveyou',
  'jetaime1',
  'soleil123',
  'doudou123',
  'abcd1234',
  'azerty123',
  'azerty12',
  'secret123',
  'bonjour1',
  'bonjour123',
  'marseille',
  'doctolib',
]);

/** Every step between neighbours is the same +1 or −1 (12345678, hgfedcba). */
function isRun(chars: readonly string[]): boolean {
  if (chars.length < 2) return false;
  const codes = chars.map((c) => c.codePointAt(0) ?? 0);
  const step = (codes[1] ?? 0) - (codes[0] ?? 0);
  if (step !== 1 && step !== -1) return false;
  return codes.every((code, i) => i === 0 || code - (codes[i - 1] ?? 0) === step);
}

/** A short block repeated (abcabcab, 12121212). */
function isRepetition(code: string): boolean {
  for (let size = 1; size <= 3; size++) {
    const block = code.slice(0, size);
    if (block.repeat(Math.ceil(code.length / size)).slice(0, code.length) === code) return true;
  }
  return false;
}

/**
 * The reasons `secretCode` is refused (empty when it is acceptable). `insValue` is the patient's
 * INS value (NIR or INS-C): the code may not contain 8 digits of it in a row, nor be contained in it.
 */
export function secretCodeProblems(secretCode: string, insValue: string): string[] {
  const code = secretCode.normalize('NFC');
  const chars = [...code];
  const reasons: string[] = [];
  if (chars.length < SECRET_CODE_MIN_LENGTH) reasons.push(`le code secret doit compter au moins ${SECRET_CODE_MIN_LENGTH} caractères`);
  if (chars.length > SECRET_CODE_MAX_LENGTH) reasons.push(`le code secret doit compter au plus ${SECRET_CODE_MAX_LENGTH} caractères`);
  if (/[\u0000-\u001f\u007f]/.test(code)) reasons.push('le code secret ne peut pas contenir de caractères de contrôle');
  if (code.trim() !== code) reasons.push('le code secret ne peut pas commencer ni finir par une espace');
  if (reasons.length > 0) return reasons;

  const folded = code.toLowerCase();
  if (new Set(chars).size < MIN_DISTINCT_CHARACTERS) reasons.push(`le code secret doit contenir au moins ${MIN_DISTINCT_CHARACTERS} caractères différents`);
  if (isRun([...folded]) || isRepetition(folded)) reasons.push('le code secret ne peut pas être une suite ou une répétition (12345678, abcabcab…)');
  if (COMMON_CODES.has(folded.replace(/\s+/g, ''))) reasons.push('ce code secret est trop courant');
  const digits = code.replace(/\D/g, '');
  const ins = insValue.replace(/\D/g, '');
  if (ins.length >= 8) {
    const fromIns = [...Array(ins.length - 7).keys()].some((i) => digits.includes(ins.slice(i, i + 8)));
    if (fromIns || (digits.length === code.length && ins.includes(digits))) reasons.push('le code secret ne peut pas reprendre votre numéro INS');
  }
  return reasons;
}
