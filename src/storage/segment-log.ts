// Append-only, checksummed records in numbered segment files (the Raft log's disk format; this
// module does not interpret payloads).
//
// - append(records) encodes into memory (bounded by maxPendingBytes); sync() writes everything
//   appended since the last sync and calls fdatasync ONCE (group commit: one per Raft Ready).
// - Past segmentSizeBytes, sync() starts a new segment after its fdatasync. rotate() starts one
//   on demand. A segment is therefore fully synced before the next one exists, which is what
//   lets open() tell a torn write (only possible in the last segment) from corruption.
// - open() reads every segment in order, hands each record to a callback, cuts a torn or
//   corrupt tail of the LAST segment (truncate + fsync, reported in openReport.tailCut), and
//   refuses (SegmentCorruptError) a bad record in any other segment or a gap in the numbers.
// - With `preallocate`, the next segment is written ahead as a file of zeros (segment-spare.ts:
//   why, and what it measured) and renamed into place when the log starts a new segment; a log
//   still in a segment that was not prepared (a new log, or one opened after a tail cut) moves to
//   the spare as soon as it is ready. The first spare is small (FIRST_SPARE_BYTES, written in
//   milliseconds) so that even a lightly written log reaches a prepared segment within seconds,
//   each later one twice the size of the last, up to the segment size (each is written while
//   the second half of the last one's zeros fills, at a bounded rate); a write that would grow
//   a prepared file past its zeros moves to the next spare, if one is ready, the same way. A
//   segment's file can therefore be longer than its records, with zeros after them; the log
//   cuts a finished segment to its records before the next one exists, so only the last
//   segment ever has such a tail, and open() reads an all-zero tail there as free space, not
//   damage (anything else after the last record is still cut).
// - deleteSegmentsBefore(n) removes whole old segments, oldest first (so what remains is always
//   contiguous); the caller decides which, from the records it saw in each segment.
// - A failed fdatasync is sticky (FsyncFailedError, then StoreFailedError until reopened):
//   after a failed fsync the page cache state is unknown, and a retried fsync can report
//   success falsely. So is a failed write, except for lack of space (ENOSPC, EDQUOT): write(2)
//   refused those bytes before they reached the page cache, so nothing synced is at risk. Then
//   sync() rejects with DiskFullError and keeps the records pending, ahead of later appends,
//   and the next sync() writes them again at the same offset (over whatever part of them the
//   refused write left: bytes past the last sync are never trusted, see open). The same holds
//   for creating the next segment. The owner decides when to try again (node.ts retries with a
//   backoff); `diskSpace` hears when a store fills up and when it can write again.
//
// Which calls are synchronous, and why:
// - append() is: it only encodes into memory, and returning the segment number at once is
//   what lets the caller index its records.
// - open() is: it runs once at startup, when the process has nothing else to do, and a plain
//   loop over readFileSync is the simplest correct scan.
// - sync(), rotate() and deleteSegmentsBefore() are asynchronous: they wait on the disk. Inside
//   sync() the pwrite itself is synchronous (a copy into the page cache, microseconds): only
//   the fdatasync goes to the thread pool, one round trip per Ready instead of two (measured on
//   3 members with one client: p50 2.0 -> 1.7 ms).
//   fdatasync measured here (ext4 on virtio, bench/storage-segment-log.ts): p50 0.2-0.3 ms
//   when the disk is quiet but 2.5-4 ms while it is busy, and p99 5-10 ms (26 ms seen). The
//   median alone would allow blocking; the tail would not: a synchronous fdatasync per Raft
//   Ready stalls heartbeats, peer messages, HTTP and RocksDB callbacks for its whole duration
//   (measured: event-loop delay p50 1.7-2.4 ms with fdatasyncSync in a loop against 1.1 ms, the
//   timer resolution, with the async call). Asynchronously, the loop keeps receiving proposals
//   and acks during the fsync, and appends made meanwhile form the next group. The steps run
//   one at a time in call order (a promise chain), each taking whatever is pending when it
//   starts, so a sync() resolves only once everything appended before it is durable.
// The cost of async: a step in flight is state. The gate covers it (close waits for it), and
// the segment an append goes to is decided before the step that may rotate starts writing.

import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { AssertionError, assert } from '../util/assert.js';
import { OperatingError } from '../util/errors.js';
import type { DiskFaults } from './disk-faults.js';
import type { DiskSpaceReporter } from './disk-space.js';
import { DiskFullError, FsyncFailedError, SegmentCorruptError, StoreFailedError, StoreIoError, StoreLimitError, isNoSpaceError } from './errors.js';
import { CallGate, type CloseReport, type GateState } from './gate.js';
import type { StoreLogger } from './logger.js';
import {
  RECORD_TYPE_MAX,
  RECORD_TYPE_MIN,
  decodeRecordAt,
  encodeRecordInto,
  encodedRecordBytes,
  type BadRecordReason,
} from './record-codec.js';
import {
  closeFileAsync,
  createFileAsync,
  fdatasyncAsync,
  fsyncDir,
  fsyncDirAsync,
  listSegmentNumbers,
  segmentPath,
  truncateAndSyncAsync,
  writeAllAtSync,
} from './segment-files.js';
import { SegmentSpare } from './segment-spare.js';

export interface SegmentLogOptions {
  readonly logger: StoreLogger;
  /** Name in errors and logs. */
  readonly name?: string;
  /** sync() starts a new segment once the current one reaches this size. */
  readonly segmentSizeBytes?: number;
  /** Encoded bytes appended and not yet synced, at most; past it append() throws StoreLimitError. */
  readonly maxPendingBytes?: number;
  /** Payload size of one record, at most (also bounds what open() accepts as a length). */
  readonly maxRecordBytes?: number;
  readonly closeWarnAfterMs?: number;
  readonly closeTimeoutMs?: number;
  /** Told when a write is refused for lack of space, and when writes succeed again. */
  readonly diskSpace?: DiskSpaceReporter;
  /** Chaos runs and tests only: injected slow, full or failing disk calls. */
  readonly faults?: DiskFaults;
  /** Prepare each next segment ahead as a synced file of zeros (see the header). */
  readonly preallocate?: boolean;
  /** With preallocate: free space the file system must keep besides a spare (SegmentSpare). */
  readonly spareMinFreeBytes?: number;
}

export interface LogRecord {
  /** 1..255, chosen by the caller (0 is reserved: it is what a zero-filled tail reads as). */
  readonly type: number;
  readonly payload: Uint8Array;
}

/** A record read back at open. */
export interface ScannedRecord {
  readonly segment: number;
  readonly offsetBytes: number;
  readonly type: number;
  /** A copy: the caller may keep it. */
  readonly payload: Buffer;
}

export interface SegmentInfo {
  readonly segment: number;
  /** Bytes of whole records written and synced. */
  readonly sizeBytes: number;
  readonly recordCount: number;
}

export interface TailCut {
  readonly segment: number;
  /** Where the file was truncated: the end of the last whole record. */
  readonly offsetBytes: number;
  readonly bytesCut: number;
  readonly reason: BadRecordReason;
}

export interface SegmentLogOpenReport {
  readonly segments: readonly SegmentInfo[];
  readonly recordCount: number;
  readonly tailCut: TailCut | null;
  /** Zeros after the last segment's last record: space prepared ahead, kept as it is. */
  readonly zeroTailBytes: number;
  readonly openMs: number;
}

const SEGMENT_SIZE_BYTES_DEFAULT = 64 * 1024 * 1024;
const MAX_PENDING_BYTES_DEFAULT = 64 * 1024 * 1024;
const MAX_RECORD_BYTES_DEFAULT = 16 * 1024 * 1024;
const CLOSE_WARN_AFTER_MS_DEFAULT = 5_000;
const FIRST_SEGMENT = 1;
/**
 * A log writes this much into a segment that was not prepared before it prepares a spare: a log
 * that is hardly written (most tests, an idle member) never writes zeros.
 */
const FIRST_SPARE_DUE_BYTES = 64 * 1024;
/** The size of the spare that follows a segment that was not prepared (at most a segment). */
const FIRST_SPARE_BYTES = 4 * 1024 * 1024;

interface Limits {
  readonly segmentSizeBytes: number;
  readonly maxPendingBytes: number;
  readonly maxRecordBytes: number;
}

interface MutableSegmentInfo {
  segment: number;
  sizeBytes: number;
  recordCount: number;
}

export class SegmentLog implements AsyncDisposable {
  readonly #dir: string;
  readonly #name: string;
  readonly #logger: StoreLogger;
  readonly #limits: Limits;
  readonly #gate: CallGate;
  readonly #segments: MutableSegmentInfo[];
  readonly openReport: SegmentLogOpenReport;
  /** The last segment's file, open for writing. */
  #fd: number;
  /** Its length: its records, then zeros if it was prepared ahead (or left by a torn write). */
  #fileBytes: number;
  /** How long its file was when it started (prepared ahead), or 0 if it was not prepared. */
  #preparedBytes: number;
  /** The next segment, prepared ahead; null without the preallocate option. */
  readonly #spare: SegmentSpare | null;
  /** Bytes written since open, up to FIRST_SPARE_DUE_BYTES (when to prepare a first spare). */
  #writtenBytes = 0;
  #preparedSegmentCount = 0;
  /**
   * The segment append() puts records in: the last segment, or the next one once a running
   * step has decided to start it (pending records then belong to that next segment).
   */
  #appendSegment: number;
  /** The end of the chain of disk steps (sync, rotate, delete); never rejects. */
  #steps: Promise<void> = Promise.resolve();
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #pendingRecordCount = 0;
  /** The first I/O failure after which nothing more is written. */
  #failure: unknown = null;
  readonly #diskSpace: DiskSpaceReporter | undefined;
  readonly #faults: DiskFaults | undefined;
  /** The last write was refused for lack of space (reported to #diskSpace until one succeeds). */
  #full = false;

  /**
   * Opens the log in `dir` (created if missing), calling `onRecord` for every record in order,
   * after cutting a torn tail of the last segment. Rejects with SegmentCorruptError for damage
   * that is not a torn tail. An exception from onRecord aborts the open and is passed through.
   */
  static open(
    dir: string,
    options: SegmentLogOptions,
    onRecord: (record: ScannedRecord) => void,
  ): Promise<SegmentLog> {
    return settle(() => SegmentLog.#openSync(dir, options, onRecord));
  }

  static #openSync(dir: string, options: SegmentLogOptions, onRecord: (record: ScannedRecord) => void): SegmentLog {
    const startedMs = performance.now();
    const name = options.name ?? 'segment-log';
    const limits: Limits = {
      segmentSizeBytes: options.segmentSizeBytes ?? SEGMENT_SIZE_BYTES_DEFAULT,
      maxPendingBytes: options.maxPendingBytes ?? MAX_PENDING_BYTES_DEFAULT,
      maxRecordBytes: options.maxRecordBytes ?? MAX_RECORD_BYTES_DEFAULT,
    };
    assert(limits.segmentSizeBytes > 0, 'segmentSizeBytes must be positive');
    assert(limits.maxRecordBytes >= 0, 'maxRecordBytes must be non-negative');
    assert(
      limits.maxPendingBytes >= encodedRecordBytes(limits.maxRecordBytes),
      'maxPendingBytes must hold at least one record of maxRecordBytes',
    );

    const numbers = io(name, `open ${dir}`, () => {
      fs.mkdirSync(dir, { recursive: true });
      return listSegmentNumbers(dir);
    });
    for (let i = 1; i < numbers.length; i++) {
      if (numbers[i] !== numbers[i - 1] + 1) {
        throw new SegmentCorruptError(name, segmentPath(dir, numbers[i - 1] + 1), 0, 'segment file missing (gap in segment numbers)');
      }
    }

    const segments: MutableSegmentInfo[] = [];
    let tailCut: TailCut | null = null;
    let zeroTailBytes = 0;
    let lastFileBytes = 0;
    let recordCount = 0;
    for (const [i, segment] of numbers.entries()) {
      const path = segmentPath(dir, segment);
      // Whole file in memory: segments are bounded by segmentSizeBytes (+ one sync's worth).
      const data = io(name, `read ${path}`, () => fs.readFileSync(path));
      let offsetBytes = 0;
      let segmentRecordCount = 0;
      while (offsetBytes < data.length) {
        const decoded = decodeRecordAt(data, offsetBytes, limits.maxRecordBytes);
        if (!decoded.ok) {
          if (i !== numbers.length - 1) throw new SegmentCorruptError(name, path, offsetBytes, decoded.reason);
          // Zeros to the end: space written ahead, or a file extended whose data never reached
          // the disk; nothing in it can read as a record, so it stays for the next writes.
          if (decoded.reason === 'zero-filled') zeroTailBytes = data.length - offsetBytes;
          else tailCut = { segment, offsetBytes, bytesCut: data.length - offsetBytes, reason: decoded.reason };
          break;
        }
        onRecord({ segment, offsetBytes, type: decoded.type, payload: Buffer.from(decoded.payload) });
        segmentRecordCount++;
        offsetBytes = decoded.nextOffset;
      }
      segments.push({ segment, sizeBytes: offsetBytes, recordCount: segmentRecordCount });
      recordCount += segmentRecordCount;
      lastFileBytes = tailCut === null ? data.length : offsetBytes;
    }

    let fd: number;
    if (segments.length === 0) {
      fd = createSegment(name, dir, FIRST_SEGMENT);
      segments.push({ segment: FIRST_SEGMENT, sizeBytes: 0, recordCount: 0 });
    } else {
      const last = segments[segments.length - 1];
      const path = segmentPath(dir, last.segment);
      const openFd = io(name, `open ${path}`, () => fs.openSync(path, 'r+'));
      fd = openFd;
      if (tailCut !== null) {
        const cut = tailCut;
        io(name, `truncate ${path}`, () => {
          try {
            fs.ftruncateSync(openFd, cut.offsetBytes);
            fs.fsyncSync(openFd);
          } catch (err) {
            fs.closeSync(openFd);
            throw err;
          }
        });
        options.logger.warn({ store: name, path, ...cut }, 'segment log: cut a torn or corrupt tail');
      }
    }

    const openReport: SegmentLogOpenReport = {
      segments: segments.map((info) => ({ ...info })),
      recordCount,
      tailCut,
      zeroTailBytes,
      openMs: performance.now() - startedMs,
    };
    options.logger.info(
      {
        store: name,
        dir,
        segmentCount: segments.length,
        recordCount,
        tailCutBytes: tailCut?.bytesCut ?? 0,
        zeroTailBytes,
        openMs: Math.round(openReport.openMs),
      },
      'segment log opened',
    );
    const spare = options.preallocate === true
      ? io(name, `open the spare segment in ${dir}`, () =>
          SegmentSpare.open({ dir, name, maxBytes: limits.segmentSizeBytes, logger: options.logger, minFreeBytes: options.spareMinFreeBytes }),
        )
      : null;
    // A zero tail is space prepared ahead (or left by a write that never reached the disk: the
    // same for what follows).
    const preparedBytes = zeroTailBytes > 0 ? lastFileBytes : 0;
    return new SegmentLog(dir, name, options, limits, segments, { fd, fileBytes: lastFileBytes, preparedBytes, spare }, openReport);
  }

  private constructor(
    dir: string,
    name: string,
    options: SegmentLogOptions,
    limits: Limits,
    segments: MutableSegmentInfo[],
    files: { readonly fd: number; readonly fileBytes: number; readonly preparedBytes: number; readonly spare: SegmentSpare | null },
    openReport: SegmentLogOpenReport,
  ) {
    this.#dir = dir;
    this.#name = name;
    this.#logger = options.logger;
    this.#limits = limits;
    this.#segments = segments;
    this.#fd = files.fd;
    this.#fileBytes = files.fileBytes;
    this.#preparedBytes = files.preparedBytes;
    this.#spare = files.spare;
    this.#appendSegment = segments[segments.length - 1].segment;
    this.openReport = openReport;
    this.#diskSpace = options.diskSpace;
    this.#faults = options.faults;
    this.#gate = new CallGate({
      store: name,
      logger: options.logger,
      closeWarnAfterMs: options.closeWarnAfterMs ?? CLOSE_WARN_AFTER_MS_DEFAULT,
      closeTimeoutMs: options.closeTimeoutMs,
      finalize: async () => {
        await this.#spare?.close();
        this.#closeFile();
      },
    });
    this.#gate.markOpen();
  }

  get name(): string {
    return this.#name;
  }

  get dir(): string {
    return this.#dir;
  }

  get state(): GateState {
    return this.#gate.state;
  }

  /** A prepared next segment is waiting (option preallocate). */
  get spareReady(): boolean {
    return this.#spare?.ready === true;
  }

  /** Segments started since open from a file prepared ahead (option preallocate). */
  get preparedSegmentCount(): number {
    return this.#preparedSegmentCount;
  }

  /** The segment appends go to. */
  get currentSegment(): number {
    return this.#appendSegment;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  get pendingRecordCount(): number {
    return this.#pendingRecordCount;
  }

  /** Every segment, oldest first; sizes count synced records only. */
  segments(): SegmentInfo[] {
    return this.#segments.map((info) => ({ ...info }));
  }

  /**
   * Buffers records for the next sync(); returns the segment they will be in. All or nothing:
   * StoreLimitError (nothing buffered) past maxRecordBytes or maxPendingBytes.
   */
  append(records: readonly LogRecord[]): number {
    return this.#gate.runSync(
      'append',
      () => {
        this.#checkNotFailed('append');
        let bytes = 0;
        for (const record of records) {
          assert(
            Number.isInteger(record.type) && record.type >= RECORD_TYPE_MIN && record.type <= RECORD_TYPE_MAX,
            () => `record type ${record.type} out of range`,
          );
          if (record.payload.length > this.#limits.maxRecordBytes) {
            throw new StoreLimitError(this.#name, 'maxRecordBytes', this.#limits.maxRecordBytes, record.payload.length);
          }
          bytes += encodedRecordBytes(record.payload.length);
        }
        if (this.#pendingBytes + bytes > this.#limits.maxPendingBytes) {
          throw new StoreLimitError(this.#name, 'maxPendingBytes', this.#limits.maxPendingBytes, this.#pendingBytes + bytes);
        }
        if (bytes > 0) {
          // Encoded (and so copied) now: the caller may reuse its payload buffers after append.
          const chunk = Buffer.allocUnsafe(bytes);
          let offsetBytes = 0;
          for (const record of records) offsetBytes = encodeRecordInto(chunk, offsetBytes, record.type, record.payload);
          this.#pending.push(chunk);
          this.#pendingBytes += bytes;
          this.#pendingRecordCount += records.length;
        }
        return this.#appendSegment;
      },
      `${records.length} records`,
    );
  }

  /**
   * Writes everything appended before this call and makes it durable with one fdatasync, then
   * starts a new segment if the current one is full. Nothing pending: no I/O.
   */
  sync(): Promise<void> {
    return this.#step('sync', () => this.#syncStep(false));
  }

  /**
   * Syncs what is pending, then starts a new segment (unless the current one is empty).
   * Resolves with the segment new appends go to.
   */
  rotate(): Promise<number> {
    return this.#step('rotate', async () => {
      await this.#syncStep(true);
      return this.#appendSegment;
    });
  }

  /**
   * Deletes every segment numbered below `segment`, oldest first, never the current one.
   * Resolves with the numbers deleted.
   */
  deleteSegmentsBefore(segment: number): Promise<number[]> {
    return this.#step('deleteSegments', () => this.#deleteStep(segment), `before ${segment}`);
  }

  /**
   * Refuses new calls at once and closes the file. Records appended but not synced are
   * dropped (the caller syncs what it needs durable; an unsynced record was never acked).
   * Idempotent: same promise.
   */
  close(): Promise<CloseReport> {
    return this.#gate.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #current(): MutableSegmentInfo {
    return this.#segments[this.#segments.length - 1];
  }

  #checkNotFailed(op: string): void {
    if (this.#failure !== null) throw new StoreFailedError(this.#name, op, this.#failure);
  }

  /** Runs `work` as a gated operation, after every step called before it has finished. */
  #step<T>(op: string, work: () => Promise<T>, detail?: string): Promise<T> {
    return this.#gate.run(
      op,
      () => {
        const result = this.#steps.then(work);
        this.#steps = result.then(
          () => undefined,
          () => undefined,
        );
        return result;
      },
      detail,
    );
  }

  async #syncStep(rotate: boolean): Promise<void> {
    this.#checkNotFailed(rotate ? 'rotate' : 'sync');
    // A rotation decided by an earlier step whose segment create found no space: create it now,
    // before writing what was appended for it.
    if (this.#appendSegment !== this.#current().segment) await this.#startNextSegment();
    const target = this.#current();
    assert(this.#appendSegment === target.segment, 'segment log: appends ahead of the segment files');
    // Take what is pending and decide on rotation synchronously, before any await: appends
    // made while this step waits on the disk go to the next step, into #appendSegment.
    const pending = this.#pending;
    const pendingBytes = this.#pendingBytes;
    const pendingRecordCount = this.#pendingRecordCount;
    const data = pendingBytes === 0 ? null : Buffer.concat(pending, pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#pendingRecordCount = 0;
    const sizeAfterBytes = target.sizeBytes + pendingBytes;
    const startNext =
      sizeAfterBytes >= this.#limits.segmentSizeBytes ||
      (rotate && sizeAfterBytes > 0) ||
      // A write that grows the file (a segment not prepared, or past its zeros) is the last one
      // there once a spare is ready.
      (sizeAfterBytes > this.#fileBytes && this.#spare?.ready === true);
    if (startNext) this.#appendSegment = target.segment + 1;
    if (data !== null) {
      try {
        // The write only copies into the page cache (microseconds): done in place, it saves a
        // thread-pool round trip per Ready; the fdatasync, which waits on the device, is not.
        const injected = this.#faults?.writeError(this.#name) ?? null;
        if (injected !== null) throw injected;
        writeAllAtSync(this.#fd, data, target.sizeBytes);
        this.#fileBytes = Math.max(this.#fileBytes, sizeAfterBytes);
      } catch (err) {
        // Part of the data may have reached the file: count it, so that a rotation cuts it off.
        this.#fileBytes = Math.max(this.#fileBytes, sizeAfterBytes);
        if (!isNoSpaceError(err)) {
          this.#fail(err);
          throw new StoreIoError(this.#name, `write segment ${target.segment}`, err);
        }
        // Nothing was awaited since the pending records were taken, so nothing was appended
        // meanwhile: put them back as they were, and the rotation decision with them.
        this.#pending = pending;
        this.#pendingBytes = pendingBytes;
        this.#pendingRecordCount = pendingRecordCount;
        this.#appendSegment = target.segment;
        throw this.#diskFull(`write segment ${target.segment}`, err);
      }
      try {
        const delayMs = this.#faults?.delayMs(this.#name, 'sync') ?? 0;
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        const injected = this.#faults?.syncError(this.#name) ?? null;
        if (injected !== null) throw injected;
        await fdatasyncAsync(this.#fd);
      } catch (err) {
        this.#fail(err);
        throw new FsyncFailedError(this.#name, `sync segment ${target.segment}`, err);
      }
      target.sizeBytes = sizeAfterBytes;
      target.recordCount += pendingRecordCount;
      this.#spaceAvailable();
      this.#prepareSpareIfDue(pendingBytes);
    }
    if (startNext) await this.#startNextSegment();
  }

  /**
   * A spare is due in a prepared segment once half its zeros are used (it is needed only when
   * they all are, and writing it competes with the log's own syncs for the disk); after a segment
   * that was not prepared, once the log has written FIRST_SPARE_DUE_BYTES since open, and then
   * a small one; otherwise twice the current one's zeros, up to a segment.
   */
  #prepareSpareIfDue(writtenBytes: number): void {
    if (this.#spare === null) return;
    const segmentSizeBytes = this.#limits.segmentSizeBytes;
    this.#writtenBytes = Math.min(FIRST_SPARE_DUE_BYTES, this.#writtenBytes + writtenBytes);
    if (this.#preparedBytes > 0) {
      if (this.#current().sizeBytes >= this.#preparedBytes / 2) this.#spare.prepare(Math.min(segmentSizeBytes, 2 * this.#preparedBytes));
    } else if (this.#writtenBytes >= FIRST_SPARE_DUE_BYTES) {
      this.#spare.prepare(Math.min(FIRST_SPARE_BYTES, segmentSizeBytes));
    }
  }

  /** A write found no space: the error to throw, reported to the monitor once per episode. */
  #diskFull(op: string, cause: unknown): DiskFullError {
    const error = new DiskFullError(this.#name, op, cause);
    if (!this.#full) {
      this.#full = true;
      this.#logger.warn({ store: this.#name, dir: this.#dir, op, err: cause }, 'segment log: no space for a write; the records are kept and written again on the next sync');
      this.#diskSpace?.full(this.#name, error);
    }
    return error;
  }

  #spaceAvailable(): void {
    if (!this.#full) return;
    this.#full = false;
    this.#diskSpace?.available(this.#name);
  }

  /**
   * The current segment is synced; cut it to its records, then create the next one (or move the
   * spare into place) and switch the file to it.
   */
  async #startNextSegment(): Promise<void> {
    const current = this.#current();
    const next = current.segment + 1;
    if (this.#fileBytes > current.sizeBytes) {
      // Before the next segment exists: only the last segment may end in anything but records.
      try {
        await truncateAndSyncAsync(this.#fd, current.sizeBytes);
      } catch (err) {
        this.#fail(err);
        throw new FsyncFailedError(this.#name, `cut segment ${current.segment} to its records`, err);
      }
      this.#fileBytes = current.sizeBytes;
    }
    let fd: number;
    let preparedBytes = 0;
    try {
      const moved = await this.#moveSpareTo(next);
      if (moved !== null) preparedBytes = moved.sizeBytes;
      fd = moved?.fd ?? (await createSegmentAsync(this.#name, this.#dir, next));
    } catch (err) {
      // No room for the new file: appends keep going to `next` (#appendSegment), and the next
      // step creates it first. Any other failure (the directory fsync included) is sticky.
      if (err instanceof DiskFullError) throw this.#diskFull(err.op, err.cause);
      this.#fail(err);
      throw err;
    }
    this.#spaceAvailable();
    const previousFd = this.#fd;
    this.#fd = fd;
    this.#fileBytes = preparedBytes;
    this.#preparedBytes = preparedBytes;
    if (preparedBytes > 0) this.#preparedSegmentCount++;
    // A new segment clears a failed preparation.
    this.#spare?.retry();
    this.#segments.push({ segment: next, sizeBytes: 0, recordCount: 0 });
    try {
      await closeFileAsync(previousFd);
    } catch (err) {
      // Its records were fdatasync'd before; a failed close cannot lose them.
      this.#logger.warn({ store: this.#name, segment: next - 1, err }, 'segment log: closing a full segment failed');
    }
  }

  /**
   * Renames a ready spare to segment `next` and makes its entry durable; null (nothing done)
   * when none is ready or the rename fails, and the caller creates the segment empty.
   */
  async #moveSpareTo(next: number): Promise<{ readonly fd: number; readonly sizeBytes: number } | null> {
    if (this.#spare?.ready !== true) return null;
    const path = segmentPath(this.#dir, next);
    const sizeBytes = this.#spare.sizeBytes;
    let fd: number;
    try {
      fd = await this.#spare.moveTo(path);
    } catch (err) {
      if (err instanceof AssertionError) throw err;
      this.#logger.warn({ store: this.#name, segment: next, err }, 'segment log: the prepared segment could not be moved into place; creating it empty');
      if (!fs.existsSync(path)) return null;
      throw new StoreIoError(this.#name, `move the spare to segment ${next}`, err);
    }
    try {
      await fsyncDirAsync(this.#dir);
      return { fd, sizeBytes };
    } catch (err) {
      await closeFileAsync(fd).catch(() => undefined);
      throw new FsyncFailedError(this.#name, `move the spare to segment ${next}`, err);
    }
  }

  async #deleteStep(segment: number): Promise<number[]> {
    const deleted: number[] = [];
    try {
      while (this.#segments.length > 1 && this.#segments[0].segment < segment) {
        const oldest = this.#segments[0];
        await fs.promises.unlink(segmentPath(this.#dir, oldest.segment));
        this.#segments.shift();
        deleted.push(oldest.segment);
      }
      // Not needed for safety (a resurrected old segment holds valid, older records); it keeps
      // the disk usage the caller sees true after a crash.
      if (deleted.length > 0) await fsyncDirAsync(this.#dir);
    } catch (err) {
      throw new StoreIoError(this.#name, `delete segments before ${segment}`, err);
    }
    if (deleted.length > 0) {
      this.#logger.info(
        { store: this.#name, deletedFirst: deleted[0], deletedLast: deleted[deleted.length - 1] },
        'segment log: deleted old segments',
      );
    }
    return deleted;
  }

  #fail(err: unknown): void {
    this.#failure ??= err;
    this.#logger.error({ store: this.#name, dir: this.#dir, err }, 'segment log: I/O failed; refusing writes until reopened');
  }

  #closeFile(): void {
    if (this.#pendingBytes > 0) {
      this.#logger.warn(
        { store: this.#name, pendingBytes: this.#pendingBytes, pendingRecordCount: this.#pendingRecordCount },
        'segment log: closing with unsynced records; they are dropped',
      );
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#pendingRecordCount = 0;
    }
    io(this.#name, 'close', () => fs.closeSync(this.#fd));
  }
}

/**
 * Creates an empty segment file and makes its directory entry durable before any record goes
 * in (synchronous: used by open).
 */
function createSegment(name: string, dir: string, segment: number): number {
  const path = segmentPath(dir, segment);
  return io(name, `create ${path}`, () => {
    const fd = fs.openSync(path, 'wx');
    try {
      fsyncDir(dir);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    return fd;
  });
}

/**
 * Creates the next segment and makes its directory entry durable. An open refused for lack of
 * space created nothing: DiskFullError (the caller tries again later). A failed directory fsync
 * is an fsync failure like any other: FsyncFailedError.
 */
async function createSegmentAsync(name: string, dir: string, segment: number): Promise<number> {
  const path = segmentPath(dir, segment);
  let fd: number;
  try {
    fd = await createFileAsync(path);
  } catch (err) {
    if (isNoSpaceError(err)) throw new DiskFullError(name, `create ${path}`, err);
    throw new StoreIoError(name, `create ${path}`, err);
  }
  try {
    await fsyncDirAsync(dir);
    return fd;
  } catch (err) {
    await closeFileAsync(fd).catch(() => undefined);
    throw new FsyncFailedError(name, `create ${path}`, err);
  }
}

/** Runs file-system work, turning a system error into StoreIoError (typed errors pass through). */
function io<T>(name: string, op: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof OperatingError || err instanceof AssertionError) throw err;
    throw new StoreIoError(name, op, err);
  }
}

/** A promise of fn's result; a throw becomes a rejection. */
function settle<T>(fn: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(fn()));
}
