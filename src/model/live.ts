// Readers and writers of the heartbeat-derived live state (shapes in live-state.ts). The member
// that receives heartbeats (the leader) writes it with `setMetaNodeLive` / `setDataNodeLive`; a
// member that never got a heartbeat shows the defaults below, exactly what CubeFS shows before
// the first one.

import type { DataNodeLive, MetaNodeLive } from './live-state.js';
import type { DataNodeRecord, ModelState, ModelView } from './state.js';

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
