// Who the card's verified PIN belongs to (agent-protocol.md "PIN rules"): the connection that
// verified it, and nobody else. The card itself does not know: this is the agent's record, kept
// per card insertion, with the idle timeout after which the state must be ended (by a card reset,
// which the owner of this object performs when told).

export class VerifiedState {
  private holder: string | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly idleTimeoutMs: number,
    /** Called once the holder has not used the state for idleTimeoutMs: end it on the card. */
    private readonly onIdle: (connectionId: string) => void,
  ) {}

  /** The connection the card is verified for, or null. */
  get owner(): string | null {
    return this.holder;
  }

  isHeldBy(connectionId: string): boolean {
    return this.holder === connectionId;
  }

  /** The card was just verified for `connectionId`. */
  grant(connectionId: string): void {
    this.holder = connectionId;
    this.touch();
  }

  /** The holder used the state: the idle period starts again. */
  touch(): void {
    if (this.holder === null) return;
    if (this.timer) clearTimeout(this.timer);
    const holder = this.holder;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.holder === holder) this.onIdle(holder);
    }, this.idleTimeoutMs);
    this.timer.unref();
  }

  /** Nobody holds a state any more (card reset, removed, logged out, or the card lost it). */
  clear(): void {
    this.holder = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
