// The agent's audit trail: one JSON object per line in `<stateDir>/agent-audit.jsonl` (0600, in a
// 0700 directory): who called what on which card, and how it ended. Entries are built from a
// closed list of fields, so a PIN, a token, a plaintext, a signature or a hash cannot slip in
// through a params object: none is ever handed to this module.
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { CallerKind } from '../caller.js';
import { ensurePrivateDir } from '../security/private-files.js';

export const AUDIT_FILE = 'agent-audit.jsonl';

export type AuditEvent =
  | 'rpc'
  /** A card operation as the card service reports it (PIN entry, private-key use), with the card serial. */
  | 'card.operation'
  | 'connection.open'
  | 'connection.close'
  | 'pairing.requested'
  | 'pairing.approved'
  | 'pairing.denied'
  | 'pairing.revoked';

export interface AuditEntry {
  readonly event: AuditEvent;
  readonly connectionId?: string;
  readonly callerKind?: CallerKind;
  /** The caller's origin (browser Origin header or `app:<appId>`). */
  readonly origin?: string;
  readonly method?: string;
  readonly reader?: string;
  readonly cardSerial?: string;
  readonly outcome?: 'ok' | 'error';
  /** card.operation: how the PIN was entered (`page`, `pinpad`, `value`), never the PIN. */
  readonly pinEntry?: string;
  readonly errorCode?: string;
  /** Pairing events: the scopes requested or granted, the 6-digit code, who acted. */
  readonly scopes?: readonly string[];
  readonly pairingCode?: string;
  readonly actor?: string;
  readonly durationMs?: number;
}

const FIELDS = [
  'event',
  'connectionId',
  'callerKind',
  'origin',
  'method',
  'reader',
  'cardSerial',
  'outcome',
  'pinEntry',
  'errorCode',
  'scopes',
  'pairingCode',
  'actor',
  'durationMs',
] as const satisfies readonly (keyof AuditEntry)[];

const MAX_TEXT = 256;

function clip(value: unknown): unknown {
  if (typeof value === 'string') return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value;
  if (Array.isArray(value)) return value.slice(0, 16).map(clip);
  return value;
}

/** The JSON line of an entry: `time` first, then only the known fields that are set. */
export function auditLine(entry: AuditEntry, time: Date): string {
  const out: Record<string, unknown> = { time: time.toISOString() };
  for (const field of FIELDS) {
    const value = entry[field];
    if (value !== undefined) out[field] = clip(value);
  }
  return `${JSON.stringify(out)}\n`;
}

export interface AuditSink {
  record(entry: AuditEntry): void;
  close(): Promise<void>;
}

export class AuditLog implements AuditSink {
  private readonly stream: WriteStream;

  constructor(
    readonly file: string,
    private readonly now: () => number = Date.now,
  ) {
    this.stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
    this.stream.on('error', () => {
      // a full disk must not bring the agent down; the pino log says the rest
    });
  }

  static inStateDir(stateDir: string, now?: () => number): AuditLog {
    ensurePrivateDir(stateDir);
    return new AuditLog(join(stateDir, AUDIT_FILE), now);
  }

  record(entry: AuditEntry): void {
    this.stream.write(auditLine(entry, new Date(this.now())));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}
