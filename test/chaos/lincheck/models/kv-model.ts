// A key-value store with get, put and append on string keys (Porcupine's kv model). Keys are
// independent, so the history is checked one key at a time; the state is then that key's value.

import { unreachable } from '../../../../src/util/assert.js';
import type { Model } from '../model.js';
import { isUnknownOutput, type Operation } from '../operation.js';

export type KvInput =
  | { readonly f: 'get'; readonly key: string }
  | { readonly f: 'put'; readonly key: string; readonly value: string }
  | { readonly f: 'append'; readonly key: string; readonly value: string };

export type KvOutput = { readonly f: 'get'; readonly value: string } | { readonly f: 'put' | 'append' };

/** A key that was never written reads as the empty string, as in the recorded store. */
const INITIAL_VALUE = '';

export const kvModel: Model<KvInput, KvOutput, string> = {
  name: 'kv',
  init: () => INITIAL_VALUE,

  step(state, input, output) {
    const unknown = isUnknownOutput(output);
    switch (input.f) {
      case 'get':
        return { ok: unknown || (output.f === 'get' && output.value === state), state };
      case 'put':
        return { ok: unknown || output.f === 'put', state: input.value };
      case 'append':
        return { ok: unknown || output.f === 'append', state: state + input.value };
      default:
        return unreachable(input, 'kv input');
    }
  },

  partition(history) {
    const byKey = new Map<string, Operation<KvInput, KvOutput>[]>();
    for (const op of history) {
      const ops = byKey.get(op.input.key);
      if (ops) ops.push(op);
      else byKey.set(op.input.key, [op]);
    }
    return [...byKey.values()];
  },

  isReadOnly: (input) => input.f === 'get',
  equal: (a, b) => a === b,
  // The value itself: V8 caches a string's hash, so the memo hashes each state once.
  hash: (state) => state,

  describeOperation(input, output) {
    switch (input.f) {
      case 'get':
        return `get(${JSON.stringify(input.key)}) → ${isUnknownOutput(output) || output.f !== 'get' ? '?' : JSON.stringify(output.value)}`;
      case 'put':
      case 'append':
        return `${input.f}(${JSON.stringify(input.key)}, ${JSON.stringify(input.value)})${isUnknownOutput(output) ? ' → ?' : ''}`;
      default:
        return unreachable(input, 'kv input');
    }
  },
  describeState: (state) => JSON.stringify(state),
};
