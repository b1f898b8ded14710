// The write-behind of applied state: one store write in flight, the next batch grows meanwhile;
// every write ends at an applied index; a failure is final and reported once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WriteBehind, type AppliedPosition } from '../../src/fsm/write-behind.js';
import type { DiskSpaceReporter } from '../../src/storage/disk-space.js';
import { DiskFullError } from '../../src/storage/errors.js';
import type { StateStore } from '../../src/storage/state-store.js';
import type { StateWriteBatch } from '../../src/storage/state-write-batch.js';

/** A store whose writes complete when the test says so, recording what each one held. */
class ManualStore {
  readonly name = 'state';
  readonly writes: string[][] = [];
  readonly pending: { resolve: () => void; reject: (e: Error) => void }[] = [];

  batch(): StateWriteBatch {
    const ops: string[] = [];
    let bytes = 0;
    const batch = {
      put: (key: Uint8Array, value: Uint8Array) => {
        ops.push(`${Buffer.from(key).toString()}=${Buffer.from(value).toString()}`);
        bytes += key.length + value.length;
        return batch;
      },
      get opCount() {
        return ops.length;
      },
      get sizeBytes() {
        return bytes;
      },
      commit: () =>
        new Promise<void>((resolve, reject) => {
          this.writes.push(ops);
          this.pending.push({ resolve, reject });
        }),
    };
    return batch as unknown as StateWriteBatch;
  }

  /** Completes the oldest write in flight. */
  async complete(error?: Error): Promise<void> {
    const next = this.pending.shift();
    assert.ok(next !== undefined, 'no write in flight');
    if (error === undefined) next.resolve();
    else next.reject(error);
    await new Promise((r) => setImmediate(r));
  }
}

function writer(store: ManualStore, failures: Error[] = [], limits?: { batchOpsMax: number; batchBytesMax: number; queuedBatchesMax: number }, diskSpace?: DiskSpaceReporter) {
  return new WriteBehind({
    store: () => store as unknown as StateStore,
    written: { index: 0, term: 0 },
    endOps: (end: AppliedPosition, batch) => batch.put(Buffer.from('applied'), Buffer.from(String(end.index))),
    onFailure: (e) => failures.push(e),
    limits,
    diskSpace,
  });
}

const noSpace = (): DiskFullError => new DiskFullError('state', 'write', Object.assign(new Error('No space left on device'), { code: 'ENOSPC' }));

/** Waits until the store has received `count` writes (retries included), at most 2 s. */
async function writesReach(store: ManualStore, count: number): Promise<void> {
  const deadline = performance.now() + 2_000;
  while (store.writes.length < count) {
    assert.ok(performance.now() < deadline, `only ${store.writes.length} of ${count} writes`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function applyOne(w: WriteBehind, index: number): void {
  w.batch().put(Buffer.from(`k${index}`), Buffer.from('v'));
  w.endApply({ index, term: 1 });
}

void describe('WriteBehind', () => {
  void it('writes at once when idle, then groups everything applied during a write into the next one', async () => {
    const store = new ManualStore();
    const w = writer(store);
    applyOne(w, 1);
    assert.deepEqual(store.writes, [['k1=v', 'applied=1']]);
    for (let i = 2; i <= 5; i++) applyOne(w, i);
    assert.equal(store.writes.length, 1, 'nothing new is written while a write is in flight');
    assert.equal(w.written.index, 0);
    await store.complete();
    assert.equal(w.written.index, 1);
    assert.deepEqual(store.writes[1], ['k2=v', 'k3=v', 'k4=v', 'k5=v', 'applied=5']);
    await store.complete();
    assert.equal(w.written.index, 5);
    assert.equal(store.pending.length, 0);
  });

  void it('drain resolves only once everything applied before it is written', async () => {
    const store = new ManualStore();
    const w = writer(store);
    applyOne(w, 1);
    applyOne(w, 2);
    let drained = false;
    const drain = w.drain().then(() => (drained = true));
    await store.complete();
    assert.equal(drained, false);
    await store.complete();
    await drain;
    assert.equal(w.written.index, 2);
    await w.drain(); // nothing pending: resolves at once
  });

  void it('seals a batch at its size limit and makes applies wait when too many are queued', async () => {
    const store = new ManualStore();
    const w = writer(store, [], { batchOpsMax: 2, batchBytesMax: 1 << 20, queuedBatchesMax: 2 });
    for (let i = 1; i <= 5; i++) applyOne(w, i);
    // 1 in flight; 2..5 sealed two ops at a time (k + applied is 2 ops): queue full.
    assert.equal(w.congested, true);
    let released = false;
    const waiting = w.backpressure().then(() => (released = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(released, false);
    await store.complete();
    await waiting;
    assert.equal(released, true);
    while (store.pending.length > 0) await store.complete();
    assert.equal(w.written.index, 5);
    assert.ok(store.writes.every((ops) => ops[ops.length - 1].startsWith('applied=')), 'every write ends with its applied index');
  });

  void it('reports a failed write once, rejects drains, and refuses every later apply', async () => {
    const store = new ManualStore();
    const failures: Error[] = [];
    const w = writer(store, failures);
    applyOne(w, 1);
    applyOne(w, 2);
    const drained = assert.rejects(w.drain(), /disk gone/);
    await store.complete(new Error('disk gone'));
    await drained;
    assert.equal(failures.length, 1);
    assert.equal(w.written.index, 0);
    assert.throws(() => w.batch(), /disk gone/);
    assert.throws(() => w.drain(), /disk gone/);
    assert.equal(store.writes.length, 1, 'nothing is written after a failure');
  });

  void it('writes a batch refused for lack of space again once there is room, behind nothing, and fails nothing', async () => {
    const store = new ManualStore();
    const failures: Error[] = [];
    const reports: string[] = [];
    const w = writer(store, failures, undefined, { full: (name) => reports.push(`full ${name}`), available: (name) => reports.push(`available ${name}`) });
    applyOne(w, 1);
    await store.complete(noSpace());
    applyOne(w, 2); // applies go on into the next batch meanwhile
    await writesReach(store, 2);
    assert.deepEqual(store.writes[1], ['k1=v', 'applied=1'], 'the same batch, first');
    await store.complete(noSpace());
    await writesReach(store, 3);
    assert.deepEqual(store.writes[2], ['k1=v', 'applied=1']);
    assert.deepEqual(reports, ['full state'], 'one report per episode');
    await store.complete();
    assert.deepEqual(reports, ['full state', 'available state']);
    assert.equal(w.written.index, 1);
    assert.deepEqual(store.writes[3], ['k2=v', 'applied=2']);
    await store.complete();
    await w.drain();
    assert.equal(w.written.index, 2);
    assert.deepEqual(failures, []);
  });

  void it('close abandons a batch waiting for space: applies and drains stop waiting, nothing more is written, nothing fails', async () => {
    const store = new ManualStore();
    const failures: Error[] = [];
    const w = writer(store, failures, { batchOpsMax: 2, batchBytesMax: 1 << 20, queuedBatchesMax: 1 });
    for (let i = 1; i <= 4; i++) applyOne(w, i);
    await store.complete(noSpace());
    assert.equal(w.congested, true);
    const waiting = w.backpressure();
    w.close();
    await waiting;
    await w.drain();
    applyOne(w, 5);
    await w.drain();
    assert.equal(w.written.index, 0, 'the store keeps its applied index: the log replays the rest');
    assert.equal(store.writes.length, 1, 'nothing is written after the close');
    assert.deepEqual(failures, []);
  });
});
