// The Request of each admin task the master sends, in Go's field names and order
// (spec/node-protocol.md 3.1, 3.4; proto/admin_proto.go, proto/meta_proto.go), with builders from
// the domain's camelCase values and decoders for the node side (the simulator).
//
// Spellings to keep: CreateDataPartitionRequest has `PartitionTyp` and `PartitionId`, and
// `VolumeId` holds the volume *name*; the data-partition requests say `PartitionId`, the
// meta-partition ones `PartitionID`. Peer keys are lower-case (`id`, `addr`, `raftHeartbeat`,
// `raftReplica`).

import {
  asObject,
  readBool,
  readObjectArray,
  readSafeInt,
  readSafeUint,
  readString,
  readStringArray,
  readUint64,
  readInt64,
  type JsonObject,
} from './json-fields.js';

/** A raft member of a partition: the node's registered addr and its raft ports. */
export interface ReplicaPeer {
  /** The node ID the master gave at registration (= the raft peer ID). */
  readonly id: number;
  readonly addr: string;
  readonly heartbeatPort: string;
  readonly replicaPort: string;
}

/** proto.Peer on the wire. */
export interface PeerWire {
  readonly id: number;
  readonly addr: string;
  readonly raftHeartbeat: string;
  readonly raftReplica: string;
}

export function peerWire(p: ReplicaPeer): PeerWire {
  return { id: p.id, addr: p.addr, raftHeartbeat: p.heartbeatPort, raftReplica: p.replicaPort };
}

export function decodePeer(o: JsonObject, path: string): ReplicaPeer {
  return {
    id: readSafeUint(o, 'id', path),
    addr: readString(o, 'addr', path),
    heartbeatPort: readString(o, 'raftHeartbeat', path),
    replicaPort: readString(o, 'raftReplica', path),
  };
}

// ---- meta partitions ----

export interface CreateMetaPartitionRequestWire {
  readonly MetaId: string;
  readonly VolName: string;
  readonly Start: bigint;
  readonly End: bigint;
  readonly PartitionID: number;
  readonly Members: readonly PeerWire[];
  readonly VerSeq: bigint;
}

export interface CreateMetaPartitionParams {
  readonly partitionId: number;
  readonly volName: string;
  /** Inode range, inclusive; the last MP of a volume ends at 2^63-1. */
  readonly start: bigint;
  readonly end: bigint;
  readonly members: readonly ReplicaPeer[];
  readonly verSeq?: bigint;
}

export function createMetaPartitionRequest(p: CreateMetaPartitionParams): CreateMetaPartitionRequestWire {
  return {
    MetaId: '',
    VolName: p.volName,
    Start: p.start,
    End: p.end,
    PartitionID: p.partitionId,
    Members: p.members.map(peerWire),
    VerSeq: p.verSeq ?? 0n,
  };
}

export function decodeCreateMetaPartitionRequest(v: unknown, path = 'Request'): Required<CreateMetaPartitionParams> {
  const o = asObject(v, path);
  return {
    partitionId: readSafeUint(o, 'PartitionID', path),
    volName: readString(o, 'VolName', path),
    start: readUint64(o, 'Start', path),
    end: readUint64(o, 'End', path),
    members: readObjectArray(o, 'Members', path, decodePeer),
    verSeq: readUint64(o, 'VerSeq', path),
  };
}

/** DeleteMetaPartitionRequest, MetaPartitionLoadRequest: `{"PartitionID":N}`. */
export interface MetaPartitionIdRequestWire {
  readonly PartitionID: number;
}

export function deleteMetaPartitionRequest(partitionId: number): MetaPartitionIdRequestWire {
  return { PartitionID: partitionId };
}

/** MetaPartitionLoadRequest (OpLoadMetaPartition; the spec calls it the load/metric request). */
export function loadMetaPartitionRequest(partitionId: number): MetaPartitionIdRequestWire {
  return { PartitionID: partitionId };
}

export function decodeMetaPartitionIdRequest(v: unknown, path = 'Request'): { readonly partitionId: number } {
  return { partitionId: readSafeUint(asObject(v, path), 'PartitionID', path) };
}

export interface UpdateMetaPartitionRequestWire {
  readonly PartitionID: number;
  readonly VolName: string;
  readonly Start: bigint;
  readonly End: bigint;
}

export interface UpdateMetaPartitionParams {
  readonly partitionId: number;
  readonly volName: string;
  /** The Go master sends 0 here after a split (spec 3.4); the metanode only uses End. */
  readonly start: bigint;
  readonly end: bigint;
}

export function updateMetaPartitionRequest(p: UpdateMetaPartitionParams): UpdateMetaPartitionRequestWire {
  return { PartitionID: p.partitionId, VolName: p.volName, Start: p.start, End: p.end };
}

export function decodeUpdateMetaPartitionRequest(v: unknown, path = 'Request'): UpdateMetaPartitionParams {
  const o = asObject(v, path);
  return {
    partitionId: readSafeUint(o, 'PartitionID', path),
    volName: readString(o, 'VolName', path),
    start: readUint64(o, 'Start', path),
    end: readUint64(o, 'End', path),
  };
}

// ---- data partitions ----

export interface CreateDataPartitionRequestWire {
  readonly PartitionTyp: number;
  readonly PartitionId: number;
  readonly PartitionSize: bigint;
  readonly ReplicaNum: number;
  readonly VolumeId: string;
  readonly IsRandomWrite: boolean;
  readonly Members: readonly PeerWire[];
  readonly Hosts: readonly string[];
  readonly CreateType: number;
  readonly LeaderSize: bigint;
  readonly DecommissionedDisks: readonly string[] | null;
  readonly IsMultiVer: boolean;
  readonly VerSeq: bigint;
}

/** CreateType values (proto: NormalCreateDataPartition, DecommissionedCreateDataPartition). */
export const DataPartitionCreateType = { Normal: 0, Decommissioned: 1 } as const;

export interface CreateDataPartitionParams {
  readonly partitionId: number;
  readonly volName: string;
  readonly partitionSizeBytes: bigint;
  readonly replicaNum: number;
  readonly members: readonly ReplicaPeer[];
  readonly hosts: readonly string[];
  /** PartitionTyp: 0 = normal (extent) partition. */
  readonly partitionType?: number;
  readonly isRandomWrite?: boolean;
  readonly createType?: number;
  /** Used size of the leader when re-creating a replica (decommission); 0 for a new DP. */
  readonly leaderSizeBytes?: bigint;
  readonly decommissionedDisks?: readonly string[] | null;
  readonly isMultiVer?: boolean;
  readonly verSeq?: bigint;
}

export function createDataPartitionRequest(p: CreateDataPartitionParams): CreateDataPartitionRequestWire {
  return {
    PartitionTyp: p.partitionType ?? 0,
    PartitionId: p.partitionId,
    PartitionSize: p.partitionSizeBytes,
    ReplicaNum: p.replicaNum,
    VolumeId: p.volName,
    IsRandomWrite: p.isRandomWrite ?? false,
    Members: p.members.map(peerWire),
    Hosts: [...p.hosts],
    CreateType: p.createType ?? DataPartitionCreateType.Normal,
    LeaderSize: p.leaderSizeBytes ?? 0n,
    DecommissionedDisks: p.decommissionedDisks ?? null,
    IsMultiVer: p.isMultiVer ?? false,
    VerSeq: p.verSeq ?? 0n,
  };
}

export function decodeCreateDataPartitionRequest(v: unknown, path = 'Request'): Required<CreateDataPartitionParams> {
  const o = asObject(v, path);
  const decommissioned = o.DecommissionedDisks === null || o.DecommissionedDisks === undefined ? null : readStringArray(o, 'DecommissionedDisks', path);
  return {
    partitionType: readSafeInt(o, 'PartitionTyp', path),
    partitionId: readSafeUint(o, 'PartitionId', path),
    partitionSizeBytes: readInt64(o, 'PartitionSize', path),
    replicaNum: readSafeUint(o, 'ReplicaNum', path),
    volName: readString(o, 'VolumeId', path),
    isRandomWrite: readBool(o, 'IsRandomWrite', path),
    members: readObjectArray(o, 'Members', path, decodePeer),
    hosts: readStringArray(o, 'Hosts', path),
    createType: readSafeInt(o, 'CreateType', path),
    leaderSizeBytes: readInt64(o, 'LeaderSize', path),
    decommissionedDisks: decommissioned,
    isMultiVer: readBool(o, 'IsMultiVer', path),
    verSeq: readUint64(o, 'VerSeq', path),
  };
}

export interface DeleteDataPartitionRequestWire {
  readonly DataPartitionType: string;
  readonly PartitionId: number;
  readonly PartitionSize: number;
  readonly Force: boolean;
  readonly DecommissionType: number;
}

export function deleteDataPartitionRequest(partitionId: number, options: { readonly force?: boolean; readonly decommissionType?: number } = {}): DeleteDataPartitionRequestWire {
  return { DataPartitionType: '', PartitionId: partitionId, PartitionSize: 0, Force: options.force ?? false, DecommissionType: options.decommissionType ?? 0 };
}

export function decodeDeleteDataPartitionRequest(v: unknown, path = 'Request'): { readonly partitionId: number; readonly force: boolean } {
  const o = asObject(v, path);
  return { partitionId: readSafeUint(o, 'PartitionId', path), force: readBool(o, 'Force', path) };
}

/** LoadDataPartitionRequest: `{"PartitionId":N}`. */
export interface LoadDataPartitionRequestWire {
  readonly PartitionId: number;
}

export function loadDataPartitionRequest(partitionId: number): LoadDataPartitionRequestWire {
  return { PartitionId: partitionId };
}

export function decodeLoadDataPartitionRequest(v: unknown, path = 'Request'): { readonly partitionId: number } {
  return { partitionId: readSafeUint(asObject(v, path), 'PartitionId', path) };
}

// ---- heartbeats ----

/** One entry of HeartBeatRequest.TxInfo (metanode): transaction settings of a volume. */
export interface VolTxInfo {
  readonly volume: string;
  readonly mask: number;
  readonly opLimitVal: number;
}

/**
 * What the master tells a node with each heartbeat (proto.HeartBeatRequest; embedded structs
 * flatten into one object). Everything but the time and the master's address is optional: null
 * and empty are fine, the nodes treat absent lists as empty (spec 3.1). The defaults of the
 * per-kind fields are what the Go master sent in the capture.
 */
export interface HeartbeatRequest {
  readonly currTimeSec: number;
  /** The master's own HTTP address, e.g. "127.0.0.1:17010". */
  readonly masterAddr: string;
  /** Follower-read volumes (metanode). */
  readonly flReadVols?: readonly string[] | null;
  readonly enableDiskQos?: boolean;
  readonly qosIopsReadLimit?: number;
  readonly qosIopsWriteLimit?: number;
  readonly qosFlowReadLimit?: number;
  readonly qosFlowWriteLimit?: number;
  readonly fileStatsEnable?: boolean;
  readonly fileStatsThresholds?: readonly bigint[] | null;
  readonly raftPartitionCanUsingDifferentPortEnabled?: boolean;
  /** Passed through as JSON (UidLimitToMetaNode.UidLimitInfo). */
  readonly uidLimitInfo?: unknown;
  /** Passed through as JSON (QuotaHeartBeatInfos.QuotaHbInfos). */
  readonly quotaHbInfos?: unknown;
  readonly txInfo?: readonly VolTxInfo[] | null;
  readonly forbiddenVols?: readonly string[] | null;
  readonly disableAuditVols?: readonly string[] | null;
  /** Datanode. */
  readonly decommissionDisks?: readonly string[] | null;
  /** Datanode; default {} for data nodes, null for meta nodes. */
  readonly volDpRepairBlockSize?: Readonly<Record<string, bigint | number>> | null;
  /** Go duration text; default "168h0m0s" for data nodes, "" for meta nodes. */
  readonly dpBackupTimeout?: string;
  readonly notifyForbidWriteOpOfProtoVer0?: boolean;
  readonly volsForbidWriteOpOfProtoVer0?: readonly string[] | null;
  readonly directReadVols?: readonly string[] | null;
  readonly ignoreTinyRecoverVols?: readonly string[] | null;
  /** Default 100 for meta nodes, 0 for data nodes; outside 30..100 the node ignores it. */
  readonly metaNodeGOGC?: number;
  /** Default 100 for data nodes, 0 for meta nodes. */
  readonly dataNodeGOGC?: number;
  readonly flashNodeHandleReadTimeout?: number;
  readonly flashNodeReadDataNodeTimeout?: number;
  readonly flashHotKeyMissCount?: number;
  readonly flashReadFlowLimit?: number;
  readonly flashWriteFlowLimit?: number;
  readonly flashKeyFlowLimit?: number;
}

export type NodeKind = 'meta' | 'data';

function listOrNull<T>(v: readonly T[] | null | undefined): T[] | null {
  return v === undefined || v === null ? null : [...v];
}

/** proto.HeartBeatRequest on the wire, keys in Go's order. */
export function heartbeatRequestWire(kind: NodeKind, r: HeartbeatRequest): JsonObject {
  const meta = kind === 'meta';
  return {
    CurrTime: r.currTimeSec,
    MasterAddr: r.masterAddr,
    FLReadVols: listOrNull(r.flReadVols),
    EnableDiskQos: r.enableDiskQos ?? false,
    QosIopsReadLimit: r.qosIopsReadLimit ?? 0,
    QosIopsWriteLimit: r.qosIopsWriteLimit ?? 0,
    QosFlowReadLimit: r.qosFlowReadLimit ?? 0,
    QosFlowWriteLimit: r.qosFlowWriteLimit ?? 0,
    FileStatsEnable: r.fileStatsEnable ?? false,
    FileStatsThresholds: listOrNull(r.fileStatsThresholds),
    RaftPartitionCanUsingDifferentPortEnabled: r.raftPartitionCanUsingDifferentPortEnabled ?? false,
    UidLimitInfo: r.uidLimitInfo ?? null,
    QuotaHbInfos: r.quotaHbInfos ?? null,
    TxInfo: r.txInfo === undefined || r.txInfo === null ? null : r.txInfo.map((t) => ({ Volume: t.volume, Mask: t.mask, OpLimitVal: t.opLimitVal })),
    ForbiddenVols: listOrNull(r.forbiddenVols),
    DisableAuditVols: listOrNull(r.disableAuditVols),
    DecommissionDisks: listOrNull(r.decommissionDisks),
    VolDpRepairBlockSize: r.volDpRepairBlockSize === undefined ? (meta ? null : {}) : r.volDpRepairBlockSize,
    DpBackupTimeout: r.dpBackupTimeout ?? (meta ? '' : '168h0m0s'),
    NotifyForbidWriteOpOfProtoVer0: r.notifyForbidWriteOpOfProtoVer0 ?? false,
    VolsForbidWriteOpOfProtoVer0: listOrNull(r.volsForbidWriteOpOfProtoVer0),
    DirectReadVols: listOrNull(r.directReadVols),
    IgnoreTinyRecoverVols: listOrNull(r.ignoreTinyRecoverVols),
    MetaNodeGOGC: r.metaNodeGOGC ?? (meta ? 100 : 0),
    DataNodeGOGC: r.dataNodeGOGC ?? (meta ? 0 : 100),
    FlashNodeHandleReadTimeout: r.flashNodeHandleReadTimeout ?? 0,
    FlashNodeReadDataNodeTimeout: r.flashNodeReadDataNodeTimeout ?? 0,
    FlashHotKeyMissCount: r.flashHotKeyMissCount ?? 0,
    FlashReadFlowLimit: r.flashReadFlowLimit ?? 0,
    FlashWriteFlowLimit: r.flashWriteFlowLimit ?? 0,
    FlashKeyFlowLimit: r.flashKeyFlowLimit ?? 0,
  };
}

/** The parts of a heartbeat request a node acts on (the simulator reads these). */
export interface DecodedHeartbeatRequest {
  readonly currTimeSec: number;
  readonly masterAddr: string;
  readonly volsForbidWriteOpOfProtoVer0: readonly string[];
  readonly metaNodeGOGC: number;
  readonly dataNodeGOGC: number;
}

export function decodeHeartbeatRequest(v: unknown, path = 'Request'): DecodedHeartbeatRequest {
  const o = asObject(v, path);
  // The other keys are settings a simulated node ignores; their types are not checked.
  return {
    currTimeSec: readSafeInt(o, 'CurrTime', path),
    masterAddr: readString(o, 'MasterAddr', path),
    volsForbidWriteOpOfProtoVer0: readStringArray(o, 'VolsForbidWriteOpOfProtoVer0', path),
    metaNodeGOGC: readSafeInt(o, 'MetaNodeGOGC', path),
    dataNodeGOGC: readSafeInt(o, 'DataNodeGOGC', path),
  };
}
