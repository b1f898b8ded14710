// The sequential specification a history is checked against. A model is a pure state machine:
// the checker owns the search, the model only says whether one operation can follow a state.
//
// To add a model (e.g. a CubeFS one over users and volumes), implement `Model` in its own file
// next to models/register-model.ts; nothing in the checker needs to change. If an operation's
// effect depends on something the history does not show (an id the server picks), write a
// NondeterministicModel and wrap it with `determinize` (nondeterministic-model.ts).

import type { Observed, Operation } from './operation.js';

export interface StepResult<S> {
  /** Whether `output` is a possible answer to `input` in the state given. */
  readonly ok: boolean;
  /** The state after the operation; only read when `ok`. */
  readonly state: S;
}

export interface Model<I, O, S> {
  /** Shown in reports, e.g. "register". */
  readonly name: string;
  init(): S;
  /**
   * Applies one operation. Must be pure (never mutate `state`). When `output` is UNKNOWN_OUTPUT
   * the operation's answer was never seen: return `ok: true` with the state it would leave
   * (the checker asserts this; it is what lets an indeterminate write count as "maybe applied").
   */
  step(state: S, input: I, output: Observed<O>): StepResult<S>;
  /**
   * Splits a history into sub-histories that share no state (e.g. one per key), checked one by
   * one: a history is linearizable iff each part is (Herlihy & Wing's locality). Much faster
   * than checking the whole: the search is exponential in concurrency, and parts are narrower.
   */
  partition?(history: readonly Operation<I, O>[]): Operation<I, O>[][];
  /**
   * True when the operation never changes the state, whatever the state and output (a read).
   * Optional, but it prunes a lot: such an operation, once the model accepts it, is linearized
   * at once and never reordered. Wrongly true for an operation that writes breaks the check.
   */
  isReadOnly?(input: I): boolean;
  /** Structural equality of states; the memo cache compares states only through it. */
  equal(a: S, b: S): boolean;
  /** Equal states must have equal hashes. Called once per visited state, so keep it cheap. */
  hash(state: S): string;
  /** One-line description, e.g. "cas 1→4 ok". Defaults to JSON when absent. */
  describeOperation?(input: I, output: Observed<O>): string;
  describeState?(state: S): string;
}
