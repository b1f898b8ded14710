// Group commit throughput of the segment log: append `recordsPerSync` records, sync() (one
// write + one fdatasync), repeat for about ROW_DURATION_MS. Real files under os.tmpdir().
// Run: npx tsc -p tsconfig.json && node dist/bench/storage-segment-log.js

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { SegmentLog } from '../src/storage/segment-log.js';

const ROW_DURATION_MS = 1_500;
const silent = { info(): void {}, warn(): void {}, error(): void {} };

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cubemaster-bench-seglog-'));
  const log = await SegmentLog.open(dir, { logger: silent }, () => {});
  const rows = [];
  let summary = '';
  try {
    for (const [recordsPerSync, payloadBytes] of [
      [1, 256],
      [16, 256],
      [128, 256],
      [1_024, 256],
      [16, 4_096],
    ] as const) {
      const payload = Buffer.alloc(payloadBytes, 0x70);
      const records = Array.from({ length: recordsPerSync }, () => ({ type: 1, payload }));
      const syncLatenciesMs: number[] = [];
      // How long the event loop was blocked meanwhile (sync() does its I/O off the loop).
      const loopDelay = monitorEventLoopDelay({ resolution: 1 });
      loopDelay.enable();
      const startedMs = performance.now();
      while (performance.now() - startedMs < ROW_DURATION_MS) {
        log.append(records);
        const syncStartedMs = performance.now();
        await log.sync();
        syncLatenciesMs.push(performance.now() - syncStartedMs);
      }
      const elapsedSec = (performance.now() - startedMs) / 1000;
      loopDelay.disable();
      syncLatenciesMs.sort((a, b) => a - b);
      const syncs = syncLatenciesMs.length;
      rows.push({
        recordsPerSync,
        payloadBytes,
        syncs,
        'syncs/s': Math.round(syncs / elapsedSec),
        'records/s': Math.round((syncs * recordsPerSync) / elapsedSec),
        'MB/s': ((syncs * recordsPerSync * (payloadBytes + 9)) / elapsedSec / 1e6).toFixed(1),
        'sync p50 ms': percentile(syncLatenciesMs, 0.5).toFixed(3),
        'sync p99 ms': percentile(syncLatenciesMs, 0.99).toFixed(3),
        // The histogram includes the 1 ms sampling resolution itself.
        'loop delay p99 ms': (loopDelay.percentile(99) / 1e6).toFixed(2),
      });
      if (recordsPerSync === 1) summary = `one record per sync: ${rows[0]['syncs/s']} syncs/s, p50 ${rows[0]['sync p50 ms']} ms`;
      await log.deleteSegmentsBefore(log.currentSegment);
    }
    console.log(`segment log group commit (write + one fdatasync per sync), ${ROW_DURATION_MS} ms per row, ${log.segments().length} segment(s) left`);
    console.table(rows);
    const best = rows.reduce((a, b) => (b['records/s'] > a['records/s'] ? b : a));
    console.log(`summary: ${summary}; best ${best['records/s']} records/s at ${best.recordsPerSync} records/sync`);
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
