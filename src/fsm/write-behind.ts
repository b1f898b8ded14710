// Writes the applied state to RocksDB behind the in-memory model, as a group write: at most one
// store write is in flight, and the entries applied meanwhile wait in the next batch.
//
// Why this is safe: the Raft log, fsynced on a majority before any entry is applied, is the
// durable record; the state store is a checkpoint of it that is never fsynced on its own (see
// state-store.ts). Each batch holds the effects of a prefix of the applied entries and the
// applied index that prefix ends at, so after a crash the store is a consistent prefix and
// start-up replays the log from the index it finds. The log is compacted only up to an index
// that flush() made durable, and flush() first waits for every batch before it.
//
// Why it is faster: a RocksDB write costs about 85 µs of fixed work (the thread-pool hop, the
// native batch, its WAL write(2)) plus about 5 µs per key (bench `.bench/store.mjs`, 2026-12-07):
// one write per Raft Ready made followers pay the fixed part every 10-20 entries; under load
// one write now carries every entry applied while the previous one ran. When the store is idle
// a batch is written at once, so nothing waits when there is no load to group.
//
// A failed write is final (the store cannot be trusted to hold what the model holds): it is
// reported once through onFailure, and every later call throws it. Except a write refused for
// lack of space (DiskFullError): RocksDB wrote nothing of that batch, so it stays at the head of
// the queue and is written again after a pause (doubling from diskFullRetryMinMs up to
// diskFullRetryMaxMs), until it goes through or the writer is closed. Meanwhile applies go on
// into the next batches until queuedBatchesMax, then wait (backpressure): memory stays bounded,
// and the Raft log, never compacted past what the store flushed, still holds every entry.
// `diskSpace` hears when the store fills up and when it writes again (storage/disk-space.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { assert } from '../util/assert.js';
import type { DiskSpaceReporter } from '../storage/disk-space.js';
import { DiskFullError } from '../storage/errors.js';
import type { StateStore } from '../storage/state-store.js';
import type { StateWriteBatch } from '../storage/state-write-batch.js';

export interface AppliedPosition {
  readonly index: number;
  readonly term: number;
}

export interface WriteBehindLimits {
  /** A batch is sealed (no more entries join it) past this many ops... */
  readonly batchOpsMax: number;
  /** ...or this many key and value bytes. */
  readonly batchBytesMax: number;
  /** Sealed batches waiting for the store; past this, applying waits for the store (backpressure). */
  readonly queuedBatchesMax: number;
}

export const WRITE_BEHIND_LIMITS_DEFAULT: WriteBehindLimits = { batchOpsMax: 20_000, batchBytesMax: 8 * 1024 * 1024, queuedBatchesMax: 8 };

/** The pause before the first retry of a batch refused for lack of space, and the longest pause. */
export const DISK_FULL_RETRY_MIN_MS = 50;
export const DISK_FULL_RETRY_MAX_MS = 1_000;

interface Sealed {
  readonly batch: StateWriteBatch;
  readonly end: AppliedPosition;
}

export class WriteBehind {
  readonly #store: () => StateStore;
  readonly #limits: WriteBehindLimits;
  readonly #endOps: (end: AppliedPosition, batch: StateWriteBatch) => void;
  readonly #onFailure: (error: Error) => void;
  readonly #onWritten: (ops: number, bytes: number, seconds: number) => void;
  #current: StateWriteBatch | null = null;
  #currentEnd: AppliedPosition | null = null;
  readonly #queue: Sealed[] = [];
  #writing: Promise<void> | null = null;
  #written: AppliedPosition;
  #failure: Error | null = null;
  #idleWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  readonly #diskSpace: DiskSpaceReporter | undefined;
  /** Aborted by close(): a batch waiting for space is abandoned. */
  readonly #closing = new AbortController();
  #storeFull = false;
  /** Set when close() abandoned a batch waiting for space: from then on nothing is written. */
  #discarding = false;

  /**
   * `store` is read at each new batch (a snapshot install swaps the store; the owner drains
   * first). `endOps` adds what closes a batch (the applied index key) just before it is sealed.
   */
  constructor(options: {
    store: () => StateStore;
    written: AppliedPosition;
    endOps: (end: AppliedPosition, batch: StateWriteBatch) => void;
    onFailure: (error: Error) => void;
    /** Hears every completed store write: its ops, key and value bytes, and duration. */
    onWritten?: (ops: number, bytes: number, seconds: number) => void;
    /** Told when a write is refused for lack of space (it will be retried), and when one succeeds again. */
    diskSpace?: DiskSpaceReporter;
    limits?: WriteBehindLimits;
  }) {
    this.#diskSpace = options.diskSpace;
    this.#store = options.store;
    this.#written = options.written;
    this.#endOps = options.endOps;
    this.#onFailure = options.onFailure;
    this.#onWritten = options.onWritten ?? (() => undefined);
    this.#limits = options.limits ?? WRITE_BEHIND_LIMITS_DEFAULT;
  }

  /** The last applied position the store holds (written, not necessarily flushed). */
  get written(): AppliedPosition {
    return this.#written;
  }

  /** After the store was (re)loaded: it holds everything up to `position` and nothing is pending. */
  reset(position: AppliedPosition): void {
    assert(this.#writing === null && this.#queue.length === 0 && this.#current === null, 'write-behind reset with writes pending');
    this.#written = position;
  }

  get failure(): Error | null {
    return this.#failure;
  }

  /** Whether applying should wait for the store before going on (too many sealed batches). */
  get congested(): boolean {
    return this.#queue.length >= this.#limits.queuedBatchesMax;
  }

  /** The batch the entries being applied now go into. */
  batch(): StateWriteBatch {
    this.#throwIfFailed();
    this.#current ??= this.#store().batch();
    return this.#current;
  }

  /**
   * Marks the end of an apply call: everything added so far ends at `end`. The batch is
   * written at once when the store is idle, sealed when it is full, and otherwise grows.
   */
  endApply(end: AppliedPosition): void {
    this.#throwIfFailed();
    assert(this.#current !== null, 'endApply without a batch');
    this.#currentEnd = end;
    const full = this.#current.opCount >= this.#limits.batchOpsMax || this.#current.sizeBytes >= this.#limits.batchBytesMax;
    if (full || this.#writing === null) this.#seal();
    this.#pump();
  }

  /** Resolves once everything applied before the call is written to the store. */
  drain(): Promise<void> {
    this.#throwIfFailed();
    if (this.#current !== null && this.#currentEnd !== null) this.#seal();
    this.#pump();
    if (this.#writing === null && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.#idleWaiters.push({ resolve, reject }));
  }

  /** Waits while too many batches are queued (the store is slower than the applies). */
  async backpressure(): Promise<void> {
    while (this.congested && this.#writing !== null && !this.#discarding) {
      this.#throwIfFailed();
      await this.#writing.catch(() => undefined);
    }
    this.#throwIfFailed();
  }

  #seal(): void {
    const batch = this.#current;
    const end = this.#currentEnd;
    assert(batch !== null && end !== null, 'seal without a batch');
    this.#endOps(end, batch);
    this.#queue.push({ batch, end });
    this.#current = null;
    this.#currentEnd = null;
  }

  /**
   * For the owner's stop: a batch waiting for disk space is abandoned, and so is everything
   * applied after it (nothing more is written; applies and drains no longer wait). Safe: the
   * store keeps its applied index, and the Raft log, never compacted past what the store
   * flushed, replays the rest at the next start. Writes that are not waiting for space finish.
   */
  close(): void {
    this.#closing.abort();
  }

  #pump(): void {
    if (this.#writing !== null || this.#failure !== null) return;
    if (this.#discarding) {
      this.#queue.length = 0;
      this.#current = null;
      this.#currentEnd = null;
    }
    const next = this.#queue.shift();
    if (next === undefined) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w.resolve();
      return;
    }
    const startedMs = performance.now();
    const { opCount, sizeBytes } = next.batch;
    this.#writing = this.#commitUntilRoom(next.batch).then(
      (written) => {
        this.#writing = null;
        if (!written) {
          this.#discarding = true;
          this.#pump();
          return;
        }
        this.#onWritten(opCount, sizeBytes, (performance.now() - startedMs) / 1000);
        this.#written = next.end;
        // The entries applied while this write ran form the next batch.
        if (this.#queue.length === 0 && this.#current !== null && this.#currentEnd !== null) this.#seal();
        this.#pump();
      },
      (error: unknown) => {
        this.#writing = null;
        this.#fail(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  /**
   * Commits `batch`; a refusal for lack of space is retried after a pause. Resolves true once
   * written, false when close() came while it waited for space (nothing of it was written).
   */
  async #commitUntilRoom(batch: StateWriteBatch): Promise<boolean> {
    for (let pauseMs = DISK_FULL_RETRY_MIN_MS; ; pauseMs = Math.min(2 * pauseMs, DISK_FULL_RETRY_MAX_MS)) {
      try {
        await batch.commit();
        if (this.#storeFull) {
          this.#storeFull = false;
          this.#diskSpace?.available(this.#store().name);
        }
        return true;
      } catch (error) {
        if (!(error instanceof DiskFullError)) throw error;
        if (!this.#storeFull) {
          this.#storeFull = true;
          this.#diskSpace?.full(error.store, error);
        }
      }
      if (this.#closing.signal.aborted) return false;
      try {
        await sleep(pauseMs, undefined, { signal: this.#closing.signal });
      } catch {
        return false;
      }
    }
  }

  #fail(error: Error): void {
    if (this.#failure !== null) return;
    this.#failure = error;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w.reject(error);
    this.#onFailure(error);
  }

  #throwIfFailed(): void {
    if (this.#failure !== null) throw this.#failure;
  }
}
