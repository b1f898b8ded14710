// Raft message codec throughput: encode and decode (separately and round trip) for a heartbeat
// and MsgApp with 1, 16 and 64 entries of 128 bytes. Single thread, about ROW_DURATION_MS each.
// Run: npx tsc -p tsconfig.json && node dist/bench/raft-message-codec.js

import { performance } from 'node:perf_hooks';
import { EntryType, MessageType, type Message } from '../src/raft/core/index.js';
import { decodeMessage, encodeMessage } from '../src/raft/transport/message-codec.js';

const ROW_DURATION_MS = 1_000;

function message(entryCount: number): Message {
  return {
    type: entryCount === 0 ? MessageType.Heartbeat : MessageType.App,
    from: 1,
    to: 2,
    term: 12,
    logTerm: 12,
    index: 1_234_567,
    entries: Array.from({ length: entryCount }, (_, k) => ({ term: 12, index: 1_234_568 + k, type: EntryType.Normal, data: Buffer.alloc(128, k) })),
    commit: 1_234_560,
    reject: false,
    rejectHint: 0,
    snapshot: null,
    context: entryCount === 0 ? 'read-42' : '',
  };
}

/** Runs fn in a loop for ROW_DURATION_MS; returns calls per second. */
function rate(fn: () => void): number {
  for (let i = 0; i < 1_000; i++) fn(); // warm up
  let calls = 0;
  const startedMs = performance.now();
  let nowMs = startedMs;
  while (nowMs - startedMs < ROW_DURATION_MS) {
    for (let i = 0; i < 100; i++) fn();
    calls += 100;
    nowMs = performance.now();
  }
  return calls / ((nowMs - startedMs) / 1000);
}

function main(): void {
  const rows = [];
  let sink = 0;
  for (const entryCount of [0, 1, 16, 64]) {
    const m = message(entryCount);
    const bytes = encodeMessage(m);
    const encodePerSec = rate(() => (sink += encodeMessage(m).length));
    const decodePerSec = rate(() => (sink += decodeMessage(bytes).index));
    const roundTripPerSec = rate(() => (sink += decodeMessage(encodeMessage(m)).index));
    rows.push({
      message: entryCount === 0 ? 'heartbeat' : `MsgApp x${entryCount} entries`,
      'encoded bytes': bytes.length,
      'encode msg/s': Math.round(encodePerSec),
      'decode msg/s': Math.round(decodePerSec),
      'encode+decode msg/s': Math.round(roundTripPerSec),
      'encode+decode MB/s': ((roundTripPerSec * bytes.length) / 1e6).toFixed(0),
      'entries/s (enc+dec)': Math.round(roundTripPerSec * entryCount),
    });
  }
  console.log(`message codec, ${ROW_DURATION_MS} ms per measurement (checksum ${sink % 10})`);
  console.table(rows);
  const hb = rows[0];
  const app64 = rows[3];
  console.log(`summary: heartbeat ${hb['encoded bytes']} B, ${hb['encode+decode msg/s']} encode+decode/s; MsgApp x64: ${app64['encode+decode MB/s']} MB/s, ${app64['entries/s (enc+dec)']} entries/s`);
}

main();
