// Some specifications have several possible next states for one operation (the server picks an
// id, an indeterminate create may or may not have happened). The search wants one state per
// step, so, as Porcupine does, we search over *sets* of states: the set of every state the
// sequence so far could have left. An operation is possible iff it is possible from some state.

import type { Model, StepResult } from './model.js';
import type { Observed, Operation } from './operation.js';

export interface NondeterministicModel<I, O, S> {
  readonly name: string;
  /** Every possible initial state (usually one). */
  init(): S[];
  /** Every state the operation can leave with this output; empty when the output is impossible. */
  step(state: S, input: I, output: Observed<O>): S[];
  partition?(history: readonly Operation<I, O>[]): Operation<I, O>[][];
  isReadOnly?(input: I): boolean;
  equal(a: S, b: S): boolean;
  hash(state: S): string;
  describeOperation?(input: I, output: Observed<O>): string;
  describeState?(state: S): string;
}

/** A set of states, kept sorted by hash so that equal sets hash equally. */
export type StateSet<S> = readonly S[];

export function determinize<I, O, S>(model: NondeterministicModel<I, O, S>): Model<I, O, StateSet<S>> {
  const normalize = (states: readonly S[]): S[] => {
    const unique: S[] = [];
    for (const candidate of states) {
      if (!unique.some((kept) => model.equal(kept, candidate))) unique.push(candidate);
    }
    // Sorting by hash makes the set's hash independent of the order states were found in;
    // states with equal hashes but different values are compared by `equal` anyway.
    return unique
      .map((state) => ({ state, hash: model.hash(state) }))
      .sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))
      .map((entry) => entry.state);
  };

  const determinized: Model<I, O, StateSet<S>> = {
    name: model.name,
    init: () => normalize(model.init()),
    step(states: StateSet<S>, input: I, output: Observed<O>): StepResult<StateSet<S>> {
      const next = normalize(states.flatMap((state) => model.step(state, input, output)));
      return { ok: next.length > 0, state: next };
    },
    equal(a: StateSet<S>, b: StateSet<S>): boolean {
      // Both are normalized, so set equality is "same size and every member found in the other".
      return a.length === b.length && a.every((x) => b.some((y) => model.equal(x, y)));
    },
    hash: (states: StateSet<S>) => states.map((state) => model.hash(state)).join('\u0001'),
    describeState: (states: StateSet<S>) =>
      `{${states.map((state) => (model.describeState ? model.describeState(state) : JSON.stringify(state))).join(' | ')}}`,
  };
  if (model.partition) determinized.partition = model.partition.bind(model);
  if (model.isReadOnly) determinized.isReadOnly = model.isReadOnly.bind(model);
  if (model.describeOperation) determinized.describeOperation = model.describeOperation.bind(model);
  return determinized;
}
