// The recovery planner (src/cluster/recovery/plan.ts): from node reports to the nodes, vols and
// partitions to adopt, with every conflict settled by its documented rule (docs/recovery.md)
// and reported. Reports are built here in the shape the nodes send (heartbeat-report.ts).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CensusSnapshot, CensusRegistration } from '../../src/cluster/recovery/census.js';
import { RecoveryCensus } from '../../src/cluster/recovery/census.js';
import type { PlanOptions, RecoveryPlan } from '../../src/cluster/recovery/plan.js';
import { planRecovery } from '../../src/cluster/recovery/plan.js';
import type { ModelState, RecoveryFinding } from '../../src/model/index.js';
import { apply, applyChanges, assertModel, emptyState, INODE_ID_MAX, makeCommand, passwordSha1, ROOT_USER_ID } from '../../src/model/index.js';
import type { DataPartitionReport, MetaPartitionReport } from '../../src/nodes/heartbeat-report.js';
import type { ReplicaPeer } from '../../src/nodes/task-requests.js';
import { dataReport, metaReport } from './heartbeat-reports.js';

const OPTIONS: PlanOptions = { round: 1, owner: ROOT_USER_ID, idMargin: 1_000, hints: [], legacyDataMediaType: 0 };

function peer(id: number, port: number): ReplicaPeer {
  return { id, addr: `127.0.0.1:${port}`, heartbeatPort: String(port + 20), replicaPort: String(port + 21) };
}
const M = [peer(21, 17210), peer(22, 17211), peer(23, 17212)];
const D = [peer(31, 17310), peer(32, 17311), peer(33, 17312)];

function mp(id: number, vol: string, start: bigint, end: bigint, fields: Partial<MetaPartitionReport> = {}): MetaPartitionReport {
  return {
    partitionId: id,
    start,
    end,
    status: 2,
    sizeBytes: 0n,
    maxInodeId: start + 1n,
    isLeader: false,
    volName: vol,
    inodeCount: 1n,
    dentryCount: 0n,
    txCount: 0n,
    txRbInodeCount: 0n,
    txRbDentryCount: 0n,
    freeListLength: 0n,
    forbidWriteOpOfProtoVer0: false,
    localPeers: M,
    readOnlyReasons: 0,
    ...fields,
  };
}

function dp(id: number, vol: string, fields: Partial<DataPartitionReport> = {}): DataPartitionReport {
  return {
    partitionId: id,
    volName: vol,
    status: 2,
    isLeader: false,
    totalBytes: 120n << 30n,
    usedBytes: 0n,
    diskPath: '/disk0',
    extentCount: 64,
    needCompare: true,
    decommissionRepairProgress: 0,
    localPeers: D,
    triggerDiskError: false,
    forbidWriteOpOfProtoVer0: false,
    readOnlyReasons: 0,
    isMissingTinyExtent: false,
    isRepairing: false,
    ...fields,
  };
}

const STEP = 1_000n;
/** vol1: mps 1 [0,1000], 2 [1001,2000], 5 [2001,MAX] (split once); dps 1, 2. vol2: mp 3, dp 3. */
function vol1Meta(leaderPort: number, over: (p: MetaPartitionReport) => MetaPartitionReport = (p) => p): MetaPartitionReport[] {
  const lead = (p: MetaPartitionReport): MetaPartitionReport => over({ ...p, isLeader: leaderPort === 17210 });
  return [lead(mp(1, 'vol1', 0n, STEP)), lead(mp(2, 'vol1', STEP + 1n, 2n * STEP)), lead(mp(5, 'vol1', 2n * STEP + 1n, INODE_ID_MAX)), lead(mp(3, 'vol2', 0n, INODE_ID_MAX))];
}

/** Every node reports every partition (3 replicas each); meta node 17210 and data node 17310 lead. */
function wholeCensus(): RecoveryCensus {
  const census = new RecoveryCensus([{ kind: 'any', addr: '127.0.0.1:17210' }]);
  for (const m of M) census.takeMetaReport(m.addr, metaReport(vol1Meta(Number(m.addr.split(':')[1]))));
  for (const d of D) {
    const isLeader = d.addr.endsWith(':17310');
    census.takeDataReport(d.addr, dataReport([dp(1, 'vol1', { isLeader, diskPath: `/d/${d.id}` }), dp(2, 'vol1', { isLeader }), dp(3, 'vol2', { isLeader })]));
  }
  return census;
}

function bootstrapped(): ModelState {
  const state = emptyState();
  const r = apply(state, makeCommand('cluster.bootstrap', { clusterName: 'c', createTimeUnixSec: 1, root: { accessKey: 'A'.repeat(16), secretKey: 'S'.repeat(32), passwordSha1: passwordSha1('CubeFSRoot') } }), { index: 1, term: 1 });
  applyChanges(state, r.changes);
  return state;
}

/** Applies the plan the way the recovery service proposes it, and checks the model stays whole. */
function adopt(state: ModelState, plan: RecoveryPlan, round = 1): void {
  const run = (c: Parameters<typeof apply>[1]): void => {
    const r = apply(state, c, { index: 1, term: 1 });
    if (!r.result.ok) assert.fail(`${c.type}: ${r.result.error.message}`);
    applyChanges(state, r.changes);
  };
  if (state.recovery === null || state.recovery.phase === 'done') run(makeCommand('recovery.begin', { params: { nodes: [], collectTimeoutMs: 1, idMargin: 1, nodeIdHints: [] }, timeUnixSec: 5, newRound: state.recovery !== null }));
  run(makeCommand('recovery.adoptNodes', { round, nodeSetCapacity: 18, createTimeMs: 5_000, idFloor: plan.nodeIdFloor, nodes: plan.nodes }));
  for (const v of plan.vols) run(makeCommand('recovery.adoptVol', { round, owner: ROOT_USER_ID, createTimeUnixSec: 5, name: v.name, capacityGB: v.capacityGB, mpReplicaNum: v.mpReplicaNum, dpReplicaNum: v.dpReplicaNum, dpSizeBytes: v.dpSizeBytes, volStorageClass: v.volStorageClass, settings: v.settings, metaPartitions: v.metaPartitions, dataPartitions: v.dataPartitions }));
  for (const e of plan.extraDataPartitions) run(makeCommand('recovery.adoptDataPartitions', { round, volName: e.volName, createTimeUnixSec: 5, partitions: e.partitions }));
  run(makeCommand('recovery.finish', { round, timeUnixSec: 6, counterFloors: plan.counterFloors, summary: plan.summary, findings: plan.findings, findingsOmitted: plan.findingsOmitted }));
  assertModel(state, 'model after the recovery');
}

function findingsOf(plan: RecoveryPlan, kind: RecoveryFinding['kind'], rule?: string): RecoveryFinding[] {
  return plan.findings.filter((f) => f.kind === kind && (rule === undefined || f.rule === rule));
}

void describe('recovery plan from whole reports', () => {
  void it('gives every node its id back and rebuilds vols with exact ranges, hosts and disks', () => {
    const state = bootstrapped();
    const plan = planRecovery(state, wholeCensus().snapshot(), OPTIONS);
    assert.deepEqual(plan.nodes.map((n) => [n.kind, n.id, n.addr, n.zoneName, n.heartbeatPort]), [
      ['meta', 21, '127.0.0.1:17210', 'default', '17230'],
      ['meta', 22, '127.0.0.1:17211', 'default', '17231'],
      ['meta', 23, '127.0.0.1:17212', 'default', '17232'],
      ['data', 31, '127.0.0.1:17310', 'default', '17330'],
      ['data', 32, '127.0.0.1:17311', 'default', '17331'],
      ['data', 33, '127.0.0.1:17312', 'default', '17332'],
    ]);
    assert.deepEqual(plan.vols.map((v) => v.name), ['vol1', 'vol2']);
    const vol1 = plan.vols[0];
    assert.deepEqual(vol1.metaPartitions.map((p) => [p.id, p.start, p.end]), [[1, 0n, STEP], [2, STEP + 1n, 2n * STEP], [5, 2n * STEP + 1n, 9_223_372_036_854_775_807n]]);
    assert.deepEqual(vol1.metaPartitions[0].peers, M.map((p) => ({ nodeId: p.id, addr: p.addr })));
    assert.deepEqual(vol1.dataPartitions[0].diskPaths, ['/d/31', '/d/32', '/d/33']);
    assert.equal(vol1.capacityGB, 240);
    assert.equal(vol1.dpReplicaNum, 3);
    assert.deepEqual(plan.counterFloors, { common: 1_033, metaPartition: 1_005, dataPartition: 1_003 });
    assert.deepEqual(findingsOf(plan, 'conflict'), []);
    assert.equal(plan.summary.volsAdopted, 2);
    assert.equal(plan.summary.metaPartitionsAdopted, 4);
    assert.equal(plan.summary.dataPartitionsAdopted, 3);
    for (const subject of ['users', 'quotas']) assert.ok(findingsOf(plan, 'unknown').some((f) => f.subject === subject), subject);
    assert.ok(findingsOf(plan, 'guess', 'placeholder-owner').some((f) => f.subject === 'vol vol1'));
    adopt(state, plan);
    assert.equal(state.metaNodes.get(21)?.addr, '127.0.0.1:17210');
    assert.equal(state.metaPartitions.get(5)?.end, INODE_ID_MAX);
  });

  void it('plans the same from the same reports in any order', () => {
    const a = planRecovery(bootstrapped(), wholeCensus().snapshot(), OPTIONS);
    const census = new RecoveryCensus([{ kind: 'any', addr: '127.0.0.1:17210' }]);
    for (const d of [...D].reverse()) census.takeDataReport(d.addr, dataReport([dp(3, 'vol2', { isLeader: d.id === 31 }), dp(2, 'vol1', { isLeader: d.id === 31 }), dp(1, 'vol1', { isLeader: d.id === 31, diskPath: `/d/${d.id}` })]));
    for (const m of [...M].reverse()) census.takeMetaReport(m.addr, metaReport(vol1Meta(Number(m.addr.split(':')[1])).reverse()));
    assert.deepEqual(planRecovery(bootstrapped(), census.snapshot(), OPTIONS), a);
  });

  void it('adopts a node that never answered from its peers reports, and says so', () => {
    const census = new RecoveryCensus([]);
    for (const m of M.slice(0, 2)) census.takeMetaReport(m.addr, metaReport(vol1Meta(17210)));
    for (const d of D.slice(1)) census.takeDataReport(d.addr, dataReport([dp(1, 'vol1', { diskPath: '/x' }), dp(2, 'vol1'), dp(3, 'vol2')]));
    const plan = planRecovery(bootstrapped(), census.snapshot(), OPTIONS);
    assert.deepEqual(plan.nodes.map((n) => n.id), [21, 22, 23, 31, 32, 33]);
    assert.deepEqual(plan.vols[0].dataPartitions[0].diskPaths, ['', '/x', '/x']);
    assert.deepEqual(findingsOf(plan, 'notReported', 'silent-peer').map((f) => f.subject), ['data node 127.0.0.1:17310', 'meta node 127.0.0.1:17212']);
    assert.ok(findingsOf(plan, 'guess', 'zone-media').some((f) => f.subject === 'meta node 127.0.0.1:17212'));
  });
});

void describe('recovery plan conflicts', () => {
  void it('takes the leader\'s End over a replica that missed a split update, and says it lags', () => {
    const census = new RecoveryCensus([]);
    census.takeMetaReport(M[0].addr, metaReport(vol1Meta(17210)));
    census.takeMetaReport(M[1].addr, metaReport(vol1Meta(0, (p) => (p.partitionId === 2 ? { ...p, end: INODE_ID_MAX } : p))));
    const plan = planRecovery(bootstrapped(), census.snapshot(), OPTIONS);
    assert.equal(plan.vols[0].metaPartitions[1].end, 2n * STEP);
    assert.equal(findingsOf(plan, 'conflict', 'lagging-range').length, 1);
  });

  void it('without a leader, takes the smallest End (an End only shrinks through a committed split)', () => {
    const census = new RecoveryCensus([]);
    census.takeMetaReport(M[0].addr, metaReport(vol1Meta(0, (p) => (p.partitionId === 2 ? { ...p, end: INODE_ID_MAX } : p))));
    census.takeMetaReport(M[1].addr, metaReport(vol1Meta(0)));
    const plan = planRecovery(bootstrapped(), census.snapshot(), OPTIONS);
    assert.equal(plan.vols[0].metaPartitions[1].end, 2n * STEP);
  });

  void it('completes a split the loss interrupted when no inode passed the new start', () => {
    const census = new RecoveryCensus([]);
    const reports = [mp(1, 'vola', 0n, INODE_ID_MAX, { maxInodeId: 500n }), mp(4, 'vola', 1_001n, INODE_ID_MAX, { maxInodeId: 1_001n })];
    for (const m of M) census.takeMetaReport(m.addr, metaReport(reports));
    const plan = planRecovery(bootstrapped(), census.snapshot(), OPTIONS);
    assert.deepEqual(plan.vols[0].metaPartitions.map((p) => [p.id, p.start, p.end]), [[1, 0n, 1_000n], [4, 1_001n, INODE_ID_MAX]]);
    assert.equal(findingsOf(plan, 'conflict', 'interrupted-split').length, 1);
  });

  void it('leaves a vol alone when its ranges overlap past the cursor or leave a gap', () => {
    const census = new RecoveryCensus([]);
    const reports = [
      mp(1, 'overlap', 0n, INODE_ID_MAX, { maxInodeId: 2_000n }),
      mp(4, 'overlap', 1_001n, INODE_ID_MAX),
      mp(6, 'gap', 0n, 1_000n),
      mp(8, 'gap', 2_001n, INODE_ID_MAX),
      mp(9, 'whole', 0n, INODE_ID_MAX),
    ];
    for (const m of M) census.takeMetaReport(m.addr, metaReport(reports));
    const plan = planRecovery(bootstrapped(), census.snapshot(), OPTIONS);
    assert.deepEqual(plan.vols.map((v) => v.name), ['whole']);
    const left = findingsOf(plan, 'notAdopted', 'inode-range');
    assert.deepEqual(left.map((f) => f.subject), ['vol gap', 'vol overlap']);
    assert.match(left[0].detail, /\[1001, 2000\]/);
    assert.equal(plan.summary.partitionsNotAdopted, 4);
  });

  void it('leaves a replica that is not one of its group\'s peers alone (a leftover of a move)', () => {
    const census = wholeCensus();
    const stranger = peer(34, 17313);
    census.takeDataReport(stranger.addr, dataReport([dp(1, 'vol1', { localPeers: [...D, stranger] })]));
    const plan = planRecovery(bootstrapped(), census.snapshot(), OPTIONS);
    assert.deepEqual(plan.vols[0].dataPartitions[0].peers.map((p) => p.nodeId), [31, 32, 33]);
    assert.equal(findingsOf(plan, 'notAdopted', 'stale-replica').length, 1);
    assert.equal(findingsOf(plan, 'conflict', 'partition-authority').length, 0, 'a replica outside the group is not a conflict of the group');
  });

  void it('takes the peer list most replicas report when no replica leads', () => {
    const census = new RecoveryCensus([]);
    const moved = [D[0], D[1], peer(34, 17313)];
    census.takeDataReport(D[0].addr, dataReport([dp(7, 'vola', { localPeers: moved })]));
    census.takeDataReport(D[1].addr, dataReport([dp(7, 'vola', { localPeers: moved })]));
    census.takeDataReport(D[2].addr, dataReport([dp(7, 'vola')]));
    census.takeDataReport('127.0.0.1:17313', dataReport([dp(7, 'vola', { localPeers: moved })]));
    const dps = planRecovery(bootstrapped(), census.snapshot(), OPTIONS).findings;
    assert.ok(dps.some((f) => f.rule === 'stale-replica' && f.detail.includes('127.0.0.1:17312')));
  });

  void it('keeps the id a node claims for itself, and leaves out a second node claiming the same id', () => {
    const census = new RecoveryCensus([]);
    const clash = { ...M[1], id: 21 };
    census.takeMetaReport(M[0].addr, metaReport([mp(1, 'vola', 0n, INODE_ID_MAX, { localPeers: [M[0]] })]));
    census.takeMetaReport(M[1].addr, metaReport([mp(2, 'volw', 0n, INODE_ID_MAX, { localPeers: [clash] })]));
    const plan = planRecovery(bootstrapped(), census.snapshot(), OPTIONS);
    assert.deepEqual(plan.nodes.map((n) => n.addr), [M[0].addr]);
    assert.equal(findingsOf(plan, 'conflict', 'id-clash').length, 1);
    assert.deepEqual(plan.vols.map((v) => v.name), ['vola']);
    assert.ok(findingsOf(plan, 'notAdopted', 'peer-identity').some((f) => f.subject === 'meta partition 2'));
  });

  void it('gives a node that restarted during the outage the id its peers or the operator know', () => {
    const census = wholeCensus();
    const reg = (addr: string, kind: 'meta' | 'data', mediaType: number): CensusRegistration => ({ kind, addr, zoneName: 'z9', heartbeatPort: '1', replicaPort: '2', mediaType });
    census.noteRegistration(reg(D[0].addr, 'data', 2));
    census.noteRegistration(reg('127.0.0.1:17400', 'data', 2));
    census.noteRegistration(reg('127.0.0.1:17401', 'meta', 0));
    const plan = planRecovery(bootstrapped(), census.snapshot(), { ...OPTIONS, hints: [{ addr: '127.0.0.1:17400', id: 77 }] });
    const byAddr = new Map(plan.nodes.map((n) => [n.addr, n]));
    assert.equal(byAddr.get(D[0].addr)?.id, 31);
    assert.equal(byAddr.get('127.0.0.1:17400')?.id, 77);
    assert.equal(byAddr.get('127.0.0.1:17400')?.zoneName, 'z9');
    assert.equal(byAddr.get('127.0.0.1:17400')?.mediaType, 2);
    assert.equal(byAddr.has('127.0.0.1:17401'), false);
    assert.ok(findingsOf(plan, 'notAdopted', 'node-id').some((f) => f.subject === 'meta node 127.0.0.1:17401'));
    assert.equal(plan.counterFloors.common, 77 + 1_000);
    assert.equal(plan.summary.nodesRegistering, 3);
  });
});

void describe('a later recovery round', () => {
  void it('adopts only what the first round missed: new vols and data partitions of existing vols', () => {
    const state = bootstrapped();
    const first = new RecoveryCensus([]);
    for (const m of M) first.takeMetaReport(m.addr, metaReport(vol1Meta(17210).filter((p) => p.volName === 'vol1')));
    for (const d of D.slice(0, 2)) first.takeDataReport(d.addr, dataReport([dp(1, 'vol1')]));
    adopt(state, planRecovery(state, first.snapshot(), OPTIONS));
    assert.deepEqual([...state.dataPartitions.keys()], [1]);

    const plan = planRecovery(state, wholeCensus().snapshot(), { ...OPTIONS, round: 2 });
    assert.deepEqual(plan.nodes, []);
    assert.deepEqual(plan.vols.map((v) => v.name), ['vol2']);
    assert.deepEqual(plan.extraDataPartitions.map((e) => [e.volName, e.partitions.map((p) => p.id)]), [['vol1', [2]]]);
    assert.equal(findingsOf(plan, 'unknown').length, 0);
    adopt(state, plan, 2);
    assert.deepEqual([...state.dataPartitions.keys()].sort(), [1, 2, 3]);
  });
});

void describe('recovery census', () => {
  void it('hears from the peers its reports name, and does not wait for registering nodes', () => {
    const census = new RecoveryCensus([{ kind: 'any', addr: M[0].addr }]);
    assert.deepEqual(census.pending(), [{ addr: M[0].addr, kind: 'any' }]);
    census.takeMetaReport(M[0].addr, metaReport([mp(1, 'vola', 0n, INODE_ID_MAX)]));
    assert.deepEqual(census.pending().map((t) => [t.addr, t.kind]), [[M[1].addr, 'meta'], [M[2].addr, 'meta']]);
    census.noteRegistration({ kind: 'meta', addr: M[1].addr, zoneName: '', heartbeatPort: '', replicaPort: '', mediaType: 0 });
    assert.deepEqual(census.pending().map((t) => t.addr), [M[2].addr]);
    const snap: CensusSnapshot = census.snapshot();
    assert.deepEqual(snap.silent.map((t) => t.addr), [M[2].addr]);
  });

  void it('stops growing at its bound', () => {
    const census = new RecoveryCensus([], 2);
    census.takeMetaReport(M[0].addr, metaReport([mp(1, 'vola', 0n, INODE_ID_MAX)]));
    assert.equal(census.allTargets().length, 2);
    assert.equal(census.dropped, 1);
  });
});
