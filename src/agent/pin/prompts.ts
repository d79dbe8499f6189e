// PIN page prompts (agent-protocol.md `method: "page"`): one per call that needs a PIN typed on the
// agent's own page. A prompt has a one-time URL (`/pin/<random id>`, dead once the prompt ends), a
// CSRF token for its form, and a life: waiting for the user -> processing a submission (the call
// presents it to the card) -> waiting again after a wrong PIN, or ended (verified, cancelled,
// timed out, withdrawn because the calling connection closed, card removed, blocked, failed).
// Values typed by the user go from the HTTP handler to the waiting call and are not kept here.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { AgentError, type AgentErrorCode } from '../errors.js';

export type PromptKind = 'verify' | 'change' | 'unblock';

export type PromptEnd = 'done' | 'cancelled' | 'timeout' | 'withdrawn' | 'card-removed' | 'blocked' | 'failed';

/** Why the form is shown again. */
export type RetryReason = 'incorrect' | 'format' | 'mismatch';

export type SubmitReply =
  | { readonly kind: 'retry'; readonly reason: RetryReason }
  | { readonly kind: 'end'; readonly end: PromptEnd; readonly code?: AgentErrorCode };

/** The form fields of a submission (pin; or pin/newPin/newPinConfirm; or puk/newPin/newPinConfirm). */
export type PromptValues = Readonly<Record<string, string>>;

export interface PromptInit {
  readonly connectionId: string;
  readonly kind: PromptKind;
  /** The calling origin (Origin header, or app:<appId>): shown on the page. */
  readonly origin: string;
  readonly reader: string;
  /** What the PIN is for, as the page says it (see page.ts PURPOSES). */
  readonly purpose: string;
  readonly triesRemaining: number;
  /** One try left and the caller confirmed it may be used. */
  readonly lastTry: boolean;
  /** The card insertion the prompt is for: withdrawn when that card leaves. */
  readonly cardKey: object;
}

type State = 'waiting' | 'processing' | PromptEnd;

const END_ERROR: Record<PromptEnd, AgentErrorCode> = {
  done: 'INTERNAL',
  cancelled: 'USER_CANCELLED',
  timeout: 'TIMEOUT',
  withdrawn: 'USER_CANCELLED',
  'card-removed': 'CARD_REMOVED',
  blocked: 'PIN_BLOCKED',
  failed: 'INTERNAL',
};

export class PinPrompt {
  readonly id = randomBytes(24).toString('base64url');
  readonly csrf = randomBytes(24).toString('base64url');
  readonly path: string;
  readonly url: string;
  readonly connectionId: string;
  readonly kind: PromptKind;
  readonly origin: string;
  readonly reader: string;
  readonly purpose: string;
  readonly cardKey: object;
  triesRemaining: number;
  lastTry: boolean;
  /** Set with a 'retry' reply: why the form is shown again. */
  retryReason: RetryReason | null = null;
  /** The error code of a 'failed' end, for the page. */
  failureCode: AgentErrorCode | null = null;

  private current: State = 'waiting';
  private queued: PromptValues | null = null;
  private waiter: { resolve(values: PromptValues): void; reject(error: AgentError): void } | null = null;
  private replyTo: ((reply: SubmitReply) => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly endListeners: (() => void)[] = [];

  constructor(agentOrigin: string, init: PromptInit) {
    this.path = `/pin/${this.id}`;
    this.url = `${agentOrigin}${this.path}`;
    this.connectionId = init.connectionId;
    this.kind = init.kind;
    this.origin = init.origin;
    this.reader = init.reader;
    this.purpose = init.purpose;
    this.cardKey = init.cardKey;
    this.triesRemaining = init.triesRemaining;
    this.lastTry = init.lastTry;
  }

  get state(): State {
    return this.current;
  }

  get ended(): boolean {
    return this.current !== 'waiting' && this.current !== 'processing';
  }

  checkCsrf(token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const a = Buffer.from(token);
    const b = Buffer.from(this.csrf);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  // ---- the waiting call's side -------------------------------------------------------------------

  /**
   * The next submission. Rejects with USER_CANCELLED (Cancel, or withdrawn), TIMEOUT (nobody
   * submitted within timeoutMs), CARD_REMOVED.
   */
  next(timeoutMs: number): Promise<PromptValues> {
    if (this.ended) return Promise.reject(this.endError());
    if (this.queued) {
      const values = this.queued;
      this.queued = null;
      return Promise.resolve(values);
    }
    return new Promise<PromptValues>((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.timer = setTimeout(() => this.end('timeout'), timeoutMs);
      this.timer.unref();
    });
  }

  /** The submission was wrong: show the form again and wait for another. */
  retry(reason: RetryReason): void {
    if (this.ended) return;
    this.retryReason = reason;
    this.current = 'waiting';
    this.answer({ kind: 'retry', reason });
  }

  /** Ends the prompt: the page says why, the URL is dead from now on. */
  end(end: PromptEnd, code?: AgentErrorCode): void {
    if (this.ended) return;
    this.current = end;
    if (end === 'failed' && code) this.failureCode = code;
    this.queued = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(this.endError());
    this.answer(code === undefined ? { kind: 'end', end } : { kind: 'end', end, code });
    for (const listener of this.endListeners.splice(0)) listener();
  }

  onEnd(listener: () => void): void {
    if (this.ended) listener();
    else this.endListeners.push(listener);
  }

  // ---- the page's side ---------------------------------------------------------------------------

  /** A submission from the form. Resolves once the call has presented it: retry or end. */
  submit(values: PromptValues): Promise<SubmitReply> {
    if (this.current !== 'waiting' || this.replyTo) return Promise.reject(new AgentError('BUSY', { reason: 'prompt-not-waiting' }));
    this.current = 'processing';
    this.retryReason = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const reply = new Promise<SubmitReply>((resolve) => {
      this.replyTo = resolve;
    });
    const waiter = this.waiter;
    this.waiter = null;
    if (waiter) waiter.resolve(values);
    else this.queued = values;
    return reply;
  }

  cancel(): void {
    this.end('cancelled');
  }

  private answer(reply: SubmitReply): void {
    const replyTo = this.replyTo;
    this.replyTo = null;
    replyTo?.(reply);
  }

  private endError(): AgentError {
    const end = this.current as PromptEnd;
    if (end === 'withdrawn') return new AgentError('USER_CANCELLED', { reason: 'connection-closed' });
    return new AgentError(END_ERROR[end] ?? 'INTERNAL');
  }
}

/** How long an ended prompt's page still says what became of it. */
const ENDED_KEPT_MS = 10 * 60_000;
const MAX_ENDED = 256;

export class PromptRegistry {
  private readonly prompts = new Map<string, PinPrompt>();
  private readonly endedOrder: string[] = [];

  constructor(private readonly agentOrigin: () => string) {}

  create(init: PromptInit): PinPrompt {
    const prompt = new PinPrompt(this.agentOrigin(), init);
    this.prompts.set(prompt.id, prompt);
    prompt.onEnd(() => this.retire(prompt));
    return prompt;
  }

  get(id: string): PinPrompt | undefined {
    return this.prompts.get(id);
  }

  /** Prompts still open (tests, shutdown). */
  open(): PinPrompt[] {
    return [...this.prompts.values()].filter((p) => !p.ended);
  }

  /** The calling connection closed: its prompts are withdrawn. */
  withdrawConnection(connectionId: string): void {
    for (const p of this.open()) if (p.connectionId === connectionId) p.end('withdrawn');
  }

  /** The card the prompts were for left the reader. */
  withdrawCard(cardKey: object): void {
    for (const p of this.open()) if (p.cardKey === cardKey) p.end('card-removed');
  }

  closeAll(): void {
    for (const p of this.open()) p.end('withdrawn');
  }

  private retire(prompt: PinPrompt): void {
    this.endedOrder.push(prompt.id);
    while (this.endedOrder.length > MAX_ENDED) this.prompts.delete(this.endedOrder.shift()!);
    setTimeout(() => {
      this.prompts.delete(prompt.id);
      const i = this.endedOrder.indexOf(prompt.id);
      if (i >= 0) this.endedOrder.splice(i, 1);
    }, ENDED_KEPT_MS).unref();
  }
}
