// The queued sender of ack-only admin tasks (spec/node-protocol.md 2.3; the Go master's
// AdminTaskManager in master/admin_task_manager.go with the rules of proto/admin_task.go):
// heartbeats, OpUpdateMetaPartition, OpLoadDataPartition. The TCP reply is only an ack; the
// result comes later as the node's POST /metaNode/response or /dataNode/response, whose task ID
// the route hands to acknowledge().
//
// Rules, per node (keyed by the task's OperatorAddr):
// - de-duplication by AdminTask.ID (`addr[A]_op[N]`, `…_pid[N]`, `…_DataPartitionID[N]`): a
//   task whose ID is pending is ignored, as Go's AddTask does;
// - every tick (Go: 2 s; kick() runs one at once) a task is (re)sent when it was sent fewer than 5 times and never, or
//   more than 5 s ago (CheckTaskNeedSend); sends go out one at a time per node, urgent tasks
//   (create/load partition, update meta partition: Go's IsUrgentTask) first, then heartbeats, then
//   the rest, at most 30 per node per tick (Go's MaxTaskNum). Go sends heartbeats before urgent
//   tasks; here an urgent task never waits behind a heartbeat;
// - a task is dropped when it was sent 5 times (and its last send had its 5 s to be answered:
//   Go drops it on the next 2 s tick, before the last send could be answered) or its last send is
//   more than 100 s old without a response (CheckTaskTimeOut);
// - a send that cannot reach the node (dial, timeout, pool busy) ends that node's pass for this
//   tick, as Go's sendTasks breaks on a connection failure; a send counts either way;
// - bounded: at most `tasksPerNodeMax` tasks per node (when full the oldest heartbeat goes first,
//   then the oldest task; a new heartbeat is refused rather than push out another kind of task),
//   `tasksMax` in all, `nodesSendingMax` nodes sending at once. Every drop is counted.
// Lifecycle: the leader starts it and stops it (awaited) when it loses leadership or stops; stop
// aborts the sends in flight, waits for them, and discards what was queued (a later term
// builds its own tasks). Time comes from the injected clock and ticks from the injected timer, so
// tests drive it with a fake clock and call tick() themselves.

import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { isHeartbeatOpcode, newAdminTask, TaskStatus, type AdminTask } from './admin-task.js';
import { Opcode, opcodeName } from './opcodes.js';
import { NodeTaskError, type HeartbeatRequest, type NodeKind, type TaskLogSink, type UpdateMetaPartitionTask } from './task-client.js';
import { heartbeatRequestWire, loadDataPartitionRequest, updateMetaPartitionRequest } from './task-requests.js';

/** Sends one task and resolves on the node's OK ack (TcpTaskClient.sendAdminTask). */
export interface AdminTaskSender {
  sendAdminTask(task: AdminTask, signal: AbortSignal): Promise<void>;
}

export interface QueueClock {
  /** Unix milliseconds. */
  nowMs(): number;
}

/** Runs `fn` every `ms` until the returned cancel function is called. */
export interface TickTimer {
  every(ms: number, fn: () => void): () => void;
}

export interface TaskQueueOptions {
  readonly sender: AdminTaskSender;
  readonly clock?: QueueClock;
  /**
   * The clock of resends and expiries (lastSendMs). Default: `clock` when given (tests drive both
   * with one fake clock), else monotonicQueueClock. The master passes the monotonic clock: a step
   * of the wall clock back must not hold resends (heartbeats) back for the size of the step, nor
   * one forward expire every task at once (docs/faults.md, "Clock jumps").
   */
  readonly timing?: QueueClock;
  readonly timer?: TickTimer;
  readonly logger?: TaskLogSink;
  /** AdminTask.RequestID of the tasks the builders make. */
  readonly newRequestId?: () => string;
  /** Go TaskWorkerInterval: 2 s. */
  readonly tickMs?: number;
  /** Go ResponseInterval: a task is re-sent when its last send is older than 5 s. */
  readonly resendAfterMs?: number;
  /** Go MaxSendCount: 5. */
  readonly sendsPerTaskMax?: number;
  /** Go ResponseTimeOut: dropped 100 s after its last send without a response. */
  readonly dropAfterMs?: number;
  /** Go MaxTaskNum: 30 sends per node per tick. */
  readonly sendsPerNodePerTickMax?: number;
  readonly tasksPerNodeMax?: number;
  readonly tasksMax?: number;
  /** Nodes whose sends run at once; the others wait for a slot. */
  readonly nodesSendingMax?: number;
}

export const TASK_QUEUE_DEFAULTS = {
  tickMs: 2_000,
  resendAfterMs: 5_000,
  sendsPerTaskMax: 5,
  dropAfterMs: 100_000,
  sendsPerNodePerTickMax: 30,
  tasksPerNodeMax: 256,
  tasksMax: 200_000,
  nodesSendingMax: 128,
} as const;

export type EnqueueOutcome =
  | 'queued'
  /** A task with the same ID is pending; the new one is ignored. */
  | 'duplicate'
  /** The queue is not running (this member does not lead). */
  | 'stopped'
  /** No room: the node's queue holds only tasks that outrank it, or the queue is at tasksMax. */
  | 'full';

export interface TaskQueueStats {
  /** Tasks pending now, and nodes with pending tasks. */
  readonly tasks: number;
  readonly nodes: number;
  /** Since construction. */
  readonly sends: number;
  readonly sendFailures: number;
  readonly acknowledged: number;
  /** Responses whose task ID was not pending (late, dropped, or a synchronous task's). */
  readonly unknownAcks: number;
  readonly duplicates: number;
  /** Dropped by the 5-sends / 100 s rules. */
  readonly expired: number;
  /** Pushed out by a newer task when the node's queue was full. */
  readonly evicted: number;
  readonly refusedFull: number;
  readonly refusedStopped: number;
  /** Discarded by stop(). */
  readonly discarded: number;
}

/** A pending task as tests and views see it. */
export interface PendingTask {
  readonly id: string;
  readonly opCode: number;
  readonly sendCount: number;
  /** On the queue's timing clock (TaskQueueOptions.timing); null before the first send. */
  readonly lastSendMs: number | null;
  readonly inFlight: boolean;
}

interface Entry {
  readonly task: AdminTask;
  readonly urgent: boolean;
  readonly heartbeat: boolean;
  sendCount: number;
  lastSendMs: number | null;
  status: number;
  inFlight: boolean;
}

interface NodeQueue {
  readonly addr: string;
  /** Insertion order = age, oldest first. */
  readonly tasks: Map<string, Entry>;
  /** A pass is running or waiting for a slot. */
  busy: boolean;
}

interface WaitingPass {
  readonly run: () => void;
  readonly cancel: () => void;
}

/** Go IsUrgentTask: create data/meta partition, load data partition, update meta partition. */
export function isUrgentOpcode(opCode: number): boolean {
  return opCode === Opcode.CreateDataPartition || opCode === Opcode.CreateMetaPartition || opCode === Opcode.LoadDataPartition || opCode === Opcode.UpdateMetaPartition;
}

/** Errors after which the node is not tried again in this tick: it is not reachable now. */
const UNREACHABLE: ReadonlySet<string> = new Set(['unreachable', 'timeout', 'busy', 'closed', 'aborted']);

const intervalTimer: TickTimer = {
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    return () => clearInterval(timer);
  },
};

const wallClock: QueueClock = { nowMs: () => Date.now() };
/** Milliseconds on the monotonic clock (performance.now()), which wall-clock steps do not move. */
export const monotonicQueueClock: QueueClock = { nowMs: () => performance.now() };

type Counters = { -readonly [K in Exclude<keyof TaskQueueStats, 'tasks' | 'nodes'>]: number };

export class TaskQueue {
  private readonly sender: AdminTaskSender;
  private readonly clock: QueueClock;
  private readonly timing: QueueClock;
  private readonly timer: TickTimer;
  private readonly logger: TaskLogSink | undefined;
  private readonly newRequestId: () => string;
  private readonly o: Required<Omit<TaskQueueOptions, 'sender' | 'clock' | 'timing' | 'timer' | 'logger' | 'newRequestId'>>;
  private readonly nodes = new Map<string, NodeQueue>();
  private taskCount = 0;
  private controller: AbortController | null = null;
  private cancelTimer: (() => void) | null = null;
  /** Passes running now; stop() awaits them. */
  private readonly passes = new Set<Promise<void>>();
  private readonly waiting: WaitingPass[] = [];
  private nodesSending = 0;
  private readonly heartbeatWires = { meta: new WeakMap<HeartbeatRequest, object>(), data: new WeakMap<HeartbeatRequest, object>() };
  private readonly counters: Counters = {
    sends: 0,
    sendFailures: 0,
    acknowledged: 0,
    unknownAcks: 0,
    duplicates: 0,
    expired: 0,
    evicted: 0,
    refusedFull: 0,
    refusedStopped: 0,
    discarded: 0,
  };

  constructor(options: TaskQueueOptions) {
    this.sender = options.sender;
    this.clock = options.clock ?? wallClock;
    this.timing = options.timing ?? options.clock ?? monotonicQueueClock;
    this.timer = options.timer ?? intervalTimer;
    this.logger = options.logger;
    this.newRequestId = options.newRequestId ?? randomUUID;
    const d = TASK_QUEUE_DEFAULTS;
    this.o = {
      tickMs: options.tickMs ?? d.tickMs,
      resendAfterMs: options.resendAfterMs ?? d.resendAfterMs,
      sendsPerTaskMax: Math.max(1, options.sendsPerTaskMax ?? d.sendsPerTaskMax),
      dropAfterMs: options.dropAfterMs ?? d.dropAfterMs,
      sendsPerNodePerTickMax: Math.max(1, options.sendsPerNodePerTickMax ?? d.sendsPerNodePerTickMax),
      tasksPerNodeMax: Math.max(1, options.tasksPerNodeMax ?? d.tasksPerNodeMax),
      tasksMax: Math.max(1, options.tasksMax ?? d.tasksMax),
      nodesSendingMax: Math.max(1, options.nodesSendingMax ?? d.nodesSendingMax),
    };
  }

  get running(): boolean {
    return this.controller !== null;
  }

  get stats(): TaskQueueStats {
    return { ...this.counters, tasks: this.taskCount, nodes: this.nodes.size };
  }

  /** The node's pending tasks, oldest first. */
  pending(nodeAddr: string): PendingTask[] {
    const node = this.nodes.get(nodeAddr);
    if (node === undefined) return [];
    return [...node.tasks.values()].map((e) => ({ id: e.task.ID, opCode: e.task.OpCode, sendCount: e.sendCount, lastSendMs: e.lastSendMs, inFlight: e.inFlight }));
  }

  /** Starts ticking; idempotent. Tasks are accepted from now on. */
  start(): void {
    if (this.controller !== null) return;
    this.controller = new AbortController();
    // Every send in flight listens on the signal (pool wait, dial, request): a few per node.
    setMaxListeners(this.o.nodesSendingMax * 4 + 16, this.controller.signal);
    this.cancelTimer = this.timer.every(this.o.tickMs, () => void this.tick());
  }

  /**
   * Stops ticking, discards every pending task, aborts the sends in flight and resolves when each
   * has settled. Idempotent; start() may follow.
   */
  async stop(): Promise<void> {
    const controller = this.controller;
    if (controller !== null) {
      this.controller = null;
      this.cancelTimer?.();
      this.cancelTimer = null;
      controller.abort(new Error('task queue stopped'));
      for (const w of this.waiting.splice(0)) w.cancel();
      // Discarded at once, so that a start() while the old sends settle begins empty.
      this.counters.discarded += this.taskCount;
      if (this.taskCount > 0) this.logger?.info({ tasks: this.taskCount, nodes: this.nodes.size }, 'node task queue stopped: pending tasks discarded');
      this.nodes.clear();
      this.taskCount = 0;
    }
    await Promise.allSettled([...this.passes]);
  }

  /** Queues `task` for its OperatorAddr. */
  enqueue(task: AdminTask): EnqueueOutcome {
    if (this.controller === null) {
      this.counters.refusedStopped += 1;
      return 'stopped';
    }
    let node = this.nodes.get(task.OperatorAddr);
    if (node?.tasks.has(task.ID) === true) {
      this.counters.duplicates += 1;
      return 'duplicate';
    }
    const heartbeat = isHeartbeatOpcode(task.OpCode);
    if (node !== undefined && node.tasks.size >= this.o.tasksPerNodeMax) {
      if (!this.makeRoom(node, heartbeat)) {
        this.counters.refusedFull += 1;
        return 'full';
      }
      // Emptied by the eviction (a limit of 1), an idle node leaves the map.
      node = this.nodes.get(task.OperatorAddr);
    }
    if (this.taskCount >= this.o.tasksMax) {
      this.counters.refusedFull += 1;
      return 'full';
    }
    if (node === undefined) {
      node = { addr: task.OperatorAddr, tasks: new Map(), busy: false };
      this.nodes.set(node.addr, node);
    }
    node.tasks.set(task.ID, { task, urgent: isUrgentOpcode(task.OpCode), heartbeat, sendCount: 0, lastSendMs: null, status: TaskStatus.Start, inFlight: false });
    this.taskCount += 1;
    return 'queued';
  }

  /**
   * OpMetaNodeHeartbeat / OpDataNodeHeartbeat; the report comes by /…/response. A round passes
   * the same request object for every node of a kind: its wire form is built once.
   */
  heartbeat(nodeAddr: string, kind: NodeKind, request: HeartbeatRequest): EnqueueOutcome {
    const opCode = kind === 'meta' ? Opcode.MetaNodeHeartbeat : Opcode.DataNodeHeartbeat;
    const wires = this.heartbeatWires[kind];
    let wire = wires.get(request);
    if (wire === undefined) {
      wire = heartbeatRequestWire(kind, request);
      wires.set(request, wire);
    }
    return this.enqueue(this.newTask(opCode, nodeAddr, undefined, wire));
  }

  /** OpUpdateMetaPartition: the node narrows (or restores) the partition's End. */
  updateMetaPartition(nodeAddr: string, task: UpdateMetaPartitionTask): EnqueueOutcome {
    return this.enqueue(this.newTask(Opcode.UpdateMetaPartition, nodeAddr, task.partitionId, updateMetaPartitionRequest(task)));
  }

  /** OpLoadDataPartition; the LoadDataPartitionResponse comes by /dataNode/response. */
  loadDataPartition(nodeAddr: string, partitionId: number): EnqueueOutcome {
    return this.enqueue(this.newTask(Opcode.LoadDataPartition, nodeAddr, partitionId, loadDataPartitionRequest(partitionId)));
  }

  /**
   * The node POSTed the result of task `taskId`: it leaves the queue. False when no such task is
   * pending (answered already, dropped, or not a queued task).
   */
  acknowledge(nodeAddr: string, taskId: string): boolean {
    const node = this.nodes.get(nodeAddr);
    if (node === undefined || !node.tasks.has(taskId)) {
      this.counters.unknownAcks += 1;
      return false;
    }
    this.remove(node, taskId);
    this.counters.acknowledged += 1;
    return true;
  }

  /**
   * Runs a pass now instead of at the next tick (the sends it starts belong to the queue, and
   * stop() awaits them). The heartbeat scheduler calls it after queueing a round, so that new
   * heartbeats go out at once: Go waits for its 2 s tick, which after a failover leaves every
   * node inactive on the new leader that much longer. Re-sends still follow the 5 s rule.
   */
  kick(): void {
    void this.tick();
  }

  /**
   * One pass of the sender: drops expired tasks, then starts a send pass for every node with a
   * task due (nodes still busy with an earlier pass are left to it). Resolves when the passes
   * it started have finished. The timer calls it; tests call it with a fake clock.
   */
  tick(): Promise<void> {
    const controller = this.controller;
    if (controller === null) return Promise.resolve();
    const nowMs = this.timing.nowMs();
    this.expire(nowMs);
    const started: Promise<void>[] = [];
    for (const node of this.nodes.values()) {
      if (node.busy) continue;
      let due = false;
      for (const e of node.tasks.values()) {
        if (this.isDue(e, nowMs)) {
          due = true;
          break;
        }
      }
      if (due) started.push(this.schedule(node, controller.signal));
    }
    return Promise.all(started).then(() => undefined);
  }

  private newTask(opCode: number, nodeAddr: string, partitionId: number | undefined, request: unknown): AdminTask {
    return newAdminTask({ opCode, operatorAddr: nodeAddr, partitionId, request, createTimeSec: Math.floor(this.clock.nowMs() / 1000), requestId: this.newRequestId() });
  }

  /** Frees one slot in a full node queue; false when the new task must be refused instead. */
  private makeRoom(node: NodeQueue, incomingHeartbeat: boolean): boolean {
    let victim: Entry | undefined;
    for (const e of node.tasks.values()) {
      if (e.heartbeat && !e.inFlight) {
        victim = e;
        break;
      }
    }
    if (victim === undefined && !incomingHeartbeat) {
      for (const e of node.tasks.values()) {
        if (!e.inFlight) {
          victim = e;
          break;
        }
      }
    }
    if (victim === undefined) return false;
    this.remove(node, victim.task.ID);
    this.counters.evicted += 1;
    this.logger?.warn({ node: node.addr, task: victim.task.ID, op: opcodeName(victim.task.OpCode) }, 'node task queue full: dropped the oldest task');
    return true;
  }

  private remove(node: NodeQueue, taskId: string): void {
    if (!node.tasks.delete(taskId)) return;
    this.taskCount -= 1;
    if (node.tasks.size === 0 && !node.busy && this.nodes.get(node.addr) === node) this.nodes.delete(node.addr);
  }

  /** Go CheckTaskNeedSend. */
  private isDue(e: Entry, nowMs: number): boolean {
    return !e.inFlight && e.sendCount < this.o.sendsPerTaskMax && (e.lastSendMs === null || nowMs - e.lastSendMs > this.o.resendAfterMs);
  }

  /** Go CheckTaskTimeOut, with the last send given its resend interval to be answered. */
  private isExpired(e: Entry, nowMs: number): boolean {
    if (e.inFlight || e.lastSendMs === null) return false;
    const sinceMs = nowMs - e.lastSendMs;
    return (e.sendCount >= this.o.sendsPerTaskMax && sinceMs > this.o.resendAfterMs) || sinceMs > this.o.dropAfterMs;
  }

  private expire(nowMs: number): void {
    for (const node of [...this.nodes.values()]) {
      for (const e of [...node.tasks.values()]) {
        if (!this.isExpired(e, nowMs)) continue;
        this.remove(node, e.task.ID);
        this.counters.expired += 1;
        this.logger?.warn({ node: node.addr, task: e.task.ID, op: opcodeName(e.task.OpCode), sends: e.sendCount }, 'node task dropped: no response until time out');
      }
    }
  }

  /** The node's tasks due now, urgent first, then heartbeats, then the rest; capped per tick. */
  private dueTasks(node: NodeQueue, nowMs: number): Entry[] {
    const due = [...node.tasks.values()].filter((e) => this.isDue(e, nowMs));
    const rank = (e: Entry): number => (e.urgent ? 0 : e.heartbeat ? 1 : 2);
    // Array.prototype.sort is stable: within a rank, oldest first.
    return due.sort((a, b) => rank(a) - rank(b)).slice(0, this.o.sendsPerNodePerTickMax);
  }

  /** Marks the node busy and runs its pass when a sending slot is free. */
  private schedule(node: NodeQueue, signal: AbortSignal): Promise<void> {
    node.busy = true;
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        node.busy = false;
        if (node.tasks.size === 0 && this.nodes.get(node.addr) === node) this.nodes.delete(node.addr);
        resolve();
      };
      const run = (): void => {
        this.nodesSending += 1;
        const pass: Promise<void> = this.runPass(node, signal)
          .catch((err: unknown) => this.logger?.warn({ node: node.addr, err }, 'node task pass failed'))
          .finally(() => {
            this.nodesSending -= 1;
            this.passes.delete(pass);
            finish();
            this.pump();
          });
        this.passes.add(pass);
      };
      this.waiting.push({ run, cancel: finish });
      this.pump();
    });
  }

  private pump(): void {
    while (this.nodesSending < this.o.nodesSendingMax && this.waiting.length > 0) this.waiting.shift()!.run();
  }

  /** Sends the node's due tasks one after another (one node, one packet at a time). */
  private async runPass(node: NodeQueue, signal: AbortSignal): Promise<void> {
    for (const e of this.dueTasks(node, this.timing.nowMs())) {
      if (signal.aborted) return;
      // Answered, evicted or discarded while an earlier task of the pass was on the wire.
      if (node.tasks.get(e.task.ID) !== e) continue;
      e.lastSendMs = this.timing.nowMs();
      e.inFlight = true;
      const wire: AdminTask = { ...e.task, Status: e.status, SendTime: Math.floor(this.clock.nowMs() / 1000), SendCount: e.sendCount };
      let unreachable = false;
      try {
        await this.sender.sendAdminTask(wire, signal);
        this.counters.sends += 1;
        e.status = TaskStatus.Running;
      } catch (err) {
        this.counters.sendFailures += 1;
        const reason = err instanceof NodeTaskError ? err.reason : 'error';
        unreachable = UNREACHABLE.has(reason) || !(err instanceof NodeTaskError);
        if (!unreachable) e.status = TaskStatus.Running;
        // The first failure of a task is worth a line; its re-sends would repeat it every 5 s.
        if (!signal.aborted && e.sendCount === 0) {
          this.logger?.info({ node: node.addr, task: e.task.ID, op: opcodeName(e.task.OpCode), reason, err: err instanceof Error ? err.message : String(err) }, 'node task send failed');
        }
      } finally {
        e.inFlight = false;
        e.sendCount += 1;
      }
      if (unreachable) return;
    }
  }
}
