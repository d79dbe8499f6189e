// Origins the user paired with the agent, and the pairing requests waiting for the user
// (agent-protocol.md "Pairing"). Paired origins persist in `<configDir>/pairings.json` (0600,
// replaced atomically); pending requests live in memory for 5 minutes, one per origin, each with
// a 6-digit code drawn from the CSPRNG that the page, the console and the CLI all show.
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SCOPES, type Scope } from '../caller.js';
import { isPairableOrigin } from './origin.js';
import { assertPrivateFile, writePrivateFileAtomic } from './private-files.js';

export const PAIRINGS_FILE = 'pairings.json';
export const PENDING_TTL_MS = 5 * 60_000;
/** Pending requests across all origins: a site cycling through subdomains cannot bury the console. */
export const MAX_PENDING = 20;

export interface PairedOrigin {
  readonly origin: string;
  readonly scopes: readonly Scope[];
  /** ISO 8601 time of the approval. */
  readonly pairedAt: string;
}

export interface PendingPairing {
  readonly code: string;
  readonly origin: string;
  readonly scopes: readonly Scope[];
  readonly requestedAt: string;
  readonly expiresAt: string;
}

export type PairingErrorReason = 'NOT_PAIRABLE' | 'TOO_MANY_PENDING';

export class PairingError extends Error {
  override readonly name = 'PairingError';
  constructor(readonly reason: PairingErrorReason) {
    super(reason === 'NOT_PAIRABLE' ? "Cette origine ne peut pas être appariée." : "Trop de demandes d'appariement en attente.");
  }
}

export class PairingStoreError extends Error {
  override readonly name = 'PairingStoreError';
}

const fileSchema = z.object({
  version: z.literal(1),
  origins: z.array(
    z.object({
      origin: z.string().refine(isPairableOrigin),
      scopes: z.array(z.enum(SCOPES)),
      pairedAt: z.string(),
    }),
  ),
});

export interface PairingStoreOptions {
  /** Clock (ms since the epoch); default Date.now. */
  readonly now?: () => number;
  readonly pendingTtlMs?: number;
  readonly maxPending?: number;
}

/** Who acted on a pairing: the console page, a desktop caller (the CLI) or a file edit offline. */
export type PairingActor = 'console' | 'desktop' | 'cli';

export type PairingChange =
  | { type: 'requested'; pending: PendingPairing }
  | { type: 'approved'; paired: PairedOrigin; actor: PairingActor }
  | { type: 'denied'; pending: PendingPairing; actor: PairingActor }
  | { type: 'revoked'; origin: string; actor: PairingActor };

/** Scopes in the protocol's order, without duplicates. */
function canonicalScopes(scopes: Iterable<Scope>): Scope[] {
  const set = new Set(scopes);
  return SCOPES.filter((s) => set.has(s));
}

export class PairingStore {
  private readonly origins = new Map<string, PairedOrigin>();
  private readonly pendingByCode = new Map<string, PendingPairing>();
  private readonly listeners = new Set<(change: PairingChange) => void>();
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly maxPending: number;

  constructor(
    readonly file: string,
    options: PairingStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.ttlMs = options.pendingTtlMs ?? PENDING_TTL_MS;
    this.maxPending = options.maxPending ?? MAX_PENDING;
    this.load();
  }

  static inConfigDir(configDir: string, options: PairingStoreOptions = {}): PairingStore {
    return new PairingStore(join(configDir, PAIRINGS_FILE), options);
  }

  private load(): void {
    if (!existsSync(this.file)) return;
    assertPrivateFile(this.file);
    let parsed: z.infer<typeof fileSchema>;
    try {
      parsed = fileSchema.parse(JSON.parse(readFileSync(this.file, 'utf8')));
    } catch (error) {
      throw new PairingStoreError(`Fichier des appariements illisible (${this.file}) : corrigez-le ou supprimez-le.`, { cause: error });
    }
    for (const entry of parsed.origins) this.origins.set(entry.origin, { origin: entry.origin, scopes: canonicalScopes(entry.scopes), pairedAt: entry.pairedAt });
  }

  private save(): void {
    const content = { version: 1, origins: [...this.origins.values()] };
    writePrivateFileAtomic(this.file, `${JSON.stringify(content, null, 2)}\n`);
  }

  private emit(change: PairingChange): void {
    for (const listener of this.listeners) listener(change);
  }

  onChange(listener: (change: PairingChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The scopes granted to `origin`, or undefined when it is not paired. */
  scopesOf(origin: string): readonly Scope[] | undefined {
    return this.origins.get(origin)?.scopes;
  }

  paired(): PairedOrigin[] {
    return [...this.origins.values()].sort((a, b) => a.origin.localeCompare(b.origin));
  }

  private purgeExpired(): void {
    const now = this.now();
    for (const [code, p] of this.pendingByCode) if (Date.parse(p.expiresAt) <= now) this.pendingByCode.delete(code);
  }

  pending(): PendingPairing[] {
    this.purgeExpired();
    return [...this.pendingByCode.values()];
  }

  findPending(code: string): PendingPairing | undefined {
    this.purgeExpired();
    return this.pendingByCode.get(code);
  }

  /**
   * Records a pairing request of `origin` for `scopes`, replacing any request of the same origin
   * still pending (one per origin: its old code stops working).
   */
  request(origin: string, scopes: readonly Scope[]): PendingPairing {
    if (!isPairableOrigin(origin)) throw new PairingError('NOT_PAIRABLE');
    this.purgeExpired();
    for (const [code, p] of this.pendingByCode) if (p.origin === origin) this.pendingByCode.delete(code);
    if (this.pendingByCode.size >= this.maxPending) throw new PairingError('TOO_MANY_PENDING');
    let code: string;
    do code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    while (this.pendingByCode.has(code));
    const now = this.now();
    const pending: PendingPairing = {
      code,
      origin,
      scopes: canonicalScopes(scopes),
      requestedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.ttlMs).toISOString(),
    };
    this.pendingByCode.set(code, pending);
    this.emit({ type: 'requested', pending });
    return pending;
  }

  /** Grants the pending request `code`: its origin gets exactly the requested scopes (replacing earlier ones). */
  approve(code: string, actor: PairingActor): PairedOrigin | undefined {
    const pending = this.findPending(code);
    if (!pending) return undefined;
    this.pendingByCode.delete(code);
    const paired: PairedOrigin = { origin: pending.origin, scopes: pending.scopes, pairedAt: new Date(this.now()).toISOString() };
    this.origins.set(paired.origin, paired);
    this.save();
    this.emit({ type: 'approved', paired, actor });
    return paired;
  }

  deny(code: string, actor: PairingActor): PendingPairing | undefined {
    const pending = this.findPending(code);
    if (!pending) return undefined;
    this.pendingByCode.delete(code);
    this.emit({ type: 'denied', pending, actor });
    return pending;
  }

  /** Forgets `origin`: its pages lose every scope at their next call. */
  revoke(origin: string, actor: PairingActor): boolean {
    if (!this.origins.delete(origin)) return false;
    this.save();
    this.emit({ type: 'revoked', origin, actor });
    return true;
  }
}
