// Jepsen's single register (the "cas-register" of Knossos and Porcupine's etcd model): one
// value, initially nil, with read, write and compare-and-set.

import { unreachable } from '../../../../src/util/assert.js';
import type { Model } from '../model.js';
import { isUnknownOutput, type Observed } from '../operation.js';

/** null is Jepsen's nil: the register was never written. */
export type RegisterValue = number | null;

export type RegisterInput =
  | { readonly f: 'read' }
  | { readonly f: 'write'; readonly value: RegisterValue }
  | { readonly f: 'cas'; readonly expected: RegisterValue; readonly next: RegisterValue };

export type RegisterOutput =
  | { readonly f: 'read'; readonly value: RegisterValue }
  | { readonly f: 'write' }
  /** `swapped: false` is an observation too: the value was not `expected` at that moment. */
  | { readonly f: 'cas'; readonly swapped: boolean };

const show = (value: RegisterValue): string => (value === null ? 'nil' : String(value));

export const registerModel: Model<RegisterInput, RegisterOutput, RegisterValue> = {
  name: 'register',
  init: () => null,

  step(state, input, output: Observed<RegisterOutput>) {
    const unknown = isUnknownOutput(output);
    switch (input.f) {
      case 'read':
        // A read whose answer was lost says nothing.
        return { ok: unknown || (output.f === 'read' && output.value === state), state };
      case 'write':
        return { ok: unknown || output.f === 'write', state: input.value };
      case 'cas': {
        const swaps = state === input.expected;
        const ok = unknown || (output.f === 'cas' && output.swapped === swaps);
        return { ok, state: swaps ? input.next : state };
      }
      default:
        return unreachable(input, 'register input');
    }
  },

  isReadOnly: (input) => input.f === 'read',
  equal: (a, b) => a === b,
  hash: (state) => show(state),

  describeOperation(input, output) {
    const answer = isUnknownOutput(output) ? ' → ?' : '';
    switch (input.f) {
      case 'read':
        return `read → ${isUnknownOutput(output) || output.f !== 'read' ? '?' : show(output.value)}`;
      case 'write':
        return `write ${show(input.value)}${answer}`;
      case 'cas': {
        const result = isUnknownOutput(output) || output.f !== 'cas' ? '?' : output.swapped ? 'ok' : 'failed';
        return `cas ${show(input.expected)}→${show(input.next)} → ${result}`;
      }
      default:
        return unreachable(input, 'register input');
    }
  },
  describeState: (state) => show(state),
};
