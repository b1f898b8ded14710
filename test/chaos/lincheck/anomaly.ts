// What to show a person when a history is not linearizable: not the whole history, but the
// window around the point where every ordering fails (cf. Porcupine's partial linearizations).
//
// The search reports the furthest return event any ordering reached with its operation still
// not linearized. Every operation returning before that point is in the longest prefix; the
// ones left are all pending at that point (called before it, returning at or after it), and
// none of them can extend the prefix into a full linearization. The window spans from the
// earliest call among them to the failure point, and holds every operation overlapping it.

import type { Model } from './model.js';
import { isIndeterminate, type Operation } from './operation.js';
import type { FurthestPoint } from './search.js';

export interface PendingAtFailure {
  readonly opIndex: number;
  /** Whether the model accepts it right after the prefix (if so, it dead-ends later instead). */
  readonly acceptedAfterPrefix: boolean;
}

export interface Anomaly<I, O, S> {
  /** Which of the model's partitions (e.g. which key) failed, counting from 0. */
  readonly partitionIndex: number;
  readonly partitionCount: number;
  /** The failing partition's operations; every index below points into this. */
  readonly operations: readonly Operation<I, O>[];
  /** Each operation's index in the full history given to `check`, to name it in reports. */
  readonly historyIds: readonly number[];
  /** The longest linearizable prefix found, in linearization order. */
  readonly prefix: readonly number[];
  readonly stateAfterPrefix: S;
  /** The operation whose return no ordering gets past. */
  readonly blockedOpIndex: number;
  readonly failureTime: number;
  /** Operations not in the prefix that were called by the failure point, by call time. */
  readonly pending: readonly PendingAtFailure[];
  readonly windowStart: number;
  /** Every operation overlapping [windowStart, failureTime], by call time. */
  readonly window: readonly number[];
}

export function buildAnomaly<I, O, S>(
  model: Model<I, O, S>,
  operations: readonly Operation<I, O>[],
  historyIds: readonly number[],
  furthest: FurthestPoint<S>,
  partitionIndex: number,
  partitionCount: number,
): Anomaly<I, O, S> {
  const failureTime = furthest.blockedAt;
  const inPrefix = new Set(furthest.prefix);
  const byCall = (a: number, b: number): number => operations[a].call - operations[b].call || a - b;

  const pending = operations
    .map((_, opIndex) => opIndex)
    .filter((opIndex) => !inPrefix.has(opIndex) && operations[opIndex].call <= failureTime)
    .sort(byCall)
    .map((opIndex) => {
      const op = operations[opIndex];
      return { opIndex, acceptedAfterPrefix: model.step(furthest.stateAfterPrefix, op.input, op.output).ok };
    });
  // Indeterminate operations stay pending forever, so one called near the start would stretch
  // the window over the whole history; the window starts at the earliest *determinate* pending
  // call instead (the indeterminate ones still show: they overlap it).
  const windowStart = Math.min(
    failureTime,
    ...pending.filter((p) => !isIndeterminate(operations[p.opIndex])).map((p) => operations[p.opIndex].call),
  );
  const window = operations
    .map((_, opIndex) => opIndex)
    .filter((opIndex) => operations[opIndex].call <= failureTime && operations[opIndex].return >= windowStart)
    .sort(byCall);

  return {
    partitionIndex,
    partitionCount,
    operations,
    historyIds,
    prefix: furthest.prefix,
    stateAfterPrefix: furthest.stateAfterPrefix,
    blockedOpIndex: furthest.blockedOpIndex,
    failureTime,
    pending,
    windowStart,
    window,
  };
}
