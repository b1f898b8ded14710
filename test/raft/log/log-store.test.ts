import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, mock, test } from 'node:test';
import {
  CompactedError,
  EntryType,
  UnavailableError,
  bootstrapLog,
  type ConfState,
  type Entry,
  type SnapshotMeta,
} from '../../../src/raft/core/index.js';
import { RaftLogStore, type RaftLogStoreOptions } from '../../../src/raft/log/log-store.js';
import { LogRecordType, encodeEntryPayloads } from '../../../src/raft/log/log-records.js';
import { SegmentCorruptError, StoreClosedError } from '../../../src/storage/errors.js';
import { SegmentLog } from '../../../src/storage/segment-log.js';
import { AssertionError } from '../../../src/util/assert.js';
import { RecordingLogger, tempDirsRemovedAfter } from '../../storage/helpers.js';

const tempDir = tempDirsRemovedAfter();

function open(dir: string, options: Partial<RaftLogStoreOptions> = {}): Promise<RaftLogStore> {
  return RaftLogStore.open(dir, { logger: new RecordingLogger(), ...options });
}

function entry(index: number, term: number, text = `e${index}t${term}`): Entry {
  return { index, term, type: EntryType.Normal, data: Buffer.from(text) };
}

function range(first: number, last: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = first; i <= last; i++) out.push(entry(i, term));
  return out;
}

function describeEntries(entries: readonly Entry[]): string[] {
  return entries.map((e) => `${e.index}/${e.term}/${e.type}/${Buffer.from(e.data).toString('hex')}`);
}

function allEntries(store: RaftLogStore): Entry[] {
  if (store.lastIndex() < store.firstIndex()) return [];
  return store.entries(store.firstIndex(), store.lastIndex() + 1, Infinity);
}

const CONF: ConfState = { voters: [1, 2, 3], learners: [7] };
const TEST_TIMEOUT_MS = 60_000;

void describe('RaftLogStore', { timeout: TEST_TIMEOUT_MS }, () => {
  void test('a fresh directory is empty; the bootstrap log makes it non-empty and survives a reopen', async () => {
    const dir = tempDir('raftlog-boot');
    const store = await open(dir);
    assert.equal(store.isEmpty(), true);
    assert.equal(store.firstIndex(), 1);
    assert.equal(store.lastIndex(), 0);
    assert.equal(store.term(0), 0);
    const boot = bootstrapLog([1, 2, 3]);
    await store.save(boot);
    assert.equal(store.isEmpty(), false);
    await store.close();
    const reopened = await open(dir);
    assert.equal(reopened.isEmpty(), false);
    assert.deepEqual(reopened.hardState(), boot.hardState);
    assert.deepEqual(describeEntries(allEntries(reopened)), describeEntries(boot.entries));
    assert.equal(reopened.entries(1, 4, Infinity)[0].type, EntryType.ConfChange);
    await reopened.close();
  });

  void test('entries, an overwritten suffix and the last hard state round-trip across a reopen', async () => {
    const dir = tempDir('raftlog-roundtrip');
    const store = await open(dir);
    await store.save({ entries: range(1, 10, 1), hardState: { term: 1, vote: 1, commit: 3 } });
    await store.save({ entries: range(11, 12, 1), hardState: null });
    // A new leader overwrites 6.. with its own entries: 6..12 of term 1 are replaced.
    await store.save({ entries: range(6, 8, 2), hardState: { term: 2, vote: 2, commit: 5 } });
    const expected = [...range(1, 5, 1), ...range(6, 8, 2)];
    assert.deepEqual(describeEntries(allEntries(store)), describeEntries(expected));
    await store.close();

    const reopened = await open(dir);
    assert.deepEqual(describeEntries(allEntries(reopened)), describeEntries(expected));
    assert.deepEqual(reopened.hardState(), { term: 2, vote: 2, commit: 5 });
    assert.equal(reopened.lastIndex(), 8);
    assert.equal(reopened.term(5), 1);
    assert.equal(reopened.term(6), 2);
    assert.throws(() => reopened.term(9), UnavailableError);
    assert.equal(reopened.openReport.tailCut, null);
    // Appending after a reopen continues the same log.
    await reopened.save({ entries: range(9, 9, 2) });
    await reopened.close();
    const third = await open(dir);
    assert.equal(third.lastIndex(), 9);
    await third.close();
  });

  void test('entries() honours the size limit but returns at least one entry', async () => {
    const store = await open(tempDir('raftlog-limit'));
    await store.save({ entries: range(1, 10, 1) });
    assert.equal(store.entries(1, 11, 0).length, 1);
    const one = 2 + 24; // "eNt1" is 4 bytes, plus the 24-byte allowance per entry
    assert.equal(store.entries(1, 11, 3 * (one + 2)).length, 3);
    assert.throws(() => store.entries(1, 12, Infinity), AssertionError);
    await store.close();
  });

  void test('one save is exactly one fdatasync, whatever it holds', async () => {
    const store = await open(tempDir('raftlog-fsync'));
    const fdatasync = mock.method(fs, 'fdatasync');
    try {
      await store.save({ entries: range(1, 64, 1), hardState: { term: 1, vote: 0, commit: 0 } });
      assert.equal(fdatasync.mock.callCount(), 1);
      await store.save({ snapshot: { index: 100, term: 3, conf: CONF }, entries: range(101, 110, 3), hardState: { term: 3, vote: 2, commit: 100 } });
      assert.equal(fdatasync.mock.callCount(), 2);
      await store.save({ entries: [], hardState: null }); // nothing durable: no I/O
      assert.equal(fdatasync.mock.callCount(), 2);
    } finally {
      fdatasync.mock.restore();
    }
    await store.close();
  });

  void test('a second save while one is in flight is a programmer error', async () => {
    const store = await open(tempDir('raftlog-one-save'));
    const first = store.save({ entries: range(1, 1, 1) });
    await assert.rejects(store.save({ entries: range(2, 2, 1) }), AssertionError);
    await first;
    assert.equal(store.lastIndex(), 1);
    await store.close();
  });

  void test('reads reflect a save as soon as it is called; gaps and non-consecutive entries are refused', async () => {
    const store = await open(tempDir('raftlog-view'));
    const saving = store.save({ entries: range(1, 3, 1) });
    assert.equal(store.lastIndex(), 3);
    await saving;
    await assert.rejects(store.save({ entries: range(5, 6, 1) }), AssertionError);
    await assert.rejects(store.save({ entries: [entry(4, 1), entry(6, 1)] }), AssertionError);
    assert.equal(store.lastIndex(), 3);
    await store.close();
  });

  void test('compaction: firstIndex, snapshot and the retained entries survive a reopen', async () => {
    const dir = tempDir('raftlog-compact');
    const store = await open(dir);
    await store.save({ entries: range(1, 20, 1), hardState: { term: 1, vote: 1, commit: 15 } });
    await store.compact(10, CONF);
    assert.equal(store.firstIndex(), 11);
    assert.deepEqual(store.snapshot(), { index: 10, term: 1, conf: CONF });
    assert.equal(store.term(10), 1);
    assert.throws(() => store.term(9), CompactedError);
    assert.throws(() => store.entries(10, 12, Infinity), CompactedError);
    await store.compact(5, CONF); // below the snapshot: no-op
    assert.equal(store.firstIndex(), 11);
    await store.close();

    const reopened = await open(dir);
    assert.equal(reopened.firstIndex(), 11);
    assert.equal(reopened.lastIndex(), 20);
    assert.deepEqual(reopened.snapshot(), { index: 10, term: 1, conf: CONF });
    assert.deepEqual(reopened.hardState(), { term: 1, vote: 1, commit: 15 });
    assert.deepEqual(describeEntries(allEntries(reopened)), describeEntries(range(11, 20, 1)));
    // Compacting everything leaves an empty log after the snapshot.
    await reopened.compact(20, CONF);
    assert.equal(reopened.lastIndex(), 20);
    assert.equal(reopened.firstIndex(), 21);
    await reopened.close();
    const third = await open(dir);
    assert.equal(third.firstIndex(), 21);
    assert.equal(third.lastIndex(), 20);
    assert.equal(third.term(20), 1);
    await third.close();
  });

  void test('compaction past the last index is a programmer error', async () => {
    const store = await open(tempDir('raftlog-compact-past'));
    await store.save({ entries: range(1, 3, 1) });
    await assert.rejects(store.compact(4, CONF), AssertionError);
    await store.close();
  });

  void test('a snapshot install replaces the whole log, also across a reopen', async () => {
    const dir = tempDir('raftlog-install');
    const store = await open(dir);
    await store.save({ entries: range(1, 30, 1), hardState: { term: 1, vote: 1, commit: 10 } });
    const meta: SnapshotMeta = { index: 20, term: 2, conf: CONF };
    await store.installSnapshot(meta);
    assert.equal(store.firstIndex(), 21);
    assert.equal(store.lastIndex(), 20); // entries 21..30 of the old log are gone too
    assert.equal(store.term(20), 2);
    await store.save({ entries: range(21, 25, 2), hardState: { term: 2, vote: 1, commit: 22 } });
    await store.close();

    const reopened = await open(dir);
    assert.deepEqual(reopened.snapshot(), meta);
    assert.equal(reopened.firstIndex(), 21);
    assert.deepEqual(describeEntries(allEntries(reopened)), describeEntries(range(21, 25, 2)));
    assert.deepEqual(reopened.hardState(), { term: 2, vote: 1, commit: 22 });
    assert.equal(reopened.isEmpty(), false);
    await reopened.close();
  });

  void test('a Ready with a snapshot and entries stores the snapshot first, then the entries', async () => {
    const dir = tempDir('raftlog-install-entries');
    const store = await open(dir);
    await store.save({ entries: range(1, 5, 1) });
    // Entries at or below the snapshot index are skipped (already in the snapshot).
    await store.save({ snapshot: { index: 50, term: 4, conf: CONF }, entries: range(49, 52, 4), hardState: { term: 4, vote: 0, commit: 50 } });
    assert.equal(store.firstIndex(), 51);
    assert.equal(store.lastIndex(), 52);
    await store.close();
    const reopened = await open(dir);
    assert.deepEqual(describeEntries(allEntries(reopened)), describeEntries(range(51, 52, 4)));
    await reopened.close();
  });

  void test('old segments are deleted after compaction; the reopened log is the same', async () => {
    const dir = tempDir('raftlog-reclaim');
    const segmentSizeBytes = 2_048;
    const store = await open(dir, { segmentSizeBytes });
    const payload = 'x'.repeat(100);
    let index = 0;
    for (let save = 0; save < 60; save++) {
      const entries = Array.from({ length: 3 }, () => entry(++index, 1, payload));
      await store.save({ entries, hardState: { term: 1, vote: 1, commit: index } });
    }
    const before = store.segments();
    assert.ok(before.length >= 10, `expected many segments, got ${before.length}`);
    await store.compact(150, CONF);
    const afterCompaction = store.segments();
    assert.ok(afterCompaction[0].segment > before[0].segment, 'the oldest segments were deleted');
    assert.ok(afterCompaction.length < before.length / 2, `${afterCompaction.length} segments left of ${before.length}`);
    for (const info of before) {
      const exists = fs.existsSync(`${dir}/${String(info.segment).padStart(20, '0')}.seg`);
      assert.equal(exists, afterCompaction.some((s) => s.segment === info.segment));
    }
    await store.close();

    const reopened = await open(dir, { segmentSizeBytes });
    assert.equal(reopened.firstIndex(), 151);
    assert.equal(reopened.lastIndex(), 180);
    assert.deepEqual(reopened.hardState(), { term: 1, vote: 1, commit: 180 });
    assert.deepEqual(describeEntries(allEntries(reopened)), describeEntries(Array.from({ length: 30 }, (_, k) => entry(151 + k, 1, payload))));
    // Compacting everything and writing on: only the segments after the compaction remain.
    await reopened.compact(180, CONF);
    assert.equal(reopened.segments().length, 1);
    await reopened.save({ entries: [entry(181, 2, payload)], hardState: { term: 2, vote: 2, commit: 181 } });
    await reopened.close();
    const third = await open(dir, { segmentSizeBytes });
    assert.equal(third.firstIndex(), 181);
    assert.equal(third.lastIndex(), 181);
    assert.equal(third.term(180), 1);
    await third.close();
  });

  void test('compaction rotates a large current segment so that it can be deleted next time', async () => {
    const dir = tempDir('raftlog-rotate');
    const store = await open(dir, { segmentSizeBytes: 1 << 20, compactRotateMinBytes: 1_000 });
    await store.save({ entries: Array.from({ length: 20 }, (_, k) => entry(k + 1, 1, 'y'.repeat(100))) });
    assert.equal(store.segments().length, 1);
    await store.compact(20, CONF);
    // The compaction record went into a new segment; the old one held only compacted entries.
    assert.deepEqual(store.segments().map((s) => s.segment), [2]);
    await store.close();
    const reopened = await open(dir);
    assert.equal(reopened.firstIndex(), 21);
    assert.equal(reopened.term(20), 1);
    await reopened.close();
  });

  void test('a snapshot install deletes every older segment', async () => {
    const dir = tempDir('raftlog-install-reclaim');
    const store = await open(dir, { segmentSizeBytes: 1_024 });
    for (let i = 1; i <= 40; i++) await store.save({ entries: [entry(i, 1, 'z'.repeat(80))], hardState: { term: 1, vote: 1, commit: i - 1 } });
    assert.ok(store.segments().length > 3);
    await store.installSnapshot({ index: 500, term: 5, conf: CONF });
    assert.equal(store.segments().length, 1);
    await store.close();
    const reopened = await open(dir);
    assert.equal(reopened.firstIndex(), 501);
    assert.deepEqual(reopened.hardState(), { term: 1, vote: 1, commit: 39 });
    await reopened.close();
  });

  void test('an overwrite makes the overwritten entries obsolete for reclamation', async () => {
    const dir = tempDir('raftlog-overwrite-reclaim');
    const segmentSizeBytes = 1_024;
    const store = await open(dir, { segmentSizeBytes });
    for (let i = 1; i <= 30; i++) await store.save({ entries: [entry(i, 1, 'a'.repeat(80))] });
    // Entries 11..30 of term 1 are replaced by term 2: their segments pin nothing above 10.
    for (let i = 11; i <= 20; i++) await store.save({ entries: [entry(i, 2, 'b'.repeat(80))], hardState: { term: 2, vote: 2, commit: i } });
    const segmentsBefore = store.segments().length;
    await store.compact(15, CONF);
    assert.ok(store.segments().length < segmentsBefore);
    await store.close();
    const reopened = await open(dir, { segmentSizeBytes });
    assert.equal(reopened.firstIndex(), 16);
    assert.equal(reopened.lastIndex(), 20);
    assert.deepEqual(describeEntries(allEntries(reopened)), describeEntries(Array.from({ length: 5 }, (_, k) => entry(16 + k, 2, 'b'.repeat(80)))));
    await reopened.close();
  });

  void test('records that do not form a log are refused as corruption', async () => {
    const dir = tempDir('raftlog-gap');
    const logger = new RecordingLogger();
    const log = await SegmentLog.open(dir, { logger }, () => {});
    const payloads = encodeEntryPayloads([entry(1, 1), entry(3, 1)]);
    log.append(payloads.map((payload) => ({ type: LogRecordType.Entry, payload })));
    await log.sync();
    await log.close();
    await assert.rejects(open(dir), (err) => err instanceof SegmentCorruptError && /gap/.test(err.message));
  });

  void test('an unknown record type is refused as corruption', async () => {
    const dir = tempDir('raftlog-unknown');
    const log = await SegmentLog.open(dir, { logger: new RecordingLogger() }, () => {});
    log.append([{ type: 99, payload: Buffer.from('?') }]);
    await log.sync();
    await log.close();
    await assert.rejects(open(dir), (err) => err instanceof SegmentCorruptError && /unknown record type/.test(err.message));
  });

  void test('a torn tail is cut, logged, and the log ends at the last whole entry', async () => {
    const dir = tempDir('raftlog-torn');
    const store = await open(dir);
    await store.save({ entries: range(1, 5, 1), hardState: { term: 1, vote: 1, commit: 2 } });
    await store.close();
    const file = `${dir}/${String(1).padStart(20, '0')}.seg`;
    fs.truncateSync(file, fs.statSync(file).size - 30); // into the hard state record
    const logger = new RecordingLogger();
    const reopened = await RaftLogStore.open(dir, { logger });
    assert.notEqual(reopened.openReport.tailCut, null);
    assert.equal(reopened.lastIndex(), 5);
    assert.deepEqual(reopened.hardState(), { term: 0, vote: 0, commit: 0 });
    assert.ok(logger.at('warn').some((e) => /torn tail cut/.test(e.msg) && e.fields.lastIndex === 5));
    await reopened.close();
  });

  void test('close is idempotent; writes after close are refused with StoreClosedError', async () => {
    const store = await open(tempDir('raftlog-close'));
    await store.save({ entries: range(1, 2, 1) });
    const first = store.close();
    const second = store.close();
    assert.equal(first, second);
    await first;
    await assert.rejects(store.save({ entries: range(3, 3, 1) }), StoreClosedError);
    // Reads of the retained log still answer (the core may be asked for status while stopping).
    assert.equal(store.lastIndex(), 2);
  });
});
