// The `data` of the volume and partition routes (spec 1.5, 1.6), with the Go field names as JSON
// keys, in Go's field order, with the types observed in the wire samples: `[]` where Go prints an
// empty slice, `null` where it prints a nil one, `{}` for an empty map. Same style as views.ts:
// pure functions of the model (records + heartbeat-derived `live`), no clock, local times
// formatted with the caller's `ViewOptions`. 64-bit quantities (inode bounds and counts, byte
// sizes) stay bigint; the HTTP layer writes them exactly with util/json.ts `stringifyJson`.
//
// Where Go iterates a map (vols, partitions, QoS items, storage classes), lists here are sorted
// (ids / classes ascending) so every member prints the same list.
//
// Figures Go aggregates from heartbeats are computed on the fly from `model.live`:
// - a meta partition's MaxInodeID, InodeCount and DentryCount are the MAXIMUM over the reports
//   of its hosts (Go: setMaxInodeID / setInodeCount / setDentryCount), 0 without reports;
// - a data partition's used bytes are the maximum over its hosts' reports (Go: setMaxUsed); a
//   vol's used bytes are the sum over its data partitions (Go: totalUsedSpace);
// - leaders are the first host (peer order) whose report says IsLeader and is live: its node is
//   active and the report's status is not Unavailable. Go's periodic checkLeader clears IsLeader
//   of every replica that is not (MetaReplica.isActive, DataReplica.isLive), so a partition on a
//   dead node loses its leader; "" when there is none.
// Intents (`model.volIntents`) are not shown, with one exception: `/admin/getVol` and
// `/client/partitions` answer for a vol whose create is running, as the Go master does (the vol
// with no partitions yet), because a real metanode asks for the vol while it creates a meta
// partition of it and refuses the create when the vol does not exist (metanode onStart,
// forceUpdateVolumeView). Lists and every other view go through committed records only.

import { DataPartitionNotFoundError, MetaPartitionNotFoundError, NoAvailDataPartitionError, VolNotFoundError } from './errors.js';
import type { DataReplicaLive, MetaReplicaLive } from './live-state.js';
import { dataNodeLive, metaNodeLive } from './live.js';
import type { ModelView } from './state.js';
import { dataNodeByAddr, dataPartitionsOf, MediaType, metaNodeByAddr, metaPartitionsOf, volByName } from './state.js';
import { formatDateTime, GO_ZERO_TIME } from './time-format.js';
import { DEFAULT_ZONE_NAME } from './validate.js';
import type { ViewOptions } from './time-format.js';
import type { DataPartitionRecord, MetaPartitionRecord, PartitionPeer, VolRecord } from './vol-state.js';
import { GIB, hostsOf, PartitionStatus, StorageClass } from './vol-state.js';

// --- Go number formatting --------------------------------------------------------------------

const F64 = new DataView(new ArrayBuffer(8));

/**
 * strconv.FormatFloat(x, 'f', prec, bitSize): fixed notation, exact decimal value of the binary
 * number rounded half-to-even (JS toFixed rounds exact ties up), "NaN" / "+Inf" / "-Inf".
 * With bitSize 32 the value is first narrowed to float32, as Go does.
 */
export function formatGoFloat(x: number, prec: number, bitSize: 32 | 64 = 64): string {
  const v = bitSize === 32 ? Math.fround(x) : x;
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  F64.setFloat64(0, v);
  const hi = F64.getUint32(0);
  const lo = F64.getUint32(4);
  const negative = hi >>> 31 === 1;
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) {
    exp = -1074; // subnormal
  } else {
    mantissa |= 1n << 52n;
    exp = biased - 1075;
  }
  // |v| * 10^prec = mantissa * 2^exp * 10^prec, rounded half to even.
  let scaled: bigint;
  const num = mantissa * 10n ** BigInt(prec);
  if (exp >= 0) {
    scaled = num << BigInt(exp);
  } else {
    const den = 1n << BigInt(-exp);
    const q = num / den;
    const twiceRest = (num % den) * 2n;
    scaled = twiceRest > den || (twiceRest === den && q % 2n === 1n) ? q + 1n : q;
  }
  const digits = scaled.toString().padStart(prec + 1, '0');
  const whole = digits.slice(0, digits.length - prec);
  const text = prec === 0 ? whole : `${whole}.${digits.slice(digits.length - prec)}`;
  return negative ? `-${text}` : text;
}

// --- shared shapes ---------------------------------------------------------------------------

/** proto.Peer: `{id, addr, raftHeartbeat, raftReplica}` (json tags). */
export interface PeerView {
  id: number;
  addr: string;
  raftHeartbeat: string;
  raftReplica: string;
}

/** proto.StatOfStorageClass. */
export interface StatOfStorageClass {
  StorageClass: number;
  InodeCount: bigint;
  UsedSizeBytes: bigint;
  QuotaGB: number;
}

/** util.DefaultDataPartitionSize: the Total Go gives a data replica before its first report. */
export const DEFAULT_DATA_PARTITION_SIZE = 120n * GIB;
/** proto.DefaultDpRepairBlockSize (observed 131072). */
const DP_REPAIR_BLOCK_SIZE = 131_072;
/** The vol QoS flow limits Go starts with (observed 32 GiB for FlowRead and FlowWrite). */
const QOS_DEFAULT_FLOW_LIMIT = 34_359_738_368;

function peerView(model: ModelView, kind: 'meta' | 'data', p: PartitionPeer): PeerView {
  const node = kind === 'meta' ? model.metaNodes.get(p.nodeId) : model.dataNodes.get(p.nodeId);
  return { id: p.nodeId, addr: p.addr, raftHeartbeat: node?.heartbeatPort ?? '', raftReplica: node?.replicaPort ?? '' };
}

/** Zone and node set of each host (Go leaves "" / 0 for a host whose node is unknown). */
function placesOf(model: ModelView, kind: 'meta' | 'data', hosts: readonly string[]): { zones: string[]; nodeSets: number[] } {
  const nodes = hosts.map((h) => (kind === 'meta' ? metaNodeByAddr(model, h) : dataNodeByAddr(model, h)));
  return { zones: nodes.map((n) => n?.zoneName ?? ''), nodeSets: nodes.map((n) => n?.nodeSetId ?? 0) };
}

function unixSec(ms: number): number {
  return Math.floor(ms / 1000);
}

function maxOf(values: readonly bigint[]): bigint {
  return values.reduce((m, v) => (v > m ? v : m), 0n);
}

function volNamed(model: ModelView, name: string): VolRecord {
  const vol = volByName(model, name);
  if (vol === undefined) throw new VolNotFoundError(name);
  return vol;
}

// --- heartbeat figures -----------------------------------------------------------------------

/** What a meta partition's hosts reported, aggregated as Go does (see the file comment). */
export interface MetaPartitionFigures {
  /** Reports of the partition's hosts, in peer order (hosts that never reported are absent). */
  readonly reports: readonly MetaReplicaLive[];
  readonly leader: MetaReplicaLive | undefined;
  readonly maxInodeId: bigint;
  readonly inodeCount: bigint;
  readonly dentryCount: bigint;
}

/** Go MetaReplica.isActive without the clock: the node is active and the replica not Unavailable. */
export function metaReplicaLive(model: ModelView, r: MetaReplicaLive): boolean {
  return r.status !== PartitionStatus.Unavailable && model.metaNodes.has(r.nodeId) && metaNodeLive(model, r.nodeId).isActive;
}

/** Go DataReplica.isLive without the clock: the node is active and the replica not Unavailable. */
export function dataReplicaLive(model: ModelView, r: DataReplicaLive): boolean {
  const node = model.dataNodes.get(r.nodeId);
  return r.status !== PartitionStatus.Unavailable && node !== undefined && dataNodeLive(model, node).isActive;
}

/** A report's IsLeader as Go's checkLeader leaves it (false unless the replica is live). */
function metaLeads(model: ModelView, r: MetaReplicaLive): boolean {
  return r.isLeader && metaReplicaLive(model, r);
}

function dataLeads(model: ModelView, r: DataReplicaLive): boolean {
  return r.isLeader && dataReplicaLive(model, r);
}

export function metaPartitionFigures(model: ModelView, mp: MetaPartitionRecord): MetaPartitionFigures {
  const byAddr = model.live.metaReplicas.get(mp.id);
  const reports = mp.peers.map((p) => byAddr?.get(p.addr)).filter((r): r is MetaReplicaLive => r !== undefined);
  return {
    reports,
    leader: reports.find((r) => metaLeads(model, r)),
    maxInodeId: maxOf(reports.map((r) => r.maxInodeId)),
    inodeCount: maxOf(reports.map((r) => r.inodeCount)),
    dentryCount: maxOf(reports.map((r) => r.dentryCount)),
  };
}

/**
 * Go checkStatus (meta_partition.go), computed from the reports: Unavailable unless more than
 * half the replicas are live and one leads; else the leader's reported status, ReadOnly when a
 * live replica is. Before any report, the record's status (Go shows it until its first check).
 */
export function metaPartitionStatus(model: ModelView, mp: MetaPartitionRecord, f: MetaPartitionFigures): number {
  if (f.reports.length === 0) return mp.status;
  const live = f.reports.filter((r) => metaReplicaLive(model, r));
  if (live.length <= Math.floor(mp.replicaNum / 2) || f.leader === undefined) return PartitionStatus.Unavailable;
  return live.some((r) => r.status === PartitionStatus.ReadOnly) ? PartitionStatus.ReadOnly : f.leader.status;
}

/** Reports of a data partition's hosts, in peer order. */
export function dataReplicaReports(model: ModelView, dp: DataPartitionRecord): DataReplicaLive[] {
  const byAddr = model.live.dataReplicas.get(dp.id);
  return dp.peers.map((p) => byAddr?.get(p.addr)).filter((r): r is DataReplicaLive => r !== undefined);
}

/** A data partition's used bytes: the largest replica report (Go partition.used). */
export function dataPartitionUsedBytes(model: ModelView, dp: DataPartitionRecord): bigint {
  return maxOf(dataReplicaReports(model, dp).map((r) => r.usedBytes));
}

function dataLeaderAddr(model: ModelView, dp: DataPartitionRecord): string {
  return dataReplicaReports(model, dp).find((r) => dataLeads(model, r))?.addr ?? '';
}

/** Hot vols count used space by data partitions; cold and blob-store vols by meta (not reported here: 0). */
function countsByMeta(vol: VolRecord): boolean {
  return vol.volType === 1 || vol.allowedStorageClass.includes(StorageClass.BlobStore);
}

/** Go vol.cfsUsedSpace: the sum over the vol's data partitions. */
export function volDataUsedBytes(model: ModelView, vol: VolRecord): bigint {
  return dataPartitionsOf(model, vol.id).reduce((sum, dp) => sum + dataPartitionUsedBytes(model, dp), 0n);
}

/**
 * Go volStat's used bytes (`/client/volStat`, `/vol/list`): data partitions for hot vols; meta
 * partition data sizes for cold and blob-store vols, which the live reports do not carry, so 0
 * for those.
 */
export function volUsedBytes(model: ModelView, vol: VolRecord, byMeta = false): bigint {
  return byMeta || countsByMeta(vol) ? 0n : volDataUsedBytes(model, vol);
}

/**
 * Go vol.totalUsedSpace (the stat round of ClusterView.VolStatInfo, the vol-full check): only
 * the vol type decides, a hot vol counts its data partitions even when BlobStore is allowed.
 */
function volTotalUsedBytes(model: ModelView, vol: VolRecord): bigint {
  return vol.volType === 0 ? volDataUsedBytes(model, vol) : 0n;
}

function volInodeCount(model: ModelView, vol: VolRecord): bigint {
  return metaPartitionsOf(model, vol.id).reduce((sum, mp) => sum + metaPartitionFigures(model, mp).inodeCount, 0n);
}

/** Go shouldInhibitWriteBySpaceFull / ReadOnlyForVolFull: a full hot vol that asked for it. */
function readOnlyForVolFull(model: ModelView, vol: VolRecord): boolean {
  if (!vol.settings.dpReadOnlyWhenVolFull || vol.capacityGB === 0 || vol.volType !== 0) return false;
  return volTotalUsedBytes(model, vol) / GIB >= BigInt(vol.capacityGB);
}

// --- /admin/getVol ---------------------------------------------------------------------------

export interface QosItem {
  Name: string;
  Type: number;
  Total: number;
  CliUsed: number;
}

/** proto.SimpleVolView (spec 1.6), `/admin/getVol`. */
export interface SimpleVolView {
  ID: number;
  Name: string;
  Owner: string;
  ZoneName: string;
  DpReplicaNum: number;
  MpReplicaNum: number;
  InodeCount: bigint;
  DentryCount: bigint;
  MaxMetaPartitionID: number;
  MaxDataPartitionID: number;
  Status: number;
  Capacity: number;
  RwDpCnt: number;
  RwDpOfSSDCnt: number;
  RwDpOfHDDCnt: number;
  MpCnt: number;
  DpCnt: number;
  DpOfSSDCnt: number;
  DpOfHDDCnt: number;
  FollowerRead: boolean;
  MetaFollowerRead: boolean;
  DirectRead: boolean;
  IgnoreTinyRecover: boolean;
  MaximallyRead: boolean;
  NeedToLowerReplica: boolean;
  Authenticate: boolean;
  CrossZone: boolean;
  DefaultPriority: boolean;
  DomainOn: boolean;
  CreateTime: string;
  DeleteLockTime: number;
  LeaderRetryTimeOut: number;
  EnableToken: boolean;
  EnablePosixAcl: boolean;
  EnableQuota: boolean;
  EnableTransactionV1: string;
  EnableTransaction: string;
  TxTimeout: number;
  TxConflictRetryNum: number;
  TxConflictRetryInterval: number;
  TxOpLimit: number;
  Description: string;
  DpSelectorName: string;
  DpSelectorParm: string;
  DefaultZonePrior: boolean;
  DpReadOnlyWhenVolFull: boolean;
  LeaderRetryTimeout: number;
  VolType: number;
  ObjBlockSize: number;
  Uids: null;
  TrashInterval: number;
  LatestVer: number;
  Forbidden: boolean;
  DisableAuditLog: boolean;
  DeleteExecTime: string;
  DpRepairBlockSize: number;
  EnableAutoDpMetaRepair: boolean;
  AccessTimeInterval: number;
  EnablePersistAccessTime: boolean;
  VolStorageClass: number;
  AllowedStorageClass: number[];
  ForbidWriteOpOfProtoVer0: boolean;
  QuotaOfStorageClass: StatOfStorageClass[];
  RemoteCacheEnable: boolean;
  RemoteCachePath: string;
  RemoteCacheAutoPrepare: boolean;
  RemoteCacheTTL: number;
  RemoteCacheReadTimeout: number;
  RemoteCacheMaxFileSizeGB: number;
  RemoteCacheOnlyForNotSSD: boolean;
  RemoteCacheMultiRead: boolean;
  FlashNodeTimeoutCount: number;
  RemoteCacheSameZoneTimeout: number;
  RemoteCacheSameRegionTimeout: number;
  QosInfo: { QosItems: QosItem[]; QosEnable: boolean };
  RemoteCacheRemoveDupReq: boolean;
}

/** Data partition counts of a vol: all, read-write, by media type. */
function dpCounts(dps: readonly DataPartitionRecord[]) {
  const rw = dps.filter((dp) => dp.status === PartitionStatus.ReadWrite);
  const ofMedia = (list: readonly DataPartitionRecord[], m: number) => list.filter((dp) => dp.mediaType === m).length;
  return {
    all: dps.length,
    rw: rw.length,
    ssd: ofMedia(dps, MediaType.SSD),
    hdd: ofMedia(dps, MediaType.HDD),
    rwSsd: ofMedia(rw, MediaType.SSD),
    rwHdd: ofMedia(rw, MediaType.HDD),
  };
}

/**
 * The zone a vol shows: Go's createVol stores "default" for a vol that is not cross-zone and
 * named no zone (checkZoneName), while the settings here keep the request's "" (cfs-cli sends
 * `zoneName=`). A cross-zone vol without zones keeps "".
 */
export function volZoneName(vol: VolRecord): string {
  return vol.settings.zoneName === '' && !vol.settings.crossZone ? DEFAULT_ZONE_NAME : vol.settings.zoneName;
}

/**
 * MaxDataPartitionID is the vol's highest data partition id now. Go caches it for 10 s
 * (getMaxDataPartitionID, updateMaxDpIdInterval), so right after a create it can still show an
 * older value (observed 0 on a new vol with 3 data partitions): a time-dependent cache we do
 * not copy on purpose.
 */
export function simpleVolView(model: ModelView, vol: VolRecord, opts: ViewOptions): SimpleVolView {
  const s = vol.settings;
  const mps = metaPartitionsOf(model, vol.id);
  const dps = dataPartitionsOf(model, vol.id);
  let inodes = 0n;
  let dentries = 0n;
  for (const mp of mps) {
    const f = metaPartitionFigures(model, mp);
    inodes += f.inodeCount;
    dentries += f.dentryCount;
  }
  const n = dpCounts(dps);
  return {
    ID: vol.id,
    Name: vol.name,
    Owner: vol.owner,
    ZoneName: volZoneName(vol),
    DpReplicaNum: vol.dpReplicaNum,
    MpReplicaNum: vol.mpReplicaNum,
    InodeCount: inodes,
    DentryCount: dentries,
    MaxMetaPartitionID: mps.reduce((m, mp) => Math.max(m, mp.id), 0),
    MaxDataPartitionID: dps.reduce((m, dp) => Math.max(m, dp.id), 0),
    Status: vol.status,
    Capacity: vol.capacityGB,
    RwDpCnt: n.rw,
    RwDpOfSSDCnt: n.rwSsd,
    RwDpOfHDDCnt: n.rwHdd,
    MpCnt: mps.length,
    DpCnt: n.all,
    DpOfSSDCnt: n.ssd,
    DpOfHDDCnt: n.hdd,
    FollowerRead: s.followerRead,
    MetaFollowerRead: s.metaFollowerRead,
    DirectRead: s.directRead,
    IgnoreTinyRecover: s.ignoreTinyRecover,
    MaximallyRead: s.maximallyRead,
    NeedToLowerReplica: false,
    Authenticate: s.authenticate,
    CrossZone: s.crossZone,
    DefaultPriority: s.normalZonesFirst,
    DomainOn: false,
    CreateTime: formatDateTime(vol.createTimeUnixSec, opts.utcOffsetSec),
    DeleteLockTime: s.deleteLockTimeHours,
    LeaderRetryTimeOut: s.leaderRetryTimeoutSec,
    EnableToken: false,
    EnablePosixAcl: s.enablePosixAcl,
    EnableQuota: s.enableQuota,
    EnableTransactionV1: s.txMask,
    EnableTransaction: 'off',
    TxTimeout: s.txTimeoutMin,
    TxConflictRetryNum: s.txConflictRetryNum,
    TxConflictRetryInterval: s.txConflictRetryIntervalMs,
    TxOpLimit: 0,
    Description: s.description,
    DpSelectorName: s.dpSelectorName,
    DpSelectorParm: s.dpSelectorParm,
    DefaultZonePrior: false,
    DpReadOnlyWhenVolFull: s.dpReadOnlyWhenVolFull,
    // Go's newSimpleView fills only LeaderRetryTimeOut; this second field is always 0 (spec 12.10).
    LeaderRetryTimeout: 0,
    VolType: vol.volType,
    ObjBlockSize: s.ebsBlkSizeBytes,
    Uids: null,
    TrashInterval: s.trashIntervalMin,
    LatestVer: 0,
    Forbidden: false,
    DisableAuditLog: false,
    DeleteExecTime: GO_ZERO_TIME,
    DpRepairBlockSize: DP_REPAIR_BLOCK_SIZE,
    EnableAutoDpMetaRepair: s.autoDpMetaRepair,
    AccessTimeInterval: s.accessTimeValidIntervalSec,
    EnablePersistAccessTime: s.enablePersistAccessTime,
    VolStorageClass: vol.volStorageClass,
    AllowedStorageClass: [...vol.allowedStorageClass],
    ForbidWriteOpOfProtoVer0: s.forbidWriteOpOfProtoVer0,
    QuotaOfStorageClass: [...vol.allowedStorageClass]
      .sort((a, b) => a - b)
      .map((c) => ({ StorageClass: c, InodeCount: 0n, UsedSizeBytes: 0n, QuotaGB: 0 })),
    RemoteCacheEnable: false,
    RemoteCachePath: '',
    RemoteCacheAutoPrepare: false,
    RemoteCacheTTL: 432_000,
    RemoteCacheReadTimeout: 2000,
    RemoteCacheMaxFileSizeGB: 128,
    RemoteCacheOnlyForNotSSD: true,
    RemoteCacheMultiRead: false,
    FlashNodeTimeoutCount: 5,
    RemoteCacheSameZoneTimeout: 400,
    RemoteCacheSameRegionTimeout: 100,
    QosInfo: {
      QosItems: [
        { Name: 'FlowRead', Type: 3, Total: QOS_DEFAULT_FLOW_LIMIT, CliUsed: 0 },
        { Name: 'FlowWrite', Type: 4, Total: QOS_DEFAULT_FLOW_LIMIT, CliUsed: 0 },
      ],
      QosEnable: false,
    },
    RemoteCacheRemoveDupReq: false,
  };
}

/** `/admin/getVol?name=` (7 when unknown; a vol marked for deletion is still shown). */
export function simpleVolViewByName(model: ModelView, name: string, opts: ViewOptions): SimpleVolView {
  return simpleVolView(model, volOrCreating(model, name), opts);
}

/** The committed vol, else the vol of a create in progress (see the file comment), else 7. */
function volOrCreating(model: ModelView, name: string): VolRecord {
  const vol = volByName(model, name);
  if (vol !== undefined) return vol;
  const intentId = model.index.intentIdByName.get(name);
  const intent = intentId === undefined ? undefined : model.volIntents.get(intentId);
  if (intent === undefined) throw new VolNotFoundError(name);
  return intent.vol;
}

// --- /vol/list -------------------------------------------------------------------------------

/** proto.VolInfo, entries of `/vol/list`. */
export interface VolInfo {
  Name: string;
  Owner: string;
  CreateTime: number;
  Status: number;
  TotalSize: bigint;
  UsedSize: bigint;
  DpReadOnlyWhenVolFull: boolean;
}

/**
 * `/vol/list?keywords=`: vols whose name contains the keywords, marked-deleted ones included, by
 * vol id (Go walks a map, so its order changes from call to call).
 */
export function volList(model: ModelView, keywords: string): VolInfo[] {
  return [...model.vols.values()]
    .filter((v) => v.name.includes(keywords))
    .sort((a, b) => a.id - b.id)
    .map((v) => ({
      Name: v.name,
      Owner: v.owner,
      CreateTime: v.createTimeUnixSec,
      Status: v.status,
      TotalSize: BigInt(v.capacityGB) * GIB,
      UsedSize: volUsedBytes(model, v),
      DpReadOnlyWhenVolFull: v.settings.dpReadOnlyWhenVolFull,
    }));
}

// --- /client/metaPartitions, /client/vol -----------------------------------------------------

/** proto.MetaPartitionView (entries of `/client/metaPartitions` and VolView.MetaPartitions). */
export interface MetaPartitionView {
  PartitionID: number;
  Start: bigint;
  End: bigint;
  MaxInodeID: bigint;
  InodeCount: bigint;
  DentryCount: bigint;
  FreeListLen: number;
  TxCnt: number;
  TxRbInoCnt: number;
  TxRbDenCnt: number;
  IsRecover: boolean;
  Members: string[];
  LeaderAddr: string;
  Status: number;
  Freeze: number;
  LastDelReplicaTime: number;
}

/**
 * Go getMetaPartitionView: until some host reports leadership, everything after Members keeps
 * its zero value (inode figures 0, IsRecover false, LeaderAddr ""), as observed.
 */
export function metaPartitionView(model: ModelView, mp: MetaPartitionRecord): MetaPartitionView {
  const f = metaPartitionFigures(model, mp);
  const led = f.leader !== undefined;
  return {
    PartitionID: mp.id,
    Start: mp.start,
    End: mp.end,
    MaxInodeID: led ? f.maxInodeId : 0n,
    InodeCount: led ? f.inodeCount : 0n,
    DentryCount: led ? f.dentryCount : 0n,
    FreeListLen: 0,
    TxCnt: 0,
    TxRbInoCnt: 0,
    TxRbDenCnt: 0,
    IsRecover: led ? mp.isRecover : false,
    Members: hostsOf(mp),
    LeaderAddr: f.leader?.addr ?? '',
    Status: metaPartitionStatus(model, mp, f),
    Freeze: 0,
    LastDelReplicaTime: 0,
  };
}

/** `/client/metaPartitions?name=`: the vol's meta partitions by id (7 when the vol is unknown). */
export function metaPartitionViewsByName(model: ModelView, name: string): MetaPartitionView[] {
  const vol = volNamed(model, name);
  return metaPartitionsOf(model, vol.id).map((mp) => metaPartitionView(model, mp));
}

/** proto.VolView, `/client/vol`. */
export interface VolView {
  Name: string;
  Owner: string;
  Status: number;
  FollowerRead: boolean;
  MetaPartitions: MetaPartitionView[];
  DataPartitions: DataPartitionResponse[];
  DomainOn: boolean;
  OSSSecure: { AccessKey: string; SecretKey: string };
  CreateTime: number;
  DeleteLockTime: number;
  VolType: number;
}

/**
 * `/client/vol` (the authKey / ticket checks are the API layer's). DataPartitions is always empty
 * here (Go leaves it out of the view cache). OSSSecure holds the owner user's keys: Go draws a
 * random key pair per vol, which this model does not keep.
 */
export function volView(model: ModelView, vol: VolRecord): VolView {
  const owner = model.users.get(vol.owner);
  return {
    Name: vol.name,
    Owner: vol.owner,
    Status: vol.status,
    FollowerRead: vol.settings.followerRead,
    MetaPartitions: metaPartitionsOf(model, vol.id).map((mp) => metaPartitionView(model, mp)),
    DataPartitions: [],
    DomainOn: false,
    OSSSecure: { AccessKey: owner?.accessKey ?? '', SecretKey: owner?.secretKey ?? '' },
    CreateTime: vol.createTimeUnixSec,
    DeleteLockTime: vol.settings.deleteLockTimeHours,
    VolType: vol.volType,
  };
}

/** `/client/vol?name=` (7 when unknown). */
export function volViewByName(model: ModelView, name: string): VolView {
  return volView(model, volNamed(model, name));
}

// --- /client/partitions ----------------------------------------------------------------------

/** proto.DataPartitionResponse. */
export interface DataPartitionResponse {
  PartitionType: number;
  PartitionID: number;
  Status: number;
  ReplicaNum: number;
  Hosts: string[];
  LeaderAddr: string;
  Epoch: number;
  IsRecover: boolean;
  IsDiscard: boolean;
  MediaType: number;
}

/** proto.DataPartitionsView, `/client/partitions`. */
export interface DataPartitionsView {
  DataPartitions: DataPartitionResponse[];
  VolReadOnly: boolean;
  StatByClass: StatOfStorageClass[] | null;
}

export function dataPartitionResponse(model: ModelView, dp: DataPartitionRecord): DataPartitionResponse {
  return {
    PartitionType: 0,
    PartitionID: dp.id,
    Status: dp.status,
    ReplicaNum: dp.replicaNum,
    Hosts: hostsOf(dp),
    LeaderAddr: dataLeaderAddr(model, dp),
    Epoch: 0,
    IsRecover: dp.isRecover,
    IsDiscard: false,
    MediaType: dp.mediaType,
  };
}

/**
 * The vol's data partitions with hosts, by id (Go: map order). A hot vol without any → 18.
 * StatByClass is `null` unless DpReadOnlyWhenVolFull (then the per-class stats, which the meta
 * nodes' reports would fill: `[]` here).
 */
export function dataPartitionsView(model: ModelView, vol: VolRecord): DataPartitionsView {
  const dps = dataPartitionsOf(model, vol.id).filter((dp) => dp.peers.length > 0);
  if (dps.length === 0 && vol.volType === 0) throw new NoAvailDataPartitionError(vol.name);
  return {
    DataPartitions: dps.map((dp) => dataPartitionResponse(model, dp)),
    VolReadOnly: readOnlyForVolFull(model, vol),
    StatByClass: vol.settings.dpReadOnlyWhenVolFull ? [] : null,
  };
}

/** `/client/partitions?name=` (7 unknown vol, 18 no data partition). */
export function dataPartitionsViewByName(model: ModelView, name: string): DataPartitionsView {
  return dataPartitionsView(model, volOrCreating(model, name));
}

// --- /client/volStat and ClusterView.VolStatInfo ---------------------------------------------

/** proto.VolStatInfo (`TrashInterval` has the json name TrashIntervalV2). */
export interface VolStatInfo {
  Name: string;
  TotalSize: bigint;
  UsedSize: bigint;
  UsedRatio: string;
  CacheTotalSize: bigint;
  CacheUsedSize: bigint;
  CacheUsedRatio: string;
  EnableToken: boolean;
  InodeCount: bigint;
  TxCnt: number;
  TxRbInoCnt: number;
  TxRbDenCnt: number;
  DpReadOnlyWhenVolFull: boolean;
  TrashIntervalV2: number;
  DefaultStorageClass: number;
  MetaFollowerRead: boolean;
  MaximallyRead: boolean;
  LeaderRetryTimeOut: number;
  StatByStorageClass: StatOfStorageClass[] | null;
  StatMigrateStorageClass: StatOfStorageClass[] | null;
  StatByDpMediaType: StatOfStorageClass[] | null;
}

function ratio(used: bigint, total: bigint, prec: number): string {
  return formatGoFloat(Number(used) / Number(total), prec, 32);
}

/** Go vol.StatByDpMediaType: used bytes per media type of the vol's data partitions. */
function statByDpMediaType(model: ModelView, vol: VolRecord): StatOfStorageClass[] {
  const used = new Map<number, bigint>();
  for (const dp of dataPartitionsOf(model, vol.id)) used.set(dp.mediaType, (used.get(dp.mediaType) ?? 0n) + dataPartitionUsedBytes(model, dp));
  return [...used.entries()]
    .sort(([a], [b]) => a - b)
    .map(([media, bytes]) => ({ StorageClass: media, InodeCount: 0n, UsedSizeBytes: bytes, QuotaGB: 0 }));
}

/**
 * `/client/volStat` (Go volStat): UsedRatio with 2 decimals ("0.00"; "NaN" for 0/0). Cold vols
 * also get the Cache* figures Go computes for them (CacheTotalSize stays 0, so the ratio is
 * "NaN" or "+Inf"). The per-class stats come from meta node reports Go keeps: `[]` here.
 * `byMeta` is the route's `metaUsed`-style switch (used bytes by meta partitions: 0 here).
 */
export function volStatInfo(model: ModelView, vol: VolRecord, byMeta = false): VolStatInfo {
  const total = BigInt(vol.capacityGB) * GIB;
  const used = volUsedBytes(model, vol, byMeta);
  const cold = vol.volType !== 0;
  const cacheUsed = cold ? volDataUsedBytes(model, vol) : 0n;
  return {
    Name: vol.name,
    TotalSize: total,
    UsedSize: used,
    UsedRatio: ratio(used, total, 2),
    CacheTotalSize: 0n,
    CacheUsedSize: cacheUsed,
    CacheUsedRatio: cold ? ratio(cacheUsed, 0n, 2) : '',
    EnableToken: false,
    InodeCount: volInodeCount(model, vol),
    TxCnt: 0,
    TxRbInoCnt: 0,
    TxRbDenCnt: 0,
    DpReadOnlyWhenVolFull: vol.settings.dpReadOnlyWhenVolFull,
    TrashIntervalV2: vol.settings.trashIntervalMin,
    DefaultStorageClass: vol.volStorageClass,
    MetaFollowerRead: vol.settings.metaFollowerRead,
    MaximallyRead: vol.settings.maximallyRead,
    LeaderRetryTimeOut: vol.settings.leaderRetryTimeoutSec,
    StatByStorageClass: [],
    StatMigrateStorageClass: [],
    StatByDpMediaType: statByDpMediaType(model, vol),
  };
}

/** `/client/volStat?name=` (7 when unknown). */
export function volStatInfoByName(model: ModelView, name: string, byMeta = false): VolStatInfo {
  return volStatInfo(model, volNamed(model, name), byMeta);
}

/**
 * An entry of ClusterView.VolStatInfo (Go newVolStatInfo): only Name, sizes, a 3-decimal ratio
 * and InodeCount are set. Go fills them in its periodic stat round; `pending` gives what it shows
 * for a vol the round has not reached yet (zeros and "NaN", as observed).
 */
export function clusterVolStatInfo(model: ModelView, vol: VolRecord, pending = false): VolStatInfo {
  const total = pending ? 0n : BigInt(vol.capacityGB) * GIB;
  const used = pending ? 0n : volTotalUsedBytes(model, vol);
  return {
    Name: vol.name,
    TotalSize: total,
    UsedSize: used,
    UsedRatio: ratio(used, total, 3),
    CacheTotalSize: 0n,
    CacheUsedSize: 0n,
    CacheUsedRatio: '',
    EnableToken: false,
    InodeCount: pending ? 0n : volInodeCount(model, vol),
    TxCnt: 0,
    TxRbInoCnt: 0,
    TxRbDenCnt: 0,
    DpReadOnlyWhenVolFull: false,
    TrashIntervalV2: 0,
    DefaultStorageClass: 0,
    MetaFollowerRead: false,
    MaximallyRead: false,
    LeaderRetryTimeOut: 0,
    StatByStorageClass: null,
    StatMigrateStorageClass: null,
    StatByDpMediaType: null,
  };
}

/** ClusterView.VolStatInfo: one entry per vol (marked-deleted ones too), by vol id. */
export function clusterVolStatInfos(model: ModelView, pending = false): VolStatInfo[] {
  return [...model.vols.values()].sort((a, b) => a.id - b.id).map((v) => clusterVolStatInfo(model, v, pending));
}

// --- /metaPartition/get ----------------------------------------------------------------------

/** proto.MetaReplicaInfo. */
export interface MetaReplicaInfo {
  Addr: string;
  NodeID: number;
  DomainAddr: string;
  MaxInodeID: bigint;
  ReportTime: number;
  Status: number;
  IsLeader: boolean;
  InodeCount: bigint;
  MaxInode: bigint;
  DentryCount: bigint;
  ReadOnlyReasons: number;
}

/** proto.MetaPartitionInfo (spec 1.6), `/metaPartition/get`. */
export interface MetaPartitionInfo {
  PartitionID: number;
  Start: bigint;
  End: bigint;
  MaxInodeID: bigint;
  InodeCount: bigint;
  DentryCount: bigint;
  VolName: string;
  Replicas: MetaReplicaInfo[];
  ReplicaNum: number;
  Status: number;
  IsRecover: boolean;
  Hosts: string[];
  Peers: PeerView[];
  Zones: string[];
  NodeSets: number[];
  OfflinePeerID: number;
  MissNodes: Record<string, number>;
  LoadResponse: unknown[];
  Forbidden: boolean;
  Freeze: number;
  StatByStorageClass: StatOfStorageClass[];
  StatByMigrateStorageClass: StatOfStorageClass[] | null;
  ForbidWriteOpOfProtoVer0: boolean;
}

/**
 * Replicas are the hosts' heartbeat reports (`[]` before the first), MaxInodeID / InodeCount /
 * DentryCount their maxima. Peers carry the meta nodes' raft ports. LoadResponse (Go: results of
 * its periodic load tasks) and MissNodes are not kept: `[]` and `{}`. ForbidWriteOpOfProtoVer0
 * is what the replicas would report (the vol's setting) once one has reported; false before.
 * StatByMigrateStorageClass is `null` until the first report (Go's newMetaPartition leaves the
 * slice nil; the first heartbeat's setStatByStorageClass makes it `[]`); StatByStorageClass is
 * `[]` from the start.
 */
export function metaPartitionInfo(model: ModelView, mp: MetaPartitionRecord): MetaPartitionInfo {
  const f = metaPartitionFigures(model, mp);
  const hosts = hostsOf(mp);
  const places = placesOf(model, 'meta', hosts);
  const vol = model.vols.get(mp.volId);
  return {
    PartitionID: mp.id,
    Start: mp.start,
    End: mp.end,
    MaxInodeID: f.maxInodeId,
    InodeCount: f.inodeCount,
    DentryCount: f.dentryCount,
    VolName: mp.volName,
    Replicas: f.reports.map((r) => ({
      Addr: r.addr,
      NodeID: r.nodeId,
      DomainAddr: metaNodeLive(model, r.nodeId).domainAddr,
      MaxInodeID: r.maxInodeId,
      ReportTime: unixSec(r.reportTimeMs),
      Status: r.status,
      IsLeader: metaLeads(model, r),
      InodeCount: r.inodeCount,
      MaxInode: r.maxInodeId,
      DentryCount: r.dentryCount,
      ReadOnlyReasons: 0,
    })),
    ReplicaNum: mp.replicaNum,
    Status: metaPartitionStatus(model, mp, metaPartitionFigures(model, mp)),
    IsRecover: mp.isRecover,
    Hosts: hosts,
    Peers: mp.peers.map((p) => peerView(model, 'meta', p)),
    Zones: places.zones,
    NodeSets: places.nodeSets,
    OfflinePeerID: 0,
    MissNodes: {},
    LoadResponse: [],
    // Go: the vol's Forbidden flag, true when the vol cannot be found.
    Forbidden: vol === undefined,
    Freeze: 0,
    StatByStorageClass: [],
    StatByMigrateStorageClass: f.reports.length > 0 ? [] : null,
    // Go SetForbidWriteOpOfProtoVer0: computed at the first report, true unless a live replica says false.
    ForbidWriteOpOfProtoVer0: f.reports.length > 0 && f.reports.every((r) => !metaReplicaLive(model, r) || r.forbidWriteOpOfProtoVer0),
  };
}

/** `/metaPartition/get?id=` (10 when unknown). */
export function metaPartitionInfoById(model: ModelView, id: number): MetaPartitionInfo {
  const mp = model.metaPartitions.get(id);
  if (mp === undefined) throw new MetaPartitionNotFoundError(id);
  return metaPartitionInfo(model, mp);
}

// --- /dataPartition/get ----------------------------------------------------------------------

/** proto.DataReplica (Total/Used have the json names TotalSize/UsedSize). */
export interface DataReplicaView {
  Addr: string;
  DomainAddr: string;
  ReportTime: number;
  FileCount: number;
  Status: number;
  HasLoadResponse: boolean;
  TotalSize: bigint;
  UsedSize: bigint;
  IsLeader: boolean;
  NeedsToCompare: boolean;
  DiskPath: string;
  DecommissionRepairProgress: number;
  LocalPeers: PeerView[] | null;
  TriggerDiskError: boolean;
  ForbidWriteOpOfProtoVer0: boolean;
  ReadOnlyReasons: number;
  IsMissingTinyExtent: boolean;
  IsRepairing: boolean;
}

/** proto.DataPartitionInfo (spec 1.6), `/dataPartition/get`. */
export interface DataPartitionInfo {
  PartitionID: number;
  PartitionType: number;
  LastLoadedTime: number;
  ReplicaNum: number;
  Status: number;
  Recover: boolean;
  Replicas: DataReplicaView[];
  Hosts: string[];
  Peers: PeerView[];
  Zones: string[];
  NodeSets: number[];
  MissingNodes: Record<string, number>;
  VolName: string;
  VolID: number;
  OfflinePeerID: number;
  FileInCoreMap: Record<string, unknown>;
  IsRecover: boolean;
  FilesWithMissingReplica: Record<string, number>;
  SingleDecommissionStatus: number;
  SingleDecommissionAddr: string;
  RdOnly: boolean;
  IsDiscard: boolean;
  Forbidden: boolean;
  MediaType: number;
  ForbidWriteOpOfProtoVer0: boolean;
}

/**
 * One replica per disk the record holds, merged with that host's heartbeat report. Before the
 * first report a replica looks as Go's afterCreation leaves it: ReportTime = the partition's
 * create time, Status Unavailable (Recovering for 1- and 2-replica partitions), TotalSize 120
 * GiB, LocalPeers null. A report sets Status, sizes, FileCount, IsLeader, the disk (when it names
 * one), HasLoadResponse and NeedsToCompare (a node that reports has loaded the partition and asks
 * for comparison, as observed), LocalPeers (the partition's peers) and ForbidWriteOpOfProtoVer0
 * (the node's flag; it learns the vol's setting from heartbeat requests).
 */
export function dataPartitionInfo(model: ModelView, dp: DataPartitionRecord): DataPartitionInfo {
  const hosts = hostsOf(dp);
  const places = placesOf(model, 'data', hosts);
  const vol = model.vols.get(dp.volId);
  const peers = dp.peers.map((p) => peerView(model, 'data', p));
  const reports = model.live.dataReplicas.get(dp.id);
  let reported = 0;
  const replicas = dp.replicas.map((place): DataReplicaView => {
    const node = dataNodeByAddr(model, place.addr);
    const r = reports?.get(place.addr);
    if (r !== undefined) reported += 1;
    return {
      Addr: place.addr,
      DomainAddr: node === undefined ? '' : dataNodeLive(model, node).domainAddr,
      ReportTime: r === undefined ? dp.createTimeUnixSec : unixSec(r.reportTimeMs),
      FileCount: r?.fileCount ?? 0,
      Status: r?.status ?? (dp.replicaNum === 1 || dp.replicaNum === 2 ? PartitionStatus.Recovering : PartitionStatus.Unavailable),
      HasLoadResponse: r !== undefined,
      TotalSize: r?.totalBytes ?? DEFAULT_DATA_PARTITION_SIZE,
      UsedSize: r?.usedBytes ?? 0n,
      IsLeader: r !== undefined && dataLeads(model, r),
      NeedsToCompare: r !== undefined,
      DiskPath: r !== undefined && r.diskPath !== '' ? r.diskPath : place.diskPath,
      DecommissionRepairProgress: 0,
      LocalPeers: r === undefined ? null : peers.map((p) => ({ ...p })),
      TriggerDiskError: false,
      ForbidWriteOpOfProtoVer0: r?.forbidWriteOpOfProtoVer0 ?? false,
      ReadOnlyReasons: 0,
      IsMissingTinyExtent: false,
      IsRepairing: false,
    };
  });
  return {
    PartitionID: dp.id,
    PartitionType: 0,
    LastLoadedTime: dp.createTimeUnixSec,
    ReplicaNum: dp.replicaNum,
    Status: dp.status,
    // Go's buildDpInfo never sets Recover or RdOnly: always false on the wire.
    Recover: false,
    Replicas: replicas,
    Hosts: hosts,
    Peers: peers,
    Zones: places.zones,
    NodeSets: places.nodeSets,
    MissingNodes: {},
    VolName: dp.volName,
    VolID: dp.volId,
    OfflinePeerID: 0,
    FileInCoreMap: {},
    IsRecover: dp.isRecover,
    FilesWithMissingReplica: {},
    SingleDecommissionStatus: 0,
    SingleDecommissionAddr: '',
    RdOnly: false,
    IsDiscard: false,
    Forbidden: vol === undefined,
    MediaType: dp.mediaType,
    // Go setForbidWriteOpOfProtoVer0: true when every reporting replica says so.
    ForbidWriteOpOfProtoVer0: reported > 0 && dp.replicas.every((place) => reports?.get(place.addr)?.forbidWriteOpOfProtoVer0 !== false),
  };
}

/**
 * `/dataPartition/get?id=&name=`: 11 when the id is unknown, and, with a vol name, when that vol
 * is unknown or does not hold the partition (Go answers 11 for both).
 */
export function dataPartitionInfoById(model: ModelView, id: number, volName = ''): DataPartitionInfo {
  const dp = model.dataPartitions.get(id);
  if (dp === undefined) throw new DataPartitionNotFoundError(id);
  if (volName !== '') {
    const vol = volByName(model, volName);
    if (vol === undefined || vol.id !== dp.volId) throw new DataPartitionNotFoundError(id);
  }
  return dataPartitionInfo(model, dp);
}

