// The AdminTask: the JSON Data of every master -> node packet, and the body a node POSTs back to
// /metaNode/response or /dataNode/response (spec/node-protocol.md 3; proto/admin_task.go).
//
// Field names and order are Go's (encoding/json prints struct fields in declaration order), so
// a task we encode is byte-for-byte what the Go master sends for the same values (checked against
// node-wire/master-to-node-tcp.jsonl in test/nodes/admin-task.test.ts). 64-bit values inside
// Request/Response are bigint and printed exactly by stringifyJson.

import { stringifyJson } from '../util/json.js';
import { NodeMessageError } from './errors.js';
import { asObject, parseJsonBody, readSafeInt, readSafeUint, readString, type JsonObject } from './json-fields.js';
import { isDataNodeOpcode, isMetaNodeOpcode, Opcode } from './opcodes.js';

/** AdminTask.Status (proto/admin_task.go); nodes leave it at 0, the result is in Response.Status. */
export const TaskStatus = { Start: 0, Succeeds: 1, Failed: 2, Running: 3, Stop: 4 } as const;

export interface AdminTask<Req = unknown, Resp = unknown> {
  /** Dedupe key of the master's queued sender; see adminTaskId. */
  readonly ID: string;
  /** Same as the packet header's PartitionID; 0 for heartbeats. */
  readonly PartitionID: number;
  readonly Disk: string;
  readonly OpCode: number;
  /** The node's registered addr; a node echoes it and the master finds the node by it. */
  readonly OperatorAddr: string;
  readonly Status: number;
  /** Unix seconds of the last send by the queued sender; 0 for synchronous tasks. */
  readonly SendTime: number;
  readonly CreateTime: number;
  readonly SendCount: number;
  readonly Request: Req;
  readonly Response: Resp;
  /** A UUID (NewAdminTask). */
  readonly RequestID: string;
}

export function isHeartbeatOpcode(opCode: number): boolean {
  return opCode === Opcode.MetaNodeHeartbeat || opCode === Opcode.DataNodeHeartbeat;
}

/**
 * The task ID as the Go master builds it (observed for every op in the capture, spec 3):
 * heartbeats `addr[A]_op[65]`; meta-partition tasks `addr[A]_op[64]_pid[N]`; data-partition
 * tasks `addr[A]_op[96]_DataPartitionID[N]`. The opcode is printed in decimal.
 */
export function adminTaskId(opCode: number, operatorAddr: string, partitionId?: number): string {
  const base = `addr[${operatorAddr}]_op[${opCode}]`;
  if (partitionId === undefined || isHeartbeatOpcode(opCode)) return base;
  if (isMetaNodeOpcode(opCode)) return `${base}_pid[${partitionId}]`;
  if (isDataNodeOpcode(opCode)) return `${base}_DataPartitionID[${partitionId}]`;
  return base;
}

export interface NewAdminTaskOptions<Req> {
  readonly opCode: number;
  readonly operatorAddr: string;
  /** Omitted for heartbeats (PartitionID 0, no suffix in the ID). */
  readonly partitionId?: number;
  readonly request: Req;
  readonly createTimeSec: number;
  /** 0 for tasks sent synchronously (the Go sync sender never sets it). */
  readonly sendTimeSec?: number;
  readonly sendCount?: number;
  readonly requestId: string;
}

export function newAdminTask<Req>(o: NewAdminTaskOptions<Req>): AdminTask<Req, null> {
  return {
    ID: adminTaskId(o.opCode, o.operatorAddr, o.partitionId),
    PartitionID: o.partitionId ?? 0,
    Disk: '',
    OpCode: o.opCode,
    OperatorAddr: o.operatorAddr,
    Status: TaskStatus.Start,
    SendTime: o.sendTimeSec ?? 0,
    CreateTime: o.createTimeSec,
    SendCount: o.sendCount ?? 0,
    Request: o.request,
    Response: null,
    RequestID: o.requestId,
  };
}

/** UTF-8 JSON of the task, exact for 64-bit values; the Data of the request packet. */
export function encodeAdminTask(task: AdminTask): Buffer {
  return Buffer.from(stringifyJson(task), 'utf8');
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Text of a packet's Data or an HTTP body; invalid UTF-8 is a NodeMessageError. */
export function utf8Text(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new NodeMessageError('', 'body is not valid UTF-8');
  }
}

/**
 * Decodes an AdminTask (a request packet's Data, or a /…/response body). The envelope is typed;
 * Request and Response stay as parsed (64-bit exact) for the op-specific decoders.
 */
export function decodeAdminTask(body: string | Uint8Array): AdminTask {
  const text = typeof body === 'string' ? body : utf8Text(body);
  const o: JsonObject = asObject(parseJsonBody(text), '');
  return {
    ID: readString(o, 'ID', ''),
    PartitionID: readSafeUint(o, 'PartitionID', ''),
    Disk: readString(o, 'Disk', ''),
    OpCode: readSafeInt(o, 'OpCode', '', 0, 0xff),
    OperatorAddr: readString(o, 'OperatorAddr', ''),
    Status: readSafeInt(o, 'Status', '', -128, 127),
    SendTime: readSafeInt(o, 'SendTime', ''),
    CreateTime: readSafeInt(o, 'CreateTime', ''),
    SendCount: readSafeInt(o, 'SendCount', '', 0, 0xff),
    Request: o.Request ?? null,
    Response: o.Response ?? null,
    RequestID: readString(o, 'RequestID', ''),
  };
}
