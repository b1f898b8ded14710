// Heartbeat reports into the live state (spec 6 "A heartbeat response ... updates capacity,
// partition reports (replica status, MaxInodeID, leader) and marks the node active"), and the
// liveness rule: a node whose last report is older than 18 s (3 x 6 s) is inactive.
//
// Live state is not replicated (live-state.ts): only the member that receives the reports, the
// leader, holds it. A new leader starts with every node inactive until its first heartbeats,
// as the Go master does after loadMetadata.
//
// Ages are monotonic (docs/faults.md "Clock jumps"): a report is stamped with the wall clock for
// what users see (ReportTime) and with this member's monotonic clock for every liveness and
// freshness decision, so an NTP step or a resumed VM neither keeps a silent node active (a
// backward step used to put older reports in the future) nor expires live nodes early (a
// forward step). CubeFS behaves the same: its ReportTime is a Go time.Now(), whose monotonic
// reading time.Since uses in checkHeartbeat. The monotonic stamp exists only on the member that
// took the report: a member that stops leading forgets its live state (clearLive), so a new
// leader ages a node from the first report the node sends to it, never from another member's
// (or process's) clock; until then the node is inactive, as above, which is the grace a new Go
// leader gives too.

import type { DataReplicaLive, MetaReplicaLive, ModelView } from '../model/index.js';
import {
  dataNodeByAddr,
  dataNodeLive,
  dropReplicaLive,
  metaNodeByAddr,
  metaNodeLive,
  putDataNodeLive,
  putDataReplicaLive,
  putMetaNodeLive,
  putMetaReplicaLive,
} from '../model/index.js';
import type { DataNodeHeartbeatReport, MetaNodeHeartbeatReport } from '../nodes/heartbeat-report.js';
import { observeHeartbeatApplied } from './heartbeat-metrics.js';

/** When this member took a report: wall clock (shown as ReportTime) and monotonic (aged). */
export interface ReportInstant {
  readonly wallMs: number;
  readonly monoMs: number;
}

/** Go's data node rule: writable only with more than 10 GB available and unused. */
export const DATA_NODE_RESERVED_BYTES = 10 * 1024 ** 3;
/** Spec 6: 3 missed 6 s heartbeats. */
export const NODE_LIVENESS_TIMEOUT_MS = 18_000;
/** The Go master's meta node memory threshold default (clusterValue.Threshold 0.75). */
export const META_NODE_MEMORY_THRESHOLD = 0.75;

/**
 * Applies a meta node's heartbeat; false when no meta node has that addr. Observes the apply time
 * and, when the node was active, the time since its previous report (heartbeat-metrics.ts).
 */
export function applyMetaHeartbeat(model: ModelView, nodeAddr: string, report: MetaNodeHeartbeatReport, at: ReportInstant, domainAddr = ''): boolean {
  const startedMs = performance.now();
  const node = metaNodeByAddr(model, nodeAddr);
  if (node === undefined) return false;
  const previous = metaNodeLive(model, node.id);
  const total = Number(report.total);
  const used = Number(report.used);
  dropUnreported(model, 'meta', node.addr, previous.persistenceMetaPartitions, report.metaPartitions);
  putMetaNodeLive(model, node.id, {
    ...previous,
    isActive: true,
    domainAddr,
    isWritable: !node.rdOnly && report.ratio < META_NODE_MEMORY_THRESHOLD,
    reportTimeMs: at.wallMs,
    reportMonoMs: at.monoMs,
    totalWeight: total,
    usedWeight: used,
    maxMemAvailWeight: Math.max(0, total - used),
    ratio: report.ratio,
    threshold: META_NODE_MEMORY_THRESHOLD,
    metaPartitionCount: report.metaPartitions.length,
    persistenceMetaPartitions: report.metaPartitions.map((p) => p.partitionId),
    canAllocPartition: !node.rdOnly && report.ratio < META_NODE_MEMORY_THRESHOLD,
    cpuUtil: report.cpuUtil,
  });
  for (const p of report.metaPartitions) {
    const replica: MetaReplicaLive = {
      addr: node.addr,
      nodeId: node.id,
      start: p.start,
      end: p.end,
      maxInodeId: p.maxInodeId,
      inodeCount: p.inodeCount,
      dentryCount: p.dentryCount,
      status: p.status,
      isLeader: p.isLeader,
      reportTimeMs: at.wallMs,
    reportMonoMs: at.monoMs,
      forbidWriteOpOfProtoVer0: p.forbidWriteOpOfProtoVer0,
    };
    putMetaReplicaLive(model, p.partitionId, replica);
  }
  observeHeartbeatApplied('meta', performance.now() - startedMs, report.metaPartitions.length, previous.isActive ? at.monoMs - previous.reportMonoMs : null);
  return true;
}

/** Applies a data node's heartbeat; false when no data node has that addr. Observed as for meta nodes. */
export function applyDataHeartbeat(model: ModelView, nodeAddr: string, report: DataNodeHeartbeatReport, at: ReportInstant, domainAddr = ''): boolean {
  const startedMs = performance.now();
  const node = dataNodeByAddr(model, nodeAddr);
  if (node === undefined) return false;
  const previous = dataNodeLive(model, node);
  const total = Number(report.total);
  const used = Number(report.used);
  const available = Number(report.available);
  const writable = !node.rdOnly && available > DATA_NODE_RESERVED_BYTES && total - used > DATA_NODE_RESERVED_BYTES;
  dropUnreported(model, 'data', node.addr, previous.persistenceDataPartitions, report.dataPartitions);
  putDataNodeLive(model, node.id, {
    ...previous,
    isActive: true,
    domainAddr,
    isWritable: writable,
    reportTimeMs: at.wallMs,
    reportMonoMs: at.monoMs,
    totalWeight: total,
    usedWeight: used,
    availableSpace: available,
    usageRatio: total === 0 ? 0 : used / total,
    dataPartitionReports: report.dataPartitions.map((p) => ({
      PartitionID: p.partitionId,
      PartitionStatus: p.status,
      Total: p.totalBytes,
      Used: p.usedBytes,
      DiskPath: p.diskPath,
      IsLeader: p.isLeader,
      ExtentCount: p.extentCount,
      NeedCompare: p.needCompare,
      VolName: p.volName,
    })),
    dataPartitionCount: report.dataPartitions.length,
    persistenceDataPartitions: report.dataPartitions.map((p) => p.partitionId),
    allDisks: report.allDisks,
    badDisks: report.badDisks,
    lostDisks: report.lostDisks,
    canAllocPartition: writable,
    cpuUtil: report.cpuUtil,
  });
  for (const p of report.dataPartitions) {
    const replica: DataReplicaLive = {
      addr: node.addr,
      nodeId: node.id,
      status: p.status,
      isLeader: p.isLeader,
      totalBytes: p.totalBytes,
      usedBytes: p.usedBytes,
      fileCount: p.extentCount,
      diskPath: p.diskPath,
      reportTimeMs: at.wallMs,
    reportMonoMs: at.monoMs,
      forbidWriteOpOfProtoVer0: p.forbidWriteOpOfProtoVer0,
    };
    putDataReplicaLive(model, p.partitionId, replica);
  }
  observeHeartbeatApplied('data', performance.now() - startedMs, report.dataPartitions.length, previous.isActive ? at.monoMs - previous.reportMonoMs : null);
  return true;
}

/**
 * A partition the node reported last time and not now is gone from it (deleted, moved away):
 * its replica report goes too, or views would keep showing a replica that no longer exists.
 * Only the node's previous list is visited, so a heartbeat costs O(its partitions).
 */
function dropUnreported(model: ModelView, kind: 'meta' | 'data', addr: string, previousIds: readonly number[], now: readonly { partitionId: number }[]): void {
  if (previousIds.length === 0) return;
  const reported = new Set(now.map((p) => p.partitionId));
  for (const id of previousIds) if (!reported.has(id)) dropReplicaLive(model, kind, id, addr);
}

/**
 * Whether a report taken at monotonic `reportMonoMs` on this member is at most `timeoutMs` old at
 * monotonic `monoNowMs` (both from Clock.monoMs of this process).
 */
export function reportIsFresh(reportMonoMs: number, monoNowMs: number, timeoutMs = NODE_LIVENESS_TIMEOUT_MS): boolean {
  return monoNowMs - reportMonoMs <= timeoutMs;
}

/**
 * Marks nodes inactive whose last report on this member is older than the timeout, aged on the
 * monotonic clock (`monoNowMs` = Clock.monoMs); returns how many changed.
 */
export function checkLiveness(model: ModelView, monoNowMs: number, timeoutMs = NODE_LIVENESS_TIMEOUT_MS): { meta: number; data: number } {
  let meta = 0;
  let data = 0;
  for (const [id, live] of model.live.metaNodes) {
    if (live.isActive && !reportIsFresh(live.reportMonoMs, monoNowMs, timeoutMs)) {
      putMetaNodeLive(model, id, { ...live, isActive: false, isWritable: false, canAllocPartition: false });
      meta++;
    }
  }
  for (const [id, live] of model.live.dataNodes) {
    if (live.isActive && !reportIsFresh(live.reportMonoMs, monoNowMs, timeoutMs)) {
      putDataNodeLive(model, id, { ...live, isActive: false, isWritable: false, canAllocPartition: false });
      data++;
    }
  }
  return { meta, data };
}

/** The max inode id reported for a meta partition (0 before any report). */
export function reportedMaxInodeId(model: ModelView, partitionId: number): bigint {
  let max = 0n;
  for (const r of model.live.metaReplicas.get(partitionId)?.values() ?? []) if (r.maxInodeId > max) max = r.maxInodeId;
  return max;
}

export function reportedInodeCount(model: ModelView, partitionId: number): bigint {
  let max = 0n;
  for (const r of model.live.metaReplicas.get(partitionId)?.values() ?? []) if (r.inodeCount > max) max = r.inodeCount;
  return max;
}
