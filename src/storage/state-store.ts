// The RocksDB state store: the only owner of the rocksdb-native handle. Every call goes through
// a CallGate, and the native close is the gate's finalize, so it runs exactly once and only
// after every call has left the native code (see gate.ts for why).
//
// What rocksdb-native 3.18 does (read in node_modules/rocksdb-native/{index.js,lib/*.js,
// binding.cc} and librocksdb's src/rocksdb.cc, then measured with strace and a kill -9 test):
//
// - Atomic batches. A write batch collects its ops in JS; flush() hands all of them to
//   librocksdb's rocksdb_write, which builds ONE rocksdb::WriteBatch and calls DB::Write once.
//   RocksDB applies a WriteBatch atomically and logs it as one WAL record (strace: a 3-key batch
//   is a single write(2) to the WAL), so after a crash a batch is there entirely or not at all
//   (test: kill -9 during large batches, reopen, every batch all-or-none).
// - WAL on, never fsync'd. The write uses default rocksdb::WriteOptions (sync=false,
//   disableWAL=false); librocksdb's rocksdb_write_options_t has no sync field and the binding
//   passes NULL anyway, so a write cannot be made durable by itself. Each write reaches the OS
//   (write(2) to the WAL, no fsync): it survives kill -9, not power loss or a kernel crash.
//   Recovery mode is POINT_IN_TIME (rocksdb-native's default), so after power loss the store is
//   a consistent prefix of the writes: with the applied index written in the same batch as the
//   state it describes, the Raft log replays from the index found.
// - flush() = DB::Flush with default FlushOptions (wait=true) on the default column family
//   (the only one we use): it resolves after the memtable is written to an SST file which is
//   fdatasync'd, and the MANIFEST is updated and fdatasync'd (strace). So every write that
//   completed before flush() was called survives power loss once flush() resolves. This is the
//   durability point for compacting the Raft log: read the applied index, flush(), then compact
//   the log up to that index.
// - close. rocksdb-native's close waits for native requests in flight (its io counter: pending
//   reads and writes complete normally, measured 400 of 400), then for every batch and iterator
//   to be destroyed (its handles counter): a batch never destroyed (even after its flush) or an
//   iterator neither ended nor destroyed makes close wait forever; with nothing else keeping the
//   event loop alive, the process then just exits 0 in the middle of shutdown (measured). An
//   open snapshot session does not block it (close closes sessions). After close begins,
//   write()/iterator() throw and get() rejects with "RocksDB session is closed". The native
//   close cancels background work (waiting for it) and calls DB::Close; memtables are not
//   flushed at close (the WAL replays them at the next open).
// - A second open of the same path fails (RocksDB's LOCK file, fcntl): "lock hold by current
//   process" inside one process, a lock error from another. A failed open needs no close.
// - Keys and values are read from JS memory by a worker thread during the call: inputs are
//   copied so a caller reusing a buffer cannot change what is written or looked up.
//
// Our answers: a batch holds no native object until its commit (nothing to leak), an iterator
// or snapshot is a gate lease that close destroys, and close never calls the native close
// while a call is inside it.

import { performance } from 'node:perf_hooks';
import RocksDB from 'rocksdb-native';
import { assert } from '../util/assert.js';
import type { DiskFaults } from './disk-faults.js';
import { DiskFullError, StoreIoError, isNoSpaceError } from './errors.js';
import { CallGate, type CloseReport, type GateCallInfo, type GateState } from './gate.js';
import type { KeyRange } from './key-range.js';
import type { StoreLogger } from './logger.js';
import { StateIterator } from './state-iterator.js';
import { StateSnapshot } from './state-snapshot.js';
import { StateWriteBatch, type WriteOp } from './state-write-batch.js';

export interface StateStoreOptions {
  readonly logger: StoreLogger;
  /** Name in errors and logs. */
  readonly name?: string;
  /** Close logs what it still waits for after this long, and again every this long. */
  readonly closeWarnAfterMs?: number;
  /**
   * Optional hard bound on close's wait. Past it, leftover iterators and snapshots are destroyed
   * and the native close is called anyway; that is safe with rocksdb-native (its close still
   * waits for native requests in flight), only slower than it looks.
   */
  readonly closeTimeoutMs?: number;
  /** Calls (operations and open iterators/snapshots) admitted at once. */
  readonly maxCalls?: number;
  readonly batchMaxOps?: number;
  readonly batchMaxBytes?: number;
  /** RocksDB memtable size; a full memtable is flushed to an SST file in the background. */
  readonly writeBufferSizeBytes?: number;
  /** Chaos runs and tests only: injected slow, full or failing writes and flushes. */
  readonly faults?: DiskFaults;
}

const CLOSE_WARN_AFTER_MS_DEFAULT = 5_000;
const BATCH_MAX_OPS_DEFAULT = 100_000;
const BATCH_MAX_BYTES_DEFAULT = 64 * 1024 * 1024;
const WRITE_BUFFER_SIZE_BYTES_DEFAULT = 64 * 1024 * 1024;

export class StateStore implements AsyncDisposable {
  readonly #db: RocksDB;
  readonly #path: string;
  readonly #name: string;
  readonly #gate: CallGate;
  readonly #batchMaxOps: number;
  readonly #batchMaxBytes: number;
  readonly #faults: DiskFaults | undefined;

  /** Opens (creating if missing) the RocksDB database at `path`. */
  static async open(path: string, options: StateStoreOptions): Promise<StateStore> {
    const name = options.name ?? 'state-store';
    const startedMs = performance.now();
    const db = new RocksDB(path, {
      createIfMissing: true,
      writeBufferSize: options.writeBufferSizeBytes ?? WRITE_BUFFER_SIZE_BYTES_DEFAULT,
    });
    try {
      await db.ready();
    } catch (err) {
      throw new StoreIoError(name, `open ${path}`, err);
    }
    const store = new StateStore(db, path, name, options);
    options.logger.info({ store: name, path, openMs: Math.round(performance.now() - startedMs) }, 'state store opened');
    return store;
  }

  private constructor(db: RocksDB, path: string, name: string, options: StateStoreOptions) {
    this.#db = db;
    this.#path = path;
    this.#name = name;
    this.#batchMaxOps = options.batchMaxOps ?? BATCH_MAX_OPS_DEFAULT;
    this.#batchMaxBytes = options.batchMaxBytes ?? BATCH_MAX_BYTES_DEFAULT;
    this.#faults = options.faults;
    this.#gate = new CallGate({
      store: name,
      logger: options.logger,
      closeWarnAfterMs: options.closeWarnAfterMs ?? CLOSE_WARN_AFTER_MS_DEFAULT,
      closeTimeoutMs: options.closeTimeoutMs,
      maxCalls: options.maxCalls,
      finalize: () => this.#closeNative(),
    });
    this.#gate.markOpen();
  }

  get name(): string {
    return this.#name;
  }

  get path(): string {
    return this.#path;
  }

  get state(): GateState {
    return this.#gate.state;
  }

  /** Calls admitted and not released (for diagnostics and shutdown logs). */
  openCalls(): GateCallInfo[] {
    return this.#gate.openCalls();
  }

  /** The value stored under `key`, or null. */
  get(key: Uint8Array): Promise<Buffer | null> {
    return this.#gate.run('get', async () => {
      try {
        return await this.#db.get(Buffer.from(key));
      } catch (err) {
        throw new StoreIoError(this.#name, 'get', err);
      }
    });
  }

  /** A new batch; its commit() is one atomic RocksDB write. Throws StoreClosedError unless open. */
  batch(): StateWriteBatch {
    this.#gate.checkOpen('batch');
    return new StateWriteBatch(
      { store: this.#name, batchMaxOps: this.#batchMaxOps, batchMaxBytes: this.#batchMaxBytes },
      (ops) => this.#commit(ops),
    );
  }

  /**
   * Entries in a key range, in key order. Release it (end of iteration, break, release() or
   * `await using`); close() destroys it otherwise. Throws StoreClosedError unless open.
   */
  iterate(range: KeyRange = {}): StateIterator {
    return new StateIterator(this.#gate, this.#db, range, describeRange(range));
  }

  /** A consistent read view as of now; release it when done. Throws StoreClosedError unless open. */
  snapshot(): StateSnapshot {
    return new StateSnapshot(this.#gate, this.#db);
  }

  /**
   * Makes every write that completed before this call durable (memtable -> fdatasync'd SST +
   * MANIFEST). Writes are never fsync'd on their own: see the notes at the top of this file.
   */
  flush(): Promise<void> {
    return this.#gate.run('flush', async () => {
      try {
        await this.#injected('sync');
        await this.#db.flush();
      } catch (err) {
        throw isNoSpaceError(err) ? new DiskFullError(this.#name, 'flush', err) : new StoreIoError(this.#name, 'flush', err);
      }
    });
  }

  /** Chaos and tests: the injected delay, then the injected failure, of a write or a flush. */
  async #injected(op: 'write' | 'sync'): Promise<void> {
    const faults = this.#faults;
    if (faults === undefined) return;
    const delayMs = faults.delayMs(this.#name, op);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const error = op === 'write' ? faults.writeError(this.#name) : faults.syncError(this.#name);
    // As rocksdb-native reports a refused write: the batch was not applied, the cause says why.
    if (error !== null) throw new Error('Batch was not applied', { cause: error });
  }

  /**
   * Refuses new calls at once, waits for calls in flight, destroys leftover iterators and
   * snapshots, then closes the native handle (exactly once). Idempotent: same promise.
   */
  close(): Promise<CloseReport> {
    return this.#gate.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #commit(ops: readonly WriteOp[]): Promise<void> {
    return this.#gate.run(
      'write',
      async () => {
        if (ops.length === 0) return;
        try {
          await this.#injected('write');
        } catch (err) {
          throw isNoSpaceError(err) ? new DiskFullError(this.#name, 'write', err) : new StoreIoError(this.#name, 'write', err);
        }
        const native = this.#db.write({ capacity: ops.length });
        try {
          for (const op of ops) {
            switch (op.kind) {
              case 'put':
                native.tryPut(op.key, op.value);
                break;
              case 'delete':
                native.tryDelete(op.key);
                break;
              case 'deleteRange':
                native.tryDeleteRange(op.start, op.end);
                break;
            }
          }
          await native.flush();
        } catch (err) {
          // Out of space, RocksDB refuses the whole batch (measured on a full tmpfs: "Batch was
          // not applied", caused by "No space left on device"), and resumes writing by itself
          // about 5 s after space returns (its SstFileManager polls for it): a retry then works.
          throw isNoSpaceError(err) ? new DiskFullError(this.#name, 'write', err) : new StoreIoError(this.#name, 'write', err);
        } finally {
          // A batch not destroyed keeps rocksdb-native's close waiting forever.
          native.destroy();
        }
      },
      `${ops.length} ops`,
    );
  }

  async #closeNative(): Promise<void> {
    assert(!this.#db.closed, 'state store: native handle already closed');
    try {
      await this.#db.close();
    } catch (err) {
      throw new StoreIoError(this.#name, 'close', err);
    }
  }
}

function describeRange(range: KeyRange): string {
  const parts: string[] = [];
  if (range.prefix !== undefined) parts.push(`prefix=${Buffer.from(range.prefix).toString('hex')}`);
  if (range.gte !== undefined) parts.push(`gte=${Buffer.from(range.gte).toString('hex')}`);
  if (range.gt !== undefined) parts.push(`gt=${Buffer.from(range.gt).toString('hex')}`);
  if (range.lte !== undefined) parts.push(`lte=${Buffer.from(range.lte).toString('hex')}`);
  if (range.lt !== undefined) parts.push(`lt=${Buffer.from(range.lt).toString('hex')}`);
  if (range.reverse === true) parts.push('reverse');
  return parts.length === 0 ? 'all' : parts.join(' ').slice(0, 200);
}
