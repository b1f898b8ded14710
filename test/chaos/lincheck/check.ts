// The checker's entry point: split the history with the model's partition function and search
// each part for a linearization, within one shared budget.
//
// Parts are searched in turns of a few thousand steps rather than one after the other: proving
// a part linearizable is usually quick, but proving one is not means exhausting its search
// space, which for some parts takes far longer than for others. Taking turns stops at the
// first part whose failure is cheap to prove (Porcupine gets the same by running parts in
// parallel goroutines).

import { buildAnomaly, type Anomaly } from './anomaly.js';
import type { Model } from './model.js';
import type { Operation } from './operation.js';
import { LinearizationSearch } from './search.js';
import { DEFAULT_LIMITS, type LimitReached, type SearchLimits } from './search-limits.js';

export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown';

export type CheckOptions = Partial<SearchLimits>;

export interface CheckResult<I, O, S> {
  readonly verdict: Verdict;
  readonly elapsedMs: number;
  /** Search steps over all partitions (one step = one event looked at). */
  readonly steps: number;
  readonly partitionCount: number;
  /** Partitions fully decided before the verdict was known. */
  readonly partitionsDecided: number;
  /** Why the verdict is 'unknown'. */
  readonly unknownReason?: LimitReached;
  /** Present when the verdict is 'not-linearizable'. */
  readonly anomaly?: Anomaly<I, O, S>;
}

/** Steps a partition searches before the next one gets its turn (a few milliseconds). */
const STEPS_PER_TURN = 4096;
/** Partitions searched in turns at once; the others wait (each holds a memo in memory). */
const PARTITIONS_IN_FLIGHT_MAX = 64;

interface PartitionSearch<I, O, S> {
  readonly partitionIndex: number;
  readonly operations: readonly Operation<I, O>[];
  readonly search: LinearizationSearch<I, O, S>;
}

export function check<I, O, S>(
  model: Model<I, O, S>,
  history: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult<I, O, S> {
  const limits: SearchLimits = { ...DEFAULT_LIMITS, ...options };
  const startedMs = performance.now();
  const partitions = model.partition ? model.partition(history) : [history.slice()];
  // Partition functions hand back the same operation objects, which is how reports name an
  // operation by its place in the full history.
  const historyIdOf = new Map<Operation<I, O>, number>(history.map((op, id) => [op, id]));

  let steps = 0;
  let partitionsDecided = 0;
  let nextPartition = 0;
  const inFlight: PartitionSearch<I, O, S>[] = [];
  const result = (verdict: Verdict, extra: { unknownReason?: LimitReached; anomaly?: Anomaly<I, O, S> } = {}): CheckResult<I, O, S> => ({
    verdict,
    elapsedMs: performance.now() - startedMs,
    steps,
    partitionCount: partitions.length,
    partitionsDecided,
    ...extra,
  });

  while (nextPartition < partitions.length || inFlight.length > 0) {
    while (inFlight.length < PARTITIONS_IN_FLIGHT_MAX && nextPartition < partitions.length) {
      const operations = partitions[nextPartition];
      inFlight.push({ partitionIndex: nextPartition++, operations, search: new LinearizationSearch(model, operations) });
    }
    for (let i = 0; i < inFlight.length; ) {
      const { partitionIndex, operations, search } = inFlight[i];
      const stepsBefore = search.steps;
      const outcome = search.run(STEPS_PER_TURN);
      steps += search.steps - stepsBefore;

      if (outcome?.kind === 'not-linearizable') {
        partitionsDecided++;
        const historyIds = operations.map((op, index) => historyIdOf.get(op) ?? index);
        const anomaly = buildAnomaly(model, operations, historyIds, outcome.furthest, partitionIndex, partitions.length);
        return result('not-linearizable', { anomaly });
      }
      if (outcome?.kind === 'linearizable') {
        partitionsDecided++;
        inFlight.splice(i, 1);
      } else {
        i++;
      }

      const limitReached = checkLimits(limits, startedMs, steps, inFlight);
      if (limitReached) return result('unknown', { unknownReason: limitReached });
    }
  }
  return result('linearizable');
}

function checkLimits<I, O, S>(limits: SearchLimits, startedMs: number, steps: number, inFlight: readonly PartitionSearch<I, O, S>[]): LimitReached | null {
  if (performance.now() - startedMs > limits.timeoutMs) return 'timeout';
  if (steps > limits.stepsMax) return 'step-limit';
  let memoBytes = 0;
  for (const { search } of inFlight) memoBytes += search.memoBytes;
  return memoBytes > limits.memoBytesMax ? 'memo-limit' : null;
}
