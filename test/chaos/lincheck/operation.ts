// One client operation of a recorded history, the unit the linearizability checker orders.
//
// Times are only compared with each other (real-time order: A precedes B iff A.return < B.call),
// so any monotonic clock works: wall-clock milliseconds, or the line number of a log.

/**
 * The output of an operation whose answer the client never saw (timeout, 503, dropped connection,
 * Jepsen `:info`). A model must accept it in every state: the checker relies on that to place
 * such an operation anywhere after its call, or after everything else (which is "never").
 */
export const UNKNOWN_OUTPUT: unique symbol = Symbol('unknown-output');
export type UnknownOutput = typeof UNKNOWN_OUTPUT;

/** What the client observed: the output, or nothing at all. */
export type Observed<O> = O | UnknownOutput;

export interface Operation<I, O> {
  /** Who issued it; only used to draw lanes and to name the operation in reports. */
  readonly clientId: number;
  readonly input: I;
  /** When the client sent it. */
  readonly call: number;
  /**
   * When the client got its answer; `+Infinity` when it never did (indeterminate): the operation
   * may take effect at any time after its call, or not at all.
   */
  readonly return: number;
  readonly output: Observed<O>;
}

export function isIndeterminate(op: Operation<unknown, unknown>): boolean {
  return op.return === Number.POSITIVE_INFINITY;
}

export function isUnknownOutput<O>(output: Observed<O>): output is UnknownOutput {
  return output === UNKNOWN_OUTPUT;
}
