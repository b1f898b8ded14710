// The next segment file, prepared ahead: a file of zeros of the segment size, written and
// fdatasync'd in the background, that the segment log renames into place when it starts a new
// segment (segment-log.ts, option `preallocate`).
//
// Why: on ext4 an fdatasync after a write that extends a file (or fills a hole) must also commit
// the new size and block allocation through the file system's journal, and every process on the
// file system shares that journal: three members on one disk queue behind each other's journal
// commits. Over blocks already written, fdatasync flushes only the data. Measured on this disk
// (.bench-style micro-benchmark: three processes, each a 6 KB pwrite + fdatasync in a loop,
// alternating runs): appending p50 0.57 ms, p99 3.1-3.6 ms, 1,420-1,480 syncs/s per process;
// over a prepared file p50 0.36-0.42 ms, p99 1.2-1.75 ms, 1,990-2,260 syncs/s. etcd preallocates
// its 64 MB WAL segments the same way from a goroutine. Node has no fallocate(2), and fallocate's
// unwritten extents still need a journal commit on their first write: the zeros must be written.
//
// Files, beside the segments (segment-files.ts): `spare.tmp` while being written, renamed to
// `spare.ready` once whole and fdatasync'd. A start removes a `spare.tmp` (a stop or crash cut its
// preparation short) and keeps a `spare.ready` of the right size. Neither name is a segment, so a
// lost rename or a leftover file can never be read as log records.
//
// Bounds: the zeros go out in CHUNK_BYTES writes, each fdatasync'd before the next, so at most
// one chunk of dirty pages waits in front of the log's own fdatasync, and at most
// MAX_BYTES_PER_SECOND, so that the spare takes a bounded share of the disk from the log (a
// 64 MiB spare written at once cost a 3-member write benchmark a third of its throughput for the
// run it fell into). close() stops between chunks, or cuts a pause short: it waits for at most
// one chunk's write and sync. A spare is written only while the
// file system keeps MIN_FREE_BYTES free besides it, and a failed preparation is not retried
// until the log starts its next segment (retry()): a full or failing disk costs one attempt per
// segment, and the log itself never fails because of its spare.

import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { assert } from '../util/assert.js';
import { closeFileAsync, fdatasyncAsync, openFileAsync, spareReadyPath, spareTmpPath, writeAllAtAsync } from './segment-files.js';
import type { StoreLogger } from './logger.js';

export interface SegmentSpareOptions {
  readonly dir: string;
  /** The log's name, in logs. */
  readonly name: string;
  /** The largest spare (the segment size): a `spare.ready` found at open above it is removed. */
  readonly maxBytes: number;
  readonly logger: StoreLogger;
  /** Free space the file system must keep besides the spare (default 1 GiB). */
  readonly minFreeBytes?: number;
}

const CHUNK_BYTES = 1024 * 1024;
const MAX_BYTES_PER_SECOND = 16 * 1024 * 1024;
const CHUNK_MIN_MS = (CHUNK_BYTES / MAX_BYTES_PER_SECOND) * 1000;
const MIN_FREE_BYTES_DEFAULT = 1024 * 1024 * 1024;

type SpareState = 'none' | 'preparing' | 'ready' | 'failed' | 'closed';

export class SegmentSpare {
  readonly #dir: string;
  readonly #name: string;
  readonly #maxBytes: number;
  /** The size of the spare ready or being written. */
  #sizeBytes = 0;
  readonly #logger: StoreLogger;
  readonly #minFreeBytes: number;
  #state: SpareState;
  #preparation: Promise<void> = Promise.resolve();
  #stopping = false;
  /** Ends the pause between two chunks early (close). */
  #endPause: (() => void) | null = null;

  /**
   * Removes a half-written spare and keeps a finished one of a size it could have written.
   * Synchronous: it runs inside the log's open.
   */
  static open(options: SegmentSpareOptions): SegmentSpare {
    fs.rmSync(spareTmpPath(options.dir), { force: true });
    const ready = spareReadyPath(options.dir);
    const spare = new SegmentSpare(options);
    try {
      const sizeBytes = fs.statSync(ready).size;
      if (sizeBytes > 0 && sizeBytes <= options.maxBytes) {
        spare.#state = 'ready';
        spare.#sizeBytes = sizeBytes;
      } else {
        fs.rmSync(ready, { force: true });
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return spare;
  }

  private constructor(options: SegmentSpareOptions) {
    this.#dir = options.dir;
    this.#name = options.name;
    this.#maxBytes = options.maxBytes;
    this.#logger = options.logger;
    this.#minFreeBytes = options.minFreeBytes ?? MIN_FREE_BYTES_DEFAULT;
    this.#state = 'none';
  }

  get ready(): boolean {
    return this.#state === 'ready';
  }

  /** The size of the spare that is ready (or being written). */
  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  /** Starts writing a spare of `sizeBytes` in the background, unless one is ready, under way, or failed. */
  prepare(sizeBytes: number): void {
    if (this.#state !== 'none') return;
    assert(Number.isInteger(sizeBytes) && sizeBytes > 0 && sizeBytes <= this.#maxBytes, () => `segment spare: size ${sizeBytes} out of range`);
    this.#sizeBytes = sizeBytes;
    this.#state = 'preparing';
    this.#preparation = this.#write().then(
      (done) => {
        if (this.#state !== 'preparing') return;
        this.#state = done ? 'ready' : 'failed';
      },
      (err: unknown) => {
        if (this.#state === 'preparing') this.#state = 'failed';
        this.#logger.warn({ store: this.#name, dir: this.#dir, err }, 'segment log: preparing the next segment failed; it will be created empty');
      },
    );
  }

  /** After a failed preparation: allow one more (called when the log starts a new segment). */
  retry(): void {
    if (this.#state === 'failed') this.#state = 'none';
  }

  /**
   * Renames the ready spare to `path` (which must not exist) and returns it open for writing.
   * The caller makes the directory entry durable. No spare is ready afterwards.
   */
  async moveTo(path: string): Promise<number> {
    assert(this.#state === 'ready', 'segment spare: no spare is ready');
    this.#state = 'none';
    // rename(2) replaces an existing target silently; the log never reuses a number, so one here
    // is a bug, and overwriting a segment would lose its records.
    assert(!fs.existsSync(path), () => `segment spare: ${path} exists`);
    await fs.promises.rename(spareReadyPath(this.#dir), path);
    return openFileAsync(path, 'r+');
  }

  /** Stops a preparation between two chunks and waits for it. Idempotent. */
  async close(): Promise<void> {
    this.#stopping = true;
    this.#endPause?.();
    await this.#preparation;
    this.#state = 'closed';
  }

  /** Writes the spare; false when skipped (no room) or stopped. */
  async #write(): Promise<boolean> {
    const stats = await fs.promises.statfs(this.#dir);
    const freeBytes = stats.bavail * stats.bsize;
    if (freeBytes < this.#sizeBytes + this.#minFreeBytes) {
      this.#logger.info(
        { store: this.#name, dir: this.#dir, freeBytes, spareBytes: this.#sizeBytes, minFreeBytes: this.#minFreeBytes },
        'segment log: too little free space to prepare the next segment; it will be created empty',
      );
      return false;
    }
    const tmp = spareTmpPath(this.#dir);
    const fd = await openFileAsync(tmp, 'w');
    let finished = false;
    try {
      const zeros = Buffer.alloc(Math.min(CHUNK_BYTES, this.#sizeBytes));
      for (let offsetBytes = 0; offsetBytes < this.#sizeBytes; offsetBytes += zeros.length) {
        if (this.#stopping) return false;
        const chunkStartedMs = performance.now();
        const lengthBytes = Math.min(zeros.length, this.#sizeBytes - offsetBytes);
        await writeAllAtAsync(fd, zeros.subarray(0, lengthBytes), offsetBytes);
        await fdatasyncAsync(fd);
        await this.#pause(CHUNK_MIN_MS - (performance.now() - chunkStartedMs));
      }
      finished = true;
    } finally {
      await closeFileAsync(fd);
      if (!finished) await fs.promises.rm(tmp, { force: true });
    }
    await fs.promises.rename(tmp, spareReadyPath(this.#dir));
    return true;
  }

  #pause(ms: number): Promise<void> {
    if (ms <= 0 || this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#endPause?.(), ms);
      this.#endPause = () => {
        clearTimeout(timer);
        this.#endPause = null;
        resolve();
      };
    });
  }
}
