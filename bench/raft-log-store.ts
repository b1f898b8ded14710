// Durable Raft log throughput: one save() per Ready (entries + hard state, one fdatasync), for
// Readies of 1, 16 and 64 entries of 128 bytes, each row for about ROW_DURATION_MS; plus a row
// that compacts every 1000 saves (rotation + segment deletion on the path). Real files under
// os.tmpdir(). Run: npx tsc -p tsconfig.json && node dist/bench/raft-log-store.js

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EntryType, type Entry } from '../src/raft/core/index.js';
import { RaftLogStore } from '../src/raft/log/log-store.js';

const ROW_DURATION_MS = 2_000;
const ENTRY_DATA_BYTES = 128;
const silent = { info(): void {}, warn(): void {}, error(): void {} };

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

interface Row {
  readonly 'entries/save': number;
  readonly compaction: string;
  readonly saves: number;
  readonly 'saves/s': number;
  readonly 'entries/s': number;
  readonly 'MB/s': string;
  readonly 'save p50 ms': string;
  readonly 'save p99 ms': string;
  readonly 'save max ms': string;
}

async function row(entriesPerSave: number, compactEvery: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'cubemaster-bench-raftlog-'));
  const store = await RaftLogStore.open(dir, { logger: silent, segmentSizeBytes: 16 * 1024 * 1024 });
  const data = Buffer.alloc(ENTRY_DATA_BYTES, 0x61);
  const latenciesMs: number[] = [];
  let index = 0;
  try {
    const startedMs = performance.now();
    while (performance.now() - startedMs < ROW_DURATION_MS) {
      const entries: Entry[] = [];
      for (let k = 0; k < entriesPerSave; k++) entries.push({ term: 1, index: ++index, type: EntryType.Normal, data });
      const saveStartedMs = performance.now();
      await store.save({ entries, hardState: { term: 1, vote: 1, commit: index } });
      latenciesMs.push(performance.now() - saveStartedMs);
      if (compactEvery > 0 && latenciesMs.length % compactEvery === 0) await store.compact(index - 100, { voters: [1, 2, 3], learners: [] });
    }
    const elapsedSec = (performance.now() - startedMs) / 1000;
    latenciesMs.sort((a, b) => a - b);
    const saves = latenciesMs.length;
    return {
      'entries/save': entriesPerSave,
      compaction: compactEvery > 0 ? `every ${compactEvery} saves` : 'none',
      saves,
      'saves/s': Math.round(saves / elapsedSec),
      'entries/s': Math.round((saves * entriesPerSave) / elapsedSec),
      'MB/s': ((saves * entriesPerSave * ENTRY_DATA_BYTES) / elapsedSec / 1e6).toFixed(2),
      'save p50 ms': percentile(latenciesMs, 0.5).toFixed(3),
      'save p99 ms': percentile(latenciesMs, 0.99).toFixed(3),
      'save max ms': latenciesMs[latenciesMs.length - 1].toFixed(3),
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const entriesPerSave of [1, 16, 64]) rows.push(await row(entriesPerSave, 0));
  rows.push(await row(16, 1_000));
  console.log(`RaftLogStore.save: entries of ${ENTRY_DATA_BYTES} B + hard state, one fdatasync per save, ${ROW_DURATION_MS} ms per row`);
  console.table(rows);
  const [one, , sixtyFour] = rows;
  console.log(
    `summary: ${one['saves/s']} saves/s (p50 ${one['save p50 ms']} ms, p99 ${one['save p99 ms']} ms) with 1 entry; ` +
      `${sixtyFour['entries/s']} entries/s with 64 entries per save`,
  );
}

await main();
