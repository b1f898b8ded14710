import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, mock, test } from 'node:test';
import RocksDB from 'rocksdb-native';
import { StoreClosedError, StoreIoError, StoreLimitError } from '../../src/storage/errors.js';
import { StateStore } from '../../src/storage/state-store.js';
import type { StateIterator } from '../../src/storage/state-iterator.js';
import { Prng, RecordingLogger, key, tempDirsRemovedAfter, sleep, within } from './helpers.js';

// Counts native closes of root handles (rocksdb-native snapshot sessions are RocksDB objects
// too, closed as sessions; those are not the native handle).
const nativeClose = mock.method(RocksDB.prototype, 'close');
function nativeRootCloseCount(): number {
  return nativeClose.mock.calls.filter((call) => (call.this as RocksDB).isRoot()).length;
}

const tempDir = tempDirsRemovedAfter();

function pad(n: number): string {
  return String(n).padStart(6, '0');
}

async function collect(iterator: AsyncIterable<{ key: Buffer; value: Buffer }>): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of iterator) keys.push(entry.key.toString());
  return keys;
}

const TEST_TIMEOUT_MS = 30_000;

// node:test owns and awaits the suite's promise; `void` says so to the floating-promise rule.
void describe('StateStore', { timeout: TEST_TIMEOUT_MS }, () => {
  void test('reads its writes: get, batch put/delete/deleteRange, iterate by prefix and range', async () => {
    const logger = new RecordingLogger();
    const store = await StateStore.open(tempDir('state-basic'), { logger });
    const batch = store.batch();
    for (const name of ['a/1', 'a/2', 'a/3', 'b/1', 'b/2', 'c/1']) batch.put(key(name), key(`v:${name}`));
    assert.equal(batch.opCount, 6);
    await batch.commit();
    assert.equal((await store.get(key('a/2')))?.toString(), 'v:a/2');
    assert.equal(await store.get(key('missing')), null);

    assert.deepEqual(await collect(store.iterate({ prefix: key('a/') })), ['a/1', 'a/2', 'a/3']);
    assert.deepEqual(await collect(store.iterate({ gte: key('a/2'), lt: key('b/2') })), ['a/2', 'a/3', 'b/1']);
    assert.deepEqual(await collect(store.iterate({ prefix: key('b/'), reverse: true })), ['b/2', 'b/1']);
    assert.deepEqual(await collect(store.iterate({ limit: 2 })), ['a/1', 'a/2']);
    assert.deepEqual(await collect(store.iterate({ prefix: key('a/'), gt: key('a/1'), lte: key('a/2') })), ['a/2']);

    await store.batch().delete(key('a/1')).deleteRange(key('b/'), key('c/')).commit();
    assert.deepEqual(await collect(store.iterate()), ['a/2', 'a/3', 'c/1']);

    // Breaking out of a loop releases the iterator's lease.
    for await (const entry of store.iterate()) {
      assert.equal(entry.key.toString(), 'a/2');
      break;
    }
    assert.deepEqual(store.openCalls(), []);

    // `await using` releases an iterator (and a snapshot) at the end of the block.
    {
      await using iterator = store.iterate();
      await using snapshot = store.snapshot();
      assert.equal((await iterator.next()).done, false);
      assert.equal((await snapshot.get(key('a/3')))?.toString(), 'v:a/3');
      assert.equal(store.openCalls().length, 2);
    }
    assert.deepEqual(store.openCalls(), []);
    await store.close();
  });

  void test('nextBatch reads a whole range in key order in bounded batches, then [] and no lease', async () => {
    const store = await StateStore.open(tempDir('state-batches'), { logger: new RecordingLogger() });
    const total = 5_000;
    const batch = store.batch();
    for (let i = total - 1; i >= 0; i--) batch.put(key(`k/${pad(i)}`), key(`v${i}`));
    await batch.put(key('z/after'), key('x')).commit();
    const iterator = store.iterate({ prefix: key('k/') });
    const keys: string[] = [];
    let batches = 0;
    for (let b = await iterator.nextBatch(700); b.length > 0; b = await iterator.nextBatch(700)) {
      assert.ok(b.length <= 700, `batch of ${b.length}`);
      batches++;
      for (const e of b) keys.push(e.key.toString());
    }
    assert.equal(keys.length, total);
    assert.deepEqual(keys, [...keys].sort());
    assert.equal(keys[0], 'k/000000');
    assert.ok(batches >= Math.ceil(total / 700), `${batches} batches`);
    assert.deepEqual(await iterator.nextBatch(700), []);
    assert.deepEqual(store.openCalls(), []);
    // Closing the store under an open batched scan: the next step refuses, nothing hangs.
    const open = store.iterate();
    assert.ok((await open.nextBatch(10)).length > 0);
    await store.close();
    await assert.rejects(open.nextBatch(10), StoreClosedError);
  });

  void test('putOwned writes the buffers it is given, counted against the same limits', async () => {
    const store = await StateStore.open(tempDir('state-owned'), { logger: new RecordingLogger(), batchMaxBytes: 64 });
    const batch = store.batch().putOwned(Buffer.from('owned-key'), Buffer.from('owned-value'));
    assert.equal(batch.opCount, 1);
    assert.equal(batch.sizeBytes, 'owned-key'.length + 'owned-value'.length);
    assert.throws(() => batch.putOwned(Buffer.from('k'), Buffer.alloc(100)), StoreLimitError);
    await batch.commit();
    assert.equal((await store.get(key('owned-key')))?.toString(), 'owned-value');
    await store.close();
  });

  void test('a batch copies its input buffers and enforces its limits', async () => {
    const store = await StateStore.open(tempDir('state-limits'), { logger: new RecordingLogger(), batchMaxOps: 2, batchMaxBytes: 64 });
    const scratch = Buffer.from('value-1');
    const batch = store.batch().put(key('k'), scratch);
    scratch.write('XXXXX');
    assert.throws(() => batch.put(key('k2'), Buffer.alloc(100)), StoreLimitError);
    batch.put(key('k2'), key('v2'));
    assert.throws(() => batch.put(key('k3'), key('v3')), StoreLimitError);
    await batch.commit();
    assert.equal((await store.get(key('k')))?.toString(), 'value-1');
    await store.close();
  });

  void test('close during 1,000 in-flight writes and 100 open iterators: each call completes or is refused, none hangs', async () => {
    const dir = tempDir('state-close');
    const logger = new RecordingLogger();
    const store = await StateStore.open(dir, { logger });
    const prefill = store.batch();
    for (let i = 0; i < 2_000; i++) prefill.put(key(`p/${pad(i)}`), Buffer.alloc(64, i % 256));
    await prefill.commit();
    const closesBefore = nativeRootCloseCount();

    // 100 iterators: 50 consumed by loops that yield between steps, 50 left open mid-way.
    const consumers: Promise<unknown>[] = [];
    const leftOpen: StateIterator[] = [];
    for (let i = 0; i < 100; i++) {
      const iterator = store.iterate({ prefix: key('p/') });
      if (i % 2 === 0) {
        consumers.push(
          (async () => {
            let count = 0;
            for await (const _entry of iterator) {
              count++;
              await new Promise((resolve) => setImmediate(resolve));
            }
            return count;
          })().catch((err: unknown) => err),
        );
      } else {
        assert.equal((await iterator.next()).done, false);
        leftOpen.push(iterator);
      }
    }

    // 1,000 writes of 3 keys each, batches built up front: 600 commit before close, 400 race
    // with it. Outcomes are observed at once so no rejection goes unhandled meanwhile.
    const writeCount = 1_000;
    const batches = Array.from({ length: writeCount }, (_, i) => {
      const batch = store.batch();
      for (const part of ['a', 'b', 'c']) batch.put(key(`w/${pad(i)}/${part}`), key(`${i}`));
      return batch;
    });
    const writes: Promise<unknown>[] = [];
    const startWrite = (i: number): void => {
      writes.push(batches[i].commit().then(() => 'committed', (err: unknown) => err));
    };
    for (let i = 0; i < 600; i++) startWrite(i);
    const closing = store.close();
    assert.equal(store.close(), closing, 'double close returns the same promise');
    assert.equal(store.state, 'closing');
    for (let i = 600; i < writeCount; i++) startWrite(i);
    // New calls are refused at once.
    await assert.rejects(store.get(key('p/000000')), StoreClosedError);
    assert.throws(() => store.iterate(), StoreClosedError);
    assert.throws(() => store.snapshot(), StoreClosedError);
    await assert.rejects(store.flush(), StoreClosedError);

    const report = await within(closing, 15_000, 'store.close');
    assert.equal(report.timedOut, false);
    assert.equal(store.state, 'closed');
    assert.equal(nativeRootCloseCount() - closesBefore, 1, 'native close called exactly once');
    assert.ok(report.revokedLeases.length >= 50, `revoked ${report.revokedLeases.length}`);

    const writeResults = await within(Promise.all(writes), 5_000, 'writes');
    const consumerResults = await within(Promise.all(consumers), 5_000, 'iterator loops');
    const committed = new Set<number>();
    for (const [i, result] of writeResults.entries()) {
      if (result === 'committed') committed.add(i);
      else assert.ok(result instanceof StoreClosedError, `write ${i}: ${String(result)}`);
    }
    for (const result of consumerResults) {
      if (typeof result === 'number') assert.equal(result, 2_000);
      else assert.ok(result instanceof StoreClosedError, String(result));
    }
    for (const iterator of leftOpen) await assert.rejects(iterator.next(), StoreClosedError);
    assert.equal(committed.size, 600, 'every write admitted before close completed');

    // What was committed before close is there after reopen; nothing refused is.
    const reopened = await StateStore.open(dir, { logger });
    const found = new Map<number, number>();
    for await (const entry of reopened.iterate({ prefix: key('w/') })) {
      const i = Number(entry.key.toString().split('/')[1]);
      found.set(i, (found.get(i) ?? 0) + 1);
    }
    for (let i = 0; i < writeCount; i++) assert.equal(found.get(i) ?? 0, committed.has(i) ? 3 : 0, `write ${i}`);
    await reopened.close();
  });

  void test('a leaked iterator, batch and snapshot do not hang close', async () => {
    const logger = new RecordingLogger();
    const store = await StateStore.open(tempDir('state-leak'), { logger });
    await store.batch().put(key('x/1'), key('1')).put(key('x/2'), key('2')).commit();
    store.batch().put(key('never'), key('committed')); // leaked batch
    store.iterate(); // leaked, never stepped
    const halfway = store.iterate();
    await halfway.next(); // leaked mid-way
    const snapshot = store.snapshot(); // leaked snapshot
    snapshot.iterate(); // and an iterator inside it
    const closesBefore = nativeRootCloseCount();
    const report = await within(store.close(), 5_000, 'close with leaked resources');
    assert.equal(nativeRootCloseCount() - closesBefore, 1);
    assert.deepEqual(report.revokedLeases.map((call) => call.kind).sort(), ['iterator', 'iterator', 'iterator', 'snapshot']);
    assert.ok(logger.at('warn').some((entry) => /destroying iterators\/snapshots/.test(entry.msg)));
  });

  void test('calls after close reject at once with StoreClosedError', async () => {
    const store = await StateStore.open(tempDir('state-after'), { logger: new RecordingLogger() });
    const batch = store.batch().put(key('k'), key('v'));
    await store.close();
    const startedMs = performance.now();
    await assert.rejects(store.get(key('k')), StoreClosedError);
    await assert.rejects(batch.commit(), StoreClosedError);
    await assert.rejects(store.flush(), StoreClosedError);
    assert.throws(() => store.batch(), StoreClosedError);
    assert.throws(() => store.iterate(), StoreClosedError);
    assert.throws(() => store.snapshot(), StoreClosedError);
    assert.ok(performance.now() - startedMs < 50);
    const second = store.close();
    assert.equal(second, store.close());
    await second;
  });

  void test('a snapshot reads the state as of its creation while writes continue', async () => {
    const store = await StateStore.open(tempDir('state-snapshot'), { logger: new RecordingLogger() });
    await store.batch().put(key('s/1'), key('old')).put(key('s/2'), key('old')).commit();
    const snapshot = store.snapshot();
    await store.batch().put(key('s/1'), key('new')).delete(key('s/2')).put(key('s/3'), key('new')).commit();
    assert.equal((await snapshot.get(key('s/1')))?.toString(), 'old');
    assert.equal((await snapshot.get(key('s/3'))), null);
    assert.deepEqual(await collect(snapshot.iterate({ prefix: key('s/') })), ['s/1', 's/2']);
    assert.deepEqual(await collect(store.iterate({ prefix: key('s/') })), ['s/1', 's/3']);
    const open = snapshot.iterate();
    await snapshot.release();
    assert.equal((await open.next()).done, true, 'releasing a snapshot releases its iterators');
    assert.deepEqual(store.openCalls(), []);
    await store.close();
  });

  void test('flush writes the memtable to an SST file', async () => {
    const dir = tempDir('state-flush');
    const store = await StateStore.open(dir, { logger: new RecordingLogger() });
    const batch = store.batch();
    for (let i = 0; i < 1_000; i++) batch.put(key(`f/${pad(i)}`), Buffer.alloc(100, 1));
    await batch.commit();
    const sstCount = (): number => readdirSync(dir).filter((name) => name.endsWith('.sst')).length;
    assert.equal(sstCount(), 0);
    await store.flush();
    assert.ok(sstCount() >= 1);
    await store.close();
  });

  void test('a second open of the same path fails with StoreIoError', async () => {
    const dir = tempDir('state-lock');
    const store = await StateStore.open(dir, { logger: new RecordingLogger() });
    await assert.rejects(StateStore.open(dir, { logger: new RecordingLogger() }), (err) => {
      assert.ok(err instanceof StoreIoError);
      assert.match(err.message, /lock/i);
      return true;
    });
    await store.close();
  });

  void test('a batch is atomic across kill -9: every batch is there whole or not at all', async () => {
    const childPath = fileURLToPath(new URL('./crash-writer.js', import.meta.url));
    const prng = new Prng(0xc0ffee);
    const batchKeyCount = 500;
    for (let round = 0; round < 5; round++) {
      const dir = tempDir(`state-crash-${round}`);
      const child = spawn(process.execPath, [childPath, dir, String(batchKeyCount), '2048'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let lastCommitted = -1;
      let output = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        output += chunk;
        const lines = output.split('\n');
        output = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('committed ')) lastCommitted = Number(line.slice(10));
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      const deadlineMs = performance.now() + 10_000;
      while (lastCommitted < 5 && performance.now() < deadlineMs) await sleep(5);
      assert.ok(lastCommitted >= 5, 'crash-writer made progress');
      await sleep(prng.int(40));
      child.kill('SIGKILL');
      assert.equal(await within(exited, 5_000, 'child exit'), 'SIGKILL');

      const store = await StateStore.open(dir, { logger: new RecordingLogger() });
      const keysPerBatch = new Map<number, number>();
      for await (const entry of store.iterate()) {
        const n = Number(entry.key.toString().slice(1, 9));
        keysPerBatch.set(n, (keysPerBatch.get(n) ?? 0) + 1);
      }
      await store.close();
      for (const [n, count] of keysPerBatch) assert.equal(count, batchKeyCount, `round ${round}: batch ${n} is partial`);
      // Every commit acknowledged before the kill survived it (the WAL write reached the OS).
      for (let n = 0; n <= lastCommitted; n++) assert.ok(keysPerBatch.has(n), `round ${round}: batch ${n} lost`);
    }
  });
});
