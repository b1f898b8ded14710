// A deliberately naive linearizability check, to test the real one against: try every subset
// of indeterminate operations as "never happened", and every order of the rest that respects
// real time. Exponential; only for histories of a handful of operations.

import { assert } from '../../../src/util/assert.js';
import type { Model } from './model.js';
import { isIndeterminate, type Operation } from './operation.js';

const OPERATIONS_MAX = 9;

export function bruteForceLinearizable<I, O, S>(model: Model<I, O, S>, ops: readonly Operation<I, O>[]): boolean {
  assert(ops.length <= OPERATIONS_MAX, 'brute force is for tiny histories only');
  const indeterminate = ops.map((_, i) => i).filter((i) => isIndeterminate(ops[i]));
  for (let dropMask = 0; dropMask < 1 << indeterminate.length; dropMask++) {
    const dropped = new Set(indeterminate.filter((_, bit) => (dropMask & (1 << bit)) !== 0));
    const kept = ops.map((_, i) => i).filter((i) => !dropped.has(i));
    if (someOrderWorks(model, ops, kept, [], model.init())) return true;
  }
  return false;
}

function someOrderWorks<I, O, S>(model: Model<I, O, S>, ops: readonly Operation<I, O>[], remaining: number[], placed: number[], state: S): boolean {
  if (remaining.length === 0) return true;
  for (const candidate of remaining) {
    // It may go next only if nothing still remaining returned before it was called.
    if (remaining.some((other) => other !== candidate && ops[other].return < ops[candidate].call)) continue;
    const result = model.step(state, ops[candidate].input, ops[candidate].output);
    if (!result.ok) continue;
    const rest = remaining.filter((i) => i !== candidate);
    if (someOrderWorks(model, ops, rest, [...placed, candidate], result.state)) return true;
  }
  return false;
}
