// The cluster of `npm run bench:placement`, built in-process on the model as the leader would:
// every command goes through the model's own apply()/applyChanges() (what MetadataFsm.apply runs
// for each committed entry), every placement through src/cluster/placement.ts, with the heartbeat
// live state filled in as reports would leave it. Deterministic: the same sizes give the same
// commands, so a second build (the RocksDB one) repeats the first exactly.
//
// Shape: `metaNodes` meta nodes and `dataNodes` data nodes registered round-robin over `zones`
// zones (node sets of 18, the default nodeSetCap); `vols` volumes, alternately cross-zone (zone
// name '' = any zone) and pinned to one zone (round-robin), each created as /admin/createVol does
// it (3 meta partitions, up to 200 data partitions in vol.createBegin + vol.createCommit) and then
// topped up to its share of `dataPartitions` as /dataPartition/create does (ids.reserve, then
// dp.add of at most 200), each batch placed against the model that holds the batches before it.
import { placeDataPartitions, placeMetaPartitions } from '../src/cluster/placement.js';
import {
  apply,
  applyChanges,
  DEFAULT_VOL_SETTINGS,
  emptyState,
  makeCommand,
  passwordSha1,
  setDataNodeLive,
  setMetaNodeLive,
  type Command,
  type ModelState,
  type PartitionPeer,
} from '../src/model/index.js';

export interface ClusterSize {
  readonly dataNodes: number;
  readonly metaNodes: number;
  readonly zones: number;
  readonly vols: number;
  readonly dataPartitions: number;
}

export interface BuildOptions {
  readonly clusterName: string;
  /** Host of node addresses (nothing listens there; a master started on the state gets refusals). */
  readonly nodeHost: (i: number) => string;
  /** Called with every command after the model applied it (in order). */
  readonly onCommand?: (command: Command) => void | Promise<void>;
}

export interface BuildFigures {
  readonly state: ModelState;
  /** Time inside placeDataPartitions / placeMetaPartitions, summed over all calls. */
  readonly dataPlaceMs: number;
  readonly metaPlaceMs: number;
  readonly dataPlaceCalls: number;
  /** Everything else: apply, applyChanges, command building. */
  readonly applyMs: number;
  readonly commands: number;
}

/** Batch of one createVol / /dataPartition/create (spec 1.5: dpCount at most 200). */
export const DP_BATCH_MAX = 200;
const MP_COUNT = 3;
const REPLICAS = 3;
const DP_SIZE_BYTES = 120n * 1_073_741_824n;
/** What every data node reports free: room for ~850 partitions of 120 GiB, above the 3000 limit's need here. */
const DATA_NODE_SPACE_BYTES = 100 * 2 ** 40;
export const T0_MS = Date.UTC(2026, 10, 25, 18, 40, 41);

export function zoneName(z: number): string {
  return `zone-${String(z).padStart(2, '0')}`;
}

/** Fresh, active, writable live state for every node, as after one round of heartbeats. */
export function markAllLive(state: ModelState, nowMs: number): void {
  for (const id of state.metaNodes.keys()) {
    setMetaNodeLive(state, id, { isActive: true, isWritable: true, reportTimeMs: nowMs, reportMonoMs: nowMs, totalWeight: 64 * 2 ** 30, usedWeight: 2 ** 30, ratio: 1 / 64, threshold: 0.75 });
  }
  for (const id of state.dataNodes.keys()) {
    setDataNodeLive(state, id, { isActive: true, isWritable: true, reportTimeMs: nowMs, reportMonoMs: nowMs, totalWeight: DATA_NODE_SPACE_BYTES, usedWeight: 0, availableSpace: DATA_NODE_SPACE_BYTES });
  }
}

/** Applies commands to the model as MetadataFsm.apply does for each entry (without the store). */
export class Applier {
  index = 0;
  commands = 0;
  constructor(
    readonly state: ModelState,
    private readonly onCommand: BuildOptions['onCommand'],
  ) {}

  async run<C extends Command>(command: C) {
    this.index += 1;
    const applied = apply(this.state, command, { index: this.index, term: 1 });
    if (!applied.result.ok) throw new Error(`${command.type} failed: ${applied.result.error.name} ${applied.result.error.message}`);
    applyChanges(this.state, applied.changes);
    this.commands += 1;
    await this.onCommand?.(command);
    return applied.result.value;
  }
}

function keyOf(prefix: string, n: number, length: number): string {
  return prefix + String(n).padStart(length - prefix.length, '0');
}

/** Registers the nodes (model only, no placement yet). */
export async function buildNodes(size: ClusterSize, o: BuildOptions): Promise<{ applier: Applier }> {
  const applier = new Applier(emptyState(), o.onCommand);
  await applier.run(
    makeCommand('cluster.bootstrap', {
      clusterName: o.clusterName,
      createTimeUnixSec: Math.floor(T0_MS / 1000),
      root: { accessKey: keyOf('RK', 0, 16), secretKey: keyOf('RS', 0, 32), passwordSha1: passwordSha1('CubeFSRoot') },
    }),
  );
  let port = 0;
  for (let i = 0; i < size.metaNodes; i++) {
    port += 1;
    const addr = `${o.nodeHost(port)}:${20000 + port}`;
    await applier.run(makeCommand('metaNode.add', { addr, zoneName: zoneName(i % size.zones), heartbeatPort: '17230', replicaPort: '17231', nodeSetId: 0, nodeSetCapacity: 18 }));
  }
  for (let i = 0; i < size.dataNodes; i++) {
    port += 1;
    const addr = `${o.nodeHost(port)}:${20000 + port}`;
    await applier.run(
      makeCommand('dataNode.add', {
        addr,
        zoneName: zoneName(i % size.zones),
        heartbeatPort: '17330',
        replicaPort: '17331',
        nodeSetId: 0,
        nodeSetCapacity: 18,
        mediaType: 1,
        createTimeMs: T0_MS + i,
      }),
    );
  }
  return { applier };
}

/** Builds the whole cluster: nodes, live state, vols and their partitions. */
export async function buildCluster(size: ClusterSize, o: BuildOptions): Promise<BuildFigures> {
  const t0 = performance.now();
  const { applier } = await buildNodes(size, o);
  const state = applier.state;
  const nowMs = T0_MS + 60_000;
  markAllLive(state, nowMs);
  let dataPlaceMs = 0;
  let metaPlaceMs = 0;
  let dataPlaceCalls = 0;
  const placeData = (count: number, zoneNames: string[], crossZone: boolean): PartitionPeer[][] => {
    const t = performance.now();
    const peers = placeDataPartitions(state, { count, replicaNum: REPLICAS, zoneNames, crossZone, monoNowMs: nowMs, mediaType: 1, partitionSizeBytes: DP_SIZE_BYTES });
    dataPlaceMs += performance.now() - t;
    dataPlaceCalls += 1;
    return peers;
  };
  let pinned = 0;
  for (let v = 0; v < size.vols; v++) {
    // Vol v holds floor or ceil of dataPartitions / vols, so the total is exact.
    const share = Math.floor(((v + 1) * size.dataPartitions) / size.vols) - Math.floor((v * size.dataPartitions) / size.vols);
    const crossZone = v % 2 === 0 && size.zones > 1;
    const zone = crossZone ? '' : zoneName(pinned++ % size.zones);
    const zoneNames = zone === '' ? [] : [zone];
    const tm = performance.now();
    const mpPeers = placeMetaPartitions(state, { count: MP_COUNT, replicaNum: REPLICAS, zoneNames, crossZone, monoNowMs: nowMs });
    metaPlaceMs += performance.now() - tm;
    const first = Math.min(share, DP_BATCH_MAX);
    const dpPeers = first > 0 ? placeData(first, zoneNames, crossZone) : [];
    const name = `vol${String(v).padStart(4, '0')}`;
    const intent = await applier.run(
      makeCommand('vol.createBegin', {
        name,
        owner: `owner${v}`,
        createTimeUnixSec: Math.floor(nowMs / 1000),
        capacityGB: 100_000,
        mpReplicaNum: REPLICAS,
        dpReplicaNum: REPLICAS,
        dpSizeBytes: DP_SIZE_BYTES,
        volType: 0,
        volStorageClass: 1,
        allowedStorageClass: [1],
        settings: { ...DEFAULT_VOL_SETTINGS, zoneName: zone, crossZone },
        mpPeers,
        dpPeers,
        dpMediaType: 1,
        newOwner: { accessKey: keyOf('AK', v + 1, 16), secretKey: keyOf('SK', v + 1, 32), passwordSha1: passwordSha1('CubeFSUser') },
        proposerId: 1,
      }),
    );
    await applier.run(makeCommand('vol.createCommit', { volId: intent.vol.id, dpDiskPaths: dpPeers.map((peers) => peers.map((_, j) => `/disk${j}`)) }));
    for (let done = first; done < share; ) {
      const count = Math.min(DP_BATCH_MAX, share - done);
      const peers = placeData(count, zoneNames, crossZone);
      const firstId = state.counters.dataPartition + 1;
      await applier.run(makeCommand('ids.reserve', { counter: 'dataPartition', count }));
      await applier.run(
        makeCommand('dp.add', {
          volId: intent.vol.id,
          mediaType: 1,
          sizeBytes: DP_SIZE_BYTES,
          createTimeUnixSec: Math.floor(nowMs / 1000),
          partitions: peers.map((p, i) => ({ id: firstId + i, peers: p, diskPaths: p.map((_, j) => `/disk${j}`) })),
        }),
      );
      done += count;
    }
  }
  const totalMs = performance.now() - t0;
  return { state, dataPlaceMs, metaPlaceMs, dataPlaceCalls, applyMs: totalMs - dataPlaceMs - metaPlaceMs, commands: applier.commands };
}

export interface Spread {
  readonly nodes: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly stddev: number;
}

export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) return { nodes: 0, min: 0, max: 0, mean: 0, stddev: 0 };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  const mean = sum / values.length;
  const variance = values.reduce((acc, v) => acc + (v - mean) ** 2, 0) / values.length;
  return { nodes: values.length, min, max, mean, stddev: Math.sqrt(variance) };
}

/** Data partition replicas per data node, overall and per zone (from the model's own index). */
export function dataSpread(state: ModelState): { all: Spread; zones: Map<string, Spread & { nodeSets: number }> } {
  const byZone = new Map<string, number[]>();
  const all: number[] = [];
  for (const node of state.dataNodes.values()) {
    const load = state.index.replicasByDataNode.get(node.id) ?? 0;
    all.push(load);
    let list = byZone.get(node.zoneName);
    if (list === undefined) byZone.set(node.zoneName, (list = []));
    list.push(load);
  }
  const zones = new Map<string, Spread & { nodeSets: number }>();
  for (const [zone, loads] of [...byZone].sort(([a], [b]) => (a < b ? -1 : 1))) {
    zones.set(zone, { ...spreadOf(loads), nodeSets: state.index.nodeSetsByZone.get(zone)?.length ?? 0 });
  }
  return { all: spreadOf(all), zones };
}

export function metaSpread(state: ModelState): Spread {
  return spreadOf([...state.metaNodes.keys()].map((id) => state.index.replicasByMetaNode.get(id) ?? 0));
}

/** Spread of one placement answer (replicas per node id over `nodeIds`). */
export function answerSpread(placed: readonly (readonly PartitionPeer[])[], nodeIds: Iterable<number>): Spread {
  const counts = new Map<number, number>();
  for (const id of nodeIds) counts.set(id, 0);
  for (const peers of placed) for (const p of peers) counts.set(p.nodeId, (counts.get(p.nodeId) ?? 0) + 1);
  return spreadOf([...counts.values()]);
}

