// What the domain (src/cluster) uses to send admin tasks to meta and data nodes, and the one
// error it gets back. The TCP implementation is tcp-task-client.ts; tests may fake this.
//
// Two kinds of op (spec/node-protocol.md 2.3):
// - synchronous: the node does the work before it replies, and the reply is the result
//   (create/delete/load meta partition, create/delete data partition);
// - ack-only: the reply only acknowledges receipt; the result comes later as an HTTP POST to
//   /metaNode/response or /dataNode/response (heartbeats, update meta partition, load data
//   partition), parsed by heartbeat-report.ts. The domain matches it by task ID (adminTaskId).

import { CubeCode, OperatingError } from '../util/errors.js';
import type { HeartbeatRequest, NodeKind, ReplicaPeer } from './task-requests.js';

export type { HeartbeatRequest, NodeKind, ReplicaPeer, VolTxInfo } from './task-requests.js';

export interface CreateMetaPartitionTask {
  readonly partitionId: number;
  readonly volName: string;
  /** First inode id of the range (inclusive). */
  readonly start: bigint;
  /** Last inode id (inclusive); 2^63-1 for a volume's last partition. */
  readonly end: bigint;
  readonly members: readonly ReplicaPeer[];
}

export interface CreateDataPartitionTask {
  readonly partitionId: number;
  readonly volName: string;
  readonly partitionSizeBytes: bigint;
  readonly replicaNum: number;
  readonly members: readonly ReplicaPeer[];
  /** The replicas' addrs, leader first. */
  readonly hosts: readonly string[];
  /** The volume's media type (1 SSD, 2 HDD). Not part of the Go request: the node's disk decides. */
  readonly mediaType: number;
  /** PartitionTyp; default 0 (normal extent partition). */
  readonly partitionType?: number;
  /** CreateType; default 0 (normal), 1 when re-creating a decommissioned replica. */
  readonly createType?: number;
  /** LeaderSize: the leader's used bytes when re-creating a replica; default 0. */
  readonly leaderSizeBytes?: bigint;
  readonly isRandomWrite?: boolean;
  readonly decommissionedDisks?: readonly string[];
}

export interface UpdateMetaPartitionTask {
  readonly partitionId: number;
  readonly volName: string;
  readonly start: bigint;
  /** The new End; the node only uses this (spec 3.4). */
  readonly end: bigint;
}

/** Where the node layer reports operating events (a pino logger fits). */
export interface TaskLogSink {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface NodeTaskClient {
  /** Sync. Resolves when the node created it (or already has the same partition). */
  createMetaPartition(nodeAddr: string, task: CreateMetaPartitionTask, signal?: AbortSignal): Promise<void>;
  /** Sync. A node answers OK for a partition it does not have. */
  deleteMetaPartition(nodeAddr: string, partitionId: number, signal?: AbortSignal): Promise<void>;
  /** Ack-only; the result comes as a /metaNode/response with OpCode 0x43. Send it to the MP leader. */
  updateMetaPartition(nodeAddr: string, task: UpdateMetaPartitionTask, signal?: AbortSignal): Promise<void>;
  /** Sync; resolves with the node's MetaPartitionLoadResponse as parsed (64-bit exact). */
  loadMetaPartition(nodeAddr: string, partitionId: number, signal?: AbortSignal): Promise<unknown>;
  /** Sync; resolves with the disk the node placed the partition on. */
  createDataPartition(nodeAddr: string, task: CreateDataPartitionTask, signal?: AbortSignal): Promise<{ readonly diskPath: string }>;
  /** Sync. */
  deleteDataPartition(nodeAddr: string, partitionId: number, signal?: AbortSignal): Promise<void>;
  /** Ack-only; the result comes as a /dataNode/response with OpCode 0x62. */
  loadDataPartition(nodeAddr: string, partitionId: number, volName: string, signal?: AbortSignal): Promise<void>;
  /** Ack-only; the report comes as a /metaNode/response or /dataNode/response heartbeat. */
  heartbeat(nodeAddr: string, kind: NodeKind, request: HeartbeatRequest, signal?: AbortSignal): Promise<void>;
  /** Closes every connection; calls in flight and later calls reject with reason 'closed'. */
  close(): Promise<void>;
}

export type NodeTaskErrorReason =
  /** The node answered with a ResultCode other than OK; the message is its reply text. */
  | 'failed'
  /** No reply within the op's reply timeout (after every try, for sync ops). */
  | 'timeout'
  /** Could not connect (refused, dial timeout) or the connection broke before the reply. */
  | 'unreachable'
  /** The client was closed. */
  | 'closed'
  /** The reply was not a well-formed packet, or not the reply to this request. */
  | 'protocol'
  /** The caller's signal aborted; `cause` is the signal's reason. */
  | 'aborted'
  /** Too many calls already wait for a connection to this node. */
  | 'busy';

export class NodeTaskError extends OperatingError {
  readonly reason: NodeTaskErrorReason;
  readonly nodeAddr: string;
  readonly opCode: number;
  /** The reply's ResultCode when reason is 'failed' (0xF8 OpErr, 0xF6 DiskNoSpaceErr, ...); else 0. */
  readonly resultCode: number;
  constructor(reason: NodeTaskErrorReason, nodeAddr: string, opCode: number, message: string, options: { readonly resultCode?: number; readonly cause?: unknown } = {}) {
    super(CubeCode.InternalError, message, { cause: options.cause });
    this.reason = reason;
    this.nodeAddr = nodeAddr;
    this.opCode = opCode;
    this.resultCode = options.resultCode ?? 0;
  }
}
