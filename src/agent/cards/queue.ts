// One queue per reader (agent-protocol.md "Concurrency"): operations run one after the other, so
// all the APDUs of one (SELECT + MSE + PSO…) go out without another of ours in between. Past
// `depth` operations (running one included) a new one is refused with BUSY. Work queued by a
// connection that closed is dropped before it touches the card; system work (ending a verified
// state) is never dropped and never refused.
import { AgentError } from '../errors.js';

export interface QueueTask<T> {
  /** The connection the work is for; null for the agent's own work. */
  readonly connectionId: string | null;
  /** Aborted when that connection closes: the task is dropped if it has not started. */
  readonly signal?: AbortSignal;
  run(): Promise<T>;
}

interface Entry {
  readonly task: QueueTask<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** What a dropped task rejects with; nobody is left to read it (the connection is gone). */
export function connectionClosedError(): AgentError {
  return new AgentError('USER_CANCELLED', { reason: 'connection-closed' });
}

export class OperationQueue {
  private readonly waiting: Entry[] = [];
  private running = false;
  private closed = false;

  constructor(readonly depth: number) {}

  /** Operations queued or running. */
  get size(): number {
    return this.waiting.length + (this.running ? 1 : 0);
  }

  /**
   * Runs `task` after the ones before it.
   * @throws AgentError BUSY past the depth (connection work only), USER_CANCELLED when the
   *   connection closed before the task started.
   */
  enqueue<T>(task: QueueTask<T>): Promise<T> {
    if (this.closed) return Promise.reject(new AgentError('PCSC_UNAVAILABLE', { reason: 'closed' }));
    if (task.signal?.aborted) return Promise.reject(connectionClosedError());
    if (task.connectionId !== null && this.size >= this.depth) return Promise.reject(new AgentError('BUSY', { depth: this.depth }));
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ task, resolve: resolve as (value: unknown) => void, reject });
      void this.pump();
    });
  }

  /** Drops the waiting work of a connection; returns how many tasks were dropped. */
  dropConnection(connectionId: string): number {
    let dropped = 0;
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const entry = this.waiting[i]!;
      if (entry.task.connectionId !== connectionId) continue;
      this.waiting.splice(i, 1);
      entry.reject(connectionClosedError());
      dropped++;
    }
    return dropped;
  }

  /** Refuses everything waiting; the running task finishes. */
  close(): void {
    this.closed = true;
    for (const entry of this.waiting.splice(0)) entry.reject(new AgentError('PCSC_UNAVAILABLE', { reason: 'closed' }));
  }

  /** Resolves once nothing runs or waits (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.size > 0) await new Promise((resolve) => setImmediate(resolve));
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let entry = this.waiting.shift(); entry; entry = this.waiting.shift()) {
        if (entry.task.signal?.aborted) {
          entry.reject(connectionClosedError());
          continue;
        }
        try {
          entry.resolve(await entry.task.run());
        } catch (error) {
          entry.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
