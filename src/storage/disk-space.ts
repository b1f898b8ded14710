// Which stores of this member are out of disk space right now (docs/faults.md, "Disk full").
//
// A store that cannot write for lack of space (DiskFullError) keeps what it could not write
// and tries again (the Raft log: node.ts; the state store: write-behind.ts); it reports here
// when a write is refused and when one succeeds again. The member reads the state to refuse new
// writes at once and to hand leadership over while any store is full (node.ts), and the metrics
// show it. Each transition is logged once: an episode of a full disk is two lines, not one per
// retry.
import { performance } from 'node:perf_hooks';
import type { DiskFullError } from './errors.js';
import type { StoreLogger } from './logger.js';

/** What a store tells the monitor (segment-log.ts, write-behind.ts). */
export interface DiskSpaceReporter {
  /** A write of `store` was refused for lack of space; it is kept and will be tried again. */
  full(store: string, error: DiskFullError): void;
  /** A write of `store` succeeded: whatever it kept is written. */
  available(store: string): void;
}

interface Episode {
  readonly error: DiskFullError;
  readonly sinceMs: number;
}

export class DiskSpaceMonitor implements DiskSpaceReporter {
  readonly #logger: StoreLogger;
  readonly #full = new Map<string, Episode>();
  readonly #listeners: (() => void)[] = [];
  /** Episodes begun since start, per store (a store that fills up twice counts twice). */
  readonly episodes = new Map<string, number>();

  constructor(logger: StoreLogger) {
    this.#logger = logger;
  }

  full(store: string, error: DiskFullError): void {
    if (this.#full.has(store)) return;
    this.#full.set(store, { error, sinceMs: performance.now() });
    this.episodes.set(store, (this.episodes.get(store) ?? 0) + 1);
    this.#logger.error(
      { store, errno: error.errno, op: error.op, fullStores: [...this.#full.keys()] },
      'disk full: a store cannot write; this member refuses writes and linearizable reads until space returns, and retries by itself',
    );
    this.#notify();
  }

  available(store: string): void {
    const episode = this.#full.get(store);
    if (episode === undefined) return;
    this.#full.delete(store);
    this.#logger.warn(
      { store, fullMs: Math.round(performance.now() - episode.sinceMs), fullStores: [...this.#full.keys()] },
      'disk space available again: the store wrote what it kept; writes resume',
    );
    this.#notify();
  }

  /** The error of the store that filled up first among those full now; null when none is. */
  get fullError(): DiskFullError | null {
    for (const episode of this.#full.values()) return episode.error;
    return null;
  }

  /** Names of the stores that are full now. */
  fullStores(): string[] {
    return [...this.#full.keys()];
  }

  /** Called after every transition (a store became full, or available again). */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
