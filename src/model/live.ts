// Readers and writers of the heartbeat-derived live state (shapes in live-state.ts). The member
// that receives heartbeats (the leader) writes it with the functions below, and only with them:
// each bumps `live.version`, which a cache of a view relies on (LiveState.version). Live state
// is not replicated, so it is written through a ModelView, on any member. A member that never got
// a heartbeat shows the defaults below, exactly what CubeFS shows before the first one.

import type { DataNodeLive, DataReplicaLive, MetaNodeLive, MetaReplicaLive } from './live-state.js';
import type { DataNodeRecord, ModelView } from './state.js';

/** The same object as LiveState, as the writers below see it. */
interface WritableLiveState {
  readonly metaNodes: Map<number, MetaNodeLive>;
  readonly dataNodes: Map<number, DataNodeLive>;
  readonly metaReplicas: Map<number, Map<string, MetaReplicaLive>>;
  readonly dataReplicas: Map<number, Map<string, DataReplicaLive>>;
  version: number;
}

/** The live state to write, its version bumped: every writer below goes through here first. */
function changing(model: ModelView): WritableLiveState {
  const live = model.live as WritableLiveState;
  live.version++;
  return live;
}

/** Observed on `/metaNode/get` right after `/metaNode/add` (wire sample). */
export const META_NODE_LIVE_DEFAULT: MetaNodeLive = Object.freeze({
  isActive: false,
  isWritable: false,
  domainAddr: '',
  reportTimeMs: 0,
  reportMonoMs: 0,
  maxMemAvailWeight: 0,
  totalWeight: 0,
  usedWeight: 0,
  ratio: 0,
  selectCount: 0,
  threshold: 0,
  metaPartitionCount: 0,
  persistenceMetaPartitions: Object.freeze([]),
  canAllocPartition: false,
  cpuUtil: 0,
});

/**
 * Observed on `/dataNode/get` right after `/dataNode/add`: TotalWeight 1 (CubeFS starts the
 * total at 1 so ratios never divide by zero) and ReportTime = the time the node was added.
 */
export function defaultDataNodeLive(node: DataNodeRecord): DataNodeLive {
  return {
    isActive: false,
    isWritable: false,
    domainAddr: '',
    reportTimeMs: node.createTimeMs,
    reportMonoMs: 0,
    totalWeight: 1,
    usedWeight: 0,
    availableSpace: 0,
    usageRatio: 0,
    selectedTimes: 0,
    dataPartitionReports: null,
    dataPartitionCount: 0,
    persistenceDataPartitions: [],
    allDisks: [],
    badDisks: null,
    lostDisks: null,
    canAllocPartition: false,
    cpuUtil: 0,
    ioUtil: {},
  };
}

export function metaNodeLive(model: ModelView, id: number): MetaNodeLive {
  return model.live.metaNodes.get(id) ?? META_NODE_LIVE_DEFAULT;
}

export function dataNodeLive(model: ModelView, node: DataNodeRecord): DataNodeLive {
  return model.live.dataNodes.get(node.id) ?? defaultDataNodeLive(node);
}

/** Merge fields into a known meta node's live state; false when the node is unknown. */
export function setMetaNodeLive(model: ModelView, id: number, patch: Partial<MetaNodeLive>): boolean {
  if (!model.metaNodes.has(id)) return false;
  putMetaNodeLive(model, id, { ...metaNodeLive(model, id), ...patch });
  return true;
}

/** Merge fields into a known data node's live state; false when the node is unknown. */
export function setDataNodeLive(model: ModelView, id: number, patch: Partial<DataNodeLive>): boolean {
  const node = model.dataNodes.get(id);
  if (node === undefined) return false;
  putDataNodeLive(model, id, { ...dataNodeLive(model, node), ...patch });
  return true;
}

export function putMetaNodeLive(model: ModelView, id: number, live: MetaNodeLive): void {
  changing(model).metaNodes.set(id, live);
}

export function putDataNodeLive(model: ModelView, id: number, live: DataNodeLive): void {
  changing(model).dataNodes.set(id, live);
}

/** A node's live state goes with the node (changes.ts, on its delete). */
export function forgetNodeLive(model: ModelView, kind: 'meta' | 'data', id: number): void {
  const live = changing(model);
  (kind === 'meta' ? live.metaNodes : live.dataNodes).delete(id);
}

export function putMetaReplicaLive(model: ModelView, partitionId: number, replica: MetaReplicaLive): void {
  replicasOf(changing(model).metaReplicas, partitionId).set(replica.addr, replica);
}

export function putDataReplicaLive(model: ModelView, partitionId: number, replica: DataReplicaLive): void {
  replicasOf(changing(model).dataReplicas, partitionId).set(replica.addr, replica);
}

/** Drops one replica's report of a partition (the partition's entry too once it has none). */
export function dropReplicaLive(model: ModelView, kind: 'meta' | 'data', partitionId: number, addr: string): void {
  const live = changing(model);
  const replicas: Map<number, Map<string, unknown>> = kind === 'meta' ? live.metaReplicas : live.dataReplicas;
  const of = replicas.get(partitionId);
  if (of === undefined) return;
  of.delete(addr);
  if (of.size === 0) replicas.delete(partitionId);
}

/** Every report of a partition goes with the partition (changes.ts, on its delete). */
export function forgetPartitionLive(model: ModelView, kind: 'meta' | 'data', partitionId: number): void {
  const live = changing(model);
  (kind === 'meta' ? live.metaReplicas : live.dataReplicas).delete(partitionId);
}

/** Forget everything heartbeat-derived (this member stopped leading: its reports go stale). */
export function clearLive(model: ModelView): void {
  const live = changing(model);
  live.metaNodes.clear();
  live.dataNodes.clear();
  live.metaReplicas.clear();
  live.dataReplicas.clear();
}

function replicasOf<R>(map: Map<number, Map<string, R>>, partitionId: number): Map<string, R> {
  let m = map.get(partitionId);
  if (m === undefined) {
    m = new Map();
    map.set(partitionId, m);
  }
  return m;
}

