// The log (Raft paper 5.3, 5.4.1) and its unstable tail: conflict detection, the follower's
// append with truncation, slices across the durable/unstable boundary, and snapshot restore.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RaftLog } from '../../../src/raft/core/log.js';
import { CompactedError, MemoryStorage } from '../../../src/raft/core/storage.js';
import { EntryType, type Entry } from '../../../src/raft/core/types.js';
import { Unstable } from '../../../src/raft/core/unstable.js';

const encoder = new TextEncoder();

function entry(index: number, term: number, data = ''): Entry {
  return { index, term, type: EntryType.Normal, data: encoder.encode(data) };
}

/** Entries first..first+terms.length-1 with the given terms. */
function entries(first: number, terms: readonly number[], data = ''): Entry[] {
  return terms.map((term, i) => entry(first + i, term, data));
}

/** A log whose durable part holds `stored` (from index 1) and whose unstable tail holds `unstable`. */
function logWith(stored: readonly Entry[], unstable: readonly Entry[] = []): RaftLog {
  const storage = new MemoryStorage();
  storage.append(stored);
  const log = new RaftLog(storage, Infinity);
  if (unstable.length > 0) log.append(unstable);
  return log;
}

function ids(list: readonly Entry[]): string[] {
  return list.map((e) => `${e.term}/${e.index}`);
}

function allEntries(log: RaftLog): string[] {
  return ids(log.slice(log.firstIndex(), log.lastIndex() + 1, Infinity));
}

void describe('RaftLog', () => {
  void describe('findConflict', () => {
    const log = logWith(entries(1, [1, 2, 3]));
    const rows: [what: string, incoming: Entry[], conflict: number][] = [
      ['no entries', [], 0],
      ['entries we all hold', entries(1, [1, 2, 3]), 0],
      ['a suffix we hold', entries(2, [2, 3]), 0],
      ['the last entry we hold', entries(3, [3]), 0],
      ['held entries followed by new ones', entries(1, [1, 2, 3, 4, 4]), 4],
      ['only new entries', entries(4, [4, 4]), 4],
      ['a conflict at the first index', entries(1, [4, 4]), 1],
      ['a conflict in the middle', entries(1, [1, 4, 4]), 2],
      ['a conflict at the last index', entries(3, [4, 4]), 3],
    ];
    for (const [what, incoming, conflict] of rows) {
      void it(`returns ${conflict} for ${what}`, () => {
        assert.equal(log.findConflict(incoming), conflict);
      });
    }
  });

  void describe('findConflictByTerm', () => {
    // Terms by index: 1:2 2:2 3:5 4:5 5:5 6:7
    const log = logWith(entries(1, [2, 2, 5, 5, 5, 7]));
    const rows: [index: number, term: number, hint: { index: number; term: number }][] = [
      [6, 7, { index: 6, term: 7 }], // the entry itself matches
      [6, 6, { index: 5, term: 5 }], // skips the whole term 7
      [6, 5, { index: 5, term: 5 }],
      [5, 4, { index: 2, term: 2 }], // skips all of term 5 at once
      [4, 2, { index: 2, term: 2 }],
      [6, 1, { index: 0, term: 0 }], // nothing is old enough: probe from the start
      [2, 9, { index: 2, term: 2 }],
      [0, 3, { index: 0, term: 0 }],
    ];
    for (const [index, term, hint] of rows) {
      void it(`hints ${hint.term}/${hint.index} for a rejected append at ${index} with term ${term}`, () => {
        assert.deepEqual(log.findConflictByTerm(index, term), hint);
      });
    }

    void it('stops at the compacted part with term 0', () => {
      const storage = new MemoryStorage();
      storage.append(entries(1, [1, 1, 3, 3, 4]));
      storage.compact(3, { voters: [1], learners: [] });
      const compacted = new RaftLog(storage, Infinity);
      assert.deepEqual(compacted.findConflictByTerm(5, 3), { index: 4, term: 3 });
      assert.deepEqual(compacted.findConflictByTerm(5, 2), { index: 2, term: 0 });
    });
  });

  void describe('maybeAppend', () => {
    void it('rejects an append whose previous entry has another term', () => {
      const log = logWith(entries(1, [1, 1, 2]));
      assert.equal(log.maybeAppend(3, 1, 3, entries(4, [3])), null);
      assert.deepEqual(allEntries(log), ['1/1', '1/2', '2/3']);
      assert.equal(log.committed, 0);
    });

    void it('rejects an append after an index beyond the log', () => {
      const log = logWith(entries(1, [1, 1]));
      assert.equal(log.maybeAppend(4, 1, 0, entries(5, [1])), null);
    });

    void it('appends new entries at the end', () => {
      const log = logWith(entries(1, [1, 1]));
      assert.notEqual(log.maybeAppend(2, 1, 1, entries(3, [2, 2])), null);
      assert.deepEqual(allEntries(log), ['1/1', '1/2', '2/3', '2/4']);
      assert.deepEqual(ids(log.unstable.nextEntries()), ['2/3', '2/4']);
      assert.equal(log.committed, 1);
    });

    void it('truncates a conflicting suffix and writes the leader entries in its place', () => {
      const log = logWith(entries(1, [1, 1, 2, 2, 2]));
      log.commitTo(2);
      assert.notEqual(log.maybeAppend(3, 2, 4, entries(4, [3, 3])), null);
      assert.deepEqual(allEntries(log), ['1/1', '1/2', '2/3', '3/4', '3/5']);
      assert.deepEqual(ids(log.unstable.nextEntries()), ['3/4', '3/5']);
      assert.equal(log.persistedIndex(), 3, 'the overwritten entries no longer count as durable');
      assert.equal(log.committed, 4);
    });

    void it('truncates everything after a conflict even when the append is shorter than the log', () => {
      const log = logWith(entries(1, [1, 1, 2, 2, 2]));
      assert.notEqual(log.maybeAppend(2, 1, 0, entries(3, [3])), null);
      assert.deepEqual(allEntries(log), ['1/1', '1/2', '3/3']);
    });

    void it('keeps a matching tail that the append does not cover (a stale or duplicate append)', () => {
      const log = logWith(entries(1, [1, 1, 1, 1, 1]));
      assert.notEqual(log.maybeAppend(1, 1, 0, entries(2, [1])), null);
      assert.equal(log.lastIndex(), 5);
      assert.deepEqual(log.unstable.nextEntries(), []);
    });

    void it('commits no further than the last entry the append proves we share', () => {
      const log = logWith(entries(1, [1, 1, 1, 1, 1]));
      assert.notEqual(log.maybeAppend(1, 1, 5, entries(2, [1])), null);
      assert.equal(log.committed, 2);
      assert.notEqual(log.maybeAppend(4, 1, 3, []), null);
      assert.equal(log.committed, 3);
    });

    void it('never moves the commit index back', () => {
      const log = logWith(entries(1, [1, 1, 1]));
      log.commitTo(3);
      assert.notEqual(log.maybeAppend(1, 1, 1, []), null);
      assert.equal(log.committed, 3);
    });

    void it('refuses to overwrite a committed entry (a safety violation)', () => {
      const log = logWith(entries(1, [1, 1, 1]));
      log.commitTo(2);
      assert.throws(() => log.maybeAppend(1, 1, 2, entries(2, [2])), /conflict at 2 within committed 2/);
    });
  });

  void describe('isUpToDate (election restriction, 5.4.1)', () => {
    const log = logWith(entries(1, [1, 2, 2]));
    const rows: [lastIndex: number, lastTerm: number, upToDate: boolean][] = [
      [3, 2, true],
      [4, 2, true],
      [2, 2, false],
      [1, 3, true], // a later last term wins whatever the length
      [9, 1, false], // a longer log of an older term loses
    ];
    for (const [lastIndex, lastTerm, upToDate] of rows) {
      void it(`${upToDate ? 'accepts' : 'refuses'} a candidate whose log ends at ${lastTerm}/${lastIndex}`, () => {
        assert.equal(log.isUpToDate(lastIndex, lastTerm), upToDate);
      });
    }
  });

  void describe('slice', () => {
    // Durable 1..5, unstable 6..8; every entry costs 25 bytes (1 byte of payload + 24).
    const make = (): RaftLog => logWith(entries(1, [1, 1, 1, 2, 2], 'x'), entries(6, [3, 3, 3], 'x'));

    void it('reads across the durable and unstable parts', () => {
      assert.deepEqual(ids(make().slice(3, 8, Infinity)), ['1/3', '2/4', '2/5', '3/6', '3/7']);
    });

    void it('reads only the durable part or only the unstable part', () => {
      assert.deepEqual(ids(make().slice(1, 3, Infinity)), ['1/1', '1/2']);
      assert.deepEqual(ids(make().slice(6, 9, Infinity)), ['3/6', '3/7', '3/8']);
    });

    void it('returns nothing for an empty range', () => {
      assert.deepEqual(make().slice(4, 4, Infinity), []);
    });

    void it('stops at the size limit inside the durable part', () => {
      assert.deepEqual(ids(make().slice(3, 9, 60)), ['1/3', '2/4']);
    });

    void it('stops at the size limit across the boundary', () => {
      assert.deepEqual(ids(make().slice(5, 9, 60)), ['2/5', '3/6']);
    });

    void it('returns at least one entry even when it alone passes the limit', () => {
      assert.deepEqual(ids(make().slice(6, 9, 1)), ['3/6']);
      assert.deepEqual(ids(make().slice(2, 9, 1)), ['1/2']);
    });

    void it('refuses a range below the first index (compacted)', () => {
      const storage = new MemoryStorage();
      storage.append(entries(1, [1, 1, 1, 1]));
      storage.compact(2, { voters: [1], learners: [] });
      const log = new RaftLog(storage, Infinity);
      assert.throws(() => log.slice(2, 4, Infinity), CompactedError);
      assert.deepEqual(ids(log.slice(3, 5, Infinity)), ['1/3', '1/4']);
    });

    void it('refuses a range past the last index (a caller bug)', () => {
      assert.throws(() => make().slice(7, 10, Infinity), /beyond last index 8/);
    });
  });

  void describe('committed entries', () => {
    void it('hands out committed entries in batches bounded by maxApplyingBytes', () => {
      const storage = new MemoryStorage();
      storage.append(entries(1, [1, 1, 1, 1], 'x'));
      const log = new RaftLog(storage, 50);
      log.commitTo(4);
      assert.deepEqual(ids(log.nextCommittedEntries()), ['1/1', '1/2']);
      log.acceptApplying(2);
      assert.deepEqual(ids(log.nextCommittedEntries()), ['1/3', '1/4']);
      log.acceptApplying(4);
      assert.equal(log.hasNextCommittedEntries(), false);
      log.appliedTo(4);
      assert.equal(log.applied, 4);
    });
  });

  void describe('restore', () => {
    void it('replaces the whole log with a snapshot', () => {
      const log = logWith(entries(1, [1, 1, 2]), entries(4, [2, 2]));
      log.commitTo(2);
      const snapshot = { index: 10, term: 4, conf: { voters: [1, 2, 3], learners: [] } };
      log.restore(snapshot);
      assert.equal(log.firstIndex(), 11);
      assert.equal(log.lastIndex(), 10);
      assert.equal(log.lastTerm(), 4);
      assert.equal(log.committed, 10);
      assert.ok(log.matchTerm(10, 4));
      assert.throws(() => log.term(9), CompactedError);
      assert.deepEqual(log.unstable.nextSnapshot(), snapshot);
      assert.equal(log.persistedIndex(), 0, 'nothing of the new log is durable yet');
      // The state machine gets the snapshot, not entries, until the snapshot is durable.
      assert.equal(log.hasNextCommittedEntries(), false);
      log.unstable.acceptInProgress();
      log.stableSnapshotTo(10);
      assert.equal(log.applied, 10);
      assert.equal(log.unstable.snapshot, null);
    });

    void it('accepts entries after the snapshot', () => {
      const log = logWith(entries(1, [1]));
      log.restore({ index: 10, term: 4, conf: { voters: [1], learners: [] } });
      assert.notEqual(log.maybeAppend(10, 4, 11, entries(11, [5])), null);
      assert.deepEqual(allEntries(log), ['5/11']);
      assert.equal(log.committed, 11);
    });
  });
});

void describe('Unstable', () => {
  void it('appends at its end', () => {
    const u = new Unstable(5);
    u.truncateAndAppend(entries(5, [1, 1]));
    u.truncateAndAppend(entries(7, [2]));
    assert.deepEqual(ids(u.entries), ['1/5', '1/6', '2/7']);
    assert.equal(u.lastIndex(), 7);
  });

  void it('truncates its own tail at a conflict', () => {
    const u = new Unstable(5);
    u.truncateAndAppend(entries(5, [1, 1, 1]));
    u.truncateAndAppend(entries(6, [2]));
    assert.deepEqual(ids(u.entries), ['1/5', '2/6']);
  });

  void it('replaces everything from an index at or below its offset (overwriting durable entries)', () => {
    const u = new Unstable(5);
    u.truncateAndAppend(entries(5, [1]));
    u.truncateAndAppend(entries(3, [2, 2]));
    assert.equal(u.offset, 3);
    assert.deepEqual(ids(u.entries), ['2/3', '2/4']);
  });

  void it('hands out each entry once, and again if it was overwritten while in progress', () => {
    const u = new Unstable(1);
    u.truncateAndAppend(entries(1, [1, 1, 1]));
    assert.deepEqual(ids(u.nextEntries()), ['1/1', '1/2', '1/3']);
    u.acceptInProgress();
    assert.deepEqual(u.nextEntries(), []);
    u.truncateAndAppend(entries(2, [2]));
    assert.equal(u.offsetInProgress, 2);
    assert.deepEqual(ids(u.nextEntries()), ['2/2']);
  });

  void it('drops entries once durable, unless they were overwritten in the meantime', () => {
    const u = new Unstable(1);
    u.truncateAndAppend(entries(1, [1, 1, 1]));
    u.acceptInProgress();
    u.truncateAndAppend(entries(3, [2]));
    u.stableTo(3, 1); // the write of 1/3 finished, but 3 now holds 2/3
    assert.equal(u.offset, 1);
    u.stableTo(2, 1);
    assert.equal(u.offset, 3);
    assert.deepEqual(ids(u.entries), ['2/3']);
    u.stableTo(3, 2);
    assert.deepEqual(u.entries, []);
    assert.equal(u.offset, 4);
    assert.equal(u.lastIndex(), null);
  });

  void it('answers terms only for what it holds', () => {
    const u = new Unstable(5);
    u.truncateAndAppend(entries(5, [3, 4]));
    assert.equal(u.term(4), null);
    assert.equal(u.term(5), 3);
    assert.equal(u.term(6), 4);
    assert.equal(u.term(7), null);
  });

  void it('holds a restored snapshot as its last entry until it is durable', () => {
    const u = new Unstable(3);
    u.truncateAndAppend(entries(3, [1]));
    u.restore({ index: 8, term: 2, conf: { voters: [1], learners: [] } });
    assert.equal(u.offset, 9);
    assert.deepEqual(u.entries, []);
    assert.equal(u.lastIndex(), 8);
    assert.equal(u.term(8), 2);
    assert.notEqual(u.nextSnapshot(), null);
    u.acceptInProgress();
    assert.equal(u.nextSnapshot(), null);
    u.stableSnapshotTo(7); // another snapshot: ignored
    assert.notEqual(u.snapshot, null);
    u.stableSnapshotTo(8);
    assert.equal(u.snapshot, null);
    assert.equal(u.lastIndex(), null);
  });
});
