// Linearizable reads through ReadIndex, batched: reads that arrive while a round is out wait
// for the next round, so one heartbeat round serves many reads. A read resolves once the state
// machine has applied the round's read index.
import { NotLeaderError, type NodeId, type ReadFailure, type ReadState } from './core/index.js';
import { BackpressureError } from './core/errors.js';
import { RaftTimeoutError } from './errors.js';

interface ReadWaiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
  settled: boolean;
}

interface Round {
  readonly context: string;
  readonly waiters: ReadWaiter[];
  readonly startedAtMs: number;
}

export interface ReadTrackerOptions {
  readonly selfId: NodeId;
  readonly maxPendingReads: number;
  /** A round with no answer after this long is abandoned (its request or answer was lost). */
  readonly roundTimeoutMs: number;
  /** Starts a ReadIndex round in the core (throws NotLeaderError when it cannot). */
  readonly requestReadIndex: (context: string) => void;
  readonly appliedIndex: () => number;
  readonly nowMs: () => number;
}

export class ReadTracker {
  private queued: ReadWaiter[] = [];
  private round: Round | null = null;
  /** Waiting for the state machine to reach their read index, in index order. */
  private waitingApply: { index: number; waiters: ReadWaiter[] }[] = [];
  private seq = 0;
  private pending = 0;

  constructor(private readonly options: ReadTrackerOptions) {}

  read(timeoutMs: number): Promise<void> {
    if (this.pending >= this.options.maxPendingReads) {
      return Promise.reject(new BackpressureError(`${this.pending} reads pending`));
    }
    return new Promise((resolve, reject) => {
      const waiter: ReadWaiter = {
        resolve,
        reject,
        settled: false,
        timer: setTimeout(() => this.settle(waiter, new RaftTimeoutError('linearizable read', timeoutMs)), timeoutMs),
      };
      this.pending++;
      this.queued.push(waiter);
      this.maybeStartRound();
    });
  }

  onReadStates(states: readonly ReadState[]): void {
    for (const s of states) {
      if (this.round === null || s.context !== this.round.context) continue;
      const waiters = this.round.waiters;
      this.round = null;
      if (s.index <= this.options.appliedIndex()) {
        for (const w of waiters) this.settle(w, null);
      } else {
        this.waitingApply.push({ index: s.index, waiters });
        this.waitingApply.sort((a, b) => a.index - b.index);
      }
    }
    this.maybeStartRound();
  }

  onReadFailures(failures: readonly ReadFailure[]): void {
    for (const f of failures) {
      if (this.round === null || f.context !== this.round.context) continue;
      const waiters = this.round.waiters;
      this.round = null;
      for (const w of waiters) this.settle(w, new NotLeaderError(f.leaderHint, 'read'));
    }
    this.maybeStartRound();
  }

  onApplied(applied: number): void {
    while (this.waitingApply.length > 0 && this.waitingApply[0].index <= applied) {
      for (const w of this.waitingApply.shift()!.waiters) this.settle(w, null);
    }
  }

  /** Called on every tick: abandons a round whose answer never came, and starts the next. */
  onTick(): void {
    if (this.round !== null && this.options.nowMs() - this.round.startedAtMs > this.options.roundTimeoutMs) {
      // Requeue its readers: a later round answers them just as well.
      this.queued = [...this.round.waiters.filter((w) => !w.settled), ...this.queued];
      this.round = null;
    }
    this.maybeStartRound();
  }

  failAll(error: Error): void {
    const all = [...this.queued, ...(this.round?.waiters ?? []), ...this.waitingApply.flatMap((w) => w.waiters)];
    this.queued = [];
    this.round = null;
    this.waitingApply = [];
    for (const w of all) this.settle(w, error);
  }

  private maybeStartRound(): void {
    if (this.round !== null) return;
    this.queued = this.queued.filter((w) => !w.settled);
    if (this.queued.length === 0) return;
    const waiters = this.queued;
    this.queued = [];
    const context = `${this.options.selfId}.${++this.seq}`;
    try {
      this.options.requestReadIndex(context);
    } catch (error) {
      for (const w of waiters) this.settle(w, error as Error);
      return;
    }
    this.round = { context, waiters, startedAtMs: this.options.nowMs() };
  }

  private settle(w: ReadWaiter, error: Error | null): void {
    if (w.settled) return;
    w.settled = true;
    this.pending--;
    clearTimeout(w.timer);
    if (error === null) w.resolve();
    else w.reject(error);
  }
}
