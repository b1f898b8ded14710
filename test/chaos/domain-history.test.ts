import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CubeInput, CubeOperation, CubeOutput } from './cubefs-model.js';
import { REMOVAL_CLIENT_ID, withDomainEffects } from './domain-history.js';
import { UNKNOWN_OUTPUT } from './lincheck/operation.js';

const V = 'vol1';

function op(clientId: number, call: number, ret: number, input: CubeInput, output?: CubeOutput): CubeOperation {
  return ret === Infinity ? { clientId, call, return: ret, input, output: UNKNOWN_OUTPUT } : { clientId, call, return: ret, input, output: output! };
}

const create = (c: number, call: number, ret: number, output: CubeOutput | undefined, description = `d${c}_${call}`): CubeOperation =>
  op(c, call, ret, { f: 'vol.create', name: V, owner: 'o', capacity: 10, replicaNum: 3, description }, output);
const DONE: CubeOutput = { kind: 'done' };
const DUP: CubeOutput = { kind: 'volRefused', reason: 'duplicate' };
const FAILED: CubeOutput = { kind: 'volRefused', reason: 'createFailed' };
const shows = (description: string): CubeOutput => ({ kind: 'vol', name: V, owner: 'o', capacity: 10, replicaNum: 3, description, status: 0 });
const get = (c: number, call: number, ret: number, output: CubeOutput): CubeOperation => op(c, call, ret, { f: 'vol.get', name: V }, output);

const marked = (history: CubeOperation[]): boolean[] =>
  withDomainEffects(history)
    .filter((o) => o.input.f === 'vol.create' || o.input.f === 'vol.get')
    .map((o) => (o.input.f === 'vol.create' ? o.input.intentMayHold === true : o.input.f === 'vol.get' && o.input.intentMayShow === true));

void describe('domain history: what the leader does by itself', () => {
  void it('adds a removal per delete that may have marked, numbered in call order per name', () => {
    const del = (c: number, call: number, ret: number, output?: CubeOutput, name = V): CubeOperation => op(c, call, ret, { f: 'vol.delete', name, owner: 'o' }, output);
    const out = withDomainEffects([del(0, 5, 6, DONE), del(1, 1, Infinity), del(2, 2, 3, { kind: 'error', code: 7 }), del(3, 4, 5, DONE, 'vol2'), del(0, 7, 8, { kind: 'error', code: 34 })]);
    const removals = out.filter((o) => o.input.f === 'vol.removal');
    assert.deepEqual(
      removals.map((o) => [o.input, o.call, o.return, o.clientId]),
      [
        [{ f: 'vol.removal', name: V, seq: 0 }, 1, Infinity, REMOVAL_CLIENT_ID],
        [{ f: 'vol.removal', name: 'vol2', seq: 0 }, 4, Infinity, REMOVAL_CLIENT_ID],
        [{ f: 'vol.removal', name: V, seq: 1 }, 5, Infinity, REMOVAL_CLIENT_ID],
      ],
    );
    assert.ok(out.every((o, i) => i === 0 || out[i - 1].call <= o.call), 'sorted by call');
  });

  void it("marks a duplicate only when another create's intent may have held the name", () => {
    // Overlapping an acknowledged create (its begin..commit window): marked.
    assert.deepEqual(marked([create(0, 0, 10, DONE), create(1, 2, 3, DUP)]), [false, true]);
    // After the acknowledged create returned: the vol itself must explain it.
    assert.deepEqual(marked([create(0, 0, 1, DONE), create(1, 2, 3, DUP)]), [false, false]);
    // Alone: no intent but its own, which does not count.
    assert.deepEqual(marked([create(1, 2, 3, DUP)]), [false]);
    // After a failed create: until an acknowledged create called after it returned.
    assert.deepEqual(marked([create(0, 0, 1, FAILED), create(1, 5, 6, DUP)]), [false, true]);
    assert.deepEqual(marked([create(0, 0, 1, FAILED), create(2, 2, 3, DONE), create(1, 5, 6, DUP)]), [false, false, false]);
    // After a lost create: always (its begin may apply any time).
    assert.deepEqual(marked([create(0, 0, Infinity, undefined), create(2, 2, 3, DONE), create(1, 5, 6, DUP)]), [false, false, true]);
    // Another duplicate holds no intent.
    assert.deepEqual(marked([create(0, 0, 10, DUP), create(1, 2, 3, DUP)]), [false, false]);
  });

  void it('marks a getVol that shows the fields of a create whose intent may have been there', () => {
    assert.deepEqual(marked([create(0, 0, 10, DONE, 'a'), get(1, 2, 3, shows('a'))]), [false, true]);
    assert.deepEqual(marked([create(0, 0, 1, DONE, 'a'), get(1, 2, 3, shows('a'))]), [false, false]);
    assert.deepEqual(marked([create(0, 0, 10, DONE, 'a'), get(1, 2, 3, shows('b'))]), [false, false]);
    assert.deepEqual(marked([create(0, 0, 1, FAILED, 'a'), get(1, 5, 6, shows('a'))]), [false, true]);
    assert.deepEqual(marked([create(0, 5, 6, FAILED, 'a'), get(1, 0, 1, shows('a'))]), [false, false]);
  });
});
