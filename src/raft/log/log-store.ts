// The durable Raft log: entries, hard state and snapshot metadata in checksummed segment files
// (storage/segment-log.ts), with the retained log kept in memory so that the core's reads
// (RaftStorage) are synchronous.
//
// Writes and durability:
// - save() persists one Ready's durable part (snapshot meta, then entries, then hard state: the
//   order raw-node.ts prescribes) with exactly one SegmentLog.sync(), i.e. one fdatasync (group
//   commit). Records are appended and the memory view updated in the same synchronous step, so
//   the view always equals the replay of the records appended so far, in order, whoever appends
//   next (save, compact). The promise resolves once they are durable: only then may the driver
//   send acks or votes. A torn tail after a crash loses a suffix of the last save's records only
//   (one record per entry; see log-replay.ts for why every such suffix is a valid log).
// - A failed write or fdatasync is sticky in the segment log: every later save/compact rejects
//   (StoreFailedError) and the owner must stop the node and reopen (open re-scans and cuts the
//   tail). The memory view may then hold what never reached the disk; it is never written again.
// - Except a write refused for lack of space (DiskFullError): the records stay pending in the
//   segment log, in order, and the memory view keeps them (it still equals the replay of the
//   records appended). retryPending() writes them; until it succeeds the caller must treat the
//   save as not durable (no acks, no votes, no apply). A later save or compact appends behind
//   them, so their order on disk is the order of the calls, whatever succeeds first.
// - compact(index) records the snapshot meta durably and drops entries <= index, then deletes
//   whole segments that hold nothing a restart needs (segment-liveness.ts).
//
// Segment reclamation policy: after a compaction (and after a snapshot install) the oldest
// segments are deleted up to the first one that still holds a live entry above the snapshot
// index, the latest hard state record or the latest snapshot record. compact() writes the
// snapshot record AND a copy of the current hard state together, so neither pins an old segment.
// The current segment is never deleted; so that it does not pin obsolete entries forever (a
// quiet cluster never fills it), compact() first rotates to a new segment when the current one
// holds at least compactRotateMinBytes (default: a quarter of a segment). Below that the rotation
// would cost a file per compaction for little space; the size bound rotates it eventually.
import { performance } from 'node:perf_hooks';
import { assert } from '../../util/assert.js';
import {
  CompactedError,
  EMPTY_HARD_STATE,
  UnavailableError,
  type ConfState,
  type Entry,
  type HardState,
  type RaftStorage,
  type SnapshotMeta,
} from '../core/index.js';
import { limitSize } from '../core/storage.js';
import type { DiskFaults } from '../../storage/disk-faults.js';
import type { DiskSpaceReporter } from '../../storage/disk-space.js';
import { SegmentCorruptError } from '../../storage/errors.js';
import type { CloseReport } from '../../storage/gate.js';
import type { StoreLogger } from '../../storage/logger.js';
import { segmentPath } from '../../storage/segment-files.js';
import { SegmentLog, type LogRecord, type TailCut } from '../../storage/segment-log.js';
import { ENTRY_HEADER_BYTES, LogRecordType, encodeEntryPayloads, encodeHardState, encodeSnapshotMeta } from './log-records.js';
import { LogReplay, ReplayError, type ReplayResult } from './log-replay.js';
import type { SegmentLiveness } from './segment-liveness.js';

export interface RaftLogStoreOptions {
  readonly logger: StoreLogger;
  /** Name in errors and logs. */
  readonly name?: string;
  /** A new segment file starts past this size (SegmentLog). */
  readonly segmentSizeBytes?: number;
  /** Encoded bytes appended and not yet synced, at most (SegmentLog): bounds one save. */
  readonly maxPendingBytes?: number;
  /** Payload of one entry, at most (bounds what open accepts too). */
  readonly maxEntryDataBytes?: number;
  /** compact() rotates first when the current segment holds at least this much (see header). */
  readonly compactRotateMinBytes?: number;
  readonly closeWarnAfterMs?: number;
  /** Told when a write is refused for lack of space, and when writes succeed again. */
  readonly diskSpace?: DiskSpaceReporter;
  /** Chaos runs and tests only: injected slow, full or failing disk calls (SegmentLog). */
  readonly faults?: DiskFaults;
  /** Prepare each next segment ahead as a synced file of zeros (SegmentLog, segment-spare.ts). */
  readonly preallocate?: boolean;
}

/** One Ready's durable part; a Ready satisfies it. Missing fields mean "nothing". */
export interface LogWrite {
  readonly snapshot?: SnapshotMeta | null;
  readonly entries?: readonly Entry[];
  readonly hardState?: HardState | null;
}

export interface RaftLogOpenReport {
  readonly recordCount: number;
  readonly segmentCount: number;
  /** What SegmentLog.open cut from a torn tail, or null. */
  readonly tailCut: TailCut | null;
  readonly snapshot: SnapshotMeta;
  readonly hardState: HardState;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly openMs: number;
}

const SEGMENT_SIZE_BYTES_DEFAULT = 64 * 1024 * 1024;
const MAX_ENTRY_DATA_BYTES_DEFAULT = 16 * 1024 * 1024;
const MAX_PENDING_BYTES_DEFAULT = 128 * 1024 * 1024;

export class RaftLogStore implements RaftStorage, AsyncDisposable {
  readonly #log: SegmentLog;
  readonly #logger: StoreLogger;
  readonly #name: string;
  readonly #compactRotateMinBytes: number;
  readonly #liveness: SegmentLiveness;
  readonly openReport: RaftLogOpenReport;

  #snapshot: SnapshotMeta;
  #hardState: HardState;
  /** entries[k] has index snapshot.index + 1 + k. */
  #entries: Entry[];
  #entryDataBytes: number;
  #saving = false;
  #compacting = false;

  /**
   * Opens (creating if missing) the log in `dir`: replays every record, after SegmentLog has cut
   * a torn tail of the last segment. Rejects with SegmentCorruptError for damage it must not
   * repair (a bad record before the last segment's tail, or records that do not form a log).
   */
  static async open(dir: string, options: RaftLogStoreOptions): Promise<RaftLogStore> {
    const startedMs = performance.now();
    const name = options.name ?? 'raft-log';
    const segmentSizeBytes = options.segmentSizeBytes ?? SEGMENT_SIZE_BYTES_DEFAULT;
    const maxEntryDataBytes = options.maxEntryDataBytes ?? MAX_ENTRY_DATA_BYTES_DEFAULT;
    const replay = new LogReplay();
    let lastSegment = 0;
    const log = await SegmentLog.open(
      dir,
      {
        logger: options.logger,
        name,
        segmentSizeBytes,
        maxRecordBytes: maxEntryDataBytes + ENTRY_HEADER_BYTES,
        maxPendingBytes: Math.max(options.maxPendingBytes ?? MAX_PENDING_BYTES_DEFAULT, 2 * (maxEntryDataBytes + ENTRY_HEADER_BYTES)),
        closeWarnAfterMs: options.closeWarnAfterMs,
        diskSpace: options.diskSpace,
        faults: options.faults,
        preallocate: options.preallocate,
      },
      (record) => {
        lastSegment = record.segment;
        try {
          replay.apply(record);
        } catch (err) {
          throw corrupt(name, dir, err);
        }
      },
    );
    let result: ReplayResult;
    try {
      result = replay.finish();
    } catch (err) {
      await log.close();
      throw corrupt(name, dir, err, lastSegment);
    }
    return new RaftLogStore(log, options, name, segmentSizeBytes, result, performance.now() - startedMs);
  }

  private constructor(
    log: SegmentLog,
    options: RaftLogStoreOptions,
    name: string,
    segmentSizeBytes: number,
    replayed: ReplayResult,
    openMs: number,
  ) {
    this.#log = log;
    this.#logger = options.logger;
    this.#name = name;
    this.#compactRotateMinBytes = options.compactRotateMinBytes ?? Math.ceil(segmentSizeBytes / 4);
    this.#liveness = replayed.liveness;
    this.#snapshot = replayed.snapshot;
    this.#hardState = replayed.hardState;
    this.#entries = replayed.entries;
    this.#entryDataBytes = 0;
    for (const e of this.#entries) this.#entryDataBytes += e.data.byteLength;
    const report = log.openReport;
    this.openReport = {
      recordCount: report.recordCount,
      segmentCount: report.segments.length,
      tailCut: report.tailCut,
      snapshot: this.#snapshot,
      hardState: this.#hardState,
      firstIndex: this.firstIndex(),
      lastIndex: this.lastIndex(),
      openMs,
    };
    const fields = {
      store: name,
      dir: log.dir,
      segmentCount: report.segments.length,
      recordCount: report.recordCount,
      snapshotIndex: this.#snapshot.index,
      snapshotTerm: this.#snapshot.term,
      firstIndex: this.firstIndex(),
      lastIndex: this.lastIndex(),
      term: this.#hardState.term,
      vote: this.#hardState.vote,
      commit: this.#hardState.commit,
      openMs: Math.round(openMs),
    };
    if (report.tailCut !== null) {
      // Only the last save's records can be in a torn tail: nothing acknowledged was lost.
      this.#logger.warn({ ...fields, ...report.tailCut }, 'raft log: torn tail cut; log ends at lastIndex');
    }
    this.#logger.info(fields, 'raft log opened');
  }

  // ------------------------------------------------------------------ RaftStorage (synchronous)

  hardState(): HardState {
    return this.#hardState;
  }

  snapshot(): SnapshotMeta {
    return this.#snapshot;
  }

  firstIndex(): number {
    return this.#snapshot.index + 1;
  }

  lastIndex(): number {
    return this.#snapshot.index + this.#entries.length;
  }

  term(index: number): number {
    const base = this.#snapshot.index;
    if (index < base) throw new CompactedError(index);
    if (index === base) return this.#snapshot.term;
    if (index - base > this.#entries.length) throw new UnavailableError(index);
    return this.#entries[index - base - 1].term;
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    const base = this.#snapshot.index;
    if (lo <= base) throw new CompactedError(lo);
    assert(hi <= this.lastIndex() + 1, () => `entries(${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    return limitSize(this.#entries.slice(lo - base - 1, hi - base - 1), maxSizeBytes);
  }

  // ------------------------------------------------------------------ state

  /** Nothing was ever saved (fresh directory, or every record was torn): write the bootstrap log. */
  isEmpty(): boolean {
    const hs = this.#hardState;
    return (
      this.#snapshot.index === 0 &&
      this.#entries.length === 0 &&
      hs.term === EMPTY_HARD_STATE.term &&
      hs.vote === EMPTY_HARD_STATE.vote &&
      hs.commit === EMPTY_HARD_STATE.commit
    );
  }

  get name(): string {
    return this.#name;
  }

  /** Data bytes of the entries held in memory (the retained log). */
  get retainedEntryDataBytes(): number {
    return this.#entryDataBytes;
  }

  /** Segment files on disk, oldest first (sizes count synced records). */
  segments(): { segment: number; sizeBytes: number; recordCount: number }[] {
    return this.#log.segments();
  }

  // ------------------------------------------------------------------ writes

  /**
   * Persists one Ready's durable part with one fdatasync. Entries at or below the snapshot index
   * are skipped (already compacted); the first kept one may overwrite a stored suffix. Reads see
   * the result from the call on; it is durable when the promise resolves. One save at a time.
   */
  async save(write: LogWrite): Promise<void> {
    assert(!this.#saving, 'RaftLogStore.save: a save is already in flight (one Ready at a time)');
    const snapshot = write.snapshot ?? null;
    const allEntries = write.entries ?? [];
    const base = snapshot !== null ? snapshot.index : this.#snapshot.index;
    if (snapshot !== null) {
      assert(snapshot.index >= this.#snapshot.index, () => `snapshot ${snapshot.index} older than ${this.#snapshot.index}`);
    }
    let skip = 0;
    while (skip < allEntries.length && allEntries[skip].index <= base) skip++;
    const entries = skip === 0 ? allEntries : allEntries.slice(skip);
    if (entries.length > 0) {
      const last = snapshot !== null ? snapshot.index : this.lastIndex();
      assert(entries[0].index <= last + 1, () => `save at ${entries[0].index} leaves a gap after ${last}`);
      for (let i = 1; i < entries.length; i++) {
        assert(entries[i].index === entries[i - 1].index + 1, () => `save: entries not consecutive at ${entries[i].index}`);
      }
    }
    // An install also rewrites the current hard state, so the install's segment holds both and
    // every older segment becomes obsolete at once.
    const hardState = write.hardState ?? (snapshot !== null ? this.#hardState : null);

    const records: LogRecord[] = [];
    if (snapshot !== null) records.push({ type: LogRecordType.Install, payload: encodeSnapshotMeta(snapshot) });
    for (const payload of encodeEntryPayloads(entries)) records.push({ type: LogRecordType.Entry, payload });
    if (hardState !== null) records.push({ type: LogRecordType.HardState, payload: encodeHardState(hardState) });
    if (records.length === 0) return; // a Ready with nothing durable: no fdatasync

    this.#saving = true;
    try {
      // All or nothing: a refused append (closed, failed, too large) changes nothing.
      const segment = this.#log.append(records);
      if (snapshot !== null) {
        this.#snapshot = snapshot;
        this.#entries = [];
        this.#entryDataBytes = 0;
        this.#liveness.installed(segment);
      }
      if (entries.length > 0) this.#appendInMemory(entries, segment);
      if (hardState !== null) {
        this.#hardState = hardState;
        this.#liveness.hardStateWritten(segment);
      }
      await this.#log.sync();
    } finally {
      this.#saving = false;
    }
    if (snapshot !== null) await this.#reclaim();
  }

  /** A follower installed the leader's snapshot: the whole log is replaced by it. */
  installSnapshot(meta: SnapshotMeta): Promise<void> {
    return this.save({ snapshot: meta });
  }

  /**
   * The state machine holds everything up to `index` durably (the caller guarantees it): records
   * the snapshot meta {index, term at index, conf}, drops entries <= index, deletes obsolete
   * segments. A no-op at or below the current snapshot. One compaction at a time; it may run
   * while a save is in flight.
   */
  async compact(index: number, conf: ConfState): Promise<void> {
    if (index <= this.#snapshot.index) return;
    assert(index <= this.lastIndex(), () => `compact ${index} beyond last index ${this.lastIndex()}`);
    assert(!this.#compacting, 'RaftLogStore.compact: a compaction is already in flight');
    this.#compacting = true;
    try {
      if (this.#currentSegmentBytes() >= this.#compactRotateMinBytes) {
        // The compaction record must go into the NEW segment, so the one just closed can go.
        await this.#log.rotate();
        // A snapshot install may have happened meanwhile and made this compaction moot.
        if (index <= this.#snapshot.index || index > this.lastIndex()) return;
      }
      const base = this.#snapshot.index;
      const term = this.#entries[index - base - 1].term;
      const meta: SnapshotMeta = { index, term, conf };
      const segment = this.#log.append([
        { type: LogRecordType.Compaction, payload: encodeSnapshotMeta(meta) },
        { type: LogRecordType.HardState, payload: encodeHardState(this.#hardState) },
      ]);
      const dropped = this.#entries.slice(0, index - base);
      for (const e of dropped) this.#entryDataBytes -= e.data.byteLength;
      this.#entries = this.#entries.slice(index - base);
      this.#snapshot = meta;
      this.#liveness.snapshotWritten(segment);
      this.#liveness.hardStateWritten(segment);
      await this.#log.sync();
      await this.#reclaim();
    } finally {
      this.#compacting = false;
    }
  }

  /**
   * After a save or compact rejected with DiskFullError: writes the records they left pending,
   * with one fdatasync. Resolves once they are durable; rejects with DiskFullError while there
   * is still no room (try again later), with anything else as save does.
   */
  async retryPending(): Promise<void> {
    await this.#log.sync();
  }

  /** Refuses new writes at once, waits for the one in flight, closes the file. Idempotent. */
  close(): Promise<CloseReport> {
    return this.#log.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ------------------------------------------------------------------ internals

  #appendInMemory(entries: readonly Entry[], segment: number): void {
    const base = this.#snapshot.index;
    const first = entries[0].index;
    const keep = first - base - 1;
    if (keep < this.#entries.length) {
      // A leader's overwrite: everything from `first` on is replaced.
      for (let k = keep; k < this.#entries.length; k++) this.#entryDataBytes -= this.#entries[k].data.byteLength;
      this.#entries.length = keep;
      this.#liveness.truncate(first - 1);
    }
    for (const e of entries) {
      this.#entries.push(e);
      this.#entryDataBytes += e.data.byteLength;
    }
    this.#liveness.entriesWritten(segment, entries[entries.length - 1].index);
  }

  #currentSegmentBytes(): number {
    const segments = this.#log.segments();
    return segments[segments.length - 1].sizeBytes + this.#log.pendingBytes;
  }

  /** Deletes the oldest segments that hold nothing a restart needs (policy: see the header). */
  async #reclaim(): Promise<void> {
    const segments = this.#log.segments().map((info) => info.segment);
    const before = this.#liveness.firstNeededSegment(segments, this.#snapshot.index);
    if (before <= segments[0]) return;
    const deleted = await this.#log.deleteSegmentsBefore(before);
    this.#liveness.forget(deleted);
  }
}

function corrupt(name: string, dir: string, err: unknown, lastSegment = 0): unknown {
  if (!(err instanceof ReplayError)) return err;
  const segment = err.segment > 0 ? err.segment : lastSegment;
  return new SegmentCorruptError(name, segment > 0 ? segmentPath(dir, segment) : dir, err.offsetBytes, err.message);
}
