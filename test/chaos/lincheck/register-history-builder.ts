// Terse builders for hand-made register histories in tests: `write(client, call, ret, value)`.
// A `ret` of LOST makes the operation indeterminate (no answer seen).

import type { RegisterInput, RegisterOutput, RegisterValue } from './models/register-model.js';
import { UNKNOWN_OUTPUT, type Operation } from './operation.js';

export type RegisterOp = Operation<RegisterInput, RegisterOutput>;

/** The return time of an operation whose answer never came. */
export const LOST = Number.POSITIVE_INFINITY;

const answered = <T extends RegisterOutput>(ret: number, output: T): T | typeof UNKNOWN_OUTPUT =>
  ret === LOST ? UNKNOWN_OUTPUT : output;

export function read(clientId: number, call: number, ret: number, value: RegisterValue): RegisterOp {
  return { clientId, call, return: ret, input: { f: 'read' }, output: answered(ret, { f: 'read', value }) };
}

export function write(clientId: number, call: number, ret: number, value: RegisterValue): RegisterOp {
  return { clientId, call, return: ret, input: { f: 'write', value }, output: answered(ret, { f: 'write' }) };
}

export function cas(clientId: number, call: number, ret: number, expected: RegisterValue, next: RegisterValue, swapped = true): RegisterOp {
  return { clientId, call, return: ret, input: { f: 'cas', expected, next }, output: answered(ret, { f: 'cas', swapped }) };
}
