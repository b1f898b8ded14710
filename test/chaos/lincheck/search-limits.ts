// Limits on one check, shared by all its partitions: wall-clock time, search steps, and memo
// entries (memory). When one runs out the verdict is 'unknown': better than hanging a CI job.

export type LimitReached = 'timeout' | 'step-limit' | 'memo-limit';

export interface SearchLimits {
  readonly timeoutMs: number;
  /** Search steps over all partitions; one step looks at one event. */
  readonly stepsMax: number;
  /** Configurations held in the memos of the partitions being searched at once. */
  readonly memoEntriesMax: number;
}

export const DEFAULT_LIMITS: SearchLimits = {
  timeoutMs: 10_000,
  stepsMax: 1_000_000_000,
  // Roughly 100 bytes each plus the states they hold: well under a gigabyte.
  memoEntriesMax: 5_000_000,
};
