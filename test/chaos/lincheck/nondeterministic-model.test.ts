import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { check } from './check.js';
import { determinize, type NondeterministicModel } from './nondeterministic-model.js';
import { UNKNOWN_OUTPUT, isUnknownOutput, type Observed, type Operation } from './operation.js';

// A set of names where "create" answers with an id the server picks (any unused one of 1..3)
// and "lookup" reports the id a name got: the kind of state a CubeFS users model will have.
type NamesInput = { readonly f: 'create' | 'lookup'; readonly name: string };
type NamesOutput = { readonly id: number | null };
type NamesState = ReadonlyMap<string, number>;
const IDS = [1, 2, 3];

const namesModel: NondeterministicModel<NamesInput, NamesOutput, NamesState> = {
  name: 'names',
  init: () => [new Map()],
  step(state, input, output) {
    if (input.f === 'lookup') {
      return isUnknownOutput(output) || output.id === (state.get(input.name) ?? null) ? [state] : [];
    }
    if (state.has(input.name)) return [];
    const used = new Set(state.values());
    return IDS.filter((id) => !used.has(id) && (isUnknownOutput(output) || output.id === id)).map((id) => new Map(state).set(input.name, id));
  },
  isReadOnly: (input) => input.f === 'lookup',
  equal: (a, b) => a.size === b.size && [...a].every(([name, id]) => b.get(name) === id),
  hash: (state) => [...state.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, id]) => `${name}=${id}`).join(','),
};

type NamesOp = Operation<NamesInput, NamesOutput>;
const op = (clientId: number, call: number, ret: number, input: NamesInput, output: Observed<NamesOutput>): NamesOp => ({
  clientId, call, return: ret, input, output,
});

void describe('nondeterministic models, determinized', () => {
  const model = determinize(namesModel);

  void it('accepts any id the server may pick, as long as lookups agree', () => {
    const history = [op(0, 0, 1, { f: 'create', name: 'a' }, { id: 2 }), op(1, 2, 3, { f: 'lookup', name: 'a' }, { id: 2 })];
    assert.equal(check(model, history).verdict, 'linearizable');
  });

  void it('rejects a lookup that disagrees with the id create returned', () => {
    const history = [op(0, 0, 1, { f: 'create', name: 'a' }, { id: 2 }), op(1, 2, 3, { f: 'lookup', name: 'a' }, { id: 3 })];
    assert.equal(check(model, history).verdict, 'not-linearizable');
  });

  void it('keeps every id an indeterminate create may have picked, and its not happening', () => {
    const create = op(0, 0, Infinity, { f: 'create', name: 'a' }, UNKNOWN_OUTPUT);
    const lookup = (id: number | null): NamesOp => op(1, 2, 3, { f: 'lookup', name: 'a' }, { id });
    assert.equal(check(model, [create, lookup(3)]).verdict, 'linearizable');
    assert.equal(check(model, [create, lookup(null)]).verdict, 'linearizable');
    assert.equal(check(model, [create, lookup(4)]).verdict, 'not-linearizable');
  });
});
