// Heartbeat-derived node fields (spec 3, "Runtime-only"; spec 6 heartbeat responses): capacity,
// activity, report time, partition reports. CubeFS keeps them in memory on the leader only and
// never persists them. Here they sit beside the replicated records but are NOT part of them:
// not written by apply, not in any change, record or digest. The member that receives
// heartbeats (the leader) writes them with `setMetaNodeLive` / `setDataNodeLive`; a member that
// never got a heartbeat shows the defaults below, exactly what CubeFS shows before the first one.

import type { DataNodeRecord, ModelState, ModelView } from './state.js';

export interface MetaNodeLive {
  readonly isActive: boolean;
  readonly isWritable: boolean;
  /** Comma-joined host names the node reported, e.g. "localhost:17210,vm:17210". */
  readonly domainAddr: string;
  /** Unix ms of the last heartbeat; 0 = never (views show Go's zero time). */
  readonly reportTimeMs: number;
  readonly maxMemAvailWeight: number;
  readonly totalWeight: number;
  readonly usedWeight: number;
  readonly ratio: number;
  readonly selectCount: number;
  readonly threshold: number;
  readonly metaPartitionCount: number;
  readonly persistenceMetaPartitions: readonly number[];
  readonly canAllocPartition: boolean;
  readonly cpuUtil: number;
}

export interface DataNodeLive {
  readonly isActive: boolean;
  readonly isWritable: boolean;
  readonly domainAddr: string;
  /** Unix ms; before the first heartbeat CubeFS shows the time the node was added. */
  readonly reportTimeMs: number;
  readonly totalWeight: number;
  readonly usedWeight: number;
  readonly availableSpace: number;
  readonly usageRatio: number;
  readonly selectedTimes: number;
  /** Opaque partition reports as the node sent them (shown verbatim; null before the first). */
  readonly dataPartitionReports: readonly unknown[] | null;
  readonly dataPartitionCount: number;
  readonly persistenceDataPartitions: readonly number[];
  readonly allDisks: readonly string[];
  readonly badDisks: readonly string[] | null;
  readonly lostDisks: readonly string[] | null;
  readonly canAllocPartition: boolean;
  readonly cpuUtil: number;
  readonly ioUtil: Readonly<Record<string, number>>;
}

export interface LiveState {
  readonly metaNodes: Map<number, MetaNodeLive>;
  readonly dataNodes: Map<number, DataNodeLive>;
}

export function emptyLiveState(): LiveState {
  return { metaNodes: new Map(), dataNodes: new Map() };
}

/** Observed on `/metaNode/get` right after `/metaNode/add` (wire sample). */
export const META_NODE_LIVE_DEFAULT: MetaNodeLive = Object.freeze({
  isActive: false,
  isWritable: false,
  domainAddr: '',
  reportTimeMs: 0,
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

/** Merge heartbeat fields into a known meta node's live state; false when the node is unknown. */
export function setMetaNodeLive(state: ModelState, id: number, patch: Partial<MetaNodeLive>): boolean {
  if (!state.metaNodes.has(id)) return false;
  state.live.metaNodes.set(id, { ...metaNodeLive(state, id), ...patch });
  return true;
}

/** Merge heartbeat fields into a known data node's live state; false when the node is unknown. */
export function setDataNodeLive(state: ModelState, id: number, patch: Partial<DataNodeLive>): boolean {
  const node = state.dataNodes.get(id);
  if (node === undefined) return false;
  state.live.dataNodes.set(id, { ...dataNodeLive(state, node), ...patch });
  return true;
}
