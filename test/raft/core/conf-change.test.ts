// Single-server membership changes (Raft thesis 4.1): the entry payload codec, the leader's
// validation of a proposed change, and the total apply function every member runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyConfChange,
  ConfChangeType,
  confChangeProblem,
  confStatesEqual,
  decodeConfChange,
  describeConfChange,
  encodeConfChange,
  isMember,
  type ConfChange,
} from '../../../src/raft/core/conf-change.js';
import type { ConfState } from '../../../src/raft/core/types.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const change = (type: ConfChangeType, nodeId: number, context: Uint8Array = new Uint8Array(0)): ConfChange => ({ type, nodeId, context });

void describe('conf change', () => {
  void describe('codec', () => {
    const cases: ConfChange[] = [
      change(ConfChangeType.AddVoter, 1),
      change(ConfChangeType.AddLearner, 4, bytes('10.0.0.4:17010')),
      change(ConfChangeType.RemoveNode, 0xffffffff),
      change(ConfChangeType.AddVoter, 0x1_0000_0001, bytes('x')), // above 32 bits
      change(ConfChangeType.AddVoter, Number.MAX_SAFE_INTEGER),
    ];
    for (const c of cases) {
      void it(`round-trips ${describeConfChange(c)} with ${c.context.byteLength} context bytes`, () => {
        const encoded = encodeConfChange(c);
        assert.equal(encoded.byteLength, 9 + c.context.byteLength);
        const decoded = decodeConfChange(encoded);
        assert.equal(decoded.type, c.type);
        assert.equal(decoded.nodeId, c.nodeId);
        assert.deepEqual([...decoded.context], [...c.context]);
      });
    }

    void it('decodes a payload that sits inside a larger buffer', () => {
      const inner = encodeConfChange(change(ConfChangeType.RemoveNode, 7, bytes('ctx')));
      const outer = new Uint8Array(inner.byteLength + 5);
      outer.set(inner, 3);
      const decoded = decodeConfChange(outer.subarray(3, 3 + inner.byteLength));
      assert.equal(decoded.nodeId, 7);
      assert.equal(new TextDecoder().decode(decoded.context), 'ctx');
    });

    void it('refuses a payload shorter than its header', () => {
      assert.throws(() => decodeConfChange(new Uint8Array(8)), /shorter than its header/);
    });

    void it('refuses an unknown change type', () => {
      const data = encodeConfChange(change(ConfChangeType.AddVoter, 1));
      data[0] = 9;
      assert.throws(() => decodeConfChange(data), /unknown conf change type 9/);
    });

    void it('describes a change for traces', () => {
      assert.equal(describeConfChange(change(ConfChangeType.AddLearner, 4)), 'add-learner 4');
      assert.equal(describeConfChange(change(ConfChangeType.RemoveNode, 2)), 'remove-node 2');
    });
  });

  void describe('confChangeProblem', () => {
    const conf: ConfState = { voters: [1, 2, 3], learners: [4] };
    const rows: [what: string, conf: ConfState, change: ConfChange, problem: string | null][] = [
      ['a zero node id', conf, change(ConfChangeType.AddVoter, 0), 'node id 0 is not a positive integer'],
      ['a negative node id', conf, change(ConfChangeType.AddLearner, -2), 'node id -2 is not a positive integer'],
      ['a fractional node id', conf, change(ConfChangeType.AddVoter, 1.5), 'node id 1.5 is not a positive integer'],
      ['an unsafe integer node id', conf, change(ConfChangeType.AddVoter, 2 ** 53), `node id ${2 ** 53} is not a positive integer`],
      ['adding an existing voter', conf, change(ConfChangeType.AddVoter, 2), 'node 2 is already a voter'],
      ['adding a voter as learner (demotion)', conf, change(ConfChangeType.AddLearner, 3), 'node 3 is a voter; demotion is not supported'],
      ['adding an existing learner', conf, change(ConfChangeType.AddLearner, 4), 'node 4 is already a learner'],
      ['removing a non-member', conf, change(ConfChangeType.RemoveNode, 9), 'node 9 is not a member'],
      ['removing the last voter', { voters: [5], learners: [6] }, change(ConfChangeType.RemoveNode, 5), 'node 5 is the last voter'],
      ['adding a new voter', conf, change(ConfChangeType.AddVoter, 5), null],
      ['promoting a learner', conf, change(ConfChangeType.AddVoter, 4), null],
      ['adding a new learner', conf, change(ConfChangeType.AddLearner, 5), null],
      ['removing a learner', conf, change(ConfChangeType.RemoveNode, 4), null],
      ['removing a voter', conf, change(ConfChangeType.RemoveNode, 1), null],
      ['removing the last learner of a single voter', { voters: [5], learners: [6] }, change(ConfChangeType.RemoveNode, 6), null],
      ['adding the first voter', { voters: [], learners: [] }, change(ConfChangeType.AddVoter, 1), null],
    ];
    for (const [what, c, ch, problem] of rows) {
      void it(`${problem === null ? 'accepts' : 'refuses'} ${what}`, () => {
        assert.equal(confChangeProblem(c, ch), problem);
      });
    }
  });

  void describe('applyConfChange', () => {
    const conf: ConfState = { voters: [1, 2, 3], learners: [4] };
    const rows: [what: string, conf: ConfState, change: ConfChange, after: ConfState][] = [
      ['adds a voter, keeping ids sorted', { voters: [1, 3], learners: [] }, change(ConfChangeType.AddVoter, 2), { voters: [1, 2, 3], learners: [] }],
      ['promotes a learner', conf, change(ConfChangeType.AddVoter, 4), { voters: [1, 2, 3, 4], learners: [] }],
      ['adds a learner', conf, change(ConfChangeType.AddLearner, 0x1_0000_0000), { voters: [1, 2, 3], learners: [4, 0x1_0000_0000] }],
      ['removes a voter', conf, change(ConfChangeType.RemoveNode, 2), { voters: [1, 3], learners: [4] }],
      ['removes a learner', conf, change(ConfChangeType.RemoveNode, 4), { voters: [1, 2, 3], learners: [] }],
      ['leaves the last voter in place', { voters: [5], learners: [] }, change(ConfChangeType.RemoveNode, 5), { voters: [5], learners: [] }],
      ['does not demote a voter to learner', conf, change(ConfChangeType.AddLearner, 1), conf],
      ['removes a non-member as a no-op', conf, change(ConfChangeType.RemoveNode, 9), conf],
      ['adds an existing voter as a no-op', conf, change(ConfChangeType.AddVoter, 3), conf],
    ];
    for (const [what, before, ch, after] of rows) {
      void it(what, () => {
        const result = applyConfChange(before, ch);
        assert.deepEqual(result, after);
        assert.ok(confStatesEqual(result, after));
      });
    }

    void it('does not modify its input', () => {
      const before: ConfState = { voters: [2, 1], learners: [3] };
      applyConfChange(before, change(ConfChangeType.AddVoter, 3));
      assert.deepEqual(before, { voters: [2, 1], learners: [3] });
    });

    void it('rebuilds a bootstrap configuration one voter at a time', () => {
      let conf: ConfState = { voters: [], learners: [] };
      for (const id of [3, 1, 2]) conf = applyConfChange(conf, change(ConfChangeType.AddVoter, id));
      assert.deepEqual(conf, { voters: [1, 2, 3], learners: [] });
    });
  });

  void it('tells members apart from strangers', () => {
    const conf: ConfState = { voters: [1, 2], learners: [3] };
    assert.deepEqual([1, 2, 3, 4].map((id) => isMember(conf, id)), [true, true, true, false]);
  });

  void it('compares configurations by their voters and learners', () => {
    assert.ok(confStatesEqual({ voters: [1, 2], learners: [3] }, { voters: [1, 2], learners: [3] }));
    assert.ok(!confStatesEqual({ voters: [1, 2], learners: [3] }, { voters: [1, 2, 3], learners: [] }));
    assert.ok(!confStatesEqual({ voters: [1, 2], learners: [] }, { voters: [1, 3], learners: [] }));
  });
});
