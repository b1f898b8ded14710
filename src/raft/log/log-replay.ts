// Rebuilds the retained Raft log from the records of the segment log, in write order:
// - an entry record at index i replaces i and drops everything after it (a leader's overwrite
//   of a conflicting suffix is stored that way); entries at or below the snapshot are skipped;
// - a hard state record replaces the previous one (last wins);
// - an install record replaces the whole log with the snapshot;
// - a compaction record drops the entries up to its index (its term must match the entry's).
//
// Anchored and unanchored replay. When the first segment is segment 1 nothing was ever deleted,
// so the log starts at index 1 and any gap is corruption. When old segments were deleted
// (segment-liveness.ts), the first records may be entries whose predecessors lived in deleted
// segments: replay then starts "unanchored", keeping the contiguous run of entries it sees, and
// an entry at or below the run's start restarts the run (an overwrite reaching into the deleted
// part). A compaction covering the run's start anchors it. At the end, the run must start right
// after the snapshot index (whatever is older was compacted); anything else is corruption.
// Deletion keeps the latest snapshot record, the latest hard state record and every entry above
// the snapshot index, which is what makes this sufficient.
import { DecodeError } from '../codec/binary-codec.js';
import { EMPTY_HARD_STATE, EMPTY_SNAPSHOT, type Entry, type HardState, type SnapshotMeta } from '../core/index.js';
import { LogRecordType, decodeEntry, decodeHardState, decodeSnapshotMeta } from './log-records.js';
import { SegmentLiveness } from './segment-liveness.js';

/** A record the replay cannot accept; the caller turns it into SegmentCorruptError with the file. */
export class ReplayError extends Error {
  constructor(
    readonly segment: number,
    readonly offsetBytes: number,
    message: string,
  ) {
    super(message);
    this.name = 'ReplayError';
  }
}

export interface ReplayRecord {
  readonly segment: number;
  readonly offsetBytes: number;
  readonly type: number;
  readonly payload: Uint8Array;
}

export interface ReplayResult {
  readonly snapshot: SnapshotMeta;
  readonly hardState: HardState;
  /** Entries snapshot.index + 1 .. lastIndex, contiguous. */
  readonly entries: Entry[];
  readonly liveness: SegmentLiveness;
  readonly recordCount: number;
}

const FIRST_SEGMENT = 1;

export class LogReplay {
  #snapshot: SnapshotMeta = EMPTY_SNAPSHOT;
  #hardState: HardState = EMPTY_HARD_STATE;
  /**
   * Anchored: entries[k] is index snapshot.index + 1 + k. Unanchored: a contiguous run starting
   * at entries[0].index (any index above the snapshot).
   */
  #entries: Entry[] = [];
  #anchored: boolean | null = null;
  #recordCount = 0;
  readonly #liveness = new SegmentLiveness();

  apply(record: ReplayRecord): void {
    // The first record tells whether older segments were deleted (see the header).
    this.#anchored ??= record.segment <= FIRST_SEGMENT;
    this.#recordCount++;
    try {
      switch (record.type) {
        case LogRecordType.Entry:
          this.#entry(record, decodeEntry(record.payload));
          return;
        case LogRecordType.HardState:
          this.#hardState = decodeHardState(record.payload);
          this.#liveness.hardStateWritten(record.segment);
          return;
        case LogRecordType.Install:
          this.#install(record, decodeSnapshotMeta(record.payload));
          return;
        case LogRecordType.Compaction:
          this.#compaction(record, decodeSnapshotMeta(record.payload));
          return;
        default:
          throw new ReplayError(record.segment, record.offsetBytes, `unknown record type ${record.type}`);
      }
    } catch (err) {
      if (err instanceof DecodeError) throw new ReplayError(record.segment, record.offsetBytes, err.message);
      throw err;
    }
  }

  finish(): ReplayResult {
    if (this.#anchored === false && this.#entries.length > 0) {
      const first = this.#entries[0].index;
      if (first !== this.#snapshot.index + 1) {
        throw new ReplayError(
          0,
          0,
          `log prefix missing: entries start at ${first} but the snapshot is at ${this.#snapshot.index}`,
        );
      }
    }
    return {
      snapshot: this.#snapshot,
      hardState: this.#hardState,
      entries: this.#entries,
      liveness: this.#liveness,
      recordCount: this.#recordCount,
    };
  }

  #lastIndex(): number {
    const n = this.#entries.length;
    if (n === 0) return this.#snapshot.index;
    return this.#entries[n - 1].index;
  }

  #entry(record: ReplayRecord, e: Entry): void {
    const snapshotIndex = this.#snapshot.index;
    if (e.index <= snapshotIndex) return;
    const entries = this.#entries;
    const last = this.#lastIndex();
    if (this.#anchored === true) {
      if (e.index > last + 1) this.#fail(record, `entry ${e.index} leaves a gap after ${last}`);
      if (e.index <= last) this.#liveness.truncate(e.index - 1);
      entries.length = e.index - snapshotIndex - 1;
    } else if (entries.length === 0 || e.index <= entries[0].index) {
      if (entries.length > 0) this.#liveness.truncate(e.index - 1);
      entries.length = 0;
    } else {
      if (e.index > last + 1) this.#fail(record, `entry ${e.index} leaves a gap after ${last}`);
      if (e.index <= last) this.#liveness.truncate(e.index - 1);
      entries.length = e.index - entries[0].index;
    }
    entries.push(e);
    this.#liveness.entriesWritten(record.segment, e.index);
  }

  #install(record: ReplayRecord, meta: SnapshotMeta): void {
    if (meta.index < this.#snapshot.index) {
      this.#fail(record, `snapshot install at ${meta.index} older than the snapshot at ${this.#snapshot.index}`);
    }
    this.#snapshot = meta;
    this.#entries = [];
    this.#anchored = true;
    this.#liveness.installed(record.segment);
  }

  #compaction(record: ReplayRecord, meta: SnapshotMeta): void {
    if (meta.index <= this.#snapshot.index) return;
    const entries = this.#entries;
    if (entries.length === 0 && this.#anchored === false) {
      // Unanchored with nothing retained: the compacted entries were in deleted segments.
      this.#setSnapshot(record, meta);
      return;
    }
    const last = this.#lastIndex();
    if (meta.index > last) this.#fail(record, `compaction at ${meta.index} beyond the last index ${last}`);
    const first = this.#anchored === true ? this.#snapshot.index + 1 : entries[0].index;
    if (meta.index >= first) {
      const at = entries[meta.index - first];
      if (at.term !== meta.term) this.#fail(record, `compaction at ${meta.index} has term ${meta.term}, the entry has ${at.term}`);
      this.#entries = entries.slice(meta.index - first + 1);
      this.#anchored = true;
    } else if (meta.index === first - 1) {
      this.#anchored = true;
    }
    // else (unanchored, compaction older than the run): the gap must be closed by a later one.
    this.#setSnapshot(record, meta);
  }

  #setSnapshot(record: ReplayRecord, meta: SnapshotMeta): void {
    this.#snapshot = meta;
    this.#liveness.snapshotWritten(record.segment);
  }

  #fail(record: ReplayRecord, message: string): never {
    throw new ReplayError(record.segment, record.offsetBytes, message);
  }
}
