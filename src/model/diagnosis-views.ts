// `data` of `/metaPartition/diagnose?v1=true` and `/dataPartition/diagnose` (cfs-cli `metapartition
// check`, `datapartition check`), shapes as observed on the Go master (wire
// cli-vs-single-master.jsonl): empty meta lists are null (Go nil slices), data lists [].
// Computed from the leader's live view (live-state.ts), by the rules of Go's
// checkReplicaMetaPartitionsV1 and checkReplicaOfDataPartitions:
// - vols marked for deletion are skipped; intents are never looked at (they are not vols yet);
// - a replica is live when its host reported the partition, the host is active and the report's
//   status is not Unavailable (-1) (vol-views.ts metaReplicaLive / dataReplicaLive: Go
//   MetaReplica.isActive / DataReplica.isLive; a replica that stopped reporting goes with its
//   node, which the heartbeat check marks inactive);
// - a leader counts only on a live replica (Go's checkLeader clears IsLeader on the others);
// - ids are listed ascending (Go walks maps, so its order changes from call to call).
// Differences kept on purpose: Go waits MpNoLeaderReportIntervalSec / DpNoLeaderReportIntervalSec
// after the last leader report (or the leader's load) before it lists a partition as leaderless,
// which needs a clock; here a partition without a reported leader is listed at once. The
// per-replica consistency lists that need Go's load tasks (InodeCountNotEqual, MaxInodeNotEqual,
// DentryCountNotEqual, AbnormalRaft) and decommission state (MissingTinyExtent, bad partitions,
// disk errors) stay empty.

import { dataNodeLive, metaNodeLive } from './live.js';
import type { DataReplicaLive, MetaReplicaLive } from './live-state.js';
import type { ModelView } from './state.js';
import type { DataPartitionRecord, MetaPartitionRecord, VolRecord } from './vol-state.js';
import { PartitionStatus, VolStatus } from './vol-state.js';
import { dataReplicaLive, metaReplicaLive } from './vol-views.js';

/** Go config defaults diffReplicaSpaceUsage (1 GiB) and diffReplicaFileCount (20). */
const DIFF_REPLICA_USED_BYTES = 1_073_741_824n;
const DIFF_REPLICA_FILE_COUNT = 20;

function nullIfEmpty(ids: number[]): number[] | null {
  return ids.length === 0 ? null : ids;
}

function byId<T extends { id: number }>(values: Iterable<T>): T[] {
  return [...values].sort((a, b) => a.id - b.id);
}

/** Partitions of vols that are not marked for deletion, by id. */
function partitionsOfLiveVols<P extends { volId: number; id: number }>(model: ModelView, partitions: Iterable<P>): P[] {
  const skip = (vol: VolRecord | undefined) => vol === undefined || vol.status === VolStatus.MarkDelete;
  return byId([...partitions].filter((p) => !skip(model.vols.get(p.volId))));
}

function metaReports(model: ModelView, mp: MetaPartitionRecord): { peers: MetaReplicaLive[]; all: number } {
  const byAddr = model.live.metaReplicas.get(mp.id);
  const peers = mp.peers.map((p) => byAddr?.get(p.addr)).filter((r): r is MetaReplicaLive => r !== undefined);
  return { peers, all: byAddr?.size ?? 0 };
}

function dataReports(model: ModelView, dp: DataPartitionRecord): { peers: DataReplicaLive[]; all: number } {
  const byAddr = model.live.dataReplicas.get(dp.id);
  const peers = dp.peers.map((p) => byAddr?.get(p.addr)).filter((r): r is DataReplicaLive => r !== undefined);
  return { peers, all: byAddr?.size ?? 0 };
}

/** proto.MetaPartitionDiagnosisV1. */
export interface MetaPartitionDiagnosis {
  InactiveMetaNodes: string[];
  NoLeaderMetaPartitionIDs: number[] | null;
  LackReplicaMetaPartitionIDs: number[] | null;
  BadMetaPartitionIDs: null;
  UnavailableMetaPartitionIDs: number[] | null;
  InConsistRreplicaCntMetaPartitionIDs: number[] | null;
  InodeCountNotEqualIDs: null;
  MaxInodeNotEqualIDs: null;
  DentryCountNotEqualIDs: null;
  AbnormalRaftIDs: null;
}

export function metaPartitionDiagnosis(model: ModelView): MetaPartitionDiagnosis {
  const inactive = byId(model.metaNodes.values())
    .filter((n) => !metaNodeLive(model, n.id).isActive)
    .map((n) => n.addr);
  const noLeader: number[] = [];
  const lackReplica: number[] = [];
  const unavailable: number[] = [];
  const inconsistentCount: number[] = [];
  for (const mp of partitionsOfLiveVols(model, model.metaPartitions.values())) {
    const reports = metaReports(model, mp);
    const live = reports.peers.filter((r) => metaReplicaLive(model, r)).length;
    if (mp.peers.length < mp.replicaNum || live < mp.replicaNum) lackReplica.push(mp.id);
    if (!reports.peers.some((r) => r.isLeader && metaReplicaLive(model, r))) noLeader.push(mp.id);
    if (mp.peers.length > mp.replicaNum || reports.all > mp.replicaNum) inconsistentCount.push(mp.id);
    if (reports.peers.some((r) => !metaReplicaLive(model, r))) unavailable.push(mp.id);
  }
  return {
    InactiveMetaNodes: inactive,
    NoLeaderMetaPartitionIDs: nullIfEmpty(noLeader),
    LackReplicaMetaPartitionIDs: nullIfEmpty(lackReplica),
    BadMetaPartitionIDs: null,
    UnavailableMetaPartitionIDs: nullIfEmpty(unavailable),
    InConsistRreplicaCntMetaPartitionIDs: nullIfEmpty(inconsistentCount),
    InodeCountNotEqualIDs: null,
    MaxInodeNotEqualIDs: null,
    DentryCountNotEqualIDs: null,
    AbnormalRaftIDs: null,
  };
}

/** proto.DataPartitionDiagnosis. */
export interface DataPartitionDiagnosis {
  InactiveDataNodes: string[];
  CorruptDataPartitionIDs: number[];
  LackReplicaDataPartitionIDs: number[];
  RepFileCountDifferDpIDs: number[];
  RepUsedSizeDifferDpIDs: number[];
  ExcessReplicaDpIDs: number[];
  MissingTinyExtentDpIDs: number[];
  BadDataPartitionInfos: [];
  BadReplicaDataPartitionIDs: number[];
  DiskErrorDataPartitionInfos: { DiskErrReplicas: Record<string, never> };
}

/**
 * Go's handler fills CorruptDataPartitionIDs with the leaderless partitions of hot vols and
 * BadReplicaDataPartitionIDs with those that have a replica reporting Unavailable (the order of
 * checkReplicaOfDataPartitions' results; Go's checkReplicaStatus turns a missing data replica
 * ReadOnly, not Unavailable, so a dead node alone does not list its partitions here). Replica differences are measured against the first
 * replica: used bytes by more than 1 GiB either way; file counts as Go's uint32 subtraction does,
 * so a replica with fewer files than the first counts as differing at once (the subtraction wraps).
 */
export function dataPartitionDiagnosis(model: ModelView): DataPartitionDiagnosis {
  const inactive = byId(model.dataNodes.values())
    .filter((n) => !dataNodeLive(model, n).isActive)
    .map((n) => n.addr);
  const corrupt: number[] = [];
  const lackReplica: number[] = [];
  const excess: number[] = [];
  const badReplica: number[] = [];
  const usedDiffer: number[] = [];
  const fileCountDiffer: number[] = [];
  for (const dp of partitionsOfLiveVols(model, model.dataPartitions.values())) {
    const vol = model.vols.get(dp.volId);
    if (vol === undefined) continue;
    const reports = dataReports(model, dp);
    if (vol.volType === 0 && !reports.peers.some((r) => r.isLeader && dataReplicaLive(model, r))) corrupt.push(dp.id);
    const live = reports.peers.filter((r) => dataReplicaLive(model, r)).length;
    if (vol.dpReplicaNum > dp.peers.length || vol.dpReplicaNum > live) lackReplica.push(dp.id);
    if (dp.peers.length > dp.replicaNum || reports.all > dp.replicaNum) excess.push(dp.id);
    if (reports.peers.some((r) => r.status === PartitionStatus.Unavailable)) badReplica.push(dp.id);
    const [first] = reports.peers;
    if (first === undefined) continue;
    const usedDiff = reports.peers.reduce((m, r) => {
      const d = r.usedBytes > first.usedBytes ? r.usedBytes - first.usedBytes : first.usedBytes - r.usedBytes;
      return d > m ? d : m;
    }, 0n);
    if (usedDiff > DIFF_REPLICA_USED_BYTES) usedDiffer.push(dp.id);
    const filesDiff = Math.max(...reports.peers.map((r) => (r.fileCount - first.fileCount) >>> 0));
    if (filesDiff > DIFF_REPLICA_FILE_COUNT) fileCountDiffer.push(dp.id);
  }
  return {
    InactiveDataNodes: inactive,
    CorruptDataPartitionIDs: corrupt,
    LackReplicaDataPartitionIDs: lackReplica,
    RepFileCountDifferDpIDs: fileCountDiffer,
    RepUsedSizeDifferDpIDs: usedDiffer,
    ExcessReplicaDpIDs: excess,
    MissingTinyExtentDpIDs: [],
    BadDataPartitionInfos: [],
    BadReplicaDataPartitionIDs: badReplica,
    DiskErrorDataPartitionInfos: { DiskErrReplicas: {} },
  };
}
