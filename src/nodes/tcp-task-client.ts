// NodeTaskClient over real TCP: AdminTask JSON in a 57-byte-header packet to the node's
// registered addr, one reply per request on a pooled connection (spec/node-protocol.md 2, 3).
//
// Timeouts and tries follow the Go master (master/admin_task_manager.go, proto/packet.go):
// - dial: 10 s (connectTimeout); write: 5 s per packet (WriteDeadlineTime);
// - synchronous ops (create/delete/load partition): wait up to 30 s for the reply
//   (SyncSendTaskDeadlineTime) and try up to 3 times, 100 ms apart (MaxRetryNum, RetryInterval).
//   A try that times out, loses its connection or reads garbage is retried on a fresh
//   connection; a reply with a ResultCode other than OK is final. Re-sending a create is safe:
//   the nodes answer OK for a partition that already exists with the same parameters;
// - ack-only ops (heartbeat, update MP, load DP): wait up to 5 s for the ack (ReadDeadlineTime),
//   one try; the domain's task scheduler re-sends on its next tick, as the Go queued sender does.
//   One exception: a pooled connection that turns out to be dead before anything was read (the
//   node restarted while it sat idle) gets one more try on a fresh connection.
//   The queued sender (task-queue.ts) sends its tasks through sendAdminTask, ack mode.
// SendTime is 0 for synchronous tasks and the send time for ack-only ones, as the Go senders set it.
// Malformed replies (short, wrong magic, a huge length, a reply to another request, Data that is
// not what the op answers) close that connection with one logged warning and count as a
// 'protocol' failure of the try: retried for synchronous ops, final for ack-only ones.

import { randomUUID } from 'node:crypto';
import type net from 'node:net';
import { newAdminTask, encodeAdminTask, utf8Text, type AdminTask } from './admin-task.js';
import { parseJsonBody } from './json-fields.js';
import { NodeConnectionPool } from './node-connection-pool.js';
import { Opcode, opcodeName, ResultCode, resultCodeName } from './opcodes.js';
import { DEFAULT_PACKET_LIMITS, makePacket, type Packet } from './packet.js';
import {
  NodeTaskError,
  type CreateDataPartitionTask,
  type CreateMetaPartitionTask,
  type HeartbeatRequest,
  type NodeKind,
  type NodeTaskClient,
  type TaskLogSink,
  type UpdateMetaPartitionTask,
} from './task-client.js';
import {
  createDataPartitionRequest,
  createMetaPartitionRequest,
  deleteDataPartitionRequest,
  deleteMetaPartitionRequest,
  heartbeatRequestWire,
  loadDataPartitionRequest,
  loadMetaPartitionRequest,
  updateMetaPartitionRequest,
} from './task-requests.js';

export interface TcpTaskClientOptions {
  /** Connect timeout (Go: 10 s). */
  readonly dialTimeoutMs?: number;
  /** Deadline of each packet's write (Go: 5 s). */
  readonly writeTimeoutMs?: number;
  /** Reply wait of synchronous ops, per try (Go: 30 s). */
  readonly syncReplyTimeoutMs?: number;
  /** Ack wait of ack-only ops (Go: 5 s). */
  readonly ackReplyTimeoutMs?: number;
  /** Tries of synchronous ops (Go: 3). */
  readonly syncTriesMax?: number;
  /** Pause between tries (Go: 100 ms). */
  readonly retryDelayMs?: number;
  /** Open connections per node address. */
  readonly connectionsPerNodeMax?: number;
  /** Calls that may wait for a busy node's connection before 'busy'. */
  readonly waitersPerNodeMax?: number;
  /** An unused pooled connection is closed after this (Go: 90 s). */
  readonly idleTimeoutMs?: number;
  /** Largest reply Data accepted. */
  readonly maxReplyDataBytes?: number;
  /** Unix seconds for CreateTime/SendTime. */
  readonly nowSec?: () => number;
  /** AdminTask.RequestID. */
  readonly newRequestId?: () => string;
  /** The packet ReqID counter's start; each packet takes the next value (Go: unixSeconds<<32 + 1). */
  readonly firstReqId?: bigint;
  /** Where protocol faults (malformed replies) are reported, one line per closed connection. */
  readonly logger?: TaskLogSink;
}

export const TCP_TASK_CLIENT_DEFAULTS = {
  dialTimeoutMs: 10_000,
  writeTimeoutMs: 5_000,
  syncReplyTimeoutMs: 30_000,
  ackReplyTimeoutMs: 5_000,
  syncTriesMax: 3,
  retryDelayMs: 100,
  connectionsPerNodeMax: 4,
  waitersPerNodeMax: 64,
  idleTimeoutMs: 90_000,
  maxReplyDataBytes: DEFAULT_PACKET_LIMITS.maxDataBytes,
} as const;

type Mode = 'sync' | 'ack';

const RETRYABLE: ReadonlySet<string> = new Set(['timeout', 'unreachable', 'protocol']);

export class TcpTaskClient implements NodeTaskClient {
  private readonly o: Required<Omit<TcpTaskClientOptions, 'firstReqId' | 'logger'>>;
  private readonly logger: TaskLogSink | undefined;
  private reqIdCounter: bigint;
  private readonly pools = new Map<string, NodeConnectionPool>();
  private readonly sockets = new Set<net.Socket>();
  /** Aborted by close(): ends retry pauses at once. */
  private readonly closing = new AbortController();
  private closePromise: Promise<void> | null = null;

  constructor(options: TcpTaskClientOptions = {}) {
    const nowSec = options.nowSec ?? ((): number => Math.floor(Date.now() / 1000));
    this.o = {
      dialTimeoutMs: options.dialTimeoutMs ?? TCP_TASK_CLIENT_DEFAULTS.dialTimeoutMs,
      writeTimeoutMs: options.writeTimeoutMs ?? TCP_TASK_CLIENT_DEFAULTS.writeTimeoutMs,
      syncReplyTimeoutMs: options.syncReplyTimeoutMs ?? TCP_TASK_CLIENT_DEFAULTS.syncReplyTimeoutMs,
      ackReplyTimeoutMs: options.ackReplyTimeoutMs ?? TCP_TASK_CLIENT_DEFAULTS.ackReplyTimeoutMs,
      syncTriesMax: Math.max(1, options.syncTriesMax ?? TCP_TASK_CLIENT_DEFAULTS.syncTriesMax),
      retryDelayMs: options.retryDelayMs ?? TCP_TASK_CLIENT_DEFAULTS.retryDelayMs,
      connectionsPerNodeMax: Math.max(1, options.connectionsPerNodeMax ?? TCP_TASK_CLIENT_DEFAULTS.connectionsPerNodeMax),
      waitersPerNodeMax: options.waitersPerNodeMax ?? TCP_TASK_CLIENT_DEFAULTS.waitersPerNodeMax,
      idleTimeoutMs: options.idleTimeoutMs ?? TCP_TASK_CLIENT_DEFAULTS.idleTimeoutMs,
      maxReplyDataBytes: options.maxReplyDataBytes ?? TCP_TASK_CLIENT_DEFAULTS.maxReplyDataBytes,
      nowSec,
      newRequestId: options.newRequestId ?? randomUUID,
    };
    this.reqIdCounter = options.firstReqId ?? (BigInt(nowSec()) << 32n) + 1n;
    this.logger = options.logger;
  }

  async createMetaPartition(nodeAddr: string, task: CreateMetaPartitionTask, signal?: AbortSignal): Promise<void> {
    const request = createMetaPartitionRequest(task);
    await this.send(nodeAddr, Opcode.CreateMetaPartition, task.partitionId, request, 'sync', signal);
  }

  async deleteMetaPartition(nodeAddr: string, partitionId: number, signal?: AbortSignal): Promise<void> {
    await this.send(nodeAddr, Opcode.DeleteMetaPartition, partitionId, deleteMetaPartitionRequest(partitionId), 'sync', signal);
  }

  async updateMetaPartition(nodeAddr: string, task: UpdateMetaPartitionTask, signal?: AbortSignal): Promise<void> {
    await this.send(nodeAddr, Opcode.UpdateMetaPartition, task.partitionId, updateMetaPartitionRequest(task), 'ack', signal);
  }

  async loadMetaPartition(nodeAddr: string, partitionId: number, signal?: AbortSignal): Promise<unknown> {
    const { value } = await this.send(nodeAddr, Opcode.LoadMetaPartition, partitionId, loadMetaPartitionRequest(partitionId), 'sync', signal, (reply) => {
      try {
        return parseJsonBody(utf8Text(reply.data));
      } catch (e) {
        throw new NodeTaskError('protocol', nodeAddr, Opcode.LoadMetaPartition, `OpLoadMetaPartition reply from ${nodeAddr} is not JSON: ${e instanceof Error ? e.message : String(e)}`, {
          cause: e,
        });
      }
    });
    return value;
  }

  async createDataPartition(nodeAddr: string, task: CreateDataPartitionTask, signal?: AbortSignal): Promise<{ readonly diskPath: string }> {
    const request = createDataPartitionRequest(task);
    // The datanode answers with the disk path as plain text (PacketOkWithBody(dp.Disk().Path)).
    const { value } = await this.send(nodeAddr, Opcode.CreateDataPartition, task.partitionId, request, 'sync', signal, (reply) => {
      try {
        return { diskPath: utf8Text(reply.data) };
      } catch (e) {
        throw new NodeTaskError('protocol', nodeAddr, Opcode.CreateDataPartition, `OpCreateDataPartition reply from ${nodeAddr} is not UTF-8`, { cause: e });
      }
    });
    return value;
  }

  async deleteDataPartition(nodeAddr: string, partitionId: number, signal?: AbortSignal): Promise<void> {
    await this.send(nodeAddr, Opcode.DeleteDataPartition, partitionId, deleteDataPartitionRequest(partitionId), 'sync', signal);
  }

  async loadDataPartition(nodeAddr: string, partitionId: number, _volName: string, signal?: AbortSignal): Promise<void> {
    // LoadDataPartitionRequest carries only the id; the volume name is for the caller's logs.
    await this.send(nodeAddr, Opcode.LoadDataPartition, partitionId, loadDataPartitionRequest(partitionId), 'ack', signal);
  }

  async heartbeat(nodeAddr: string, kind: NodeKind, request: HeartbeatRequest, signal?: AbortSignal): Promise<void> {
    const opCode = kind === 'meta' ? Opcode.MetaNodeHeartbeat : Opcode.DataNodeHeartbeat;
    await this.send(nodeAddr, opCode, undefined, heartbeatRequestWire(kind, request), 'ack', signal);
  }

  /**
   * Sends a task the caller built (the queued sender: its ID, CreateTime and RequestID stay the
   * same across re-sends, SendTime and SendCount are its own). Ack mode: resolves on the node's
   * OK ack; a reply with another ResultCode is a 'failed' NodeTaskError with the node's text.
   */
  async sendAdminTask(task: AdminTask, signal?: AbortSignal): Promise<void> {
    await this.sendData(task.OperatorAddr, task.OpCode, task.PartitionID, encodeAdminTask(task), 'ack', signal, () => undefined);
  }

  /** Idempotent; resolves when every socket is closed and every timer cleared. */
  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  private async doClose(): Promise<void> {
    this.closing.abort();
    for (const pool of [...this.pools.values()]) pool.close(new NodeTaskError('closed', pool.nodeAddr, 0, `task client closed`));
    this.pools.clear();
    const waits = [...this.sockets].map((s) => new Promise<void>((resolve) => (s.closed ? resolve() : s.once('close', () => resolve()))));
    for (const s of this.sockets) s.destroy();
    await Promise.all(waits);
  }

  private closedError(nodeAddr: string, opCode: number): NodeTaskError {
    return new NodeTaskError('closed', nodeAddr, opCode, `${opcodeName(opCode)} to ${nodeAddr}: task client closed`);
  }

  private nextReqId(): bigint {
    this.reqIdCounter += 1n;
    return this.reqIdCounter;
  }

  private pool(nodeAddr: string): NodeConnectionPool {
    let pool = this.pools.get(nodeAddr);
    if (pool === undefined) {
      pool = new NodeConnectionPool(
        nodeAddr,
        {
          connectionsMax: this.o.connectionsPerNodeMax,
          waitersMax: this.o.waitersPerNodeMax,
          dialTimeoutMs: this.o.dialTimeoutMs,
          writeTimeoutMs: this.o.writeTimeoutMs,
          onProtocolFault: (conn, error) => this.logger?.warn({ node: conn.nodeAddr, op: opcodeName(error.opCode), err: error.message }, 'malformed reply from a node: connection closed'),
          idleTimeoutMs: this.o.idleTimeoutMs,
          limits: { maxDataBytes: this.o.maxReplyDataBytes },
          track: (socket) => {
            this.sockets.add(socket);
            socket.once('close', () => this.sockets.delete(socket));
          },
        },
        (empty) => {
          if (this.pools.get(empty.nodeAddr) === empty) this.pools.delete(empty.nodeAddr);
        },
      );
      this.pools.set(nodeAddr, pool);
    }
    return pool;
  }

  /** Builds the AdminTask, sends it with the op's timeouts and tries, returns the OK reply. */
  private send(nodeAddr: string, opCode: number, partitionId: number | undefined, request: unknown, mode: Mode, signal?: AbortSignal): Promise<{ reply: Packet; value: undefined }>;
  private send<T>(nodeAddr: string, opCode: number, partitionId: number | undefined, request: unknown, mode: Mode, signal: AbortSignal | undefined, accept: (reply: Packet) => T): Promise<{ reply: Packet; value: T }>;
  private send<T>(
    nodeAddr: string,
    opCode: number,
    partitionId: number | undefined,
    request: unknown,
    mode: Mode,
    signal?: AbortSignal,
    accept?: (reply: Packet) => T,
  ): Promise<{ reply: Packet; value: T | undefined }> {
    if (this.closePromise !== null) return Promise.reject(this.closedError(nodeAddr, opCode));
    const now = this.o.nowSec();
    const data = encodeAdminTask(
      newAdminTask({ opCode, operatorAddr: nodeAddr, partitionId, request, createTimeSec: now, sendTimeSec: mode === 'ack' ? now : 0, requestId: this.o.newRequestId() }),
    );
    return this.sendData(nodeAddr, opCode, partitionId ?? 0, data, mode, signal, accept ?? (() => undefined));
  }

  /**
   * Sends `data` with the op's timeouts and tries. `accept` reads the OK reply (throwing a
   * 'protocol' NodeTaskError when its Data is unusable: the connection is closed and the try
   * counts as failed). A ResultCode other than OK is a 'failed' error carrying the node's text.
   */
  private async sendData<T>(
    nodeAddr: string,
    opCode: number,
    partitionId: number,
    data: Buffer,
    mode: Mode,
    signal: AbortSignal | undefined,
    accept: (reply: Packet) => T,
  ): Promise<{ reply: Packet; value: T }> {
    if (this.closePromise !== null) throw this.closedError(nodeAddr, opCode);
    const replyTimeoutMs = mode === 'sync' ? this.o.syncReplyTimeoutMs : this.o.ackReplyTimeoutMs;
    const triesMax = mode === 'sync' ? this.o.syncTriesMax : 1;
    let staleRetryLeft = mode === 'ack' ? 1 : 0;
    for (let tryNo = 1; ; ) {
      const packet = makePacket({ opcode: opCode, partitionId: BigInt(partitionId), reqId: this.nextReqId(), data });
      let reused = false;
      let reply: Packet;
      let value: T | undefined;
      try {
        const pool = this.pool(nodeAddr);
        const lease = await pool.acquire(opCode, replyTimeoutMs, signal);
        reused = lease.reused;
        reply = await lease.conn.request(packet, replyTimeoutMs, signal);
        if (reply.resultCode === ResultCode.OK) {
          try {
            value = accept(reply);
          } catch (e) {
            if (e instanceof NodeTaskError) lease.conn.replyFault(e);
            throw e;
          }
        }
        pool.release(lease.conn);
      } catch (e) {
        if (!(e instanceof NodeTaskError)) throw e;
        if (this.closePromise !== null) throw this.closedError(nodeAddr, opCode);
        const stale = reused && e.reason === 'unreachable' && staleRetryLeft > 0;
        const retry = stale || (RETRYABLE.has(e.reason) && tryNo < triesMax);
        if (!retry) throw e;
        if (stale) staleRetryLeft -= 1;
        else tryNo += 1;
        await this.pause(this.o.retryDelayMs, nodeAddr, opCode, signal);
        continue;
      }
      if (reply.resultCode !== ResultCode.OK) {
        let text: string;
        try {
          text = utf8Text(reply.data);
        } catch {
          text = `<${reply.data.length} bytes>`;
        }
        throw new NodeTaskError('failed', nodeAddr, opCode, text === '' ? `${opcodeName(opCode)} to ${nodeAddr} failed: ${resultCodeName(reply.resultCode)}` : text, {
          resultCode: reply.resultCode,
        });
      }
      return { reply, value: value as T };
    }
  }

  /** The pause between tries; ends early (with the matching error) on abort or close. */
  private pause(ms: number, nodeAddr: string, opCode: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const closing = this.closing.signal;
      const done = (error: NodeTaskError | null): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        closing.removeEventListener('abort', onClose);
        if (error === null) resolve();
        else reject(error);
      };
      const onAbort = (): void => done(new NodeTaskError('aborted', nodeAddr, opCode, `${opcodeName(opCode)} to ${nodeAddr} aborted`, { cause: signal?.reason }));
      const onClose = (): void => done(this.closedError(nodeAddr, opCode));
      const timer = setTimeout(() => done(null), ms);
      if (signal?.aborted) return onAbort();
      if (closing.aborted) return onClose();
      signal?.addEventListener('abort', onAbort, { once: true });
      closing.addEventListener('abort', onClose, { once: true });
    });
  }
}
