// What the core reads from the durable log. The driver writes to it (persisting each Ready)
// before calling advance(); the core only reads. Calls are synchronous: the durable log store
// keeps the retained log readable without awaiting.
import { assert } from '../../util/assert.js';
import { EMPTY_HARD_STATE, EMPTY_SNAPSHOT, type Entry, type HardState, type SnapshotMeta } from './types.js';

/** The requested index was compacted away; the leader must send a snapshot instead. */
export class CompactedError extends Error {
  constructor(readonly index: number) {
    super(`index ${index} is compacted`);
    this.name = 'CompactedError';
  }
}

/** The requested index is beyond the stored log. */
export class UnavailableError extends Error {
  constructor(readonly index: number) {
    super(`index ${index} is not in the log`);
    this.name = 'UnavailableError';
  }
}

export interface RaftStorage {
  hardState(): HardState;
  /** The latest snapshot (EMPTY_SNAPSHOT when none): everything up to its index is compacted. */
  snapshot(): SnapshotMeta;
  /** snapshot().index + 1. */
  firstIndex(): number;
  /** The last stored index; snapshot().index when the log after it is empty. */
  lastIndex(): number;
  /** Term of the entry at `index`, for index in [snapshot().index, lastIndex()]. */
  term(index: number): number;
  /** Entries [lo, hi), stopping before maxSizeBytes is passed but returning at least one. */
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[];
}

/** The bytes an entry costs in a message (payload plus a fixed allowance for its header). */
export const ENTRY_OVERHEAD_BYTES = 24;
export function entrySizeBytes(entry: Entry): number {
  return entry.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

/** Takes entries from the front of `entries` until adding one more would pass maxSizeBytes (at least one). */
export function limitSize(entries: Entry[], maxSizeBytes: number): Entry[] {
  if (entries.length <= 1) return entries;
  let size = entrySizeBytes(entries[0]);
  let n = 1;
  for (; n < entries.length; n++) {
    size += entrySizeBytes(entries[n]);
    if (size > maxSizeBytes) break;
  }
  return n === entries.length ? entries : entries.slice(0, n);
}

/**
 * The log in memory: for tests, the simulator and benchmarks. `entries[0]` is a placeholder
 * holding the snapshot's index and term, so term(snapshot.index) answers without a special case.
 */
export class MemoryStorage implements RaftStorage {
  private hard: HardState = EMPTY_HARD_STATE;
  private snap: SnapshotMeta = EMPTY_SNAPSHOT;
  private ents: Entry[] = [{ term: 0, index: 0, type: 0, data: new Uint8Array(0) }];

  hardState(): HardState {
    return this.hard;
  }

  snapshot(): SnapshotMeta {
    return this.snap;
  }

  firstIndex(): number {
    return this.ents[0].index + 1;
  }

  lastIndex(): number {
    return this.ents[0].index + this.ents.length - 1;
  }

  term(index: number): number {
    const offset = this.ents[0].index;
    if (index < offset) throw new CompactedError(index);
    if (index - offset >= this.ents.length) throw new UnavailableError(index);
    return this.ents[index - offset].term;
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    const offset = this.ents[0].index;
    if (lo <= offset) throw new CompactedError(lo);
    assert(hi <= this.lastIndex() + 1, () => `entries(${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSizeBytes);
  }

  setHardState(hardState: HardState): void {
    this.hard = hardState;
  }

  /** Appends, replacing any stored suffix from entries[0].index on (a leader's overwrite). */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const lastNew = entries[entries.length - 1].index;
    if (lastNew < first) return; // all already compacted
    const from = entries[0].index < first ? first - entries[0].index : 0;
    const start = entries[from].index;
    assert(start <= this.lastIndex() + 1, () => `append at ${start} leaves a gap after ${this.lastIndex()}`);
    this.ents.length = start - this.ents[0].index;
    for (let i = from; i < entries.length; i++) this.ents.push(entries[i]);
  }

  /** Replaces the whole log with a snapshot (a follower installing the leader's state). */
  applySnapshot(snapshot: SnapshotMeta): void {
    assert(snapshot.index >= this.snap.index, () => `snapshot ${snapshot.index} older than ${this.snap.index}`);
    this.snap = snapshot;
    this.ents = [{ term: snapshot.term, index: snapshot.index, type: 0, data: new Uint8Array(0) }];
  }

  /** Records that the state machine holds everything up to `index` and drops the log up to it. */
  compact(index: number, conf: SnapshotMeta['conf']): void {
    const offset = this.ents[0].index;
    if (index <= offset) return;
    assert(index <= this.lastIndex(), () => `compact ${index} beyond last index ${this.lastIndex()}`);
    const term = this.ents[index - offset].term;
    this.snap = { index, term, conf };
    this.ents = this.ents.slice(index - offset);
    this.ents[0] = { term, index, type: 0, data: new Uint8Array(0) };
  }

  /** Drops every entry after `index`: a disk that lost acknowledged writes (tests only). */
  truncateAfter(index: number): void {
    const offset = this.ents[0].index;
    if (index < offset) return;
    this.ents.length = Math.min(this.ents.length, index - offset + 1);
  }

  /** A deep enough copy for the simulator's crash model (entries are immutable). */
  clone(): MemoryStorage {
    const copy = new MemoryStorage();
    copy.hard = this.hard;
    copy.snap = this.snap;
    copy.ents = this.ents.slice();
    return copy;
  }
}
