// Proposals waiting for their entry to be applied: each one settles exactly once, with the apply
// result (same term at its index), ProposalDroppedError (another leader's entry took the index),
// a timeout, or the error the node fails everything with when it stops.
import type { Entry } from './core/index.js';
import { ProposalDroppedError, ProposalOutcomeUnknownError, RaftTimeoutError } from './errors.js';

interface Waiter {
  readonly term: number;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class ProposalTracker {
  private readonly waiters = new Map<number, Waiter>();

  get size(): number {
    return this.waiters.size;
  }

  /** Waits for the entry proposed at `index` in `term` to be applied. */
  track(index: number, term: number, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(index);
        reject(new RaftTimeoutError(`proposal at ${term}/${index}`, timeoutMs));
      }, timeoutMs);
      this.waiters.set(index, { term, resolve, reject, timer });
    });
  }

  /** Settles the waiters of applied entries; `results[i]` belongs to `entries[i]`. */
  applied(entries: readonly Entry[], results: readonly unknown[]): void {
    if (this.waiters.size === 0) return;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const w = this.waiters.get(e.index);
      if (w === undefined) continue;
      this.waiters.delete(e.index);
      clearTimeout(w.timer);
      if (w.term === e.term) w.resolve(results[i]);
      else w.reject(new ProposalDroppedError(e.index, w.term));
    }
  }

  /** A snapshot replaced the log up to `index`: those proposals were never applied here. */
  replacedBySnapshot(index: number): void {
    for (const [i, w] of this.waiters) {
      if (i > index) continue;
      this.waiters.delete(i);
      clearTimeout(w.timer);
      w.reject(new ProposalOutcomeUnknownError(i, 'replaced by a snapshot from the leader'));
    }
  }

  failAll(error: Error): void {
    for (const w of this.waiters.values()) {
      clearTimeout(w.timer);
      w.reject(error);
    }
    this.waiters.clear();
  }
}
