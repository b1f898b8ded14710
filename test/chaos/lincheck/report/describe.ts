// How reports name operations, states and times; shared by the text and the HTML report.

import type { Model } from '../model.js';
import { isUnknownOutput, type Operation } from '../operation.js';

export function describeOperation<I, O, S>(model: Model<I, O, S>, op: Operation<I, O>): string {
  if (model.describeOperation) return model.describeOperation(op.input, op.output);
  const output = isUnknownOutput(op.output) ? '?' : JSON.stringify(op.output);
  return `${JSON.stringify(op.input)} → ${output}`;
}

export function describeState<I, O, S>(model: Model<I, O, S>, state: S): string {
  return model.describeState ? model.describeState(state) : JSON.stringify(state);
}

export function formatTime(time: number): string {
  return time === Number.POSITIVE_INFINITY ? '∞' : String(time);
}

/** "[12, 15]" or "[12, ∞)" for an operation that never returned. */
export function formatInterval(op: Operation<unknown, unknown>): string {
  return op.return === Number.POSITIVE_INFINITY ? `[${op.call}, ∞)` : `[${op.call}, ${op.return}]`;
}

export function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}
