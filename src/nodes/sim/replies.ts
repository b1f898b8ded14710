// Reply helpers shared by the simulated nodes.

import type { AdminTask } from '../admin-task.js';
import { makeReply, ResultCode, type Packet } from '../packet.js';

export function ok(packet: Packet, data?: Uint8Array): { readonly reply: Packet } {
  return { reply: makeReply(packet, ResultCode.OK, data) };
}

/** An error reply: ResultCode (OpErr by default) and the message as Data, as the nodes send. */
export function err(packet: Packet, message: string, resultCode: number = ResultCode.Err): { readonly reply: Packet } {
  return { reply: makeReply(packet, resultCode, Buffer.from(message, 'utf8')) };
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The task echoed back with its Response, and Request as the node kind echoes it. */
export function answer(task: AdminTask, request: unknown, response: unknown): AdminTask {
  return {
    ID: task.ID,
    PartitionID: task.PartitionID,
    Disk: task.Disk,
    OpCode: task.OpCode,
    OperatorAddr: task.OperatorAddr,
    Status: task.Status,
    SendTime: task.SendTime,
    CreateTime: task.CreateTime,
    SendCount: task.SendCount,
    Request: request,
    Response: response,
    RequestID: task.RequestID,
  };
}

/**
 * A parsed JSON value with object keys sorted at every level: how the datanode echoes Request
 * (it decoded it into a map and marshals it again; Go sorts map keys).
 */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortedKeys((value as Record<string, unknown>)[key]);
  return out;
}
