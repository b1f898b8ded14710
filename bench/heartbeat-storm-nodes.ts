// One node-host process of `npm run bench:heartbeats` (forked by heartbeat-storm.ts with an IPC
// channel): simulated meta and data nodes from src/nodes/sim speaking the real protocol, with one
// measurement added in subclasses: for every heartbeat task, when the node received it over TCP
// and when its report POST was answered. The master applies a report before it answers the POST
// (/metaNode/response and /dataNode/response apply synchronously), so the answer marks "applied".
//
// IPC, parent -> child: {cmd:'start', ...}, {cmd:'mark'} (start a new sample window),
// {cmd:'collect'} (send the window's samples), {cmd:'stop'}. Child -> parent: {type:'started'},
// {type:'samples'}, {type:'error'}.
import type { AdminTask } from '../src/nodes/admin-task.js';
import { isHeartbeatOpcode } from '../src/nodes/admin-task.js';
import type { SimReply } from '../src/nodes/sim/packet-server.js';
import { SimDataNode, SimMetaNode, type SimNode } from '../src/nodes/sim/index.js';
import type { SimTaskContext } from '../src/nodes/sim/sim-node.js';

export interface StartCommand {
  readonly cmd: 'start';
  readonly masterAddrs: string[];
  readonly meta: number;
  readonly data: number;
  /** Nodes registering at the same time in this process. */
  readonly registerConcurrency: number;
}

export type ParentMessage = StartCommand | { readonly cmd: 'mark' } | { readonly cmd: 'collect' } | { readonly cmd: 'stop' };

export interface Samples {
  /**
   * Per heartbeat, epoch ms with sub-ms precision: the task's arrival at the node, the start of
   * its report POST (the node built the report), and the POST's answer (the report applied).
   */
  readonly receivedMs: number[];
  readonly postedMs: number[];
  readonly appliedMs: number[];
  /** Report POSTs that failed (no master answered). */
  readonly postErrors: number;
  /** Nodes with at least one applied report since the process started. */
  readonly nodesReported: number;
}

export type ChildMessage =
  | { readonly type: 'started'; readonly meta: number; readonly data: number; readonly registerMs: number }
  | ({ readonly type: 'samples' } & Samples)
  | { readonly type: 'error'; readonly message: string };

const nowMs = (): number => performance.timeOrigin + performance.now();

class Recorder {
  receivedMs: number[] = [];
  postedMs: number[] = [];
  appliedMs: number[] = [];
  postErrors = 0;
  readonly reported = new Set<SimNode>();

  mark(): void {
    this.receivedMs = [];
    this.postedMs = [];
    this.appliedMs = [];
    this.postErrors = 0;
  }
}

const recorder = new Recorder();

/** What both measured node kinds add: the receipt time by task ID, the POST's outcome. */
interface Measured {
  readonly pending: Map<string, number>;
}

async function measuredPost(node: SimNode & Measured, task: AdminTask, post: () => Promise<void>, lastPostError: () => boolean): Promise<void> {
  const received = isHeartbeatOpcode(task.OpCode) ? node.pending.get(task.ID) : undefined;
  const posted = nowMs();
  await post();
  if (received === undefined) return;
  node.pending.delete(task.ID);
  if (lastPostError()) {
    recorder.postErrors++;
    return;
  }
  recorder.receivedMs.push(received);
  recorder.postedMs.push(posted);
  recorder.appliedMs.push(nowMs());
  recorder.reported.add(node);
}

/** Whether this node's latest response-posted event for `taskId` carries an error. */
function postFailed(node: SimNode, taskId: string): boolean {
  const events = node.events();
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.type === 'response-posted' && e.taskId === taskId) return e.error !== null;
  }
  return false;
}

class MeasuredDataNode extends SimDataNode implements Measured {
  readonly pending = new Map<string, number>();
  protected override handleTask(ctx: SimTaskContext): Promise<SimReply> {
    if (isHeartbeatOpcode(ctx.packet.opcode)) this.pending.set(ctx.task.ID, nowMs());
    return super.handleTask(ctx);
  }
  protected override postResponse(task: AdminTask): Promise<void> {
    return measuredPost(
      this,
      task,
      () => super.postResponse(task),
      () => postFailed(this, task.ID),
    );
  }
}

class MeasuredMetaNode extends SimMetaNode implements Measured {
  readonly pending = new Map<string, number>();
  protected override handleTask(ctx: SimTaskContext): Promise<SimReply> {
    if (isHeartbeatOpcode(ctx.packet.opcode)) this.pending.set(ctx.task.ID, nowMs());
    return super.handleTask(ctx);
  }
  protected override postResponse(task: AdminTask): Promise<void> {
    return measuredPost(
      this,
      task,
      () => super.postResponse(task),
      () => postFailed(this, task.ID),
    );
  }
}

const TIB = 1n << 40n;
const nodes: SimNode[] = [];

function send(message: ChildMessage): void {
  process.send?.(message);
}

/** Starts the nodes, `registerConcurrency` at a time; a failed start fails the whole process. */
async function start(c: StartCommand): Promise<void> {
  const started = performance.now();
  const common = { masterAddrs: c.masterAddrs, eventLogMax: 8, httpTimeoutMs: 10_000, registerTriesMax: 10, registerRetryDelayMs: 500 };
  const make: (() => SimNode)[] = [
    ...Array.from({ length: c.meta }, () => () => new MeasuredMetaNode(common)),
    ...Array.from({ length: c.data }, () => () => new MeasuredDataNode({ ...common, disks: [{ path: '/sim/disk0', totalBytes: 64n * TIB }, { path: '/sim/disk1', totalBytes: 64n * TIB }] })),
  ];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < make.length) {
      const node = make[next++]();
      nodes.push(node);
      await node.start();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, c.registerConcurrency) }, worker));
  send({ type: 'started', meta: c.meta, data: c.data, registerMs: performance.now() - started });
}

let stopping: Promise<void> | null = null;
function stop(): Promise<void> {
  stopping ??= (async () => {
    await Promise.allSettled(nodes.map((n) => n.close()));
    if (process.connected) process.disconnect();
  })();
  return stopping;
}

process.on('message', (m: ParentMessage) => {
  switch (m.cmd) {
    case 'start':
      start(m).catch((e: unknown) => send({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
      return;
    case 'mark':
      recorder.mark();
      return;
    case 'collect':
      send({ type: 'samples', receivedMs: recorder.receivedMs, postedMs: recorder.postedMs, appliedMs: recorder.appliedMs, postErrors: recorder.postErrors, nodesReported: recorder.reported.size });
      return;
    case 'stop':
      void stop();
  }
});
// The parent went away (or told us to stop): close every node so no socket outlives the bench.
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
