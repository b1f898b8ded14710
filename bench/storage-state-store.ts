// Batched write throughput of the RocksDB state store (real RocksDB, temp dir under os.tmpdir()).
// Each row commits batches of `opsPerBatch` puts with `inflight` commits outstanding (1 is the
// FSM apply loop: one batch per applied entry, awaited) for about ROW_DURATION_MS, then prints
// throughput and commit latency. Then: flush() latency with a memtable of a known size.
// Run: npx tsc -p tsconfig.json && node dist/bench/storage-state-store.js

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StateStore } from '../src/storage/state-store.js';

const ROW_DURATION_MS = 1_500;
const KEY_BYTES = 24;
const silent = { info(): void {}, warn(): void {}, error(): void {} };

interface Row {
  opsPerBatch: number;
  valueBytes: number;
  inflight: number;
  batches: number;
  opsPerSec: number;
  batchesPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

let keyCounter = 0;
function nextKey(): Buffer {
  const key = Buffer.alloc(KEY_BYTES, 0x6b);
  key.write(String(keyCounter++).padStart(12, '0'), KEY_BYTES - 12);
  return key;
}

async function runRow(store: StateStore, opsPerBatch: number, valueBytes: number, inflight: number): Promise<Row> {
  const value = Buffer.alloc(valueBytes, 0x76);
  const latenciesMs: number[] = [];
  const startedMs = performance.now();
  const deadlineMs = startedMs + ROW_DURATION_MS;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadlineMs) {
      const batch = store.batch();
      for (let i = 0; i < opsPerBatch; i++) batch.put(nextKey(), value);
      const commitStartedMs = performance.now();
      await batch.commit();
      latenciesMs.push(performance.now() - commitStartedMs);
    }
  };
  await Promise.all(Array.from({ length: inflight }, () => worker()));
  const elapsedSec = (performance.now() - startedMs) / 1000;
  latenciesMs.sort((a, b) => a - b);
  const batches = latenciesMs.length;
  const ops = batches * opsPerBatch;
  return {
    opsPerBatch,
    valueBytes,
    inflight,
    batches,
    opsPerSec: ops / elapsedSec,
    batchesPerSec: batches / elapsedSec,
    mbPerSec: (ops * (KEY_BYTES + valueBytes)) / elapsedSec / 1e6,
    p50Ms: percentile(latenciesMs, 0.5),
    p99Ms: percentile(latenciesMs, 0.99),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cubemaster-bench-state-'));
  const store = await StateStore.open(dir, { logger: silent });
  try {
    const rows: Row[] = [];
    for (const [opsPerBatch, valueBytes, inflight] of [
      [1, 100, 1],
      [10, 100, 1],
      [100, 100, 1],
      [1_000, 100, 1],
      [10, 1_000, 1],
      [100, 1_000, 1],
      [1, 100, 8],
      [100, 100, 8],
    ] as const) {
      rows.push(await runRow(store, opsPerBatch, valueBytes, inflight));
    }
    console.log(`state store batched writes (rocksdb-native, WAL on, no fsync), ${ROW_DURATION_MS} ms per row, key ${KEY_BYTES} B`);
    console.table(
      rows.map((row) => ({
        opsPerBatch: row.opsPerBatch,
        valueBytes: row.valueBytes,
        inflight: row.inflight,
        batches: row.batches,
        'ops/s': Math.round(row.opsPerSec),
        'batches/s': Math.round(row.batchesPerSec),
        'MB/s': row.mbPerSec.toFixed(1),
        'p50 ms': row.p50Ms.toFixed(3),
        'p99 ms': row.p99Ms.toFixed(3),
      })),
    );

    // flush(): memtable -> SST + fdatasync + MANIFEST; measured with a fresh memtable of ~16 MB.
    await store.flush();
    const flushRows = [];
    for (const memtableMb of [1, 16]) {
      const value = Buffer.alloc(1_000, 0x66);
      const batchCount = Math.ceil((memtableMb * 1e6) / (100 * (KEY_BYTES + value.length)));
      for (let b = 0; b < batchCount; b++) {
        const batch = store.batch();
        for (let i = 0; i < 100; i++) batch.put(nextKey(), value);
        await batch.commit();
      }
      const startedMs = performance.now();
      await store.flush();
      flushRows.push({ memtableMb, 'flush ms': (performance.now() - startedMs).toFixed(1) });
    }
    const emptyStartedMs = performance.now();
    await store.flush();
    flushRows.push({ memtableMb: 0, 'flush ms': (performance.now() - emptyStartedMs).toFixed(1) });
    console.table(flushRows);

    const apply = rows[0];
    const best = rows.reduce((a, b) => (b.opsPerSec > a.opsPerSec ? b : a));
    console.log(
      `summary: one 1-op batch per apply: ${Math.round(apply.batchesPerSec)} batches/s (p99 ${apply.p99Ms.toFixed(3)} ms); ` +
        `best: ${Math.round(best.opsPerSec)} ops/s at ${best.opsPerBatch} ops/batch x ${best.inflight} in flight`,
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
