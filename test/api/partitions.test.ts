// Meta and data partition routes over simulated nodes (spec 1.5, 3.1, 3.2): the split of
// /metaPartition/create and the additions of /dataPartition/create with their texts and their
// effects on the nodes, get (64-bit exact), load, decommission and diagnose, and every refusal
// with its code and text.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { INODE_ID_MAX, putDataNodeLive } from '../../src/model/index.js';
import { Opcode } from '../../src/nodes/opcodes.js';
import { parseJsonExact } from '../../src/util/json.js';
import { dataPartitionGet5, metaPartitionGet4 } from '../model/wire-samples.js';
import { ALICE_KEY, createVolQuery, domainMaster, nodeTasks, resultsPosted, snapshot, waitUntil, type DomainMaster } from './domain-helpers.js';
import { assertSameShape, call, fails, ok, wireData } from './helpers.js';

const STEP = 4_194_304n;

type Row = Record<string, unknown>;

/** A 3-replica vol on 4 meta and 4 data nodes: every move has somewhere to go. */
const CREATE_VOLP = createVolQuery({ name: 'volP', replicaNum: 0, followerRead: false, mpCount: 3, dpCount: 3 });

/** Captured diagnose replies (cli-vs-single-master.jsonl), for their shapes. */
const MP_DIAGNOSE_SAMPLE = {
  InactiveMetaNodes: [],
  NoLeaderMetaPartitionIDs: null,
  LackReplicaMetaPartitionIDs: null,
  BadMetaPartitionIDs: null,
  UnavailableMetaPartitionIDs: null,
  InConsistRreplicaCntMetaPartitionIDs: null,
  InodeCountNotEqualIDs: null,
  MaxInodeNotEqualIDs: null,
  DentryCountNotEqualIDs: null,
  AbnormalRaftIDs: null,
};
const DP_DIAGNOSE_SAMPLE = {
  InactiveDataNodes: [],
  CorruptDataPartitionIDs: [],
  LackReplicaDataPartitionIDs: [],
  RepFileCountDifferDpIDs: [],
  RepUsedSizeDifferDpIDs: [],
  ExcessReplicaDpIDs: [],
  MissingTinyExtentDpIDs: [],
  BadDataPartitionInfos: [],
  BadReplicaDataPartitionIDs: [],
  DiskErrorDataPartitionInfos: { DiskErrReplicas: {} },
};

function metaNode(dm: DomainMaster, addr: string) {
  const n = dm.sims.metaNodes.find((m) => m.addr === addr);
  assert.ok(n !== undefined, `meta node ${addr}`);
  return n;
}

function dataNode(dm: DomainMaster, addr: string) {
  const n = dm.sims.dataNodes.find((m) => m.addr === addr);
  assert.ok(n !== undefined, `data node ${addr}`);
  return n;
}

/** The addrs of the sim nodes holding `id`. */
function holders(nodes: readonly { addr: string; partition(id: number): unknown }[], id: number): string[] {
  return nodes.filter((n) => n.partition(id) !== undefined).map((n) => n.addr).sort();
}

function peersOf(dm: DomainMaster, kind: 'meta' | 'data', id: number): string[] {
  const p = kind === 'meta' ? dm.group.state.metaPartitions.get(id) : dm.group.state.dataPartitions.get(id);
  assert.ok(p !== undefined, `${kind} partition ${id}`);
  return p.peers.map((x) => x.addr).sort();
}

async function exactData<T>(dm: DomainMaster, url: string): Promise<{ text: string; data: T }> {
  const res = await call(dm.app, url);
  const env = parseJsonExact(res.text) as { code: number; msg: string; data: T };
  assert.equal(env.code, 0, `${url}: ${env.msg}`);
  return { text: res.text, data: env.data };
}

void describe('/metaPartition/create (split) and /metaPartition/get', () => {
  let dm: DomainMaster;
  before(async () => {
    dm = await domainMaster({ meta: 4, data: 4 });
    await ok(dm.app, CREATE_VOLP);
    await dm.heartbeat();
  });
  after(() => dm.close());

  void it('answers MetaPartitionInfo as captured, with the last End exact (2^63-1)', async () => {
    const { text, data } = await exactData<Row>(dm, '/metaPartition/get?id=3');
    assert.ok(text.includes(`"PartitionID":3,"Start":${2n * STEP + 1n},"End":9223372036854775807,`), text);
    assert.equal(data.End, INODE_ID_MAX);
    const parsed = await ok(dm.app, '/metaPartition/get?id=1');
    // The capture has a LoadResponse from an earlier /metaPartition/load; compare shapes without it.
    const sample = { ...(wireData(metaPartitionGet4) as Row), LoadResponse: [] };
    assertSameShape(parsed, sample);
    const info = parsed as { Hosts: string[]; Replicas: { Addr: string; IsLeader: boolean }[]; ReplicaNum: number; VolName: string; Peers: { addr: string }[] };
    assert.deepEqual([info.VolName, info.ReplicaNum], ['volP', 3]);
    assert.deepEqual([...info.Hosts].sort(), peersOf(dm, 'meta', 1));
    assert.deepEqual(info.Peers.map((p) => p.addr), info.Hosts);
    assert.deepEqual(info.Replicas.map((r) => r.Addr).sort(), holders(dm.sims.metaNodes, 1));
    assert.equal(info.Replicas.filter((r) => r.IsLeader).length, 1);
  });

  void it('splits the last partition above its reported inode cursor and appends one, on the nodes too', async () => {
    const last = dm.group.state.metaPartitions.get(3);
    assert.ok(last !== undefined);
    const cursor = last.start + 1000n;
    for (const addr of holders(dm.sims.metaNodes, 3)) metaNode(dm, addr).setMaxInodeId(3, cursor);
    await dm.heartbeat();
    const updatesBefore = dm.sims.metaNodes.map((n) => resultsPosted(n, Opcode.UpdateMetaPartition));
    // The captured query (node-wire/http-to-master.jsonl).
    assert.deepEqual((await call(dm.app, '/metaPartition/create?name=volP&count=1')).envelope, { code: 0, msg: 'success', data: 'create meta partition successfully' });
    const newEnd = cursor + STEP;
    assert.equal(dm.group.state.metaPartitions.get(3)?.end, newEnd);
    const added = dm.group.state.metaPartitions.get(4);
    assert.ok(added !== undefined);
    assert.deepEqual([added.volName, added.start, added.end, added.peers.length], ['volP', newEnd + 1n, INODE_ID_MAX, 3]);
    // The new partition exists on its three nodes with its range.
    assert.deepEqual(holders(dm.sims.metaNodes, 4), peersOf(dm, 'meta', 4));
    for (const addr of peersOf(dm, 'meta', 4)) {
      const p = metaNode(dm, addr).partition(4);
      assert.deepEqual([p?.volName, p?.start, p?.end], ['volP', newEnd + 1n, INODE_ID_MAX]);
    }
    // The old partition's replicas narrowed their range (ack-only task, then its result).
    await waitUntil('the old replicas to narrow', () => peersOf(dm, 'meta', 3).every((addr) => metaNode(dm, addr).partition(3)?.end === newEnd));
    await waitUntil('the update results', () => dm.sims.metaNodes.reduce((s, n, i) => s + resultsPosted(n, Opcode.UpdateMetaPartition) - updatesBefore[i], 0) === 3);
    const { text, data } = await exactData<{ PartitionID: number; Start: bigint | number; End: bigint | number }[]>(dm, '/client/metaPartitions?name=volP');
    assert.deepEqual(
      data.map((m) => [m.PartitionID, BigInt(m.Start), BigInt(m.End)]),
      [
        [1, 0n, STEP],
        [2, STEP + 1n, 2n * STEP],
        [3, 2n * STEP + 1n, newEnd],
        [4, newEnd + 1n, INODE_ID_MAX],
      ],
    );
    assert.ok(text.includes('"End":9223372036854775807,'));
    assert.equal(((await ok(dm.app, '/admin/getVol?name=volP')) as Row).MpCnt, 4);
  });

  void it('appends several at once: a step each, the last one open-ended', async () => {
    await dm.heartbeat();
    const start4 = dm.group.state.metaPartitions.get(4)?.start;
    assert.ok(start4 !== undefined);
    await ok(dm.app, '/metaPartition/create?name=volP&count=2');
    // The split point is max(MaxInodeID, Start) + step: Go's MaxInodeID + step once the leader
    // reported (a fresh partition reports its Start as cursor). Kept different on purpose: each
    // appended partition holds step ids like the initial ones (Go's addMetaPartitions makes
    // [start, start+step], one more).
    const end4 = start4 + STEP; // its cursor is its start: the split is a step above it
    assert.deepEqual(
      [4, 5, 6].map((id) => {
        const p = dm.group.state.metaPartitions.get(id);
        return [p?.start, p?.end];
      }),
      [
        [start4, end4],
        [end4 + 1n, end4 + STEP],
        [end4 + STEP + 1n, INODE_ID_MAX],
      ],
    );
    for (const id of [5, 6]) assert.deepEqual(holders(dm.sims.metaNodes, id), peersOf(dm, 'meta', id));
  });

  void it('refuses a bad /metaPartition/create with its code and text, changing nothing', async () => {
    const before = snapshot(dm);
    const table: [string, number, string][] = [
      ['/metaPartition/create?name=volP', 2, '[operate_util.go 225] parameter count not found'],
      ['/metaPartition/create?name=volP&count=0', 2, 'parameter count not match'],
      ['/metaPartition/create?name=volP&count=two', 2, 'parameter count not match'],
      ['/metaPartition/create?name=volP&count=-1', 2, 'parameter count not match'],
      ['/metaPartition/create?name=volP&count=11', 2, 'count[11] exceeds maximum limit[10]'],
      ['/metaPartition/create?count=1', 2, '[operate_util.go 225] parameter name not found'],
      ['/metaPartition/create?count=1&name=vp', 2, 'name can only be number and letters'],
      // Go checks the count first.
      ['/metaPartition/create?name=vp', 2, '[operate_util.go 225] parameter count not found'],
      ['/metaPartition/create?name=nosuchvol&count=1', 7, 'vol not exists'],
      ['/metaPartition/get', 2, '[operate_util.go 225] parameter id not found'],
      ['/metaPartition/get?id=999', 10, 'meta partition not exists'],
    ];
    for (const [url, code, msg] of table) assert.equal(await fails(dm.app, url, code), msg, url);
    assert.match(await fails(dm.app, '/metaPartition/get?id=x', 2), /^args \[id\] is not legal/);
    assert.deepEqual(snapshot(dm), before);
  });

  void it('refuses a full-step split while the last partition has no reported leader (33), as Go canSplit', async () => {
    for (const addr of peersOf(dm, 'meta', 6)) metaNode(dm, addr).setLeader(6, false);
    await dm.heartbeat();
    const before = snapshot(dm);
    assert.equal(await fails(dm.app, '/metaPartition/create?name=volP&count=1', 33), 'no leader');
    assert.deepEqual(snapshot(dm), before);
    for (const addr of peersOf(dm, 'meta', 6)) metaNode(dm, addr).setLeader(6, addr === dm.group.state.metaPartitions.get(6)?.peers[0].addr);
    await dm.heartbeat();
  });

  void it('undoes a split whose new partition a node refuses: nothing committed, nothing left on the nodes', async () => {
    const node = dm.sims.metaNodes[0];
    const stop = node.failWhen((t) => t.opCode === Opcode.CreateMetaPartition);
    const lastEnd = dm.group.state.metaPartitions.get(6)?.end;
    const count = dm.group.state.metaPartitions.size;
    // Four nodes, three replicas: make sure node 0 is chosen by asking for enough partitions.
    assert.match(await fails(dm.app, '/metaPartition/create?name=volP&count=4', 1), /meta partition \d+: injected failure/);
    assert.equal(dm.group.state.metaPartitions.size, count);
    assert.equal(dm.group.state.metaPartitions.get(6)?.end, lastEnd);
    const known = new Set(dm.group.state.metaPartitions.keys());
    for (const n of dm.sims.metaNodes) for (const p of n.partitions()) assert.ok(known.has(p.partitionId), `no orphan ${p.partitionId} on ${n.addr}`);
    assert.ok(!dm.group.proposed.some((c) => c.type === 'mp.split' && c.mpId === 6));
    for (const addr of peersOf(dm, 'meta', 6)) assert.equal(metaNode(dm, addr).partition(6)?.end, INODE_ID_MAX, 'the old range is kept on the nodes');
    stop();
  });

  void it('answers success with empty data for a vol marked for deletion, creating nothing (spec 12.7, copied)', async () => {
    await ok(dm.app, `/vol/delete?name=volP&authKey=${ALICE_KEY}`);
    const before = snapshot(dm);
    assert.deepEqual((await call(dm.app, '/metaPartition/create?name=volP&count=1')).envelope, { code: 0, msg: 'success', data: '' });
    assert.deepEqual(snapshot(dm), before);
  });
});

void describe('/dataPartition/create and /dataPartition/get', () => {
  let dm: DomainMaster;
  before(async () => {
    dm = await domainMaster({ meta: 4, data: 4 });
    await ok(dm.app, CREATE_VOLP);
    await dm.heartbeat();
  });
  after(() => dm.close());

  void it('adds data partitions with the captured query and text, on three nodes each', async () => {
    const env = (await call(dm.app, '/dataPartition/create?clientIDKey=&mediaType=0&name=volP&count=1')).envelope;
    assert.deepEqual(env, {
      code: 0,
      msg: 'success',
      data: ' createDataPartition succeeeds. clusterLastTotalDataPartitions[3],vol[volP] has 3 data partitions previously and 4 data partitions now',
    });
    const dp = dm.group.state.dataPartitions.get(4);
    assert.ok(dp !== undefined);
    assert.deepEqual([dp.volName, dp.replicaNum, dp.peers.length, dp.sizeBytes, dp.mediaType], ['volP', 3, 3, 11n << 30n, 1]);
    assert.deepEqual(holders(dm.sims.dataNodes, 4), peersOf(dm, 'data', 4));
    for (const addr of peersOf(dm, 'data', 4)) {
      const p = dataNode(dm, addr).partition(4);
      assert.deepEqual([p?.volName, p?.sizeBytes, p?.replicaNum, [...(p?.hosts ?? [])].sort()], ['volP', 11n << 30n, 3, peersOf(dm, 'data', 4)]);
    }
    assert.deepEqual(
      dp.replicas.map((r) => [r.addr, r.diskPath]),
      dp.peers.map((p) => [p.addr, dataNode(dm, p.addr).partition(4)?.diskPath]),
    );
    const env2 = (await call(dm.app, '/dataPartition/create?name=volP&count=2&mediaType=1&force=false')).envelope;
    assert.equal(env2.data, ' createDataPartition succeeeds. clusterLastTotalDataPartitions[4],vol[volP] has 4 data partitions previously and 6 data partitions now');
    const view = (await ok(dm.app, '/client/partitions?name=volP')) as { DataPartitions: { PartitionID: number }[] };
    assert.deepEqual(view.DataPartitions.map((d) => d.PartitionID), [1, 2, 3, 4, 5, 6]);
    assert.equal(((await ok(dm.app, '/admin/getVol?name=volP')) as Row).DpCnt, 6);
  });

  void it('answers DataPartitionInfo as captured, with and without the vol name', async () => {
    await dm.heartbeat();
    const info = (await ok(dm.app, '/dataPartition/get?id=4&name=volP')) as { Hosts: string[]; Replicas: { Addr: string; DiskPath: string }[]; VolName: string; ReplicaNum: number };
    assertSameShape(info, wireData(dataPartitionGet5));
    assert.deepEqual([info.VolName, info.ReplicaNum, [...info.Hosts].sort()], ['volP', 3, peersOf(dm, 'data', 4)]);
    assert.deepEqual(
      info.Replicas.map((r) => [r.Addr, r.DiskPath]).sort(),
      peersOf(dm, 'data', 4).map((a) => [a, dataNode(dm, a).partition(4)?.diskPath]),
    );
    // The cfs-cli sends `name=` (empty): same answer.
    assert.deepEqual(await ok(dm.app, '/dataPartition/get?id=4&name='), info);
  });

  void it('refuses a bad /dataPartition/create or get with its code and text, changing nothing', async () => {
    const before = snapshot(dm);
    const table: [string, number, string][] = [
      ['/dataPartition/create?name=volP', 2, '[operate_util.go 225] parameter count not found'],
      ['/dataPartition/create?name=volP&count=0', 2, 'parameter count not match'],
      ['/dataPartition/create?name=volP&count=1.5', 2, 'parameter count not match'],
      ['/dataPartition/create?name=volP&count=201', 2, 'count[201] exceeds maximum limit[200]'],
      ['/dataPartition/create?count=1', 2, '[operate_util.go 225] parameter name not found'],
      ['/dataPartition/create?count=1&name=v', 2, 'name can only be number and letters'],
      ['/dataPartition/create?count=1&name=nosuchvol', 7, 'vol not exists'],
      ['/dataPartition/create?count=1&name=volP&mediaType=3', 2, 'invalid param mediaType(3)'],
      ['/dataPartition/get', 2, '[operate_util.go 225] parameter id not found'],
      ['/dataPartition/get?id=999', 11, 'data partition not exists'],
    ];
    for (const [url, code, msg] of table) assert.equal(await fails(dm.app, url, code), msg, url);
    assert.match(await fails(dm.app, '/dataPartition/create?count=1&name=volP&force=sure', 2), /force/);
    assert.deepEqual(snapshot(dm), before);
  });

  void it('refuses what no node can hold (no HDD node: 27) and a frozen cluster (1), before any node task', async () => {
    const tasks = nodeTasks(dm).length;
    const partitions = dm.group.state.dataPartitions.size;
    assert.equal(await fails(dm.app, '/dataPartition/create?count=1&name=volP&mediaType=2', 27), 'no zone available for creating a data partition');
    await ok(dm.app, '/cluster/freeze?enable=true');
    assert.equal(await fails(dm.app, '/dataPartition/create?count=1&name=volP', 1), 'cluster is disable auto allocate dataPartition');
    await ok(dm.app, '/cluster/freeze?enable=false');
    assert.equal(nodeTasks(dm).length, tasks);
    assert.equal(dm.group.state.dataPartitions.size, partitions);
  });

  void it('undoes an addition a node refuses: no partition recorded, none left on the nodes', async () => {
    const stop = dm.sims.dataNodes[2].failWhen((t) => t.opCode === Opcode.CreateDataPartition, 'disk full');
    const partitions = dm.group.state.dataPartitions.size;
    assert.match(await fails(dm.app, '/dataPartition/create?count=4&name=volP', 1), /data partition \d+: ActionCreateDataPartition_disk full/);
    stop();
    assert.equal(dm.group.state.dataPartitions.size, partitions);
    const known = new Set(dm.group.state.dataPartitions.keys());
    for (const n of dm.sims.dataNodes) for (const p of n.partitions()) assert.ok(known.has(p.partitionId), `no orphan ${p.partitionId} on ${n.addr}`);
    assert.ok(!dm.group.proposed.some((c) => c.type === 'dp.add' && c.partitions.some((p) => !known.has(p.id))));
  });
});

void describe('load, decommission and diagnose', () => {
  let dm: DomainMaster;
  before(async () => {
    dm = await domainMaster({ meta: 4, data: 4 });
    await ok(dm.app, CREATE_VOLP);
    await dm.heartbeat();
  });
  after(() => dm.close());

  void it('loads a meta partition on every replica (sync) and a data partition (ack, then results)', async () => {
    assert.deepEqual((await call(dm.app, '/metaPartition/load?id=1&name=volP')).envelope, { code: 0, msg: 'success', data: '/metaPartition/load partitionID :1 Load successfully' });
    const loads = nodeTasks(dm).filter((t) => t.op === 'OpLoadMetaPartition');
    assert.deepEqual(loads.map((t) => t.addr).sort(), peersOf(dm, 'meta', 1));
    assert.ok(loads.every((t) => t.partitionId === 1 && t.outcome === 'ok'));

    const before = dm.sims.dataNodes.map((n) => resultsPosted(n, Opcode.LoadDataPartition));
    assert.deepEqual((await call(dm.app, '/dataPartition/load?id=1&name=volP')).envelope, {
      code: 0,
      msg: 'success',
      data: '/dataPartition/loadpartitionID :1  load data partition successfully',
    });
    assert.deepEqual(nodeTasks(dm).filter((t) => t.op === 'OpLoadDataPartition').map((t) => t.addr).sort(), peersOf(dm, 'data', 1));
    await waitUntil('the load results', () => dm.sims.dataNodes.reduce((s, n, i) => s + resultsPosted(n, Opcode.LoadDataPartition) - before[i], 0) === 3);
  });

  void it('refuses to load what does not exist, or what a replica cannot load', async () => {
    assert.equal(await fails(dm.app, '/metaPartition/load?id=999', 10), 'meta partition not exists');
    assert.equal(await fails(dm.app, '/dataPartition/load?id=999', 11), 'data partition not exists');
    assert.equal(await fails(dm.app, '/metaPartition/load', 2), '[operate_util.go 225] parameter id not found');
    assert.equal(await fails(dm.app, '/dataPartition/load', 2), '[operate_util.go 225] parameter id not found');
    const holder = metaNode(dm, peersOf(dm, 'meta', 2)[0]);
    holder.failNext(Opcode.LoadMetaPartition, 1, 'load refused');
    assert.equal(await fails(dm.app, '/metaPartition/load?id=2', 1), 'load refused');
  });

  void it('moves a meta partition replica off a node: created on the spare node, deleted on the old one', async () => {
    const from = peersOf(dm, 'meta', 1)[0];
    const spare = dm.sims.metaNodes.map((n) => n.addr).find((a) => !peersOf(dm, 'meta', 1).includes(a));
    assert.ok(spare !== undefined);
    assert.deepEqual((await call(dm.app, `/metaPartition/decommission?id=1&addr=${from}`)).envelope, {
      code: 0,
      msg: 'success',
      data: '/metaPartition/decommission partitionID :1  decommissionMetaPartition successfully',
    });
    assert.ok(!peersOf(dm, 'meta', 1).includes(from));
    assert.ok(peersOf(dm, 'meta', 1).includes(spare));
    assert.deepEqual(holders(dm.sims.metaNodes, 1), peersOf(dm, 'meta', 1));
    const moved = metaNode(dm, spare).partition(1);
    assert.deepEqual([moved?.volName, moved?.start, moved?.end], ['volP', 0n, STEP]);
    const info = (await ok(dm.app, '/metaPartition/get?id=1')) as { Hosts: string[] };
    assert.deepEqual([...info.Hosts].sort(), peersOf(dm, 'meta', 1));
  });

  // Asynchronous as in Go: the reply comes first, the move follows as a tracked operation.
  void it('moves a data partition replica off a node the same way, in the background', async () => {
    const from = peersOf(dm, 'data', 2)[1];
    const spare = dm.sims.dataNodes.map((n) => n.addr).find((a) => !peersOf(dm, 'data', 2).includes(a));
    assert.ok(spare !== undefined);
    assert.deepEqual((await call(dm.app, `/dataPartition/decommission?id=2&addr=${from}`)).envelope, {
      code: 0,
      msg: 'success',
      data: `/dataPartition/decommission dataPartitionID :2  on node:${from} successfully`,
    });
    await waitUntil('the replica move', () => peersOf(dm, 'data', 2).includes(spare) && !holders(dm.sims.dataNodes, 2).includes(from));
    assert.deepEqual(holders(dm.sims.dataNodes, 2), peersOf(dm, 'data', 2));
    assert.ok(peersOf(dm, 'data', 2).includes(spare));
    const dp = dm.group.state.dataPartitions.get(2);
    assert.deepEqual(dp?.replicas.find((r) => r.addr === spare)?.diskPath, dataNode(dm, spare).partition(2)?.diskPath);
    const created = nodeTasks(dm).filter((t) => t.op === 'OpCreateDataPartition' && t.addr === spare && t.partitionId === 2);
    assert.equal(created.length, 1);
  });

  void it('refuses a decommission it cannot do, changing nothing', async () => {
    const before = snapshot(dm);
    const outsider = dm.sims.metaNodes.map((n) => n.addr).find((a) => !peersOf(dm, 'meta', 3).includes(a));
    assert.equal(await fails(dm.app, '/metaPartition/decommission?id=999&addr=127.0.0.1:1', 10), 'meta partition not exists');
    assert.equal(await fails(dm.app, '/dataPartition/decommission?id=999&addr=127.0.0.1:1', 11), 'data partition not exists');
    assert.equal(await fails(dm.app, '/metaPartition/decommission?id=3', 2), '[operate_util.go 225] parameter addr not found');
    assert.equal(await fails(dm.app, '/dataPartition/decommission?addr=127.0.0.1:1', 2), '[operate_util.go 225] parameter id not found');
    assert.equal(await fails(dm.app, `/metaPartition/decommission?id=3&addr=${outsider}`, 2), `partition 3 has no replica on ${outsider}`);
    assert.deepEqual(snapshot(dm), before);
  });

  // Go wraps the meta failure (code 1, migrateMetaPartition's text); a data partition
  // decommission is accepted and its move fails in the background.
  void it('finds no node to move to when the only spare one is read-only, changing nothing', async () => {
    const spareOf = (kind: 'meta' | 'data', id: number) =>
      (kind === 'meta' ? dm.sims.metaNodes : dm.sims.dataNodes).map((n) => n.addr).find((a) => !peersOf(dm, kind, id).includes(a));
    const spareMeta = spareOf('meta', 2);
    const spareData = spareOf('data', 3);
    assert.ok(spareMeta !== undefined && spareData !== undefined);
    await ok(dm.app, `/admin/setNodeRdOnly?addr=${spareMeta}&nodeType=1&rdOnly=true`);
    await ok(dm.app, `/admin/setNodeRdOnly?addr=${spareData}&nodeType=2&rdOnly=true`);
    const before = snapshot(dm);
    assert.equal(
      await fails(dm.app, `/metaPartition/decommission?id=2&addr=${peersOf(dm, 'meta', 2)[0]}`, 1),
      `action[migrateMetaPartition] vol[${dm.group.state.metaPartitions.get(2)?.volName}],partition[2],err[no enough meta nodes for creating a meta partition]`,
    );
    await ok(dm.app, `/dataPartition/decommission?id=3&addr=${peersOf(dm, 'data', 3)[0]}`);
    await waitUntil('the background move to give up', () => dm.ops.size === 0);
    assert.deepEqual(snapshot(dm), before);
    await ok(dm.app, `/admin/setNodeRdOnly?addr=${spareMeta}&nodeType=1&rdOnly=false`);
    await ok(dm.app, `/admin/setNodeRdOnly?addr=${spareData}&nodeType=2&rdOnly=false`);
  });

  void it('answers the diagnoses in the captured shapes', async () => {
    // After the moves above and a heartbeat round, nothing is wrong: the captured replies of a
    // healthy cluster (empty meta lists are null, as Go's nil slices), moved replicas included.
    await dm.heartbeat();
    assert.deepEqual(await ok(dm.app, '/metaPartition/diagnose?v1=true'), MP_DIAGNOSE_SAMPLE);
    assert.deepEqual(await ok(dm.app, '/dataPartition/diagnose?ignoreDiscard=true'), DP_DIAGNOSE_SAMPLE);
    // A node that stops reporting shows up.
    const down = dm.sims.dataNodes[3];
    await down.crash();
    // What the liveness check does after 18 s without a report (heartbeats.ts checkLiveness).
    const live = dm.group.state.live.dataNodes.get(down.nodeId);
    assert.ok(live !== undefined);
    putDataNodeLive(dm.group.state, down.nodeId, { ...live, isActive: false });
    const dp = (await ok(dm.app, '/dataPartition/diagnose?ignoreDiscard=true')) as Row;
    assertSameShape(dp, DP_DIAGNOSE_SAMPLE);
    assert.deepEqual(dp.InactiveDataNodes, [down.addr]);
  });
});
