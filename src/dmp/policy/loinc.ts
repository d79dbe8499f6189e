// LOINC codes are `<number>-<check digit>`, the check digit being the mod-10 (Luhn) digit of the
// number. Checking it when the matrix loads catches a mistyped code before it silently grants
// or denies the wrong document type.

const LOINC_PATTERN = /^(\d{1,7})-(\d)$/;

export function loincCheckDigit(number: string): number {
  let sum = 0;
  const digits = [...number].reverse();
  for (const [index, char] of digits.entries()) {
    let digit = Number(char);
    if (index % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return (10 - (sum % 10)) % 10;
}

export function isValidLoincCode(code: unknown): code is string {
  if (typeof code !== 'string') return false;
  const match = LOINC_PATTERN.exec(code);
  return match !== null && loincCheckDigit(match[1] ?? '') === Number(match[2]);
}
