// The `data` of the routes, with the Go field names as JSON keys, in Go's field order, with the
// types observed in the wire samples (spec/wire): strings where Go prints strings (ports,
// getNodeInfo values), `[]` where Go prints an empty slice and `null` where it prints a nil one.
// Inputs the model does not hold (leader, applied index, master list, caller IP, local time
// zone) come from the API layer in a context argument. Lists are sorted (ids ascending; users
// by creation time then id) so every member prints the same list.

import { ClusterNotBootstrappedError, DataNodeNotFoundError, MetaNodeNotFoundError, UserNotFoundError } from './errors.js';
import { AccessKeyNotFoundError, HaveNoPolicyError } from './errors.js';
import { dataNodeLive, metaNodeLive } from './live.js';
import type { ClusterRecord, DataNodeRecord, MetaNodeRecord, ModelView, UserRecord } from './state.js';
import { dataNodeByAddr, metaNodeByAddr, userByAccessKey, usersWithPolicy } from './state.js';
import type { ViewOptions } from './time-format.js';
import { formatDateTime, formatGoTime } from './time-format.js';
import { clusterVolStatInfos } from './vol-views.js';


// --- users -----------------------------------------------------------------------------------

/** proto.UserInfo (spec 1.5 `/user/create`, `/user/info`). */
export interface UserInfo {
  user_id: string;
  access_key: string;
  secret_key: string;
  policy: { own_vols: string[]; authorized_vols: Record<string, string[]> };
  user_type: number;
  create_time: string;
  description: string;
  EMPTY: boolean;
}

export function userInfo(user: UserRecord, opts: ViewOptions): UserInfo {
  // Go marshals map keys sorted; Object.fromEntries defines own properties, so even a key named
  // "__proto__" would stay data.
  const authorized = [...user.policy.authorizedVols.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([vol, actions]): [string, string[]] => [vol, [...actions]]);
  return {
    user_id: user.userId,
    access_key: user.accessKey,
    secret_key: user.secretKey,
    policy: { own_vols: [...user.policy.ownVols], authorized_vols: Object.fromEntries(authorized) },
    user_type: user.userType,
    create_time: formatDateTime(user.createTimeUnixSec, opts.utcOffsetSec),
    description: user.description,
    EMPTY: false,
  };
}

/** `/user/info?user=` (46 when unknown). */
export function userInfoById(model: ModelView, userId: string, opts: ViewOptions): UserInfo {
  const user = model.users.get(userId);
  if (user === undefined) throw new UserNotFoundError(userId);
  return userInfo(user, opts);
}

/** `/user/akInfo?ak=` (40 when unknown). */
export function userInfoByAccessKey(model: ModelView, accessKey: string, opts: ViewOptions): UserInfo {
  const user = userByAccessKey(model, accessKey);
  if (user === undefined) throw new AccessKeyNotFoundError(accessKey);
  return userInfo(user, opts);
}

/** `/user/list?keywords=`: users whose id contains the keywords, oldest first (observed order). */
export function userList(model: ModelView, keywords: string, opts: ViewOptions): UserInfo[] {
  return [...model.users.values()]
    .filter((u) => u.userId.includes(keywords))
    .sort((a, b) => a.createTimeUnixSec - b.createTimeUnixSec || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0))
    .map((u) => userInfo(u, opts));
}

// --- nodes -----------------------------------------------------------------------------------

/** proto.NodeView: entries of `/admin/cluster/getAllMetaNodes`, getAllDataNodes, ClusterView lists. */
export interface NodeView {
  Addr: string;
  Status: boolean;
  DomainAddr: string;
  ID: number;
  IsWritable: boolean;
  MediaType: number;
  ForbidWriteOpOfProtoVer0: boolean;
}

export function metaNodeView(model: ModelView, node: MetaNodeRecord): NodeView {
  const live = metaNodeLive(model, node.id);
  return {
    Addr: node.addr,
    Status: live.isActive,
    DomainAddr: live.domainAddr,
    ID: node.id,
    // Go IsWriteAble: active, writable by its last report, and not set read-only since.
    IsWritable: live.isActive && live.isWritable && !node.rdOnly,
    MediaType: 0,
    ForbidWriteOpOfProtoVer0: false,
  };
}

export function dataNodeView(model: ModelView, node: DataNodeRecord): NodeView {
  const live = dataNodeLive(model, node);
  return {
    Addr: node.addr,
    Status: live.isActive,
    DomainAddr: live.domainAddr,
    ID: node.id,
    IsWritable: live.isActive && live.isWritable && !node.rdOnly,
    MediaType: node.mediaType,
    ForbidWriteOpOfProtoVer0: false,
  };
}

function byId<T extends { id: number }>(values: Iterable<T>): T[] {
  return [...values].sort((a, b) => a.id - b.id);
}

/** `/admin/cluster/getAllMetaNodes`. */
export function allMetaNodes(model: ModelView): NodeView[] {
  return byId(model.metaNodes.values()).map((n) => metaNodeView(model, n));
}

/** `/admin/cluster/getAllDataNodes`. */
export function allDataNodes(model: ModelView): NodeView[] {
  return byId(model.dataNodes.values()).map((n) => dataNodeView(model, n));
}

/** proto.MetaNodeInfo (spec 1.6), `/metaNode/get`. */
export interface MetaNodeInfo {
  ID: number;
  Addr: string;
  RaftHeartbeatPort: string;
  RaftReplicaPort: string;
  DomainAddr: string;
  IsActive: boolean;
  IsWriteAble: boolean;
  Zone: string;
  MaxMemAvailWeight: number;
  TotalWeight: number;
  UsedWeight: number;
  Ratio: number;
  SelectCount: number;
  Threshold: number;
  ReportTime: string;
  MetaPartitionCount: number;
  NodeSetID: number;
  PersistenceMetaPartitions: number[];
  RdOnly: boolean;
  CanAllowPartition: boolean;
  maxMpCntLimit: number;
  cpuUtil: number;
}

export function metaNodeInfo(model: ModelView, node: MetaNodeRecord): MetaNodeInfo {
  const live = metaNodeLive(model, node.id);
  return {
    ID: node.id,
    Addr: node.addr,
    RaftHeartbeatPort: node.heartbeatPort,
    RaftReplicaPort: node.replicaPort,
    DomainAddr: live.domainAddr,
    IsActive: live.isActive,
    IsWriteAble: live.isWritable,
    Zone: node.zoneName,
    MaxMemAvailWeight: live.maxMemAvailWeight,
    TotalWeight: live.totalWeight,
    UsedWeight: live.usedWeight,
    Ratio: live.ratio,
    SelectCount: live.selectCount,
    Threshold: live.threshold,
    ReportTime: formatGoTime(live.reportTimeMs),
    MetaPartitionCount: live.metaPartitionCount,
    NodeSetID: node.nodeSetId,
    PersistenceMetaPartitions: persistencePartitionIds(model, 'meta', node.addr),
    RdOnly: node.rdOnly,
    CanAllowPartition: live.canAllocPartition,
    maxMpCntLimit: model.cluster?.maxMpCntLimit ?? 300,
    cpuUtil: live.cpuUtil,
  };
}

/** Bound on the pre-loss ids a recovered cluster adds to a node's partition list (~7 bytes each). */
export const PRE_LOSS_IDS_LISTED_MAX = 1_000_000;

/**
 * `PersistenceMetaPartitions` / `PersistenceDataPartitions`: what a node must keep. A starting
 * metanode or datanode sets aside every partition on its disk that is not in this list (renamed
 * "expired_", the datanode deletes it a week later; an empty list expires them all:
 * metanode/manager.go and datanode/disk.go isExpiredPartition). So it is computed as the Go
 * master does, from the records (getAllMetaPartitionIDByMetaNode), never from heartbeat reports,
 * which a new leader does not have yet when a node restarts. In a cluster rebuilt by a recovery,
 * every pre-loss id no record holds is listed too: a partition the recovery did not see must
 * survive a node restart until a later round adopts it (docs/recovery.md).
 */
export function persistencePartitionIds(model: ModelView, kind: 'meta' | 'data', addr: string): number[] {
  const records = kind === 'meta' ? model.metaPartitions : model.dataPartitions;
  const ids: number[] = [];
  for (const p of records.values()) if (p.peers.some((q) => q.addr === addr)) ids.push(p.id);
  const preLoss = model.recovery === null ? 0 : kind === 'meta' ? model.recovery.preLossIds.metaPartition : model.recovery.preLossIds.dataPartition;
  let listed = 0;
  for (let id = 1; id <= preLoss && listed < PRE_LOSS_IDS_LISTED_MAX; id++) {
    if (records.has(id)) continue;
    ids.push(id);
    listed++;
  }
  return ids.sort((a, b) => a - b);
}

/** `/metaNode/get?addr=` (13 when unknown). */
export function metaNodeInfoByAddr(model: ModelView, addr: string): MetaNodeInfo {
  const node = metaNodeByAddr(model, addr);
  if (node === undefined) throw new MetaNodeNotFoundError(addr);
  return metaNodeInfo(model, node);
}

/** proto.DataNodeInfo (spec 1.6), `/dataNode/get`. */
export interface DataNodeInfo {
  TotalWeight: number;
  UsedWeight: number;
  AvailableSpace: number;
  ID: number;
  Zone: string;
  Addr: string;
  RaftHeartbeatPort: string;
  RaftReplicaPort: string;
  DomainAddr: string;
  ReportTime: string;
  IsActive: boolean;
  ToBeOffline: boolean;
  IsWriteAble: boolean;
  UsageRatio: number;
  SelectedTimes: number;
  DataPartitionReports: unknown[] | null;
  DataPartitionCount: number;
  NodeSetID: number;
  PersistenceDataPartitions: number[];
  PersistenceDataPartitionsWithDiskPath: unknown[];
  AllDisks: string[];
  BadDisks: string[] | null;
  LostDisks: string[] | null;
  RdOnly: boolean;
  CanAllocPartition: boolean;
  maxDpCntLimit: number;
  cpuUtil: number;
  ioUtil: Record<string, number>;
  DecommissionedDisk: string[] | null;
  DecommissionSuccessDisk: string[] | null;
  BackupDataPartitions: unknown[];
  MediaType: number;
  DiskOpLogs: unknown[] | null;
  DpOpLogs: unknown[] | null;
}

export function dataNodeInfo(model: ModelView, node: DataNodeRecord): DataNodeInfo {
  const live = dataNodeLive(model, node);
  return {
    TotalWeight: live.totalWeight,
    UsedWeight: live.usedWeight,
    AvailableSpace: live.availableSpace,
    ID: node.id,
    Zone: node.zoneName,
    Addr: node.addr,
    RaftHeartbeatPort: node.heartbeatPort,
    RaftReplicaPort: node.replicaPort,
    DomainAddr: live.domainAddr,
    ReportTime: formatGoTime(live.reportTimeMs),
    IsActive: live.isActive,
    ToBeOffline: node.toBeOffline,
    IsWriteAble: live.isWritable,
    UsageRatio: live.usageRatio,
    SelectedTimes: live.selectedTimes,
    DataPartitionReports: live.dataPartitionReports === null ? null : [...live.dataPartitionReports],
    DataPartitionCount: live.dataPartitionCount,
    NodeSetID: node.nodeSetId,
    PersistenceDataPartitions: persistencePartitionIds(model, 'data', node.addr),
    PersistenceDataPartitionsWithDiskPath: [],
    AllDisks: [...live.allDisks],
    BadDisks: live.badDisks === null ? null : [...live.badDisks],
    LostDisks: live.lostDisks === null ? null : [...live.lostDisks],
    RdOnly: node.rdOnly,
    CanAllocPartition: live.canAllocPartition,
    maxDpCntLimit: model.cluster?.maxDpCntLimit ?? 3000,
    cpuUtil: live.cpuUtil,
    ioUtil: { ...live.ioUtil },
    DecommissionedDisk: null,
    DecommissionSuccessDisk: null,
    BackupDataPartitions: [],
    MediaType: node.mediaType,
    DiskOpLogs: null,
    DpOpLogs: null,
  };
}

/** `/dataNode/get?addr=` (12 when unknown). */
export function dataNodeInfoByAddr(model: ModelView, addr: string): DataNodeInfo {
  const node = dataNodeByAddr(model, addr);
  if (node === undefined) throw new DataNodeNotFoundError(addr);
  return dataNodeInfo(model, node);
}

// --- cluster ---------------------------------------------------------------------------------

function requireCluster(model: ModelView): ClusterRecord {
  if (model.cluster === null) throw new ClusterNotBootstrappedError();
  return model.cluster;
}

/** `/admin/getNodeInfo`: every value a string, keys sorted (a Go map). */
export function nodeInfo(model: ModelView): Record<string, string> {
  const c = requireCluster(model);
  return {
    autoRepairRate: String(c.dataNodeAutoRepairLimitRate),
    batchCount: String(c.metaNodeDeleteBatchCount),
    deleteWorkerSleepMs: String(c.metaNodeDeleteWorkerSleepMs),
    dpMaxRepairErrCnt: String(c.dpMaxRepairErrCnt),
    loadFactor: String(c.loadFactor),
    markDeleteRate: String(c.dataNodeDeleteLimitRate),
    maxDpCntLimit: String(c.maxDpCntLimit),
    maxMpCntLimit: String(c.maxMpCntLimit),
  };
}

export interface StatInfo {
  TotalGB: number;
  UsedGB: number;
  IncreasedGB: number;
  UsedRatio: string;
  AvailGB: number;
}

/** Before the first stat round (CubeFS refreshes every 2 min, spec 6) everything is 0 and "". */
export function emptyStatInfo(): StatInfo {
  return { TotalGB: 0, UsedGB: 0, IncreasedGB: 0, UsedRatio: '', AvailGB: 0 };
}

export interface MasterPeer {
  readonly id: number;
  /** The peer's HTTP addr from `peers` (spec 2). */
  readonly addr: string;
}

export interface ClusterViewContext extends ViewOptions {
  readonly leaderAddr: string;
  readonly applied: number;
  readonly masterPeers: readonly MasterPeer[];
  readonly legacyDataMediaType?: number;
  readonly dataNodeStat?: StatInfo;
  readonly metaNodeStat?: StatInfo;
  /** VolStatInfo as Go shows it before its stat round reached the vols (zeros, "NaN"). */
  readonly volStatPending?: boolean;
}

/** proto.BadPartitionView (entries of BadPartitionIDs / BadMetaPartitionIDs). */
export interface BadPartitionView {
  Path: string;
  PartitionIDs: number[];
}

/**
 * proto.ClusterView (spec 1.6), `/admin/getCluster`. Tunables that no command sets yet print
 * the defaults observed on a fresh cluster. Every slice is `[]`, never null.
 */
export function clusterView(model: ModelView, ctx: ClusterViewContext) {
  const c = requireCluster(model);
  return {
    Name: c.name,
    CreateTime: formatDateTime(c.createTimeUnixSec, ctx.utcOffsetSec),
    LeaderAddr: ctx.leaderAddr,
    DisableAutoAlloc: c.disableAutoAllocate,
    ForbidMpDecommission: c.forbidMpDecommission,
    MetaNodeThreshold: 0.75,
    Applied: ctx.applied,
    MaxDataPartitionID: model.counters.dataPartition,
    MaxMetaNodeID: model.counters.common,
    MaxMetaPartitionID: model.counters.metaPartition,
    VolDeletionDelayTimeHour: 48,
    MetaNodeGOGC: 100,
    DataNodeGOGC: 100,
    MarkDiskBrokenThreshold: 0,
    EnableAutoDpMetaRepair: false,
    AutoDpMetaRepairParallelCnt: 100,
    EnableAutoDecommission: false,
    AutoDecommissionDiskInterval: '10s',
    DecommissionFirstHostDiskParallelLimit: 10,
    DecommissionLimit: 10,
    DecommissionDiskLimit: 1,
    DpRepairTimeout: '2h0m0s',
    DpBackupTimeout: '168h0m0s',
    DpTimeout: '5m0s',
    MpTimeout: '1m0s',
    DataNodeStatInfo: ctx.dataNodeStat ?? emptyStatInfo(),
    MetaNodeStatInfo: ctx.metaNodeStat ?? emptyStatInfo(),
    VolStatInfo: clusterVolStatInfos(model, ctx.volStatPending ?? false),
    // Disks/partitions under decommission repair: none are tracked, so always [] (as observed).
    BadPartitionIDs: [] as BadPartitionView[],
    BadMetaPartitionIDs: [] as BadPartitionView[],
    MasterNodes: [...ctx.masterPeers]
      .sort((a, b) => a.id - b.id)
      .map(
        (p): NodeView => ({
          Addr: p.addr,
          Status: true,
          DomainAddr: '',
          ID: p.id,
          IsWritable: false,
          MediaType: 0,
          ForbidWriteOpOfProtoVer0: false,
        }),
      ),
    MetaNodes: allMetaNodes(model),
    DataNodes: allDataNodes(model),
    StatOfStorageClass: [] as unknown[],
    StatMigrateStorageClass: [] as unknown[],
    ForbidWriteOpOfProtoVer0: false,
    LegacyDataMediaType: ctx.legacyDataMediaType ?? 0,
    RaftPartitionCanUsingDifferentPortEnabled: false,
    FlashNodes: [] as unknown[],
    FlashNodeHandleReadTimeout: 1000,
    FlashNodeReadDataNodeTimeout: 3000,
    RemoteCacheTTL: 0,
    RemoteCacheReadTimeout: 0,
    RemoteCacheMultiRead: false,
    FlashNodeTimeoutCount: 0,
    RemoteCacheSameZoneTimeout: 0,
    RemoteCacheSameRegionTimeout: 0,
    FlashHotKeyMissCount: 5,
    FlashReadFlowLimit: 2147483648,
    FlashWriteFlowLimit: 2147483648,
    FlashKeyFlowLimit: 0,
    RemoteClientFlowLimit: 0,
  };
}
export type ClusterView = ReturnType<typeof clusterView>;

export interface ClusterInfoContext {
  /** The caller's IP as the API layer sees it (X-Real-IP / X-Forwarded-For honoured). */
  readonly ip: string;
  readonly ebsAddr?: string;
  readonly servicePath?: string;
  readonly enableSnapshot?: boolean;
}

/** proto.ClusterInfo, `/admin/getIp` (spec 1.5): served by every member. */
export function clusterInfo(model: ModelView, ctx: ClusterInfoContext) {
  const c = requireCluster(model);
  return {
    Cluster: c.name,
    Ip: ctx.ip,
    MetaNodeDeleteBatchCount: c.metaNodeDeleteBatchCount,
    MetaNodeDeleteWorkerSleepMs: c.metaNodeDeleteWorkerSleepMs,
    DataNodeDeleteLimitRate: c.dataNodeDeleteLimitRate,
    DataNodeAutoRepairLimitRate: c.dataNodeAutoRepairLimitRate,
    DpMaxRepairErrCnt: c.dpMaxRepairErrCnt,
    DirChildrenNumLimit: c.dirChildrenNumLimit,
    FlashReadTimeout: 1000,
    FlashKeyFlowLimit: 0,
    EbsAddr: ctx.ebsAddr ?? '',
    ServicePath: ctx.servicePath ?? '',
    ClusterUuid: '',
    ClusterUuidEnable: false,
    ClusterEnableSnapshot: ctx.enableSnapshot ?? false,
    RaftPartitionCanUsingDifferentPort: false,
  };
}
export type ClusterInfo = ReturnType<typeof clusterInfo>;

/**
 * `/vol/users?name=`: the users with a claim on the vol, the owner first, then the users with
 * grants by id (Go keeps insertion order; ids give every member the same list). 50 when nobody
 * has one (Go: no index entry for the vol).
 */
export function usersOfVol(model: ModelView, volName: string): string[] {
  const users = [...usersWithPolicy(model)];
  const owners = users.filter((u) => u.policy.ownVols.includes(volName)).map((u) => u.userId);
  const granted = users
    .filter((u) => u.policy.authorizedVols.has(volName) && !owners.includes(u.userId))
    .map((u) => u.userId)
    .sort();
  if (owners.length + granted.length === 0) throw new HaveNoPolicyError(volName);
  return [...owners, ...granted];
}
