// Simulated nodes restart as real ones do (sim-state-file.ts, docs/recovery.md): partitions and
// port come back from the state file, the node registers again, and it sets aside every
// partition the master's /metaNode/get or /dataNode/get does not list. Against the master that
// knows it, a restarted node keeps its id and its partitions; against a master that does not
// (a new cluster: what upstream advises after losing every master), it gets a new id that its
// partitions' raft groups do not know, and sets every partition aside: what a recovery prevents.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DomainOps } from '../../src/cluster/domain-ops.js';
import { SimDataNode, SimMetaNode, startSimNodes, type SimNodes } from '../../src/nodes/sim/index.js';
import { TcpTaskClient } from '../../src/nodes/tcp-task-client.js';
import { createVolQuery, waitUntil } from '../api/domain-helpers.js';
import { ok, startMaster, type TestMaster } from '../api/helpers.js';
import { FakeGroup } from '../cluster/fakes.js';

interface Master {
  readonly master: TestMaster;
  readonly group: FakeGroup;
  readonly addr: string;
  readonly nodes: TcpTaskClient;
  close(): Promise<void>;
}

async function apiMaster(host: string): Promise<Master> {
  const group = new FakeGroup([1], 1);
  const nodes = new TcpTaskClient({ syncReplyTimeoutMs: 3_000, ackReplyTimeoutMs: 2_000, dialTimeoutMs: 1_000, syncTriesMax: 2, retryDelayMs: 20 });
  const ops = new DomainOps();
  const master = startMaster(group, 1, { cluster: { clusterName: 'test', selfId: 1, selfHttpAddr: '' }, domain: { nodes, ops } });
  await master.app.listen({ host, port: 0 });
  const addr = `${host}:${(master.app.server.address() as AddressInfo).port}`;
  group.setHttpAddr(1, addr);
  return {
    master,
    group,
    addr,
    nodes,
    close: async () => {
      await master.app.close();
      await ops.quiesce(0, 1_000);
      await nodes.close();
    },
  };
}

void describe('a simulated node with a state file restarts as a real node does', () => {
  let dir: string;
  let first: Master;
  let sims: SimNodes;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sim-state-'));
    first = await apiMaster('127.0.82.1');
    sims = await startSimNodes({ masterAddrs: [first.addr], meta: 3, data: 3, stateDir: dir, common: { registerRetryDelayMs: 20, httpTimeoutMs: 2_000 } });
    // Placement needs live nodes: one heartbeat each, answered.
    const all = [...sims.metaNodes, ...sims.dataNodes];
    await Promise.all(all.map((n) => first.nodes.heartbeat(n.addr, n.kind, { currTimeSec: Math.floor(Date.now() / 1000), masterAddr: first.addr })));
    await waitUntil('every node live', () => all.every((n) => (n.kind === 'meta' ? first.group.state.live.metaNodes : first.group.state.live.dataNodes).get(n.nodeId)?.isActive === true));
    await ok(first.master.app, createVolQuery({ name: 'volR', replicaNum: 3, mpCount: 3, dpCount: 2 }));
  });

  after(async () => {
    await sims?.close();
    await first?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('comes back on its port with its id and every partition when the master knows it', async () => {
    const old = sims.metaNodes[0];
    const before = old.partitions();
    assert.equal(before.length, 3);
    await old.crash();
    const again = new SimMetaNode({ masterAddrs: [first.addr], stateFile: path.join(dir, 'meta-0.json'), registerRetryDelayMs: 20 });
    try {
      await again.start();
      assert.equal(again.addr, old.addr);
      assert.equal(again.nodeId, old.nodeId);
      assert.deepEqual(again.partitions(), before);
      assert.deepEqual(again.expiredPartitionIds(), []);
      assert.deepEqual(again.identityMismatches(), []);
    } finally {
      await again.close();
    }
  });

  void it('gets a new id and sets every partition aside when it registers with a master that does not know it', async () => {
    const stranger = await apiMaster('127.0.82.2');
    const old = sims.dataNodes[1];
    const held = old.partitions().map((p) => p.partitionId);
    assert.ok(held.length > 0);
    await old.crash();
    const again = new SimDataNode({ masterAddrs: [stranger.addr], stateFile: path.join(dir, 'data-1.json'), registerRetryDelayMs: 20 });
    try {
      await again.start();
      assert.notEqual(again.nodeId, old.nodeId);
      assert.deepEqual(again.partitions(), []);
      assert.deepEqual(again.expiredPartitionIds(), held);
      // Nothing is loaded, so no raft group runs under the wrong id; the data is out of service.
      assert.deepEqual(again.identityMismatches(), []);
    } finally {
      await again.close();
      await stranger.close();
    }
  });
});
