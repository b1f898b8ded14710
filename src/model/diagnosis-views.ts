// `data` of `/metaPartition/diagnose` and `/dataPartition/diagnose` (cfs-cli `metapartition
// check`, `datapartition check`), shapes as observed on the Go master (wire
// cli-vs-single-master.jsonl): empty meta lists are null (Go nil slices), data lists [].
// Computed from the leader's live view (live-state.ts).

import { dataNodeLive, metaNodeLive } from './live.js';
import type { ModelView } from './state.js';

function nullIfEmpty(ids: number[]): number[] | null {
  return ids.length === 0 ? null : ids;
}

export function metaPartitionDiagnosis(model: ModelView) {
  const inactive = [...model.metaNodes.values()].filter((n) => !metaNodeLive(model, n.id).isActive).map((n) => n.addr);
  const noLeader: number[] = [];
  const lackReplica: number[] = [];
  const unavailable: number[] = [];
  for (const mp of model.metaPartitions.values()) {
    const reports = model.live.metaReplicas.get(mp.id);
    const reported = mp.peers.filter((p) => reports?.has(p.addr) === true);
    if (![...(reports?.values() ?? [])].some((r) => r.isLeader)) noLeader.push(mp.id);
    if (mp.peers.length < mp.replicaNum || reported.length < mp.peers.length) lackReplica.push(mp.id);
    if (mp.peers.every((p) => !metaNodeLive(model, p.nodeId).isActive)) unavailable.push(mp.id);
  }
  return {
    InactiveMetaNodes: inactive,
    NoLeaderMetaPartitionIDs: nullIfEmpty(noLeader),
    LackReplicaMetaPartitionIDs: nullIfEmpty(lackReplica),
    BadMetaPartitionIDs: null,
    UnavailableMetaPartitionIDs: nullIfEmpty(unavailable),
    InConsistRreplicaCntMetaPartitionIDs: null,
    InodeCountNotEqualIDs: null,
    MaxInodeNotEqualIDs: null,
    DentryCountNotEqualIDs: null,
    AbnormalRaftIDs: null,
  };
}

export function dataPartitionDiagnosis(model: ModelView) {
  const inactive = [...model.dataNodes.values()].filter((n) => !dataNodeLive(model, n).isActive).map((n) => n.addr);
  const corrupt: number[] = [];
  const lackReplica: number[] = [];
  for (const dp of model.dataPartitions.values()) {
    const reports = model.live.dataReplicas.get(dp.id);
    const reported = dp.peers.filter((p) => reports?.has(p.addr) === true);
    if (dp.peers.length < dp.replicaNum || reported.length < dp.peers.length) lackReplica.push(dp.id);
    const allDown = dp.peers.every((p) => {
      const node = model.dataNodes.get(p.nodeId);
      return node === undefined || !dataNodeLive(model, node).isActive;
    });
    if (allDown) corrupt.push(dp.id);
  }
  return {
    InactiveDataNodes: inactive,
    CorruptDataPartitionIDs: corrupt,
    LackReplicaDataPartitionIDs: lackReplica,
    RepFileCountDifferDpIDs: [],
    RepUsedSizeDifferDpIDs: [],
    ExcessReplicaDpIDs: [],
    MissingTinyExtentDpIDs: [],
    BadDataPartitionInfos: [],
    BadReplicaDataPartitionIDs: [],
    DiskErrorDataPartitionInfos: { DiskErrReplicas: {} },
  };
}
