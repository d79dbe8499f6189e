// The DMP client's error: the service's RFC 9457 problem details (`status`, stable `code`,
// French `title`, `detail`), or the client's own failures with the same shape (status 0 when
// no HTTP answer is involved). Card and agent failures stay the agent client's error classes.

export type DmpClientErrorCode =
  /** No session: call login() first (or it ended). */
  | 'SESSION_REQUIRED'
  /** The service could not be reached (fetch failed). */
  | 'NETWORK_ERROR'
  /** The service answered with an error that is not a problem document, or with unreadable JSON. */
  | 'UNEXPECTED_RESPONSE'
  /** The CPS card was removed during login(). */
  | 'CARD_REMOVED';

export interface DmpErrorInit {
  status: number;
  code: string;
  title: string;
  detail: string;
  /** The problem's `type` URI, when the service sent one. */
  type?: string;
  /** Every member of the problem document as received. */
  problem?: Record<string, unknown>;
  cause?: unknown;
}

export class DmpError extends Error {
  override name = 'DmpError';
  /** HTTP status; 0 when no answer came. */
  readonly status: number;
  /** Stable code (the service's problem `code`, or one of DmpClientErrorCode). */
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly type: string | undefined;
  readonly problem: Readonly<Record<string, unknown>>;

  constructor(init: DmpErrorInit) {
    super(init.detail === '' ? init.title : `${init.title} : ${init.detail}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.type = init.type;
    this.problem = init.problem ?? {};
  }
}

const LOCAL_TITLES: Record<DmpClientErrorCode, string> = {
  SESSION_REQUIRED: 'Session requise',
  NETWORK_ERROR: 'Service DMP injoignable',
  UNEXPECTED_RESPONSE: 'Réponse inattendue du service DMP',
  CARD_REMOVED: 'Carte CPS retirée',
};

export function localDmpError(code: DmpClientErrorCode, detail: string, status = 0, cause?: unknown): DmpError {
  return new DmpError({ status, code, title: LOCAL_TITLES[code], detail, ...(cause === undefined ? {} : { cause }) });
}

/** The DmpError of a non-2xx answer whose body was already read (`text`). */
export function errorFromResponse(status: number, contentType: string, text: string): DmpError {
  if (/json/i.test(contentType) && text !== '') {
    try {
      const problem = JSON.parse(text) as unknown;
      if (typeof problem === 'object' && problem !== null && !Array.isArray(problem)) {
        const p = problem as Record<string, unknown>;
        const code = typeof p.code === 'string' ? p.code : `HTTP_${status}`;
        return new DmpError({
          status: typeof p.status === 'number' ? p.status : status,
          code,
          title: typeof p.title === 'string' ? p.title : `HTTP ${status}`,
          detail: typeof p.detail === 'string' ? p.detail : '',
          ...(typeof p.type === 'string' ? { type: p.type } : {}),
          problem: p,
        });
      }
    } catch {
      // not JSON after all: fall through
    }
  }
  return localDmpError('UNEXPECTED_RESPONSE', `HTTP ${status}${text ? ` : ${text.slice(0, 200)}` : ''}`, status);
}
