// A write batch for the state store: puts and deletes collected in JS, committed as ONE
// RocksDB write (atomic: all of it or none of it, also across a crash; see state-store.ts).
//
// It holds no native resource until commit (the native batch exists only inside the commit
// call), so a batch that is dropped without commit cannot hang close: there is nothing to leak.

import { assert } from '../util/assert.js';
import { DiskFullError, StoreLimitError } from './errors.js';

export type WriteOp =
  | { readonly kind: 'put'; readonly key: Buffer; readonly value: Buffer }
  | { readonly kind: 'delete'; readonly key: Buffer }
  /** Deletes every key in [start, end). */
  | { readonly kind: 'deleteRange'; readonly start: Buffer; readonly end: Buffer };

export interface WriteBatchLimits {
  readonly store: string;
  readonly batchMaxOps: number;
  readonly batchMaxBytes: number;
}

/**
 * open: ops may be added; committing: the write is in flight; refused: the write found no space
 * (DiskFullError) and wrote nothing, so it may be committed again; spent: done, or failed.
 */
type BatchState = 'open' | 'committing' | 'refused' | 'spent';

export class StateWriteBatch {
  readonly #limits: WriteBatchLimits;
  readonly #commit: (ops: readonly WriteOp[]) => Promise<void>;
  readonly #ops: WriteOp[] = [];
  #sizeBytes = 0;
  #state: BatchState = 'open';

  /** Made by StateStore.batch(); `commit` is the store's gated native write. */
  constructor(limits: WriteBatchLimits, commit: (ops: readonly WriteOp[]) => Promise<void>) {
    this.#limits = limits;
    this.#commit = commit;
  }

  get opCount(): number {
    return this.#ops.length;
  }

  /** Key and value bytes held. */
  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  // Keys and values are copied: the native write reads them from a worker thread, so a caller
  // reusing a scratch buffer after put() must not change what gets written.

  put(key: Uint8Array, value: Uint8Array): this {
    this.#add({ kind: 'put', key: Buffer.from(key), value: Buffer.from(value) }, key.length + value.length);
    return this;
  }

  /**
   * As put(), without the copies: for buffers made for this batch that nobody writes to again
   * (the state machine's freshly encoded keys and records). Saves two allocations and copies per
   * put on the apply path of every member.
   */
  putOwned(key: Buffer, value: Buffer): this {
    this.#add({ kind: 'put', key, value }, key.length + value.length);
    return this;
  }

  delete(key: Uint8Array): this {
    this.#add({ kind: 'delete', key: Buffer.from(key) }, key.length);
    return this;
  }

  /** Deletes every key k with start <= k < end. */
  deleteRange(start: Uint8Array, end: Uint8Array): this {
    assert(Buffer.compare(start, end) <= 0, 'deleteRange: start after end');
    this.#add({ kind: 'deleteRange', start: Buffer.from(start), end: Buffer.from(end) }, start.length + end.length);
    return this;
  }

  /**
   * Writes every op in one RocksDB write. Single use: the batch is spent afterwards, whatever
   * the outcome, except when the write was refused for lack of space (DiskFullError): a RocksDB
   * write batch is all or nothing, so nothing of it was written and it may be committed again
   * (write-behind.ts does, once there is room). Rejects with StoreClosedError (nothing written)
   * once the store is closing.
   */
  async commit(): Promise<void> {
    assert(this.#state === 'open' || this.#state === 'refused', () => `StateWriteBatch committed while ${this.#state}`);
    this.#state = 'committing';
    try {
      await this.#commit(this.#ops);
      this.#state = 'spent';
    } catch (error) {
      this.#state = error instanceof DiskFullError ? 'refused' : 'spent';
      throw error;
    }
  }

  #add(op: WriteOp, sizeBytes: number): void {
    assert(this.#state === 'open', 'StateWriteBatch changed after commit');
    const { store, batchMaxOps, batchMaxBytes } = this.#limits;
    if (this.#ops.length + 1 > batchMaxOps) {
      throw new StoreLimitError(store, 'batchMaxOps', batchMaxOps, this.#ops.length + 1);
    }
    if (this.#sizeBytes + sizeBytes > batchMaxBytes) {
      throw new StoreLimitError(store, 'batchMaxBytes', batchMaxBytes, this.#sizeBytes + sizeBytes);
    }
    this.#ops.push(op);
    this.#sizeBytes += sizeBytes;
  }
}
