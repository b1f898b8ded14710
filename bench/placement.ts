// npm run bench:placement [-- --nodes 1000 --zones 10 --vols 100 --dps 100000 --meta-nodes 30
//                           --runs 3 --restarts 3 --real-budget-s 420 --no-real]
// Placement and memory at scale (issue 8, point 9). Four parts:
// 1. in-process, on the model: register the nodes, mark them live, create the vols and place
//    their data partitions batch by batch as the leader does (createVol with 200, then
//    /dataPartition/create batches of 200, each placed against the model holding the batches
//    before it); spread of replicas per data node (overall and per zone), time inside placement
//    (median of `runs` builds), RSS and heap after the build; plus one call placing every
//    partition at once on the empty cluster;
// 2. the same commands as Raft entries through MetadataFsm.apply on a RocksDB dir (the apply
//    code path of a master, without Raft and node tasks): apply cost, snapshot and RocksDB size;
// 3. the real path: a master process and simulated nodes (in this process) speaking the real
//    protocol; the vols created through /admin/createVol and /dataPartition/create, so every
//    partition is placed by the leader, created on its nodes, proposed and applied. Then, with the
//    master stopped, its RocksDB opened with MetadataFsm: load time, spread, snapshot size;
// 4. restarts of that master (the nodes keep running): spawn to ready (/admin/getCluster code 0
//    with the leader known), median of `restarts`, RSS once ready and after heartbeats.
// If the real path does not finish within --real-budget-s (or with --no-real), part 4 runs on
// the RocksDB dir of part 2 instead, and the output says so.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { placeDataPartitions } from '../src/cluster/placement.js';
import { MetadataFsm } from '../src/fsm/metadata-fsm.js';
import { encodeCommand, type Command } from '../src/model/index.js';
import { ConfChangeType, encodeConfChange, EntryType, type Entry } from '../src/raft/core/index.js';
import { encodeMemberContext } from '../src/raft/member-context.js';
import { cfsGet } from '../test/integration/cfs-client.js';
import { MasterProcess } from '../test/integration/master-process.js';
import { answerSpread, buildCluster, buildNodes, dataSpread, markAllLive, metaSpread, T0_MS, type ClusterSize, type Spread } from './placement-model.js';
import { RealCluster, rssOf, startTimed } from './placement-real.js';
import { median } from './write-load.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    'meta-nodes': { type: 'string', default: '30' },
    zones: { type: 'string', default: '10' },
    vols: { type: 'string', default: '100' },
    dps: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    restarts: { type: 'string', default: '3' },
    'real-budget-s': { type: 'string', default: '420' },
    'no-real': { type: 'boolean', default: false },
  },
});
const SIZE: ClusterSize = {
  dataNodes: Number(values.nodes),
  metaNodes: Number(values['meta-nodes']),
  zones: Number(values.zones),
  vols: Number(values.vols),
  dataPartitions: Number(values.dps),
};
const RUNS = Number(values.runs);
const RESTARTS = Number(values.restarts);
const REAL_BUDGET_MS = Number(values['real-budget-s']) * 1000;
const CLUSTER_NAME = 'bench-placement';
/** The master of part 4 on the part-2 dir, and the master of parts 3-4. */
const DIRECT_MASTER = { host: '127.0.0.71', httpPort: 17710, raftPort: 17810 };
const REAL_MASTER = { host: '127.0.0.72', httpPort: 17720, raftPort: 17820 };
/** Part 1-2 node addresses on 127.0.0.73..79 (nothing listens; a master's tasks to them are refused at once). */
const nodeHost = (i: number): string => `127.0.0.${73 + (i % 7)}`;
/** Entries per MetadataFsm.apply call, as one Ready of a busy leader. */
const ENTRIES_PER_APPLY = 64;
/** The master's default (config.ts); placement wants a report at most 18 s old. */
const HEARTBEAT_INTERVAL_MS = 6_000;

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MB = 1024 * 1024;
const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;
const ms = (x: number): string => `${x.toFixed(x < 10 ? 2 : 0)} ms`;
const secs = (x: number): string => `${(x / 1000).toFixed(1)} s`;

function memory(): { rss: number; heap: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function spreadHeader(): string {
  return 'zone      | nodes |  sets |   min |   max |    mean | stddev | max/min';
}

function spreadLine(label: string, s: Spread & { nodeSets?: number }): string {
  const sets = s.nodeSets === undefined ? '' : String(s.nodeSets);
  return `${label.padEnd(9)} | ${String(s.nodes).padStart(5)} | ${sets.padStart(5)} | ${String(s.min).padStart(5)} | ${String(s.max).padStart(5)} | ${s.mean.toFixed(1).padStart(7)} | ${s.stddev.toFixed(2).padStart(6)} | ${(s.min > 0 ? s.max / s.min : Infinity).toFixed(3)}`;
}

function printSpread(state: Parameters<typeof dataSpread>[0]): void {
  const spread = dataSpread(state);
  console.log(spreadHeader());
  for (const [zone, s] of spread.zones) console.log(spreadLine(zone, s));
  console.log(spreadLine('all', spread.all));
  const m = metaSpread(state);
  console.log(`meta partition replicas per meta node: min ${m.min} max ${m.max} mean ${m.mean.toFixed(1)} stddev ${m.stddev.toFixed(2)} (${state.metaPartitions.size} mps x 3 over ${m.nodes} nodes)`);
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

const silentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The snapshot a follower would be streamed from this FSM: bytes, chunks, ms. */
async function snapshotFigures(fsm: MetadataFsm): Promise<string> {
  const t = performance.now();
  const source = await fsm.openSnapshot();
  let bytes = 0;
  let chunks = 0;
  try {
    for await (const chunk of source.chunks(new AbortController().signal)) {
      bytes += chunk.byteLength;
      chunks += 1;
    }
  } finally {
    await source.release();
  }
  return `snapshot as streamed to a follower: ${mb(bytes)} in ${chunks} chunks of 1 MiB, read and encoded in ${ms(performance.now() - t)} (applied index ${source.meta.index})`;
}

// ------------------------------------------------------------------ 1. in-process placement

async function placementPhase(): Promise<void> {
  console.log(`\n## 1. placement on the model (in-process), ${RUNS} builds`);
  const base = memory();
  const runs: { placeMs: number; metaMs: number; applyMs: number; calls: number }[] = [];
  let mem = { rss: 0, heap: 0 };
  for (let r = 0; r < RUNS; r++) {
    const f = await buildCluster(SIZE, { clusterName: CLUSTER_NAME, nodeHost });
    runs.push({ placeMs: f.dataPlaceMs, metaMs: f.metaPlaceMs, applyMs: f.applyMs, calls: f.dataPlaceCalls });
    console.log(`build ${r + 1}: ${f.commands} commands, ${f.dataPlaceCalls} data placement calls ${ms(f.dataPlaceMs)}, meta placement ${ms(f.metaPlaceMs)}, apply+rest ${ms(f.applyMs)}`);
    if (r === RUNS - 1) {
      mem = memory();
      console.log(`\ndata partition replicas per data node (${f.state.dataPartitions.size} dps x 3 over ${f.state.dataNodes.size} nodes; even vols cross-zone, odd vols pinned to one zone)`);
      printSpread(f.state);
      console.log('(a vol pinned to one zone loads only that zone; cross-zone partitions even the zones out only for what came before them)');
    }
  }
  const placeMs = median(runs.map((x) => x.placeMs));
  const calls = runs[0].calls;
  console.log(
    `\ntime in placeDataPartitions (median of ${RUNS} builds): ${ms(placeMs)} for ${SIZE.dataPartitions} dps in ${calls} calls = ${((placeMs * 1000) / SIZE.dataPartitions).toFixed(2)} us per dp, ${ms(placeMs / calls)} per call of <= 200`,
  );
  console.log(`time in placeMetaPartitions (median): ${ms(median(runs.map((x) => x.metaMs)))}; the rest of the build (apply + applyChanges of every command): ${ms(median(runs.map((x) => x.applyMs)))}`);
  const heap = mem.heap - base.heap;
  const rss = mem.rss - base.rss;
  const per100k = 100_000 / Math.max(1, SIZE.dataPartitions);
  console.log(
    `memory after the build (model held, after gc): RSS ${mb(mem.rss)}, heap used ${mb(mem.heap)}; the model's share: heap +${mb(heap)}, RSS +${mb(rss)} = ${mb(heap * per100k)} heap / ${mb(rss * per100k)} RSS per 100k dps`,
  );

  // One call for everything on the empty cluster: the cost of a single big placement.
  const { applier } = await buildNodes(SIZE, { clusterName: CLUSTER_NAME, nodeHost });
  const nowMs = T0_MS + 60_000;
  markAllLive(applier.state, nowMs);
  const count = Math.min(SIZE.dataPartitions, 100_000);
  for (const crossZone of [false, true]) {
    const times: number[] = [];
    let spread: Spread | null = null;
    for (let r = 0; r < RUNS; r++) {
      const t = performance.now();
      const placed = placeDataPartitions(applier.state, { count, replicaNum: 3, zoneNames: [], crossZone, monoNowMs: nowMs, mediaType: 1, partitionSizeBytes: 120n * 1_073_741_824n });
      times.push(performance.now() - t);
      spread ??= answerSpread(placed, applier.state.dataNodes.keys());
    }
    const t = median(times);
    console.log(
      `one call of ${count} dps on the empty cluster, crossZone ${String(crossZone).padEnd(5)}: ${ms(t)} (${((t * 1000) / count).toFixed(2)} us per dp), replicas per node min ${spread!.min} max ${spread!.max} stddev ${spread!.stddev.toFixed(2)}`,
    );
  }
}

// ------------------------------------------------------------------ 2. MetadataFsm.apply, directly

async function directPhase(dataDir: string): Promise<void> {
  console.log('\n## 2. the same commands as entries through MetadataFsm.apply (RocksDB; no Raft, no node tasks)');
  const storeDir = path.join(dataDir, 'store');
  const fsm = await MetadataFsm.open({ storeDir, logger: silentLogger });
  try {
    let index = 0;
    let pending: Entry[] = [];
    let applyMs = 0;
    const flushPending = async (): Promise<void> => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      const t = performance.now();
      const results = await fsm.apply(batch);
      applyMs += performance.now() - t;
      results.forEach((res, i) => {
        if (res !== null && !res.ok) throw new Error(`entry ${batch[i].index} failed: ${res.error.message}`);
      });
    };
    // Entry 1: the membership a new single-member log starts with (raft/core/bootstrap.ts), so
    // that a master started on this dir finds itself the only voter.
    const context = encodeMemberContext({ httpAddr: `${DIRECT_MASTER.host}:${DIRECT_MASTER.httpPort}`, raftAddr: `${DIRECT_MASTER.host}:${DIRECT_MASTER.raftPort}` });
    pending.push({ term: 1, index: ++index, type: EntryType.ConfChange, data: encodeConfChange({ type: ConfChangeType.AddVoter, nodeId: 1, context }) });
    let encodedBytes = 0;
    const onCommand = async (command: Command): Promise<void> => {
      const data = encodeCommand(command);
      encodedBytes += data.byteLength;
      pending.push({ term: 1, index: ++index, type: EntryType.Normal, data });
      if (pending.length >= ENTRIES_PER_APPLY) await flushPending();
    };
    const t0 = performance.now();
    const built = await buildCluster(SIZE, { clusterName: CLUSTER_NAME, nodeHost, onCommand });
    await flushPending();
    const totalMs = performance.now() - t0;
    const tf = performance.now();
    await fsm.flush();
    const flushMs = performance.now() - tf;
    console.log(
      `${index} entries (${mb(encodedBytes)} of encoded commands) in batches of ${ENTRIES_PER_APPLY}: MetadataFsm.apply ${ms(applyMs)} (${((applyMs * 1000) / index).toFixed(0)} us per entry), whole build ${ms(totalMs)}, flush ${ms(flushMs)}`,
    );
    if (fsm.view.dataPartitions.size !== built.state.dataPartitions.size) throw new Error('the FSM model differs from the in-process one');
    console.log(await snapshotFigures(fsm));
  } finally {
    await fsm.close();
  }
  console.log(`RocksDB dir after close: ${mb(dirBytes(storeDir))}`);
}

// ------------------------------------------------------------------ 3. the real path

/** Builds the state through a real master and sim nodes; false when it did not finish within the budget. */
async function realPhase(real: RealCluster): Promise<boolean> {
  console.log(`\n## 3. the real path: a master process (${REAL_MASTER.host}) and ${SIZE.metaNodes + SIZE.dataNodes} simulated nodes speaking the node protocol`);
  await real.start((line) => console.log(line));
  let lastPrintMs = 0;
  const built = await real.build(REAL_BUDGET_MS, (dps, t) => {
    if (t - lastPrintMs > 15_000) {
      lastPrintMs = t;
      console.log(`  ${dps} dps after ${secs(t)}`);
    }
  });
  const rssBuilt = rssOf(real.master.pid);
  const lat = built.requestMs;
  console.log(
    `${built.dps} dps (x3 create tasks on the nodes) in ${secs(built.createMs)} = ${Math.round((built.dps * 1000) / built.createMs)} dps/s, ${lat.length} requests of <= 200 dps one at a time: p50 ${ms(percentile(lat, 50))}, p99 ${ms(percentile(lat, 99))}, max ${ms(Math.max(...lat))}`,
  );
  console.log(`master RSS with every node heartbeating its reports: ${mb(rssBuilt)}`);
  const finished = built.dps >= SIZE.dataPartitions;
  const stopMs = await real.stopMaster();
  console.log(`SIGTERM to exit: ${ms(stopMs)}`);
  if (!finished) {
    console.log(`the real path is too slow here: ${built.dps} of ${SIZE.dataPartitions} dps within --real-budget-s ${REAL_BUDGET_MS / 1000}; restarts below use the part-2 dir`);
    return false;
  }
  const t = performance.now();
  const fsm = await MetadataFsm.open({ storeDir: real.storeDir, logger: silentLogger });
  try {
    console.log(`MetadataFsm.open on the master's RocksDB (scan, rebuild the model and its indexes): ${ms(performance.now() - t)}`);
    console.log(`data partition replicas per data node on the master (placed by the leader from heartbeat data):`);
    printSpread(fsm.view as Parameters<typeof dataSpread>[0]);
    console.log(await snapshotFigures(fsm));
  } finally {
    await fsm.close();
  }
  console.log(`RocksDB dir: ${mb(dirBytes(real.storeDir))}, raft log dir: ${mb(dirBytes(real.walDir))}`);
  return true;
}

// ------------------------------------------------------------------ 4. restart to ready

async function restartPhase(master: MasterProcess, label: string): Promise<void> {
  console.log(`\n## 4. restart to ready: ${label}`);
  const times: number[] = [];
  const stops: number[] = [];
  let rssReady = NaN;
  let dataNodes = 0;
  let clusterBytes = 0;
  for (let r = 0; r < RESTARTS; r++) {
    times.push(await startTimed(master));
    rssReady = rssOf(master.pid);
    const reply = await cfsGet<{ DataNodes?: unknown[] }>(master.url, '/admin/getCluster', {}, { timeoutMs: 30_000 });
    dataNodes = reply.envelope?.data.DataNodes?.length ?? 0;
    clusterBytes = reply.body.length;
    if (r === RESTARTS - 1) {
      // Two heartbeat rounds: the live state (reports of every replica) comes back in.
      await new Promise((res) => setTimeout(res, 2 * HEARTBEAT_INTERVAL_MS + 1000));
      console.log(`master RSS once ready: ${mb(rssReady)}; after two heartbeat rounds: ${mb(rssOf(master.pid))}`);
    }
    const ts = performance.now();
    master.signal('SIGTERM');
    const exit = await master.waitExit(60_000);
    stops.push(performance.now() - ts);
    if (exit.code !== 0) throw new Error(`exit ${JSON.stringify(exit)}:\n${master.tail()}`);
  }
  console.log(`getCluster once ready: ${dataNodes} data nodes, ${mb(clusterBytes)}`);
  console.log(`restart to ready (spawn -> /admin/getCluster code 0 with the leader): ${times.map(ms).join(', ')}; median ${ms(median(times))}`);
  console.log(`SIGTERM to exit: median ${ms(median(stops))}`);
}

// ------------------------------------------------------------------ main

console.log(
  `placement at scale: ${SIZE.dataNodes} data nodes and ${SIZE.metaNodes} meta nodes in ${SIZE.zones} zones (node sets of 18), ${SIZE.vols} vols holding ${SIZE.dataPartitions} data partitions of 3 replicas (120 GiB); node ${process.version}, ${spawnSync('nproc').stdout.toString().trim()} cores`,
);
const started = performance.now();
await placementPhase();
const directDir = mkdtempSync(path.join(tmpdir(), 'bench-placement-'));
try {
  await directPhase(directDir);
  let realDone = false;
  if (!values['no-real']) {
    const real = new RealCluster({ ...REAL_MASTER, clusterName: CLUSTER_NAME, size: SIZE, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS });
    try {
      realDone = await realPhase(real);
      if (realDone) await restartPhase(real.master, `the master of part 3 on its own dirs, its ${SIZE.metaNodes + SIZE.dataNodes} nodes still running`);
    } finally {
      await real.close();
    }
  }
  if (!realDone) {
    const master = new MasterProcess({
      id: 1,
      ...DIRECT_MASTER,
      peers: `1:${DIRECT_MASTER.host}:${DIRECT_MASTER.httpPort}:${DIRECT_MASTER.raftPort}`,
      dataDir: directDir,
      extraConfig: { logLevel: 'warn', clusterName: CLUSTER_NAME },
    });
    try {
      // The first start finds an empty raft log behind the store and records the store's applied
      // index as its snapshot (raft/node.ts reconcileLogWithStateMachine); not counted.
      console.log(`\nfirst start on the part-2 dir (empty raft log, no nodes answer): ready in ${ms(await startTimed(master))}`);
      master.signal('SIGTERM');
      await master.waitExit(60_000);
      await restartPhase(master, 'a master process on the part-2 dir (no nodes answer)');
    } finally {
      await master.kill();
    }
  }
} finally {
  rmSync(directDir, { recursive: true, force: true });
}
console.log(`\ntotal ${secs(performance.now() - started)}`);
