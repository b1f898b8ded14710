// A consistent read view of the state store: reads see the state as of snapshot(), while
// writes continue (used to stream a Raft snapshot). A gate lease until released; close()
// destroys one still open. Iterators made from it are leases of their own and are released
// with it.

import type RocksDB from 'rocksdb-native';
import { assert } from '../util/assert.js';
import { StoreIoError } from './errors.js';
import type { CallGate, GateCall } from './gate.js';
import type { KeyRange } from './key-range.js';
import { StateIterator } from './state-iterator.js';

export class StateSnapshot implements AsyncDisposable {
  readonly #gate: CallGate;
  readonly #lease: GateCall;
  /** A rocksdb-native session bound to a RocksDB snapshot taken synchronously at creation. */
  readonly #session: RocksDB;
  readonly #iterators = new Set<StateIterator>();
  #released: Promise<void> | null = null;

  /** Made by StateStore.snapshot(); throws StoreClosedError unless open. */
  constructor(gate: CallGate, db: RocksDB) {
    this.#gate = gate;
    this.#lease = gate.lease('snapshot', () => this.release());
    try {
      this.#session = db.snapshot();
    } catch (err) {
      this.#lease.release();
      throw new StoreIoError(gate.store, 'snapshot', err);
    }
  }

  get(key: Uint8Array): Promise<Buffer | null> {
    return this.#gate.run('snapshot.get', async () => {
      assert(this.#released === null, 'StateSnapshot used after release');
      try {
        return await this.#session.get(Buffer.from(key));
      } catch (err) {
        throw new StoreIoError(this.#gate.store, 'snapshot.get', err);
      }
    });
  }

  iterate(range: KeyRange = {}): StateIterator {
    this.#gate.checkOpen('snapshot.iterate');
    assert(this.#released === null, 'StateSnapshot used after release');
    const iterator: StateIterator = new StateIterator(this.#gate, this.#session, range, 'snapshot', () =>
      this.#iterators.delete(iterator),
    );
    this.#iterators.add(iterator);
    return iterator;
  }

  /** Releases its iterators, then the RocksDB snapshot. Idempotent; never needs the gate open. */
  release(): Promise<void> {
    this.#released ??= this.#releaseOnce();
    return this.#released;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  async #releaseOnce(): Promise<void> {
    try {
      await Promise.all([...this.#iterators].map((iterator) => iterator.release()));
      await this.#session.close();
    } catch (err) {
      throw new StoreIoError(this.#gate.store, 'snapshot.release', err);
    } finally {
      this.#lease.release();
    }
  }
}
