// Partition and node-state commands (mp.split, dp.add, partition.replaceReplica,
// node.setRdOnly, node.remove) and the cluster tunables (cluster.setNodeInfo, ids.reserve).
// Every command runs through okChecked/failsChecked: the model invariants (invariants.ts) are
// asserted after each one, and a refused command must leave the state digest unchanged.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CommandOf, MetaPartitionRecord, ModelState, NewMetaPartition, VolRecord } from '../../src/model/index.js';
import {
  applyChanges,
  assertModel,
  checkModel,
  DEFAULT_MP_INODE_STEP,
  emptyState,
  INODE_ID_MAX,
  makeCommand,
  maxMetaPartitionOf,
  metaNodeByAddr,
  metaPartitionsOf,
  modelDigest,
  nodeSetMemberCounts,
} from '../../src/model/index.js';
import { AssertionError } from '../../src/util/assert.js';
import type { Peer } from './helpers.js';
import { bootstrapped, createVol, failsChecked, okChecked, run, volCreateBeginCmd, withNodesN } from './helpers.js';

const STEP = BigInt(DEFAULT_MP_INODE_STEP);

interface Fixture {
  state: ModelState;
  meta: Peer[];
  data: Peer[];
  vol: VolRecord;
}

/**
 * 4 meta nodes (ids 2..5) and 4 data nodes (6..9) in node set 1, and vol1 (id 10) owned by
 * alice on the first 3 of each: mps 1..3 ([0,step], [step+1,2step], [2step+1,MAX]), dps 1..3.
 */
function fixture(): Fixture {
  const state = bootstrapped();
  const { meta, data } = withNodesN(state, 4);
  const vol = createVol(state, 'vol1', 'alice', { meta: meta.slice(0, 3), data: data.slice(0, 3) });
  assert.equal(vol.id, 10);
  return { state, meta, data, vol };
}

function reserve(state: ModelState, counter: 'metaPartition' | 'dataPartition', count = 1): number {
  return okChecked(state, makeCommand('ids.reserve', { counter, count })).first;
}

function split(volId: number, mpId: number, newEnd: bigint, newPartitions: readonly NewMetaPartition[]): CommandOf<'mp.split'> {
  return makeCommand('mp.split', { volId, mpId, newEnd, newPartitions });
}

function dpAdd(volId: number, partitions: CommandOf<'dp.add'>['partitions']): CommandOf<'dp.add'> {
  return makeCommand('dp.add', { volId, mediaType: 1, sizeBytes: 120n * 1_073_741_824n, createTimeUnixSec: 1_800_000_000, partitions });
}

function ranges(state: ModelState, volId: number): [number, bigint, bigint][] {
  return metaPartitionsOf(state, volId).map((mp: MetaPartitionRecord) => [mp.id, mp.start, mp.end]);
}

void describe('apply: mp.split', () => {
  void it("ends the old max mp at the split point and runs the new one to INT64_MAX exactly", () => {
    const { state, meta, vol } = fixture();
    const id = reserve(state, 'metaPartition');
    assert.equal(id, 4);
    const newEnd = 8_388_609n + 1_000_000n;
    const applied = run(state, split(vol.id, 3, newEnd, [{ id, start: newEnd + 1n, end: INODE_ID_MAX, peers: meta.slice(1, 4) }]));
    assertModel(state);
    assert.ok(applied.result.ok);
    assert.deepEqual(
      applied.changes.map((c) => [c.kind, c.op, c.kind === 'metaPartition' && c.op === 'put' ? c.record.id : null]),
      [
        ['metaPartition', 'put', 3],
        ['metaPartition', 'put', 4],
      ],
    );
    assert.deepEqual(ranges(state, vol.id), [
      [1, 0n, 4_194_304n],
      [2, 4_194_305n, 8_388_608n],
      [3, 8_388_609n, 9_388_609n],
      [4, 9_388_610n, 9_223_372_036_854_775_807n],
    ]);
    const added = state.metaPartitions.get(4);
    assert.equal(added?.end, 9_223_372_036_854_775_807n);
    assert.equal(typeof added?.end, 'bigint');
    assert.deepEqual(added, {
      id: 4,
      volId: vol.id,
      volName: 'vol1',
      start: 9_388_610n,
      end: INODE_ID_MAX,
      replicaNum: 3,
      status: 2,
      peers: meta.slice(1, 4),
      isRecover: false,
    });
    assert.equal(maxMetaPartitionOf(state, vol.id)?.id, 4);
    // meta[0] holds mps 1..3; meta[3] got the new one.
    assert.equal(state.index.replicasByMetaNode.get(meta[0].nodeId), 3);
    assert.equal(state.index.replicasByMetaNode.get(meta[1].nodeId), 4);
    assert.equal(state.index.replicasByMetaNode.get(meta[3].nodeId), 1);
  });

  void it('splits again from the new max mp, and adds several partitions at once', () => {
    const { state, meta, vol } = fixture();
    const peers = meta.slice(0, 3);
    const a = reserve(state, 'metaPartition');
    okChecked(state, split(vol.id, 3, 10_000_000n, [{ id: a, start: 10_000_001n, end: INODE_ID_MAX, peers }]));
    const [b, c] = [reserve(state, 'metaPartition', 2), state.counters.metaPartition];
    okChecked(
      state,
      split(vol.id, a, 20_000_000n, [
        { id: b, start: 20_000_001n, end: 20_000_000n + STEP, peers },
        { id: c, start: 20_000_001n + STEP, end: INODE_ID_MAX, peers },
      ]),
    );
    assert.deepEqual(ranges(state, vol.id).slice(2), [
      [3, 8_388_609n, 10_000_000n],
      [4, 10_000_001n, 20_000_000n],
      [5, 20_000_001n, 20_000_000n + STEP],
      [6, 20_000_001n + STEP, INODE_ID_MAX],
    ]);
  });

  void it('accepts the bounds of spec 3.1: end = start, and end = MAX - step', () => {
    const { state, meta, vol } = fixture();
    const peers = meta.slice(0, 3);
    const a = reserve(state, 'metaPartition');
    okChecked(state, split(vol.id, 3, 8_388_609n, [{ id: a, start: 8_388_610n, end: INODE_ID_MAX, peers }]));
    assert.deepEqual(state.metaPartitions.get(3)?.end, 8_388_609n);
    const b = reserve(state, 'metaPartition');
    okChecked(state, split(vol.id, a, INODE_ID_MAX - STEP, [{ id: b, start: INODE_ID_MAX - STEP + 1n, end: INODE_ID_MAX, peers }]));
    assert.deepEqual(ranges(state, vol.id).slice(3), [
      [a, 8_388_610n, 9_223_372_036_850_581_503n],
      [b, 9_223_372_036_850_581_504n, 9_223_372_036_854_775_807n],
    ]);
  });

  void it('refuses what spec 3.1 and the id rules refuse, with its code, changing nothing', () => {
    const { state, meta, data, vol } = fixture();
    const peers = meta.slice(0, 3);
    const other = createVol(state, 'vol2', 'alice', { meta: peers, data: data.slice(0, 3) }, { dpReplicaNum: 3 });
    const id = reserve(state, 'metaPartition');
    const ok1 = (over: Partial<NewMetaPartition> = {}): NewMetaPartition => ({ id, start: 9_000_001n, end: INODE_ID_MAX, peers, ...over });
    const cases: [string, CommandOf<'mp.split'>, number, string | null][] = [
      ['unknown vol', split(99, 3, 9_000_000n, [ok1()]), 7, 'vol not exists'],
      ['unknown mp', split(vol.id, 99, 9_000_000n, [ok1()]), 10, 'meta partition not exists'],
      ['mp of another vol', split(vol.id, 6, 9_000_000n, [ok1()]), 10, 'meta partition not exists'],
      ['not the max mp', split(vol.id, 2, 5_000_000n, [ok1({ start: 5_000_001n })]), 1, 'meta partition 2 is not the last of vol vol1'],
      ['end before start', split(vol.id, 3, 8_388_608n, [ok1({ start: 8_388_609n })]), 1, 'split end 8388608 out of range'],
      ['end above MAX - step', split(vol.id, 3, INODE_ID_MAX - STEP + 1n, [ok1({ start: INODE_ID_MAX - STEP + 2n })]), 1, `split end ${INODE_ID_MAX - STEP + 1n} out of range`],
      ['no new partition', split(vol.id, 3, 9_000_000n, []), 1, 'a split adds at least one partition'],
      ['id not reserved', split(vol.id, 3, 9_000_000n, [ok1({ id: id + 1 })]), 1, `meta partition id ${id + 1} was not reserved`],
      ['id in use', split(vol.id, 3, 9_000_000n, [ok1({ id: 5 })]), 1, 'meta partition id 5 is in use'],
      ['a gap after the split point', split(vol.id, 3, 9_000_000n, [ok1({ start: 9_000_002n })]), 1, `partition ${id} starts at 9000002, want 9000001`],
      ['an overlap', split(vol.id, 3, 9_000_000n, [ok1({ start: 9_000_000n })]), 1, `partition ${id} starts at 9000000, want 9000001`],
      ['last not ending at MAX', split(vol.id, 3, 9_000_000n, [ok1({ end: INODE_ID_MAX - 1n })]), 1, `partition ${id} has a bad end`],
      ['2 of 3 replicas', split(vol.id, 3, 9_000_000n, [ok1({ peers: peers.slice(1) })]), 1, `partition ${id}: 2 replicas, want 3`],
      ['unknown node', split(vol.id, 3, 9_000_000n, [ok1({ peers: [peers[0], peers[1], { nodeId: 99, addr: '10.9.9.9:17210' }] })]), 1, null],
      ['a data node', split(vol.id, 3, 9_000_000n, [ok1({ peers: [peers[0], peers[1], data[0]] })]), 1, null],
      ['one node twice', split(vol.id, 3, 9_000_000n, [ok1({ peers: [peers[0], peers[1], peers[0]] })]), 1, null],
    ];
    for (const [what, cmd, code, message] of cases) {
      const e = failsChecked(state, cmd, code);
      if (message !== null) assert.equal(e.message, message, what);
    }
    // Two new partitions: the middle one must end before MAX and ids must ascend.
    const second = reserve(state, 'metaPartition');
    failsChecked(state, split(vol.id, 3, 9_000_000n, [ok1({ end: INODE_ID_MAX }), { id: second, start: INODE_ID_MAX + 1n, end: INODE_ID_MAX, peers }]), 1);
    failsChecked(state, split(vol.id, 3, 9_000_000n, [{ ...ok1({ end: 9_100_000n }), id: second }, { id, start: 9_100_001n, end: INODE_ID_MAX, peers }]), 1);
    assert.equal(other.id, 11);
  });

  void it('refuses an id planned by an open volume create (it would be taken twice at commit)', () => {
    const { state, meta, data, vol } = fixture();
    const peers = meta.slice(0, 3);
    const intent = okChecked(state, volCreateBeginCmd('vol2', 'alice', { meta: peers, data: data.slice(0, 3) }));
    const planned = intent.metaPartitions[0].id;
    const e = failsChecked(state, split(vol.id, 3, 9_000_000n, [{ id: planned, start: 9_000_001n, end: INODE_ID_MAX, peers }]), 1);
    assert.equal(e.message, `meta partition id ${planned} is in use`);
    okChecked(state, makeCommand('vol.createCommit', { volId: intent.vol.id, dpDiskPaths: intent.dataPartitions.map(() => ['/a', '/b', '/c']) }));
    assert.equal(state.metaPartitions.get(planned)?.volId, intent.vol.id);
  });

  void it('refuses a frozen cluster and a vol marked for deletion (1)', () => {
    const { state, meta, vol } = fixture();
    const id = reserve(state, 'metaPartition');
    const cmd = split(vol.id, 3, 9_000_000n, [{ id, start: 9_000_001n, end: INODE_ID_MAX, peers: meta.slice(0, 3) }]);
    okChecked(state, makeCommand('cluster.setFrozen', { frozen: true }));
    failsChecked(state, cmd, 1);
    okChecked(state, makeCommand('cluster.setFrozen', { frozen: false }));
    okChecked(state, makeCommand('vol.setDeleted', { name: 'vol1', deleted: true, timeUnixSec: 1 }));
    assert.equal(failsChecked(state, cmd, 1).message, 'vol vol1 is marked for deletion');
    failsChecked(emptyState(), cmd, 1);
  });
});

void describe('apply: dp.add', () => {
  void it('adds data partitions with reserved ids, their disks and replica counts', () => {
    const { state, data, vol } = fixture();
    const first = reserve(state, 'dataPartition', 2);
    const result = okChecked(
      state,
      dpAdd(vol.id, [
        { id: first, peers: data.slice(1, 4), diskPaths: ['/d1', '/d2', '/d3'] },
        { id: first + 1, peers: data.slice(0, 3), diskPaths: ['/e1', '/e2', '/e3'] },
      ]),
    );
    assert.deepEqual(
      result.added.map((dp) => dp.id),
      [4, 5],
    );
    assert.deepEqual(state.dataPartitions.get(4), {
      id: 4,
      volId: vol.id,
      volName: 'vol1',
      replicaNum: 3,
      status: 2,
      peers: data.slice(1, 4),
      replicas: [
        { addr: data[1].addr, diskPath: '/d1' },
        { addr: data[2].addr, diskPath: '/d2' },
        { addr: data[3].addr, diskPath: '/d3' },
      ],
      mediaType: 1,
      sizeBytes: 120n * 1_073_741_824n,
      isRecover: false,
      rdOnly: false,
      createTimeUnixSec: 1_800_000_000,
    });
    assert.deepEqual(state.index.dataPartitionsByVol.get(vol.id), [1, 2, 3, 4, 5]);
    assert.equal(state.index.replicasByDataNode.get(data[0].nodeId), 4);
    assert.equal(state.index.replicasByDataNode.get(data[1].nodeId), 5);
    assert.equal(state.index.replicasByDataNode.get(data[3].nodeId), 1);
  });

  void it('takes the replica count from the vol, after /vol/update too', () => {
    const { state, data, vol } = fixture();
    okChecked(state, makeCommand('vol.update', { name: 'vol1', capacityGB: null, dpReplicaNum: 2, settings: {} }));
    const id = reserve(state, 'dataPartition');
    failsChecked(state, dpAdd(vol.id, [{ id, peers: data.slice(0, 3), diskPaths: ['/a', '/b', '/c'] }]), 1);
    okChecked(state, dpAdd(vol.id, [{ id, peers: data.slice(0, 2), diskPaths: ['/a', '/b'] }]));
    assert.equal(state.dataPartitions.get(id)?.replicaNum, 2);
    // The older partitions keep their 3 replicas.
    assert.equal(state.dataPartitions.get(1)?.peers.length, 3);
  });

  void it('adds nothing for an empty list', () => {
    const { state, vol } = fixture();
    const before = modelDigest(state);
    assert.deepEqual(okChecked(state, dpAdd(vol.id, [])), { added: [] });
    assert.equal(modelDigest(state), before);
  });

  void it('refuses bad ids, replicas and disks (1), an unknown vol (7), a marked vol (1), changing nothing', () => {
    const { state, meta, data, vol } = fixture();
    const peers = data.slice(0, 3);
    const intent = okChecked(state, volCreateBeginCmd('vol2', 'alice', { meta: meta.slice(0, 3), data: peers }));
    const planned = intent.dataPartitions[0].id;
    const id = reserve(state, 'dataPartition');
    const p = (over: Partial<CommandOf<'dp.add'>['partitions'][number]> = {}) => ({ id, peers, diskPaths: ['/a', '/b', '/c'], ...over });
    const cases: [string, CommandOf<'dp.add'>, number, string][] = [
      ['unknown vol', dpAdd(99, [p()]), 7, 'vol not exists'],
      ['id not reserved', dpAdd(vol.id, [p({ id: id + 1 })]), 1, `data partition id ${id + 1} was not reserved`],
      ['id in use', dpAdd(vol.id, [p({ id: 1 })]), 1, 'data partition id 1 is in use'],
      ['id planned by an open create', dpAdd(vol.id, [p({ id: planned })]), 1, `data partition id ${planned} is in use`],
      ['id twice', dpAdd(vol.id, [p(), p()]), 1, `data partition id ${id} twice`],
      ['2 of 3 replicas', dpAdd(vol.id, [p({ peers: peers.slice(1), diskPaths: ['/a', '/b'] })]), 1, `data partition ${id}: 2 replicas, want 3`],
      ['a meta node', dpAdd(vol.id, [p({ peers: [peers[0], peers[1], meta[0]] })]), 1, `data partition ${id}: no data node ${meta[0].nodeId} at ${meta[0].addr}`],
      ['disks do not match', dpAdd(vol.id, [p({ diskPaths: ['/a', '/b'] })]), 1, `data partition ${id}: disk paths do not match replicas`],
    ];
    for (const [what, cmd, code, message] of cases) assert.equal(failsChecked(state, cmd, code).message, message, what);
    okChecked(state, makeCommand('vol.setDeleted', { name: 'vol1', deleted: true, timeUnixSec: 1 }));
    assert.equal(failsChecked(state, dpAdd(vol.id, [p()]), 1).message, 'vol vol1 is marked for deletion');
  });
});

void describe('apply: partition.replaceReplica', () => {
  void it('moves a meta replica in place and the replica counts with it', () => {
    const { state, meta } = fixture();
    okChecked(state, makeCommand('partition.replaceReplica', { kind: 'meta', partitionId: 2, removeAddr: meta[1].addr, add: meta[3], diskPath: '' }));
    assert.deepEqual(state.metaPartitions.get(2)?.peers, [meta[0], meta[3], meta[2]]);
    assert.equal(state.index.replicasByMetaNode.get(meta[1].nodeId), 2);
    assert.equal(state.index.replicasByMetaNode.get(meta[3].nodeId), 1);
  });

  void it('moves a data replica with the disk its new node chose', () => {
    const { state, data } = fixture();
    okChecked(state, makeCommand('partition.replaceReplica', { kind: 'data', partitionId: 1, removeAddr: data[0].addr, add: data[3], diskPath: '/new' }));
    const dp = state.dataPartitions.get(1);
    assert.deepEqual(dp?.peers, [data[3], data[1], data[2]]);
    assert.deepEqual(dp?.replicas, [
      { addr: data[3].addr, diskPath: '/new' },
      { addr: data[1].addr, diskPath: '/disk1' },
      { addr: data[2].addr, diskPath: '/disk2' },
    ]);
    assert.equal(state.index.replicasByDataNode.get(data[0].nodeId), 2);
  });

  void it('refuses unknown partitions (10, 11), a replica it does not have and a bad target (1)', () => {
    const { state, meta, data } = fixture();
    const r = (kind: 'meta' | 'data', partitionId: number, removeAddr: string, add: Peer) =>
      makeCommand('partition.replaceReplica', { kind, partitionId, removeAddr, add, diskPath: kind === 'data' ? '/d' : '' });
    failsChecked(state, r('meta', 99, meta[0].addr, meta[3]), 10);
    failsChecked(state, r('data', 99, data[0].addr, data[3]), 11);
    assert.equal(failsChecked(state, r('meta', 1, meta[3].addr, meta[3]), 1).message, `partition 1 has no replica on ${meta[3].addr}`);
    assert.equal(failsChecked(state, r('meta', 1, meta[0].addr, meta[1]), 1).message, `partition 1: node ${meta[1].nodeId} twice`);
    failsChecked(state, r('meta', 1, meta[0].addr, { nodeId: 99, addr: '10.9.9.9:17210' }), 1);
    failsChecked(state, r('meta', 1, meta[0].addr, { nodeId: meta[3].nodeId, addr: '10.9.9.9:17210' }), 1);
    failsChecked(state, r('data', 1, data[0].addr, meta[3]), 1);
  });
});

void describe('apply: node.setRdOnly', () => {
  void it('sets and clears the flag of a meta or data node; the same value writes nothing', () => {
    const { state, meta, data } = fixture();
    assert.deepEqual(okChecked(state, makeCommand('node.setRdOnly', { kind: 'meta', addr: meta[0].addr, rdOnly: true })), { addr: meta[0].addr, rdOnly: true });
    assert.equal(metaNodeByAddr(state, meta[0].addr)?.rdOnly, true);
    const before = modelDigest(state);
    okChecked(state, makeCommand('node.setRdOnly', { kind: 'meta', addr: meta[0].addr, rdOnly: true }));
    assert.equal(modelDigest(state), before);
    okChecked(state, makeCommand('node.setRdOnly', { kind: 'data', addr: data[0].addr, rdOnly: true }));
    assert.equal(state.dataNodes.get(data[0].nodeId)?.rdOnly, true);
    assert.equal(state.dataNodes.get(data[0].nodeId)?.mediaType, 1, 'the rest of the data node record stays');
    okChecked(state, makeCommand('node.setRdOnly', { kind: 'meta', addr: meta[0].addr, rdOnly: false }));
    assert.equal(metaNodeByAddr(state, meta[0].addr)?.rdOnly, false);
  });

  void it('refuses an unknown node (13 meta, 12 data), also a node of the other kind', () => {
    const { state, meta, data } = fixture();
    failsChecked(state, makeCommand('node.setRdOnly', { kind: 'meta', addr: '10.9.9.9:17210', rdOnly: true }), 13);
    failsChecked(state, makeCommand('node.setRdOnly', { kind: 'meta', addr: data[0].addr, rdOnly: true }), 13);
    failsChecked(state, makeCommand('node.setRdOnly', { kind: 'data', addr: meta[0].addr, rdOnly: true }), 12);
  });
});

void describe('apply: node.remove', () => {
  void it('is refused while the node holds replicas, and removes it once they moved', () => {
    const { state, meta } = fixture();
    const e = failsChecked(state, makeCommand('node.remove', { kind: 'meta', addr: meta[0].addr }), 1);
    assert.equal(e.message, `meta node ${meta[0].addr} still holds 3 replicas`);
    for (const partitionId of [1, 2]) {
      okChecked(state, makeCommand('partition.replaceReplica', { kind: 'meta', partitionId, removeAddr: meta[0].addr, add: meta[3], diskPath: '' }));
    }
    assert.equal(failsChecked(state, makeCommand('node.remove', { kind: 'meta', addr: meta[0].addr }), 1).message, `meta node ${meta[0].addr} still holds 1 replicas`);
    okChecked(state, makeCommand('partition.replaceReplica', { kind: 'meta', partitionId: 3, removeAddr: meta[0].addr, add: meta[3], diskPath: '' }));
    assert.deepEqual(okChecked(state, makeCommand('node.remove', { kind: 'meta', addr: meta[0].addr })), { addr: meta[0].addr, removed: true });
    assert.equal(state.metaNodes.has(meta[0].nodeId), false);
    assert.equal(metaNodeByAddr(state, meta[0].addr), undefined);
    assert.deepEqual(nodeSetMemberCounts(state, 1), { meta: 3, data: 4 });
  });

  void it('removes a data node without replicas, and is a no-op for an unknown addr', () => {
    const { state, data } = fixture();
    failsChecked(state, makeCommand('node.remove', { kind: 'data', addr: data[0].addr }), 1);
    okChecked(state, makeCommand('node.remove', { kind: 'data', addr: data[3].addr }));
    assert.equal(state.dataNodes.has(data[3].nodeId), false);
    const before = modelDigest(state);
    assert.deepEqual(okChecked(state, makeCommand('node.remove', { kind: 'data', addr: data[3].addr })), { addr: data[3].addr, removed: false });
    assert.equal(modelDigest(state), before);
  });

  void it('is refused while an open volume create placed a replica on the node', () => {
    const { state, meta, data } = fixture();
    const spare = { meta: [meta[3]], data: [data[3]] };
    const intent = okChecked(state, volCreateBeginCmd('vol2', 'alice', { ...spare, mps: 1, dps: 1 }));
    const m = failsChecked(state, makeCommand('node.remove', { kind: 'meta', addr: meta[3].addr }), 1);
    assert.equal(m.message, `meta node ${meta[3].addr} holds replicas of vol vol2, still being created`);
    failsChecked(state, makeCommand('node.remove', { kind: 'data', addr: data[3].addr }), 1);
    okChecked(state, makeCommand('vol.createAbort', { volId: intent.vol.id }));
    okChecked(state, makeCommand('node.remove', { kind: 'meta', addr: meta[3].addr }));
    okChecked(state, makeCommand('node.remove', { kind: 'data', addr: data[3].addr }));
  });
});

void describe('apply: cluster.setNodeInfo', () => {
  const info = (fields: Partial<Omit<CommandOf<'cluster.setNodeInfo'>, 'v' | 'type'>>) =>
    makeCommand('cluster.setNodeInfo', {
      batchCount: null,
      markDeleteRate: null,
      autoRepairRate: null,
      deleteWorkerSleepMs: null,
      loadFactor: null,
      maxDpCntLimit: null,
      maxMpCntLimit: null,
      dpMaxRepairErrCnt: null,
      ...fields,
    });

  void it('sets the given tunables and keeps every null one', () => {
    const state = bootstrapped();
    const fresh = state.cluster;
    assert.ok(fresh !== null);
    const first = okChecked(state, info({ batchCount: 100, loadFactor: 1.5, maxDpCntLimit: 0 }));
    assert.deepEqual(first, { ...fresh, metaNodeDeleteBatchCount: 100, loadFactor: 1.5, maxDpCntLimit: 0 });
    const second = okChecked(state, info({ markDeleteRate: 7, autoRepairRate: 8, deleteWorkerSleepMs: 9, maxMpCntLimit: 10, dpMaxRepairErrCnt: 11 }));
    assert.deepEqual(second, {
      ...first,
      dataNodeDeleteLimitRate: 7,
      dataNodeAutoRepairLimitRate: 8,
      metaNodeDeleteWorkerSleepMs: 9,
      maxMpCntLimit: 10,
      dpMaxRepairErrCnt: 11,
    });
    const before = modelDigest(state);
    assert.deepEqual(okChecked(state, info({})), second);
    assert.equal(modelDigest(state), before, 'all null changes nothing');
  });

  void it('refuses a negative load factor (2) and an unbootstrapped cluster (1)', () => {
    const state = bootstrapped();
    assert.equal(failsChecked(state, info({ loadFactor: -0.5 }), 2).message, 'loadFactor must not be negative');
    failsChecked(emptyState(), info({ batchCount: 1 }), 1);
  });
});

void describe('apply: ids.reserve', () => {
  void it('hands out consecutive ids that no create reuses, within the bounds', () => {
    const { state, meta, data } = fixture();
    assert.deepEqual(okChecked(state, makeCommand('ids.reserve', { counter: 'metaPartition', count: 3 })), { counter: 'metaPartition', first: 4, last: 6 });
    const intent = okChecked(state, volCreateBeginCmd('vol2', 'alice', { meta: meta.slice(0, 3), data: data.slice(0, 3) }));
    assert.deepEqual(
      intent.metaPartitions.map((mp) => mp.id),
      [7, 8, 9],
    );
    failsChecked(state, makeCommand('ids.reserve', { counter: 'common', count: 0 }), 2);
    failsChecked(state, makeCommand('ids.reserve', { counter: 'common', count: 10_001 }), 2);
  });
});

void describe('invariants: partitions', () => {
  function broken(f: Fixture, change: (s: ModelState) => void): string[] {
    const s = structuredClone(f.state);
    change(s);
    return checkModel(s);
  }

  void it('hold on the fixture', () => {
    assert.deepEqual(checkModel(fixture().state), []);
  });

  void it('report inode ranges with a gap, an overlap, a wrong first start or an end short of INT64_MAX', () => {
    const f = fixture();
    const mp = (id: number) => {
      const r = f.state.metaPartitions.get(id);
      assert.ok(r !== undefined);
      return r;
    };
    const put = (record: MetaPartitionRecord) => (s: ModelState) => applyChanges(s, [{ kind: 'metaPartition', op: 'put', record }]);
    assert.deepEqual(broken(f, put({ ...mp(2), start: 4_194_306n })), ['vol 10 (vol1): meta partition 2 starts at 4194306, want 4194305']);
    assert.deepEqual(broken(f, put({ ...mp(2), end: 8_388_609n })), ['vol 10 (vol1): meta partition 3 starts at 8388609, want 8388610']);
    assert.deepEqual(broken(f, put({ ...mp(1), start: 1n })), ['vol 10 (vol1): meta partition 1 starts at 1, want 0']);
    assert.deepEqual(broken(f, put({ ...mp(3), end: INODE_ID_MAX - 1n })), [
      'vol 10 (vol1): last meta partition 3 ends at 9223372036854775806, want 9223372036854775807',
    ]);
    assert.deepEqual(broken(f, put({ ...mp(2), end: 4_194_304n })), [
      'vol 10 (vol1): meta partition 2 ends at 4194304 before its start 4194305',
      'vol 10 (vol1): meta partition 3 starts at 8388609, want 4194305',
    ]);
    const lastGone = broken(f, (s) => applyChanges(s, [{ kind: 'metaPartition', op: 'del', id: 3, volId: 10 }]));
    assert.deepEqual(lastGone, ['vol 10 (vol1): last meta partition 2 ends at 8388608, want 9223372036854775807']);
  });

  void it('report partitions of no vol, replicas on missing nodes, ids above the counters and index drift', () => {
    const f = fixture();
    const dp = f.state.dataPartitions.get(1);
    const mp = f.state.metaPartitions.get(1);
    assert.ok(dp !== undefined && mp !== undefined);
    assert.deepEqual(
      broken(f, (s) => applyChanges(s, [{ kind: 'dataPartition', op: 'put', record: { ...dp, id: 50, volId: 99 } }])),
      ['data partition 50: id above #max_dp_id 3', 'data partition 50: vol 99 is neither a vol nor an open intent'],
    );
    const ghost = { nodeId: 99, addr: '10.9.9.9:17210' };
    assert.deepEqual(
      broken(f, (s) => applyChanges(s, [{ kind: 'metaPartition', op: 'put', record: { ...mp, peers: [mp.peers[0], mp.peers[1], ghost] } }])),
      ['meta partition 1: replica on missing meta node 99 (10.9.9.9:17210)'],
    );
    assert.deepEqual(
      broken(f, (s) => applyChanges(s, [{ kind: 'dataPartition', op: 'put', record: { ...dp, replicas: dp.replicas.slice(1) } }])),
      [`data partition 1: disks on [${f.data[1].addr}, ${f.data[2].addr}], replicas on [${f.data[0].addr}, ${f.data[1].addr}, ${f.data[2].addr}]`],
    );
    assert.ok(
      broken(f, (s) => {
        s.counters = { ...s.counters, metaPartition: 2 };
      }).includes('meta partition 3: id above #max_mp_id 2'),
    );
    assert.deepEqual(
      broken(f, (s) => s.index.replicasByMetaNode.set(f.meta[0].nodeId, 7)),
      [`replica index: meta node ${f.meta[0].nodeId} holds 3 replicas, index says 7`],
    );
    assert.deepEqual(
      broken(f, (s) => s.index.metaPartitionsByVol.get(10)?.pop()),
      ['vol 10 (vol1): last meta partition 2 ends at 8388608, want 9223372036854775807', 'meta partition index lists 2 of 3 partitions'],
    );
    assert.throws(() => {
      const s = structuredClone(f.state);
      s.index.dataPartitionsByVol.set(10, [3, 2, 1]);
      assertModel(s);
    }, AssertionError);
  });
});
