// Limits on one check, shared by all its partitions: wall-clock time, search steps, and memo
// entries (memory). When one runs out the verdict is 'unknown': better than hanging a CI job.

export type LimitReached = 'timeout' | 'step-limit' | 'memo-limit';

export interface SearchLimits {
  readonly timeoutMs: number;
  /** Search steps over all partitions; one step looks at one event. */
  readonly stepsMax: number;
  /**
   * Memory held by the memos of the partitions being searched at once, estimated (the sets
   * stored, plus a fixed overhead per configuration; the states themselves are shared).
   */
  readonly memoBytesMax: number;
}

export const DEFAULT_LIMITS: SearchLimits = {
  timeoutMs: 10_000,
  stepsMax: 1_000_000_000,
  memoBytesMax: 1 << 30,
};
