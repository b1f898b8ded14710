// The queued sender of ack-only tasks (src/nodes/task-queue.ts) under a fake clock and a fake
// timer: the Go rules of spec/node-protocol.md 2.3 (resend after 5 s up to 5 sends, drop after
// 100 s, de-duplication by task ID, urgent tasks first), its bounds, and its lifecycle (stop
// aborts and awaits the sends in flight).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { adminTaskId, encodeAdminTask, newAdminTask, TaskStatus, type AdminTask } from '../../src/nodes/admin-task.js';
import { Opcode } from '../../src/nodes/opcodes.js';
import { NodeTaskError } from '../../src/nodes/task-client.js';
import { TaskQueue, type AdminTaskSender, type TaskQueueOptions, type TickTimer } from '../../src/nodes/task-queue.js';

const T0_MS = Date.UTC(2026, 10, 25, 19, 21, 31);
const META = '127.0.81.1:17210';
const DATA = '127.0.81.2:17310';
const HB = { currTimeSec: Math.floor(T0_MS / 1000), masterAddr: '127.0.81.9:17010' };

class FakeClock {
  t = T0_MS;
  nowMs(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

class FakeTimer implements TickTimer {
  ms = 0;
  fn: (() => void) | null = null;
  cancelled = 0;
  every(ms: number, fn: () => void): () => void {
    this.ms = ms;
    this.fn = fn;
    return () => {
      this.fn = null;
      this.cancelled += 1;
    };
  }
}

interface Sent {
  readonly atMs: number;
  readonly task: AdminTask;
}

/** Records every send; answers with `answer` (default: an immediate ack). */
class FakeSender implements AdminTaskSender {
  readonly sent: Sent[] = [];
  answer: (task: AdminTask, signal: AbortSignal) => Promise<void> = () => Promise.resolve();
  constructor(private readonly clock: FakeClock) {}
  sendAdminTask(task: AdminTask, signal: AbortSignal): Promise<void> {
    this.sent.push({ atMs: this.clock.t, task });
    return this.answer(task, signal);
  }
  ids(): string[] {
    return this.sent.map((s) => s.task.ID);
  }
}

function setup(options: Partial<Omit<TaskQueueOptions, 'sender' | 'clock' | 'timer'>> = {}) {
  const clock = new FakeClock();
  const timer = new FakeTimer();
  const sender = new FakeSender(clock);
  let n = 0;
  const queue = new TaskQueue({ sender, clock, timer, newRequestId: () => `req-${++n}`, ...options });
  queue.start();
  return { clock, timer, sender, queue };
}

function metaHbId(addr = META): string {
  return adminTaskId(Opcode.MetaNodeHeartbeat, addr);
}

void describe('TaskQueue: resend and drop rules (Go CheckTaskNeedSend / CheckTaskTimeOut)', () => {
  void test('an unanswered task is re-sent when its last send is more than 5 s old, 5 sends in all, then dropped', async () => {
    const { clock, sender, queue } = setup();
    assert.equal(queue.heartbeat(META, 'meta', HB), 'queued');
    const sendTimes: number[] = [];
    for (let tick = 0; tick < 30; tick++) {
      await queue.tick();
      clock.advance(2_000);
    }
    for (const s of sender.sent) sendTimes.push(s.atMs - T0_MS);
    // Ticks every 2 s; a re-send needs more than 5 s since the last: 0, 6, 12, 18, 24 s.
    assert.deepEqual(sendTimes, [0, 6_000, 12_000, 18_000, 24_000]);
    // The same task each time: ID, CreateTime and RequestID kept; SendCount = sends before this one.
    assert.deepEqual(new Set(sender.sent.map((s) => s.task.ID)), new Set([metaHbId()]));
    assert.deepEqual(new Set(sender.sent.map((s) => s.task.RequestID)), new Set(['req-1']));
    assert.deepEqual(sender.sent.map((s) => s.task.SendCount), [0, 1, 2, 3, 4]);
    assert.deepEqual(sender.sent.map((s) => s.task.SendTime), sendTimes.map((t) => Math.floor((T0_MS + t) / 1000)));
    assert.deepEqual(sender.sent.map((s) => s.task.Status), [TaskStatus.Start, TaskStatus.Running, TaskStatus.Running, TaskStatus.Running, TaskStatus.Running]);
    assert.equal(sender.sent[0].task.CreateTime, Math.floor(T0_MS / 1000));
    // The fifth send had its 5 s; then the task was dropped, and a new one is accepted.
    assert.deepEqual(queue.pending(META), []);
    assert.equal(queue.stats.expired, 1);
    assert.equal(queue.heartbeat(META, 'meta', HB), 'queued');
  });

  void test('with a monotonic timing clock, wall-clock steps neither hold resends back nor expire tasks; SendTime and CreateTime keep the wall clock', async () => {
    const timing = new FakeClock();
    const { clock, sender, queue } = setup({ timing });
    assert.equal(queue.heartbeat(META, 'meta', HB), 'queued');
    await queue.tick();
    // An hour back: a wall-clock queue would wait an hour before the next send.
    clock.advance(-3_600_000);
    timing.advance(6_000);
    await queue.tick();
    // Two hours forward: a wall-clock queue would drop the task as 100 s overdue.
    clock.advance(7_200_000);
    timing.advance(6_000);
    await queue.tick();
    assert.equal(sender.sent.length, 3, 'sent, then re-sent after 6 s each time');
    assert.equal(queue.stats.expired, 0);
    assert.deepEqual(sender.sent.map((s) => s.task.SendTime), [T0_MS, T0_MS - 3_600_000, T0_MS + 3_600_000].map((t) => Math.floor(t / 1000)));
    assert.equal(sender.sent[2].task.CreateTime, Math.floor(T0_MS / 1000));
  });

  void test('the fifth send is answered within its 5 s: nothing is dropped', async () => {
    const { clock, queue } = setup();
    queue.heartbeat(META, 'meta', HB);
    for (const at of [0, 6_000, 12_000, 18_000, 24_000]) {
      clock.t = T0_MS + at;
      await queue.tick();
    }
    clock.t = T0_MS + 28_000;
    await queue.tick();
    assert.equal(queue.pending(META)[0]?.sendCount, 5);
    assert.equal(queue.acknowledge(META, metaHbId()), true);
    assert.equal(queue.stats.expired, 0);
  });

  void test('a task whose last send is more than 100 s old is dropped, not re-sent', async () => {
    const { clock, sender, queue } = setup();
    queue.updateMetaPartition(META, { partitionId: 3, volName: 'v', start: 0n, end: 12582915n });
    await queue.tick();
    clock.advance(100_000);
    await queue.tick();
    // At exactly 100 s it is still due for a re-send (the 100 s rule needs more than 100 s).
    assert.equal(sender.sent.length, 2);
    clock.advance(100_001);
    await queue.tick();
    assert.equal(sender.sent.length, 2);
    assert.deepEqual(queue.pending(META), []);
    assert.equal(queue.stats.expired, 1);
  });

  void test('the tasks it builds are exact on the wire: End 2^63-1, the Go task ID and request shape', async () => {
    const { sender, queue } = setup();
    queue.updateMetaPartition(META, { partitionId: 3, volName: 'npvol', start: 0n, end: (1n << 63n) - 1n });
    queue.loadDataPartition(DATA, 2);
    await queue.tick();
    const [update, load] = sender.sent.map((s) => encodeAdminTask(s.task).toString('utf8'));
    assert.match(update, /^\{"ID":"addr\[127\.0\.81\.1:17210\]_op\[67\]_pid\[3\]","PartitionID":3,"Disk":"","OpCode":67,/);
    assert.ok(update.includes('"Request":{"PartitionID":3,"VolName":"npvol","Start":0,"End":9223372036854775807},"Response":null,'), update);
    assert.ok(load.includes('"ID":"addr[127.0.81.2:17310]_op[98]_DataPartitionID[2]","PartitionID":2,'), load);
    assert.ok(load.includes('"Request":{"PartitionId":2}'), load);
  });

  void test('a failed send counts as a send; the task stays until its response or its drop', async () => {
    const { clock, sender, queue } = setup();
    sender.answer = (task) => Promise.reject(new NodeTaskError('failed', task.OperatorAddr, task.OpCode, 'unknown meta partition: 3'));
    queue.updateMetaPartition(META, { partitionId: 3, volName: 'v', start: 0n, end: 7n });
    await queue.tick();
    assert.deepEqual(queue.pending(META).map((p) => p.sendCount), [1]);
    assert.equal(queue.stats.sendFailures, 1);
    clock.advance(5_001);
    await queue.tick();
    assert.equal(sender.sent.length, 2);
  });
});

void describe('TaskQueue: de-duplication and acknowledgement', () => {
  void test('a task whose ID is pending is ignored; after the response the next one is queued', async () => {
    const { clock, sender, queue } = setup();
    assert.equal(queue.heartbeat(META, 'meta', HB), 'queued');
    assert.equal(queue.heartbeat(META, 'meta', { ...HB, currTimeSec: HB.currTimeSec + 6 }), 'duplicate');
    // Same op on another partition, or another node: different IDs.
    assert.equal(queue.updateMetaPartition(META, { partitionId: 3, volName: 'v', start: 0n, end: 9n }), 'queued');
    assert.equal(queue.updateMetaPartition(META, { partitionId: 3, volName: 'v', start: 0n, end: 10n }), 'duplicate');
    assert.equal(queue.updateMetaPartition(META, { partitionId: 4, volName: 'v', start: 0n, end: 9n }), 'queued');
    assert.equal(queue.heartbeat(DATA, 'data', HB), 'queued');
    assert.deepEqual(queue.stats.duplicates, 2);
    await queue.tick();
    assert.equal(sender.sent.length, 4);
    // The node's POST /metaNode/response names the task's ID (Go DelTask).
    assert.equal(queue.acknowledge(META, metaHbId()), true);
    assert.equal(queue.acknowledge(META, metaHbId()), false, 'a second response finds nothing');
    assert.equal(queue.acknowledge(DATA, metaHbId()), false, 'the ID of another node');
    assert.equal(queue.heartbeat(META, 'meta', HB), 'queued');
    // Answered tasks are never re-sent.
    queue.acknowledge(DATA, adminTaskId(Opcode.DataNodeHeartbeat, DATA));
    clock.advance(6_000);
    await queue.tick();
    assert.deepEqual(sender.ids().slice(4).sort(), [metaHbId(), adminTaskId(Opcode.UpdateMetaPartition, META, 3), adminTaskId(Opcode.UpdateMetaPartition, META, 4)].sort());
    assert.equal(queue.stats.acknowledged, 2);
    assert.equal(queue.stats.unknownAcks, 2);
  });

  void test('a response that arrives while its send is still waiting for the ack removes the task', async () => {
    const { clock, sender, queue } = setup();
    let ack!: () => void;
    sender.answer = () => new Promise<void>((resolve) => (ack = resolve));
    queue.heartbeat(META, 'meta', HB);
    const tick = queue.tick();
    assert.equal(queue.pending(META)[0]?.inFlight, true);
    // The sim and real nodes ack first, then POST; the POST may be processed first.
    assert.equal(queue.acknowledge(META, metaHbId()), true);
    ack();
    await tick;
    clock.advance(6_000);
    await queue.tick();
    assert.equal(sender.sent.length, 1);
    assert.equal(queue.stats.tasks, 0);
    assert.equal(queue.stats.nodes, 0);
  });
});

void describe('TaskQueue: order and bounds', () => {
  void test('urgent tasks go first, then heartbeats, then the rest, each oldest first', async () => {
    const { sender, queue } = setup();
    const other = newAdminTask({ opCode: Opcode.DeleteMetaPartition, operatorAddr: META, partitionId: 9, request: { PartitionID: 9 }, createTimeSec: 1, requestId: 'x' });
    assert.equal(queue.enqueue(other), 'queued');
    queue.heartbeat(META, 'meta', HB);
    queue.updateMetaPartition(META, { partitionId: 3, volName: 'v', start: 0n, end: 9n });
    const create = newAdminTask({ opCode: Opcode.CreateMetaPartition, operatorAddr: META, partitionId: 5, request: {}, createTimeSec: 1, requestId: 'y' });
    queue.enqueue(create);
    await queue.tick();
    assert.deepEqual(sender.ids(), [adminTaskId(Opcode.UpdateMetaPartition, META, 3), create.ID, metaHbId(), other.ID]);
  });

  void test('at most 30 sends per node per tick (Go MaxTaskNum); the rest go on the next tick', async () => {
    const { sender, queue } = setup({ tasksPerNodeMax: 100 });
    for (let id = 1; id <= 40; id++) queue.loadDataPartition(DATA, id);
    await queue.tick();
    assert.equal(sender.sent.length, 30);
    await queue.tick();
    assert.equal(sender.sent.length, 40);
  });

  void test('a full node queue drops its oldest heartbeat first, then its oldest task; a heartbeat never pushes out another task', () => {
    const { queue } = setup({ tasksPerNodeMax: 3 });
    queue.heartbeat(META, 'meta', HB);
    queue.updateMetaPartition(META, { partitionId: 1, volName: 'v', start: 0n, end: 9n });
    queue.updateMetaPartition(META, { partitionId: 2, volName: 'v', start: 0n, end: 9n });
    assert.equal(queue.updateMetaPartition(META, { partitionId: 3, volName: 'v', start: 0n, end: 9n }), 'queued');
    const ids = (): string[] => queue.pending(META).map((p) => p.id);
    const upd = (pid: number): string => adminTaskId(Opcode.UpdateMetaPartition, META, pid);
    assert.deepEqual(ids(), [upd(1), upd(2), upd(3)], 'the heartbeat went first');
    assert.equal(queue.heartbeat(META, 'meta', HB), 'full');
    assert.equal(queue.updateMetaPartition(META, { partitionId: 4, volName: 'v', start: 0n, end: 9n }), 'queued');
    assert.deepEqual(ids(), [upd(2), upd(3), upd(4)], 'then the oldest task');
    assert.equal(queue.stats.evicted, 2);
    assert.equal(queue.stats.refusedFull, 1);
    assert.equal(queue.stats.tasks, 3);
  });

  void test('the queue as a whole holds at most tasksMax tasks', () => {
    const { queue } = setup({ tasksMax: 2 });
    assert.equal(queue.heartbeat(META, 'meta', HB), 'queued');
    assert.equal(queue.heartbeat(DATA, 'data', HB), 'queued');
    assert.equal(queue.heartbeat('127.0.81.3:17210', 'meta', HB), 'full');
    assert.equal(queue.stats.refusedFull, 1);
  });

  void test('a node that cannot be reached ends its pass; other nodes are still served', async () => {
    const { clock, sender, queue } = setup();
    sender.answer = (task) => (task.OperatorAddr === META ? Promise.reject(new NodeTaskError('unreachable', META, task.OpCode, 'connection refused')) : Promise.resolve());
    queue.updateMetaPartition(META, { partitionId: 1, volName: 'v', start: 0n, end: 9n });
    queue.heartbeat(META, 'meta', HB);
    queue.heartbeat(DATA, 'data', HB);
    await queue.tick();
    assert.deepEqual(sender.ids().sort(), [adminTaskId(Opcode.UpdateMetaPartition, META, 1), adminTaskId(Opcode.DataNodeHeartbeat, DATA)].sort());
    assert.deepEqual(queue.pending(META).map((p) => p.sendCount), [1, 0]);
    clock.advance(2_000);
    await queue.tick();
    // The heartbeat was never sent: due at once; the update waits for its 5 s.
    assert.equal(sender.ids().at(-1), metaHbId());
  });

  void test('at most nodesSendingMax nodes send at once; a busy node is left to its running pass', async () => {
    const { sender, queue } = setup({ nodesSendingMax: 2 });
    const acks: (() => void)[] = [];
    let inFlightMax = 0;
    let inFlight = 0;
    sender.answer = () =>
      new Promise<void>((resolve) => {
        inFlight += 1;
        inFlightMax = Math.max(inFlightMax, inFlight);
        acks.push(() => {
          inFlight -= 1;
          resolve();
        });
      });
    const addrs = [1, 2, 3, 4, 5].map((i) => `127.0.81.${i}:17210`);
    for (const a of addrs) queue.heartbeat(a, 'meta', HB);
    const tick = queue.tick();
    assert.equal(sender.sent.length, 2);
    // A second tick while all five are busy (two sending, three waiting) starts nothing new.
    await Promise.race([queue.tick(), new Promise((r) => setImmediate(r))]);
    assert.equal(sender.sent.length, 2);
    while (sender.sent.length < 5 || acks.length > 0) {
      acks.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await tick;
    assert.equal(inFlightMax, 2);
    assert.deepEqual(new Set(sender.sent.map((s) => s.task.OperatorAddr)), new Set(addrs));
  });
});

void describe('TaskQueue: lifecycle', () => {
  void test('start ticks on the timer; stop cancels it, discards the tasks, and refuses new ones until the next start', async () => {
    const { timer, sender, queue } = setup({ tickMs: 2_000 });
    assert.equal(timer.ms, 2_000);
    queue.heartbeat(META, 'meta', HB);
    timer.fn?.();
    await new Promise((r) => setImmediate(r));
    assert.equal(sender.sent.length, 1);
    await queue.stop();
    assert.equal(timer.cancelled, 1);
    assert.equal(timer.fn, null);
    assert.equal(queue.running, false);
    assert.equal(queue.stats.tasks, 0);
    assert.equal(queue.stats.discarded, 1);
    assert.equal(queue.heartbeat(META, 'meta', HB), 'stopped');
    assert.equal(queue.acknowledge(META, metaHbId()), false);
    await queue.tick();
    assert.equal(sender.sent.length, 1);
    await queue.stop();
    queue.start();
    assert.equal(queue.heartbeat(META, 'meta', HB), 'queued');
  });

  void test('stop aborts the sends in flight and resolves only once they settled', async () => {
    const { sender, queue } = setup();
    const events: string[] = [];
    sender.answer = (_task, signal) =>
      new Promise<void>((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          // The TCP client settles an aborted send a moment later (socket destroyed).
          setTimeout(() => {
            events.push('send settled');
            reject(new NodeTaskError('aborted', META, Opcode.MetaNodeHeartbeat, 'aborted'));
          }, 20);
        });
      });
    queue.heartbeat(META, 'meta', HB);
    queue.heartbeat(DATA, 'data', HB);
    const tick = queue.tick();
    assert.equal(sender.sent.length, 2);
    await queue.stop();
    events.push('stop resolved');
    assert.deepEqual(events, ['send settled', 'send settled', 'stop resolved']);
    await tick;
  });

  void test('stop waits for a send that ignores the abort', async () => {
    const { sender, queue } = setup();
    let ack!: () => void;
    sender.answer = () => new Promise<void>((resolve) => (ack = resolve));
    queue.heartbeat(META, 'meta', HB);
    const tick = queue.tick();
    let stopped = false;
    const stop = queue.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(stopped, false);
    ack();
    await stop;
    await tick;
    assert.equal(stopped, true);
  });

  void test('passes waiting for a sending slot do not start after stop', async () => {
    const { sender, queue } = setup({ nodesSendingMax: 1 });
    sender.answer = (_task, signal) => new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    queue.heartbeat(META, 'meta', HB);
    queue.heartbeat(DATA, 'data', HB);
    const tick = queue.tick();
    assert.equal(sender.sent.length, 1);
    await queue.stop();
    await tick;
    assert.equal(sender.sent.length, 1);
  });
});
