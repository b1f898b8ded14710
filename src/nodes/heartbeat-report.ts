// Parses the bodies nodes POST to /metaNode/response and /dataNode/response (spec/node-protocol.md
// 2.3, 3.2, 3.3): an AdminTask whose Response is filled. Heartbeats become typed reports for the
// model; any other op (update MP, load DP, delete, version op) becomes a task result with its
// Response kept as parsed.
//
// Parsed with parseJsonExact, so MaxInodeID, Start, End and byte counts stay exact (an End of
// 2^63-1 is common). A malformed body is a NodeMessageError naming the bad field; the route still
// answers "200" (the Go master answers before processing) and logs it.

import { decodeAdminTask } from './admin-task.js';
import { NodeMessageError } from './errors.js';
import {
  asObject,
  readBool,
  readFloat,
  readObjectArray,
  readSafeInt,
  readSafeUint,
  readString,
  readStringArray,
  readUint64,
  readUint64Array,
  readInt64,
  type JsonObject,
} from './json-fields.js';
import { isDataNodeOpcode, isMetaNodeOpcode, Opcode } from './opcodes.js';
import { decodePeer, type ReplicaPeer } from './task-requests.js';

/** Which route the body came to. */
export type NodeResponseSource = 'metaNode' | 'dataNode';

/** proto.MetaPartitionReport. */
export interface MetaPartitionReport {
  readonly partitionId: number;
  readonly start: bigint;
  readonly end: bigint;
  /** 2 = read-write, 1 = read-only, -1 = unavailable (no leader). */
  readonly status: number;
  readonly sizeBytes: bigint;
  /** The partition's inode cursor. */
  readonly maxInodeId: bigint;
  readonly isLeader: boolean;
  readonly volName: string;
  readonly inodeCount: bigint;
  readonly dentryCount: bigint;
  readonly txCount: bigint;
  readonly txRbInodeCount: bigint;
  readonly txRbDentryCount: bigint;
  readonly freeListLength: bigint;
  readonly forbidWriteOpOfProtoVer0: boolean;
  readonly localPeers: readonly ReplicaPeer[];
  /** Bitmask: cursor out of range, memory limit. */
  readonly readOnlyReasons: number;
}

/** proto.MetaNodeHeartbeatResponse. */
export interface MetaNodeHeartbeatReport {
  /** '' means the default zone. */
  readonly zoneName: string;
  /** The node's configured totalMem, bytes. */
  readonly total: bigint;
  /** Process memory in use, bytes. */
  readonly used: bigint;
  /** used / total (0 when total is 0), as the Go master computes Ratio. */
  readonly ratio: number;
  readonly nodeMemTotal: bigint;
  readonly nodeMemUsed: bigint;
  readonly cpuUtil: number;
  /** 1 = ok, 2 = failed (then `result` says why). */
  readonly status: number;
  readonly result: string;
  readonly receivedForbidWriteOpOfProtoVer0: boolean;
  readonly metaPartitions: readonly MetaPartitionReport[];
}

/** proto.DataPartitionReport. */
export interface DataPartitionReport {
  readonly partitionId: number;
  readonly volName: string;
  /** PartitionStatus: 2 = read-write. */
  readonly status: number;
  readonly isLeader: boolean;
  /** The partition's size (Total). */
  readonly totalBytes: bigint;
  readonly usedBytes: bigint;
  readonly diskPath: string;
  readonly extentCount: number;
  readonly needCompare: boolean;
  readonly decommissionRepairProgress: number;
  readonly localPeers: readonly ReplicaPeer[];
  readonly triggerDiskError: boolean;
  readonly forbidWriteOpOfProtoVer0: boolean;
  readonly readOnlyReasons: number;
  readonly isMissingTinyExtent: boolean;
  readonly isRepairing: boolean;
}

/** proto.DiskStat. */
export interface DiskStat {
  readonly status: number;
  readonly diskPath: string;
  readonly total: bigint;
  readonly used: bigint;
  readonly available: bigint;
  readonly ioUtil: number;
  readonly totalPartitionCount: number;
  readonly diskErrPartitionList: readonly bigint[];
}

/** proto.DataNodeHeartbeatResponse (the fields the master uses). */
export interface DataNodeHeartbeatReport {
  readonly total: bigint;
  readonly used: bigint;
  readonly available: bigint;
  readonly totalPartitionSize: bigint;
  readonly remainingCapacity: bigint;
  readonly createdPartitionCount: number;
  readonly maxCapacity: bigint;
  readonly startTimeSec: bigint;
  readonly zoneName: string;
  /** The master ignores the report unless this is 1. */
  readonly status: number;
  readonly result: string;
  readonly dataPartitions: readonly DataPartitionReport[];
  readonly allDisks: readonly string[];
  readonly diskStats: readonly DiskStat[];
  readonly badDisks: readonly string[];
  readonly lostDisks: readonly string[];
  readonly cpuUtil: number;
  readonly receivedForbidWriteOpOfProtoVer0: boolean;
}

interface TaskFields {
  /** The node's addr (OperatorAddr); the master finds the node by it. */
  readonly nodeAddr: string;
  /** AdminTask.ID, the dedupe key of the queued task this answers. */
  readonly taskId: string;
  readonly requestId: string;
}

export type NodeResponse =
  | ({ readonly kind: 'metaHeartbeat'; readonly report: MetaNodeHeartbeatReport } & TaskFields)
  | ({ readonly kind: 'dataHeartbeat'; readonly report: DataNodeHeartbeatReport } & TaskFields)
  | ({
      readonly kind: 'taskResult';
      readonly opCode: number;
      readonly partitionId: number;
      /** Response.Status: 1 succeeded, 2 failed. */
      readonly status: number;
      /** Response.Result: the error text when failed. */
      readonly result: string;
      /** Response as parsed (64-bit exact), for the op's own handler. */
      readonly response: JsonObject;
    } & TaskFields);

function decodeMetaPartitionReport(o: JsonObject, at: string): MetaPartitionReport {
  return {
    partitionId: readSafeUint(o, 'PartitionID', at),
    start: readUint64(o, 'Start', at),
    end: readUint64(o, 'End', at),
    status: readSafeInt(o, 'Status', at),
    sizeBytes: readUint64(o, 'Size', at),
    maxInodeId: readUint64(o, 'MaxInodeID', at),
    isLeader: readBool(o, 'IsLeader', at),
    volName: readString(o, 'VolName', at),
    inodeCount: readUint64(o, 'InodeCnt', at),
    dentryCount: readUint64(o, 'DentryCnt', at),
    txCount: readUint64(o, 'TxCnt', at),
    txRbInodeCount: readUint64(o, 'TxRbInoCnt', at),
    txRbDentryCount: readUint64(o, 'TxRbDenCnt', at),
    freeListLength: readUint64(o, 'FreeListLen', at),
    forbidWriteOpOfProtoVer0: readBool(o, 'ForbidWriteOpOfProtoVer0', at),
    localPeers: readObjectArray(o, 'LocalPeers', at, decodePeer),
    readOnlyReasons: readSafeUint(o, 'ReadOnlyReasons', at),
  };
}

function ratioOf(used: bigint, total: bigint): number {
  return total === 0n ? 0 : Number(used) / Number(total);
}

export function decodeMetaNodeHeartbeatResponse(o: JsonObject, at = 'Response'): MetaNodeHeartbeatReport {
  const total = readUint64(o, 'Total', at);
  const used = readUint64(o, 'Used', at);
  return {
    zoneName: readString(o, 'ZoneName', at),
    total,
    used,
    ratio: ratioOf(used, total),
    nodeMemTotal: readUint64(o, 'NodeMemTotal', at),
    nodeMemUsed: readUint64(o, 'NodeMemUsed', at),
    cpuUtil: readFloat(o, 'cpuUtil', at),
    status: readSafeInt(o, 'Status', at),
    result: readString(o, 'Result', at),
    receivedForbidWriteOpOfProtoVer0: readBool(o, 'ReceivedForbidWriteOpOfProtoVer0', at),
    metaPartitions: readObjectArray(o, 'MetaPartitionReports', at, decodeMetaPartitionReport),
  };
}

function decodeDataPartitionReport(o: JsonObject, at: string): DataPartitionReport {
  return {
    partitionId: readSafeUint(o, 'PartitionID', at),
    volName: readString(o, 'VolName', at),
    status: readSafeInt(o, 'PartitionStatus', at),
    isLeader: readBool(o, 'IsLeader', at),
    totalBytes: readUint64(o, 'Total', at),
    usedBytes: readUint64(o, 'Used', at),
    diskPath: readString(o, 'DiskPath', at),
    extentCount: readSafeInt(o, 'ExtentCount', at),
    needCompare: readBool(o, 'NeedCompare', at),
    decommissionRepairProgress: readFloat(o, 'DecommissionRepairProgress', at),
    localPeers: readObjectArray(o, 'LocalPeers', at, decodePeer),
    triggerDiskError: readBool(o, 'TriggerDiskError', at),
    forbidWriteOpOfProtoVer0: readBool(o, 'ForbidWriteOpOfProtoVer0', at),
    readOnlyReasons: readSafeUint(o, 'ReadOnlyReasons', at),
    isMissingTinyExtent: readBool(o, 'IsMissingTinyExtent', at),
    isRepairing: readBool(o, 'IsRepairing', at),
  };
}

function decodeDiskStat(o: JsonObject, at: string): DiskStat {
  return {
    status: readSafeInt(o, 'Status', at),
    diskPath: readString(o, 'DiskPath', at),
    total: readUint64(o, 'Total', at),
    used: readUint64(o, 'Used', at),
    available: readUint64(o, 'Available', at),
    ioUtil: readFloat(o, 'IOUtil', at),
    totalPartitionCount: readSafeUint(o, 'TotalPartitionCnt', at),
    diskErrPartitionList: readUint64Array(o, 'DiskErrPartitionList', at),
  };
}

export function decodeDataNodeHeartbeatResponse(o: JsonObject, at = 'Response'): DataNodeHeartbeatReport {
  return {
    total: readUint64(o, 'Total', at),
    used: readUint64(o, 'Used', at),
    available: readUint64(o, 'Available', at),
    totalPartitionSize: readUint64(o, 'TotalPartitionSize', at),
    remainingCapacity: readUint64(o, 'RemainingCapacity', at),
    createdPartitionCount: readSafeUint(o, 'CreatedPartitionCnt', at),
    maxCapacity: readUint64(o, 'MaxCapacity', at),
    startTimeSec: readInt64(o, 'StartTime', at),
    zoneName: readString(o, 'ZoneName', at),
    status: readSafeInt(o, 'Status', at),
    result: readString(o, 'Result', at),
    dataPartitions: readObjectArray(o, 'PartitionReports', at, decodeDataPartitionReport),
    allDisks: readStringArray(o, 'AllDisks', at),
    diskStats: readObjectArray(o, 'DiskStats', at, decodeDiskStat),
    badDisks: readStringArray(o, 'BadDisks', at),
    lostDisks: readStringArray(o, 'LostDisks', at),
    cpuUtil: readFloat(o, 'cpuUtil', at),
    receivedForbidWriteOpOfProtoVer0: readBool(o, 'ReceivedForbidWriteOpOfProtoVer0', at),
  };
}

/**
 * Parses the body of `POST /metaNode/response` (source 'metaNode') or `/dataNode/response`
 * ('dataNode'). Throws NodeMessageError naming the first bad field.
 */
export function parseNodeResponse(source: NodeResponseSource, body: string | Uint8Array): NodeResponse {
  const task = decodeAdminTask(body);
  if (task.OperatorAddr === '') throw new NodeMessageError('OperatorAddr', 'OperatorAddr: want the node address, got ""');
  const fromMeta = source === 'metaNode';
  const op = task.OpCode;
  const ofThisKind = op === Opcode.VersionOperation || (fromMeta ? isMetaNodeOpcode(op) : isDataNodeOpcode(op));
  if (!ofThisKind) throw new NodeMessageError('OpCode', `OpCode: ${op} is not a ${fromMeta ? 'meta' : 'data'} node task`);
  if (task.Response === null) throw new NodeMessageError('Response', 'Response: want an object, got null');
  const response = asObject(task.Response, 'Response');
  const fields: TaskFields = { nodeAddr: task.OperatorAddr, taskId: task.ID, requestId: task.RequestID };
  if (op === Opcode.MetaNodeHeartbeat) return { kind: 'metaHeartbeat', ...fields, report: decodeMetaNodeHeartbeatResponse(response) };
  if (op === Opcode.DataNodeHeartbeat) return { kind: 'dataHeartbeat', ...fields, report: decodeDataNodeHeartbeatResponse(response) };
  return {
    kind: 'taskResult',
    ...fields,
    opCode: op,
    partitionId: task.PartitionID,
    status: readSafeInt(response, 'Status', 'Response'),
    result: readString(response, 'Result', 'Response'),
    response,
  };
}

/** proto.UpdateMetaPartitionResponse, the Response of an OpUpdateMetaPartition result (spec 3.4). */
export interface UpdateMetaPartitionResult {
  readonly partitionId: number;
  readonly volName: string;
  /** The End the node now has (exact: may be 2^63-1). */
  readonly end: bigint;
  /** 1 succeeded, 2 failed. */
  readonly status: number;
  readonly result: string;
}

export function decodeUpdateMetaPartitionResponse(o: JsonObject, at = 'Response'): UpdateMetaPartitionResult {
  return {
    partitionId: readSafeUint(o, 'PartitionID', at),
    volName: readString(o, 'VolName', at),
    end: readUint64(o, 'End', at),
    status: readSafeInt(o, 'Status', at),
    result: readString(o, 'Result', at),
  };
}
