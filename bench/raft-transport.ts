// TcpTransport throughput and latency between two members in one process over 127.0.0.1:
// the leader keeps `window` MsgApp (with `entries` entries of 128 B each) in flight; the
// follower answers each with a MsgAppResp through its own transport; each answer lets the
// leader send the next one (the core's pipelining, minus the disk). Both ends share one event
// loop, so the figures are a lower bound for two processes. About ROW_DURATION_MS per row.
// Run: npx tsc -p tsconfig.json && node dist/bench/raft-transport.js

import { performance } from 'node:perf_hooks';
import { EntryType, MessageType, type Message } from '../src/raft/core/index.js';
import { TcpTransport } from '../src/raft/transport/tcp-transport.js';
import type { TransportHandler } from '../src/raft/transport/transport.js';

const ROW_DURATION_MS = 2_000;
const ENTRY_DATA_BYTES = 128;
const silent = { info(): void {}, warn(): void {}, error(): void {}, debug(): void {} };

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

function base(type: Message['type'], from: number, to: number): Message {
  return { type, from, to, term: 2, logTerm: 2, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, snapshot: null, context: '' };
}

async function row(entriesPerApp: number, window: number): Promise<Record<string, string | number>> {
  const data = Buffer.alloc(ENTRY_DATA_BYTES, 0x62);
  const sentAtMs = new Map<number, number>();
  const rttsMs: number[] = [];
  let next = 1;
  let acked = 0;
  let running = false; // the warm-up's answer must not start a message of its own
  let leader: TcpTransport | null = null;
  let follower: TcpTransport | null = null;
  const sendApp = (): void => {
    const index = next++;
    const entries = Array.from({ length: entriesPerApp }, (_, k) => ({ term: 2, index: index * entriesPerApp + k, type: EntryType.Normal, data }));
    sentAtMs.set(index, performance.now());
    leader!.send([{ ...base(MessageType.App, 1, 2), index, entries }]);
  };
  const leaderHandler: TransportHandler = {
    onMessage(m) {
      const started = sentAtMs.get(m.index);
      if (started === undefined) return;
      sentAtMs.delete(m.index);
      rttsMs.push(performance.now() - started);
      acked++;
      if (running) sendApp();
    },
    onSnapshot: () => Promise.reject(new Error('no snapshots')),
    onUnreachable: () => undefined,
  };
  const followerHandler: TransportHandler = {
    onMessage(m) {
      follower!.send([{ ...base(MessageType.AppResp, 2, 1), index: m.index }]);
    },
    onSnapshot: () => Promise.reject(new Error('no snapshots')),
    onUnreachable: () => undefined,
  };
  leader = new TcpTransport({ selfId: 1, clusterId: 'bench', listenHost: '127.0.0.1', listenPort: 0, logger: silent });
  follower = new TcpTransport({ selfId: 2, clusterId: 'bench', listenHost: '127.0.0.1', listenPort: 0, logger: silent });
  await leader.start(leaderHandler);
  await follower.start(followerHandler);
  const peers = [
    { id: 1, raftAddr: `127.0.0.1:${leader.address().port}` },
    { id: 2, raftAddr: `127.0.0.1:${follower.address().port}` },
  ];
  leader.setPeers(peers);
  follower.setPeers(peers);
  try {
    // Warm up: connections dialed both ways.
    sendApp();
    while (acked < 1) await new Promise((resolve) => setTimeout(resolve, 1));
    rttsMs.length = 0;
    acked = 0;
    const framesBefore = leader.metrics().framesSent;
    const messagesBefore = leader.metrics().messagesSent;
    const startedMs = performance.now();
    running = true;
    for (let i = 0; i < window; i++) sendApp();
    await new Promise((resolve) => setTimeout(resolve, ROW_DURATION_MS));
    running = false;
    const elapsedSec = (performance.now() - startedMs) / 1000;
    const metrics = leader.metrics();
    rttsMs.sort((a, b) => a - b);
    const bytesPerApp = entriesPerApp * ENTRY_DATA_BYTES;
    return {
      'entries/MsgApp': entriesPerApp,
      window,
      'MsgApp/s': Math.round(acked / elapsedSec),
      'entries/s': Math.round((acked * entriesPerApp) / elapsedSec),
      'payload MB/s': ((acked * bytesPerApp) / elapsedSec / 1e6).toFixed(1),
      'msgs/frame': ((metrics.messagesSent - messagesBefore) / Math.max(1, metrics.framesSent - framesBefore)).toFixed(1),
      'rtt p50 ms': percentile(rttsMs, 0.5).toFixed(3),
      'rtt p99 ms': percentile(rttsMs, 0.99).toFixed(3),
      dropped: metrics.messagesDropped + follower.metrics().messagesDropped,
    };
  } finally {
    await leader.close();
    await follower.close();
  }
}

async function main(): Promise<void> {
  const rows = [];
  for (const [entriesPerApp, window] of [
    [1, 1],
    [1, 32],
    [1, 256],
    [16, 1],
    [16, 256],
  ] as const) {
    rows.push(await row(entriesPerApp, window));
  }
  console.log(`TcpTransport MsgApp -> MsgAppResp between two members in one process (127.0.0.1), ${ROW_DURATION_MS} ms per row`);
  console.table(rows);
  const pingPong = rows[0];
  const pipelined = rows[2];
  console.log(
    `summary: ${pipelined['MsgApp/s']} MsgApp/s pipelined (window 256, ${pipelined['msgs/frame']} msgs/frame); ` +
      `round trip p50 ${pingPong['rtt p50 ms']} ms unpipelined`,
  );
}

await main();
