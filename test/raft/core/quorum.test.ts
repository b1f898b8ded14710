// Majority arithmetic (Raft paper 5.2, 5.3) over every cluster size we run (1 to 7 voters):
// explicit rows for reading, then an exhaustive check against the definitions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { committedIndex, hasQuorum, majority, voteResult, type VoteResult } from '../../../src/raft/core/quorum.js';
import type { NodeId } from '../../../src/raft/core/types.js';

function ids(n: number): NodeId[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** Every assignment of `values` to `n` positions. */
function* assignments<T>(n: number, values: readonly T[]): Generator<T[]> {
  const current = new Array<T>(n);
  function* fill(i: number): Generator<T[]> {
    if (i === n) {
      yield current.slice();
      return;
    }
    for (const v of values) {
      current[i] = v;
      yield* fill(i + 1);
    }
  }
  yield* fill(0);
}

void describe('quorum', () => {
  void it('needs a strict majority of voters', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(majority), [1, 2, 2, 3, 3, 4, 4]);
  });

  void describe('committedIndex', () => {
    // matches[i] is the match index of voter i+1.
    const rows: [matches: number[], committed: number][] = [
      [[5], 5],
      [[5, 3], 3],
      [[3, 5], 3],
      [[5, 4, 3], 4],
      [[0, 0, 7], 0],
      [[7, 7, 0], 7],
      [[9, 2, 6, 4], 4],
      [[9, 9, 1, 1], 1],
      [[5, 1, 4, 2, 3], 3],
      [[8, 8, 8, 0, 0], 8],
      [[8, 8, 0, 0, 0], 0],
      [[6, 5, 4, 3, 2, 1], 3],
      [[6, 6, 6, 1, 1, 1], 1],
      [[7, 1, 6, 2, 5, 3, 4], 4],
      [[9, 9, 9, 9, 0, 0, 0], 9],
      [[9, 9, 9, 0, 0, 0, 0], 0],
    ];
    for (const [matches, committed] of rows) {
      void it(`commits ${committed} when the voters' matches are [${matches.join(' ')}]`, () => {
        assert.equal(committedIndex(ids(matches.length), (id) => matches[id - 1]), committed);
      });
    }

    void it('commits nothing without voters', () => {
      assert.equal(committedIndex([], () => 10), 0);
    });

    void it('returns the largest index a majority has matched, for 1 to 7 voters and every match in 0..3', () => {
      for (let n = 1; n <= 7; n++) {
        for (const matches of assignments(n, [0, 1, 2, 3])) {
          const c = committedIndex(ids(n), (id) => matches[id - 1]);
          const atLeast = (index: number): number => matches.filter((m) => m >= index).length;
          assert.ok(atLeast(c) >= majority(n), `[${matches}] -> ${c}: not held by a majority`);
          assert.ok(atLeast(c + 1) < majority(n), `[${matches}] -> ${c}: ${c + 1} is held by a majority too`);
        }
      }
    });
  });

  void describe('voteResult', () => {
    // votes[i] is voter i+1's answer: 'y' granted, 'n' rejected, '-' not heard yet.
    const rows: [votes: string, result: VoteResult][] = [
      ['y', 'won'],
      ['n', 'lost'],
      ['-', 'pending'],
      ['y-', 'pending'],
      ['yy', 'won'],
      ['yn', 'lost'],
      ['y--', 'pending'],
      ['yy-', 'won'],
      ['yn-', 'pending'],
      ['ynn', 'lost'],
      ['yyn-', 'pending'],
      ['yyy-', 'won'],
      ['ynn-', 'lost'],
      ['yy---', 'pending'],
      ['yyy--', 'won'],
      ['ynnn-', 'lost'],
      ['yynn-', 'pending'],
      ['yyynnn', 'lost'],
      ['yyy---', 'pending'],
      ['yyyy--', 'won'],
      ['yyyy---', 'won'],
      ['yyynnnn', 'lost'],
      ['yyynnn-', 'pending'],
    ];
    for (const [votes, result] of rows) {
      void it(`is ${result} with votes ${votes}`, () => {
        assert.equal(voteResult(ids(votes.length), toVotes(votes)), result);
      });
    }

    void it('ignores votes from members that are not voters', () => {
      const votes = new Map<NodeId, boolean>([
        [1, true],
        [4, true],
        [5, true],
      ]);
      assert.equal(voteResult([1, 2, 3], votes), 'pending');
      assert.equal(voteResult([1, 2, 3], new Map([...votes, [2, false], [3, false]])), 'lost');
    });

    void it('agrees with the definition for 1 to 7 voters and every combination of answers', () => {
      for (let n = 1; n <= 7; n++) {
        for (const answers of assignments(n, ['y', 'n', '-'])) {
          const granted = answers.filter((a) => a === 'y').length;
          const missing = answers.filter((a) => a === '-').length;
          const expected: VoteResult = granted >= majority(n) ? 'won' : granted + missing < majority(n) ? 'lost' : 'pending';
          assert.equal(voteResult(ids(n), toVotes(answers.join(''))), expected, answers.join(''));
        }
      }
    });
  });

  void describe('hasQuorum', () => {
    void it('is true only when a majority of voters is active', () => {
      assert.equal(hasQuorum([1, 2, 3], (id) => id !== 3), true);
      assert.equal(hasQuorum([1, 2, 3], (id) => id === 1), false);
      assert.equal(hasQuorum([1, 2, 3, 4], (id) => id <= 2), false);
      assert.equal(hasQuorum([1, 2, 3, 4], (id) => id <= 3), true);
      assert.equal(hasQuorum([7], (id) => id === 7), true);
    });

    void it('is false for an empty configuration', () => {
      assert.equal(hasQuorum([], () => true), false);
    });
  });
});

function toVotes(answers: string): Map<NodeId, boolean> {
  const votes = new Map<NodeId, boolean>();
  [...answers].forEach((a, i) => {
    if (a !== '-') votes.set(i + 1, a === 'y');
  });
  return votes;
}
