// The one error type of the INS domain: every rejected input carries a stable `code` that callers
// (agent RPC errors, CLI messages) can switch on without parsing the message.

export type InsErrorCode =
  | 'NOT_A_STRING'
  | 'NIR_LENGTH'
  | 'NIR_FORMAT'
  | 'NIR_SEX'
  | 'NIR_MONTH'
  | 'NIR_DEPARTMENT'
  | 'NIR_KEY'
  | 'INSC_BIRTH_DATE'
  | 'INSC_FORMAT'
  | 'INSC_KEY'
  | 'INS_PATH_FORMAT'
  | 'INS_OID_UNKNOWN';

export class InsError extends Error {
  override readonly name = 'InsError';

  constructor(
    readonly code: InsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new InsError('NOT_A_STRING', `${what} must be a string`);
  return value;
}
