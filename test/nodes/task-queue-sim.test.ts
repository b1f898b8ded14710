// The queued sender end to end, cheaply: an API master (over a one-member FakeGroup) whose
// /metaNode/response and /dataNode/response acknowledge the queue's tasks, simulated meta and
// data nodes speaking the real HTTP and TCP protocol, and the queue ticked by the test under a
// fake clock. Heartbeats go out through it and are answered; a node that misses the range update
// of a split gets it re-queued from its next heartbeat (spec/node-protocol.md 3.2, "If the
// report's End differs from the master's End, it queues OpUpdateMetaPartition"); a paused node
// gets its heartbeat again on the resend rule.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DomainOps } from '../../src/cluster/domain-ops.js';
import { adminTaskId } from '../../src/nodes/admin-task.js';
import { Opcode } from '../../src/nodes/opcodes.js';
import { startSimNodes, type SimMetaNode, type SimNodes } from '../../src/nodes/sim/index.js';
import { TaskQueue } from '../../src/nodes/task-queue.js';
import { TcpTaskClient } from '../../src/nodes/tcp-task-client.js';
import { createVolQuery, resultsPosted, waitUntil } from '../api/domain-helpers.js';
import { ok, startMaster, type TestMaster } from '../api/helpers.js';
import { FakeGroup } from '../cluster/fakes.js';

const STEP = 4_194_304n;

void describe('the queued sender with an API master and sim nodes', () => {
  let master: TestMaster;
  let group: FakeGroup;
  let sims: SimNodes;
  let queue: TaskQueue;
  let nodes: TcpTaskClient;
  let ops: DomainOps;
  let addr = '';
  let nowMs = Date.UTC(2026, 10, 25, 19, 21, 31);

  const all = (): (SimNodes['metaNodes'][number] | SimNodes['dataNodes'][number])[] => [...sims.metaNodes, ...sims.dataNodes];
  const heartbeatsPending = (): number =>
    all().reduce((s, n) => s + queue.pending(n.addr).filter((p) => p.opCode === Opcode.MetaNodeHeartbeat || p.opCode === Opcode.DataNodeHeartbeat).length, 0);

  /** One heartbeat to every node through the queue; resolves when every report was acknowledged. */
  async function heartbeatRound(): Promise<void> {
    for (const n of all()) assert.equal(queue.heartbeat(n.addr, n.kind, { currTimeSec: Math.floor(nowMs / 1000), masterAddr: addr }), 'queued');
    await queue.tick();
    await waitUntil('every heartbeat answered', () => heartbeatsPending() === 0);
  }

  before(async () => {
    group = new FakeGroup([1], 1);
    nodes = new TcpTaskClient({ syncReplyTimeoutMs: 3_000, ackReplyTimeoutMs: 300, dialTimeoutMs: 1_000, syncTriesMax: 2, retryDelayMs: 20 });
    ops = new DomainOps();
    queue = new TaskQueue({ sender: nodes, clock: { nowMs: () => nowMs }, timer: { every: () => () => undefined } });
    queue.start();
    master = startMaster(group, 1, { cluster: { clusterName: 'test', selfId: 1, selfHttpAddr: '' }, domain: { nodes, ops, queue } });
    await master.app.listen({ host: '127.0.81.50', port: 0 });
    addr = `127.0.81.50:${(master.app.server.address() as AddressInfo).port}`;
    group.setHttpAddr(1, addr);
    sims = await startSimNodes({ masterAddrs: [addr], meta: 3, data: 3, common: { registerRetryDelayMs: 20, httpTimeoutMs: 2_000 } });
    await heartbeatRound();
  });

  after(async () => {
    await master?.app.close();
    await queue?.stop();
    await ops?.quiesce(0, 1_000);
    await nodes?.close();
    await sims?.close();
  });

  void test('heartbeats sent through the queue are answered: every node live, nothing left queued', () => {
    for (const n of sims.metaNodes) assert.equal(group.state.live.metaNodes.get(n.nodeId)?.isActive, true, n.addr);
    for (const n of sims.dataNodes) assert.equal(group.state.live.dataNodes.get(n.nodeId)?.isActive, true, n.addr);
    assert.equal(queue.stats.tasks, 0);
    assert.equal(queue.stats.acknowledged, 6);
    assert.equal(queue.stats.sendFailures, 0);
  });

  void test('a node that missed the range update of a split gets it re-queued from its heartbeat, and applies it', async () => {
    await ok(master.app, createVolQuery({ name: 'volQ', replicaNum: 0, followerRead: false, mpCount: 3, dpCount: 1 }));
    const holders = (id: number): SimMetaNode[] => sims.metaNodes.filter((n) => n.partition(id) !== undefined);
    assert.equal(holders(3).length, 3);
    const cursor = (group.state.metaPartitions.get(3)?.start ?? 0n) + 1000n;
    for (const n of holders(3)) n.setMaxInodeId(3, cursor);
    await heartbeatRound();
    // The split's own update reaches every replica, which fails it and keeps its End.
    const before = holders(3).map((n) => resultsPosted(n, Opcode.UpdateMetaPartition));
    for (const n of holders(3)) n.failNext(Opcode.UpdateMetaPartition, 1, 'injected: raft is busy');
    await ok(master.app, '/metaPartition/create?name=volQ&count=1');
    const newEnd = cursor + STEP;
    assert.equal(group.state.metaPartitions.get(3)?.end, newEnd);
    await waitUntil('the failed update results', () => holders(3).every((n, i) => resultsPosted(n, Opcode.UpdateMetaPartition) > before[i]));
    assert.ok(master.logs.some((l) => l.msg === 'meta partition range update failed on the node' && l.result === 'injected: raft is busy'));
    for (const n of holders(3)) assert.notEqual(n.partition(3)?.end, newEnd);

    // Their next reports show the old End: one update per node is queued, with the record's End.
    for (const n of all()) queue.heartbeat(n.addr, n.kind, { currTimeSec: Math.floor(nowMs / 1000), masterAddr: addr });
    await queue.tick();
    await waitUntil('the stale reports', () => heartbeatsPending() === 0);
    for (const n of holders(3)) assert.deepEqual(queue.pending(n.addr).map((p) => p.id), [adminTaskId(Opcode.UpdateMetaPartition, n.addr, 3)]);
    const updatesAcked = queue.stats.acknowledged;
    await queue.tick();
    await waitUntil('the updates applied and answered', () => queue.stats.tasks === 0);
    assert.equal(queue.stats.acknowledged, updatesAcked + 3);
    for (const n of holders(3)) assert.equal(n.partition(3)?.end, newEnd);
    assert.ok(master.logs.some((l) => l.msg === 'meta partition range updated on the node' && l.end === newEnd.toString()));

    // Reports now agree with the record: nothing more is queued.
    await heartbeatRound();
    assert.equal(queue.stats.tasks, 0);
  });

  void test('a paused node: the heartbeat ack times out, the task is re-sent after 5 s and then answered', async () => {
    const node = sims.dataNodes[0];
    node.pause();
    queue.heartbeat(node.addr, 'data', { currTimeSec: Math.floor(nowMs / 1000), masterAddr: addr });
    const failures = queue.stats.sendFailures;
    await queue.tick();
    assert.equal(queue.stats.sendFailures, failures + 1);
    assert.deepEqual(queue.pending(node.addr).map((p) => p.sendCount), [1]);
    node.resume();
    nowMs += 2_000;
    await queue.tick();
    assert.deepEqual(queue.pending(node.addr).map((p) => p.sendCount), [1], 'not due yet');
    nowMs += 4_000;
    await queue.tick();
    await waitUntil('the re-sent heartbeat answered', () => queue.pending(node.addr).length === 0);
  });
});
