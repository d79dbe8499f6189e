// The agent's pino logger. Request logging never includes params (a PIN, a hash, a ciphertext
// travel there), and the redaction below is the second line of defence for any object that
// reaches a log call anyway: PIN fields, tokens, keys and card outputs are masked at any depth
// pino can express.
import pino, { type DestinationStream, type Logger } from 'pino';

export const REDACTED = '[masqué]';

const SECRET_KEYS = [
  'pin',
  'puk',
  'newPin',
  'token',
  'authorization',
  'params',
  'plaintext',
  'ciphertext',
  'signature',
  'hash',
  'challenge',
  'consoleKey',
  'csrf',
  'k',
];

export const AGENT_REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
];

export interface AgentLoggerOptions {
  readonly level?: string;
  /** Where lines go: a pino destination, or a file path (appended synchronously). Default stderr. */
  readonly destination?: DestinationStream | string;
}

export function createAgentLogger(options: AgentLoggerOptions = {}): Logger {
  const destination =
    typeof options.destination === 'string'
      ? pino.destination({ dest: options.destination, sync: true, mkdir: true })
      : (options.destination ?? pino.destination({ dest: 2, sync: false }));
  return pino(
    {
      name: 'cardbridge-agent',
      level: options.level ?? 'info',
      redact: { paths: AGENT_REDACT_PATHS, censor: REDACTED },
      base: { pid: process.pid },
    },
    destination,
  );
}
