// Randomized tests of the durable Raft log against the core's MemoryStorage:
// - torn tails: the log is cut at random byte offsets; open must keep exactly the whole records
//   before the cut, i.e. equal MemoryStorage after replaying those records one by one;
// - differential: the same random saves, overwrites, installs, compactions and reopens on both
//   stores give the same answers to every RaftStorage query.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import {
  EntryType,
  MemoryStorage,
  type ConfState,
  type Entry,
  type HardState,
  type RaftStorage,
  type SnapshotMeta,
} from '../../../src/raft/core/index.js';
import { RaftLogStore } from '../../../src/raft/log/log-store.js';
import { decodeRecordAt } from '../../../src/storage/record-codec.js';
import { listSegmentNumbers, segmentPath } from '../../../src/storage/segment-files.js';
import { Prng, RecordingLogger, tempDirsRemovedAfter } from '../../storage/helpers.js';

const tempDir = tempDirsRemovedAfter();

type Op =
  | { readonly kind: 'save'; readonly snapshot: SnapshotMeta | null; readonly entries: Entry[]; readonly hardState: HardState | null }
  | { readonly kind: 'compact'; readonly index: number; readonly conf: ConfState }
  | { readonly kind: 'reopen' };

/** Random Raft-like writes: appends, leader overwrites above the commit, installs, compactions. */
class OpGenerator {
  #term = 1;
  #commit = 0;
  /** When false: no compactions and no installs (nothing deletes old segments). */
  shortensPrefix = true;
  constructor(
    readonly prng: Prng,
    readonly allowReopen: boolean,
  ) {}

  next(model: RaftStorage): Op {
    const p = this.prng;
    const last = model.lastIndex();
    const snapIndex = model.snapshot().index;
    const roll = p.int(100);
    if (roll < 45) return this.#save(null, this.#entries(last + 1, 1 + p.int(8)), p.int(10) < 7);
    if (roll < 60) {
      const floor = Math.max(this.#commit, snapIndex) + 1;
      if (floor > last) return this.#save(null, this.#entries(last + 1, 1 + p.int(3)), true);
      this.#term++;
      const from = floor + p.int(last - floor + 1);
      return this.#save(null, this.#entries(from, 1 + p.int(6)), p.int(10) < 8);
    }
    if (roll < 70) return this.#save(null, [], true);
    if (roll < 82 && this.shortensPrefix && this.#commit > snapIndex) {
      return { kind: 'compact', index: snapIndex + 1 + p.int(this.#commit - snapIndex), conf: this.#conf() };
    }
    if (roll < 86 && this.shortensPrefix) {
      // A follower installs the leader's snapshot (beyond, inside or at the end of its log).
      this.#term++;
      const index = Math.max(snapIndex, last - 5 + p.int(15));
      this.#commit = index;
      const snapshot = { index, term: this.#term, conf: this.#conf() };
      const withEntries = p.int(2) === 0;
      return this.#save(snapshot, withEntries ? this.#entries(index + 1, 1 + p.int(4)) : [], withEntries);
    }
    if (roll < 92 && this.allowReopen) return { kind: 'reopen' };
    return this.#save(null, [], false);
  }

  #save(snapshot: SnapshotMeta | null, entries: Entry[], withHardState: boolean): Op {
    const last = entries.length > 0 ? entries[entries.length - 1].index : null;
    if (last !== null && this.prng.int(2) === 0) this.#commit = Math.max(this.#commit, last - this.prng.int(3));
    if (last !== null) this.#commit = Math.min(this.#commit, last);
    const hardState = withHardState ? { term: this.#term, vote: this.prng.int(4), commit: this.#commit } : null;
    return { kind: 'save', snapshot, entries, hardState };
  }

  #entries(first: number, count: number): Entry[] {
    return Array.from({ length: count }, (_, k) => ({
      index: first + k,
      term: this.#term,
      type: this.prng.int(8) === 0 ? EntryType.ConfChange : EntryType.Normal,
      data: this.prng.bytes(this.prng.int(160)),
    }));
  }

  #conf(): ConfState {
    const voters = [1, 2, 3].slice(0, 1 + this.prng.int(3));
    return { voters, learners: this.prng.int(3) === 0 ? [9 + this.prng.int(1000)] : [] };
  }
}

function describeEntries(entries: readonly Entry[]): string[] {
  return entries.map((e) => `${e.index}/${e.term}/${e.type}/${Buffer.from(e.data).toString('hex')}`);
}

/** The whole observable state must be equal. */
function assertSameStorage(actual: RaftStorage, expected: RaftStorage, context: string): void {
  assert.deepEqual(actual.hardState(), expected.hardState(), `${context}: hard state`);
  assert.deepEqual(actual.snapshot(), expected.snapshot(), `${context}: snapshot`);
  assert.equal(actual.firstIndex(), expected.firstIndex(), `${context}: first index`);
  assert.equal(actual.lastIndex(), expected.lastIndex(), `${context}: last index`);
  for (let i = expected.firstIndex() - 1; i <= expected.lastIndex(); i++) {
    assert.equal(actual.term(i), expected.term(i), `${context}: term(${i})`);
  }
  if (expected.lastIndex() >= expected.firstIndex()) {
    const lo = expected.firstIndex();
    const hi = expected.lastIndex() + 1;
    assert.deepEqual(describeEntries(actual.entries(lo, hi, Infinity)), describeEntries(expected.entries(lo, hi, Infinity)), `${context}: entries`);
  }
}

/** Same value or same error (class and message). */
function sameAnswer<T>(context: string, actual: () => T, expected: () => T, describe: (value: T) => unknown = (v) => v): void {
  let want: { value: unknown } | { error: string };
  try {
    want = { value: describe(expected()) };
  } catch (err) {
    want = { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
  let got: { value: unknown } | { error: string };
  try {
    got = { value: describe(actual()) };
  } catch (err) {
    got = { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
  assert.deepEqual(got, want, context);
}

function applyToModel(model: MemoryStorage, op: Op): void {
  if (op.kind === 'save') {
    if (op.snapshot !== null) model.applySnapshot(op.snapshot);
    model.append(op.entries);
    if (op.hardState !== null) model.setHardState(op.hardState);
  } else if (op.kind === 'compact') {
    model.compact(op.index, op.conf);
  }
}

/** The records one op writes, each as its effect on MemoryStorage (the store's documented layout). */
function recordEffects(op: Op, model: MemoryStorage): ((m: MemoryStorage) => void)[] {
  const effects: ((m: MemoryStorage) => void)[] = [];
  if (op.kind === 'save') {
    const snapshot = op.snapshot;
    if (snapshot !== null) effects.push((m) => m.applySnapshot(snapshot));
    const base = snapshot?.index ?? model.snapshot().index;
    for (const e of op.entries) if (e.index > base) effects.push((m) => m.append([e]));
    const hs = op.hardState ?? (snapshot !== null ? model.hardState() : null);
    if (hs !== null) effects.push((m) => m.setHardState(hs));
  } else if (op.kind === 'compact' && op.index > model.snapshot().index) {
    const { index, conf } = op;
    effects.push((m) => m.compact(index, conf));
    const hs = model.hardState();
    effects.push((m) => m.setHardState(hs));
  }
  return effects;
}

async function runOp(store: RaftLogStore, op: Op): Promise<void> {
  if (op.kind === 'save') await store.save(op);
  else if (op.kind === 'compact') await store.compact(op.index, op.conf);
}

interface RecordPosition {
  readonly segment: number;
  /** End of the record in its segment. */
  readonly endBytes: number;
}

function scanRecords(dir: string): RecordPosition[] {
  const out: RecordPosition[] = [];
  for (const segment of listSegmentNumbers(dir)) {
    const data = fs.readFileSync(segmentPath(dir, segment));
    let offset = 0;
    while (offset < data.length) {
      const decoded = decodeRecordAt(data, offset, 1 << 24);
      assert.ok(decoded.ok, `scan: bad record in segment ${segment} at ${offset}`);
      offset = decoded.nextOffset;
      out.push({ segment, endBytes: offset });
    }
  }
  return out;
}

const TEST_TIMEOUT_MS = 120_000;
const STORE_OPTIONS = { segmentSizeBytes: 4_096, compactRotateMinBytes: 2_048 };

void describe('RaftLogStore, randomized', { timeout: TEST_TIMEOUT_MS }, () => {
  // Two layouts: one big segment (nothing is ever deleted, so every byte is a legal cut, through
  // installs and compactions too), and small segments with deletions (cuts after the last one).
  const scenarios = [
    { name: 'one segment, every kind of write', seed: 20_261_125, options: { segmentSizeBytes: 1 << 24 }, steps: 450, prefixSteps: 450, cuts: 200, minCandidates: 50_000 },
    { name: 'small segments with deletions', seed: 7_919, options: STORE_OPTIONS, steps: 450, prefixSteps: 300, cuts: 100, minCandidates: 20_000 },
  ];
  for (const scenario of scenarios) {
    void test(`a cut at any byte keeps exactly the whole records before it (${scenario.name}, ${scenario.cuts} cuts)`, async () => {
      const { seed, options } = scenario;
      const prng = new Prng(seed);
      const dir = tempDir('raftlog-cuts');
      const store = await RaftLogStore.open(dir, { logger: new RecordingLogger(), ...options });
      const model = new MemoryStorage();
      const journal: ((m: MemoryStorage) => void)[] = [];
      const generator = new OpGenerator(prng, false);
      // The last deletion of old segments: a cut before it is a state the disk was never in.
      let floor = { segment: 1, offsetBytes: 0 };
      for (let step = 0; step < scenario.steps; step++) {
        // After prefixSteps only appends and overwrites: cuts there land after the last deletion.
        generator.shortensPrefix = step < scenario.prefixSteps;
        const op = generator.next(model);
        const firstSegmentBefore = store.segments()[0].segment;
        journal.push(...recordEffects(op, model));
        applyToModel(model, op);
        await runOp(store, op);
        const segments = store.segments();
        if (segments[0].segment !== firstSegmentBefore) {
          const current = segments[segments.length - 1];
          floor = { segment: current.segment, offsetBytes: current.sizeBytes };
        }
      }
      assertSameStorage(store, model, 'before the cuts');
      await store.close();

      const records = scanRecords(dir);
      const journalOffset = journal.length - records.length;
      assert.ok(journalOffset >= 0, 'the scan found more records than were written');
      const segments = listSegmentNumbers(dir);
      const sizes = new Map(segments.map((s) => [s, fs.statSync(segmentPath(dir, s)).size]));
      // Cut positions as (segment, offset) in [floor, end of the log].
      const candidates: { segment: number; offsetBytes: number }[] = [];
      for (const segment of segments) {
        if (segment < floor.segment) continue;
        const from = segment === floor.segment ? floor.offsetBytes : 0;
        const size = sizes.get(segment)!;
        for (let o = from; o <= size; o++) candidates.push({ segment, offsetBytes: o });
      }
      assert.ok(candidates.length > scenario.minCandidates, `too few legal cut positions (${candidates.length})`);

      for (let cut = 0; cut < scenario.cuts; cut++) {
        const at = candidates[prng.int(candidates.length)];
        const scratch = tempDir('raftlog-cut');
        for (const segment of segments) {
          if (segment > at.segment) break;
          fs.copyFileSync(segmentPath(dir, segment), segmentPath(scratch, segment));
        }
        fs.truncateSync(segmentPath(scratch, at.segment), at.offsetBytes);
        const kept = records.filter((r) => r.segment < at.segment || (r.segment === at.segment && r.endBytes <= at.offsetBytes)).length;
        const expected = new MemoryStorage();
        for (const effect of journal.slice(0, journalOffset + kept)) effect(expected);

        const reopened = await RaftLogStore.open(scratch, { logger: new RecordingLogger(), ...options });
        const context = `seed ${seed}, cut ${cut} at segment ${at.segment} byte ${at.offsetBytes}`;
        assertSameStorage(reopened, expected, context);
        const onBoundary = records.some((r) => r.segment === at.segment && r.endBytes === at.offsetBytes) || at.offsetBytes === 0;
        assert.equal(reopened.openReport.tailCut === null, onBoundary, `${context}: tail cut reported iff mid-record`);
        // The cut log takes new writes after its last entry.
        const next = reopened.lastIndex() + 1;
        await reopened.save({ entries: [{ index: next, term: 1_000, type: EntryType.Normal, data: Buffer.from('after the cut') }] });
        await reopened.close();
        const again = await RaftLogStore.open(scratch, { logger: new RecordingLogger(), ...options });
        assert.equal(again.lastIndex(), next, `${context}: write after the cut`);
        await again.close();
        fs.rmSync(scratch, { recursive: true, force: true });
      }
    });
  }

  // Seeds 7 and 8 prepare segments ahead (SegmentLog's preallocate): which segments were
  // prepared depends on timing, what the store answers must not.
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    void test(`answers exactly like MemoryStorage on a random sequence with reopens (seed ${seed})`, async () => {
      const prng = new Prng(seed);
      const dir = tempDir(`raftlog-diff-${seed}`);
      const preallocate = seed >= 7;
      const open = (): Promise<RaftLogStore> => RaftLogStore.open(dir, { logger: new RecordingLogger(), ...STORE_OPTIONS, preallocate });
      let store = await open();
      const model = new MemoryStorage();
      const generator = new OpGenerator(prng, true);
      let reopens = 0;
      let deletions = 0;
      for (let step = 0; step < 500; step++) {
        const op = generator.next(model);
        const context = `seed ${seed} step ${step} (${op.kind})`;
        if (op.kind === 'reopen') {
          await store.close();
          store = await open();
          reopens++;
        } else {
          const firstSegment = store.segments()[0].segment;
          applyToModel(model, op);
          await runOp(store, op);
          if (store.segments()[0].segment !== firstSegment) deletions++;
        }
        assertSameStorage(store, model, context);
        // Random queries, including out-of-range ones (errors must match too).
        for (let q = 0; q < 8; q++) {
          const first = model.firstIndex();
          const last = model.lastIndex();
          const i = first - 3 + prng.int(last - first + 7);
          sameAnswer(`${context}: term(${i})`, () => store.term(i), () => model.term(i));
          const lo = first - 2 + prng.int(last - first + 5);
          const hi = lo + prng.int(last - lo + 4);
          const maxSizeBytes = prng.int(3) === 0 ? Infinity : prng.int(600);
          sameAnswer(
            `${context}: entries(${lo}, ${hi}, ${maxSizeBytes})`,
            () => store.entries(lo, hi, maxSizeBytes),
            () => model.entries(lo, hi, maxSizeBytes),
            describeEntries,
          );
        }
      }
      assert.ok(reopens > 10, `only ${reopens} reopens`);
      assert.ok(deletions > 3, `only ${deletions} segment deletions`);
      await store.close();
    });
  }
});
