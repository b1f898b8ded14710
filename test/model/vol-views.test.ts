// The volume and partition views (src/model/vol-views.ts) against the Go master's replies in
// wire-samples.ts. Each state is built the way the Go master was at the capture: the same vols
// (ids, settings, create times), the same nodes and the heartbeat reports it had in `live`.
// Views are rendered with stringifyJson, as the HTTP layer does, and compared as JSON text: same
// keys in the same order, same JSON types, same values. Where Go prints a map (rows in map
// order) the rows are sorted first; where a value is not a function of the replicated state
// (Go caches, load-task results) the difference is asserted on its own.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataReplicaLive, MetaReplicaLive, ModelState, PartitionPeer, VolIntentRecord } from '../../src/model/index.js';
import {
  clusterVolStatInfos,
  DEFAULT_VOL_SETTINGS,
  dataPartitionDiagnosis,
  dataPartitionInfoById,
  dataPartitionsViewByName,
  formatDateTime,
  formatGoFloat,
  INODE_ID_MAX,
  makeCommand,
  metaPartitionDiagnosis,
  metaPartitionInfoById,
  metaPartitionViewsByName,
  setDataNodeLive,
  setMetaNodeLive,
  putDataReplicaLive,
  putMetaReplicaLive,
  simpleVolViewByName,
  UTC_VIEW,
  volList,
  volStatInfoByName,
  volViewByName,
} from '../../src/model/index.js';
import { parseJsonExact, stringifyJson } from '../../src/util/json.js';
import { bootstrapped, dataNodeAddCmd, ok, sameJson, userCreateCmd, userUpdateCmd, volCreateBeginCmd, wireData, withNodes } from './helpers.js';
import * as wire from './wire-samples.js';

// --- the captured cluster --------------------------------------------------------------------

const GIB = 1_073_741_824n;
const META: PartitionPeer = { nodeId: 2, addr: '127.0.0.1:17210' };
const DATA: PartitionPeer = { nodeId: 3, addr: '127.0.0.1:17310' };
const DISK = '/var/lib/cubefs/data1/disk1';
const META_DOMAIN = 'localhost:17210,runsc:17210,vm:17210';
const DATA_DOMAIN = 'localhost:17310,runsc:17310,vm:17310';
/** Create times of the captured vols (unix s, UTC). */
const T_VOL1 = 1_795_632_215; // 18:43:35
const T_VOL2 = 1_795_632_225; // 18:43:45
const T_VOLA = 1_795_632_745; // 18:52:25
const T_VOLB = 1_795_632_755; // 18:52:35
/** The heartbeat the captures of /metaPartition/get and /dataPartition/get reflect. */
const T_REPORT_MS = 1_795_632_743_000;



type Json = Record<string, unknown>;

/** A copy of `obj` with `key` changed from `from` (asserted) to `to`, in place in the key order. */
function replaced(obj: unknown, key: string, from: unknown, to: unknown): Json {
  return patched(obj, { [key]: [from, to] });
}

/** A copy of `obj` with each `key: [from, to]` applied as `replaced` does. */
function patched(obj: unknown, changes: Record<string, readonly [unknown, unknown]>): Json {
  const copy = { ...(obj as Json) };
  for (const [key, [from, to]] of Object.entries(changes)) {
    assert.ok(key in copy, `no key ${key}`);
    assert.deepEqual(copy[key], from, key);
    copy[key] = to;
  }
  return copy;
}

/** Rows that Go prints in map order, sorted by a numeric key. */
function sortedBy<T>(rows: readonly T[], key: string): T[] {
  return [...rows].sort((a, b) => Number((a as Json)[key]) - Number((b as Json)[key]));
}

/** A data node's disk paths for every data partition of an intent. */
function diskPaths(intent: VolIntentRecord): string[][] {
  return intent.dataPartitions.map((dp) => dp.peers.map(() => DISK));
}

interface VolSpec {
  readonly name: string;
  readonly createTimeUnixSec: number;
  readonly mps?: number;
  readonly dps?: number;
  readonly dpReplicaNum?: number;
  readonly capacityGB?: number;
  readonly followerRead?: boolean;
  readonly zoneName?: string;
}

/** `vol.createBegin` + `vol.createCommit`, as /admin/createVol does; returns the vol id. */
function createVol(state: ModelState, spec: VolSpec): number {
  const intent = ok(state, beginCmd(spec));
  ok(state, makeCommand('vol.createCommit', { volId: intent.vol.id, dpDiskPaths: diskPaths(intent) }));
  return intent.vol.id;
}

function beginCmd(spec: VolSpec) {
  const dps = spec.dps ?? 3;
  return volCreateBeginCmd(
    spec.name,
    'alice',
    { meta: [META], data: dps === 0 ? [] : [DATA], mps: spec.mps ?? 3, dps },
    {
      createTimeUnixSec: spec.createTimeUnixSec,
      capacityGB: spec.capacityGB ?? 10,
      dpReplicaNum: spec.dpReplicaNum ?? 1,
      dpSizeBytes: 11n * GIB,
      // cfs-cli sends `zoneName=`: the settings keep "", the views show "default".
      settings: { ...DEFAULT_VOL_SETTINGS, zoneName: spec.zoneName ?? '', followerRead: spec.followerRead ?? true },
    },
  );
}

/** A meta node heartbeat's report of one partition (committed or only planned by an intent). */
function reportMeta(state: ModelState, mpId: number, fields: Partial<MetaReplicaLive> = {}): void {
  const planned = [...state.volIntents.values()].flatMap((i) => i.metaPartitions);
  const mp = state.metaPartitions.get(mpId) ?? planned.find((p) => p.id === mpId) ?? assert.fail(`no mp ${mpId}`);
  const replica: MetaReplicaLive = {
    addr: META.addr,
    nodeId: META.nodeId,
    start: mp.start,
    end: mp.end,
    maxInodeId: mp.start === 0n ? 1n : mp.start,
    inodeCount: mp.start === 0n ? 1n : 0n,
    dentryCount: 0n,
    status: 2,
    isLeader: true,
    reportTimeMs: T_REPORT_MS,
    reportMonoMs: 0,
    forbidWriteOpOfProtoVer0: true,
    ...fields,
  };
  putMetaReplicaLive(state, mpId, replica);
}

function reportData(state: ModelState, dpId: number, fields: Partial<DataReplicaLive> = {}): void {
  const replica: DataReplicaLive = {
    addr: DATA.addr,
    nodeId: DATA.nodeId,
    status: 2,
    isLeader: true,
    totalBytes: 11_811_160_064n,
    usedBytes: 0n,
    fileCount: 64,
    diskPath: DISK,
    reportTimeMs: T_REPORT_MS,
    reportMonoMs: 0,
    forbidWriteOpOfProtoVer0: true,
    ...fields,
  };
  putDataReplicaLive(state, dpId, replica);
}

/** Both nodes heartbeating, as in every capture with nodes. */
function nodesAlive(state: ModelState): void {
  assert.ok(setMetaNodeLive(state, META.nodeId, { isActive: true, isWritable: true, domainAddr: META_DOMAIN, reportTimeMs: T_REPORT_MS }));
  assert.ok(setDataNodeLive(state, DATA.nodeId, { isActive: true, isWritable: true, domainAddr: DATA_DOMAIN, reportTimeMs: T_REPORT_MS }));
}

/**
 * The master of metanode-datanode-to-master / cli-vs-master-with-meta-data-nodes up to vol2:
 * node set 1, meta node 2, data node 3, common id 4 burnt, vol1 (id 5, mps 1-3, dps 1-3)
 * created and removed again, vol2 (id 6) with mps 4-6 and dps 4-13 (3 at create, 7 added by
 * the top-up), capacity raised from 10 to 15 GB.
 */
function withVol2(): ModelState {
  const state = bootstrapped();
  ok(state, userCreateCmd('alice', { accessKey: 'MzloR2E5EYUGKBkY', secretKey: '67gNEnZWH1LRMGVjNp4i3kFIHHZ9ONWH' }));
  ok(state, userUpdateCmd('alice', { userType: 2 }));
  const nodes = withNodes(state);
  assert.deepEqual(nodes, { meta: [META], data: [DATA] });
  ok(state, makeCommand('ids.reserve', { counter: 'common', count: 1 }));
  const vol1 = createVol(state, { name: 'vol1', createTimeUnixSec: T_VOL1 });
  assert.equal(vol1, 5);
  ok(state, makeCommand('vol.setDeleted', { name: 'vol1', deleted: true, timeUnixSec: T_VOL1 + 5 }));
  ok(state, makeCommand('vol.remove', { volId: vol1 }));
  const vol2 = createVol(state, { name: 'vol2', createTimeUnixSec: T_VOL2 });
  assert.equal(vol2, 6);
  ok(state, makeCommand('ids.reserve', { counter: 'dataPartition', count: 7 }));
  ok(
    state,
    makeCommand('dp.add', {
      volId: vol2,
      mediaType: 1,
      sizeBytes: 11n * GIB,
      createTimeUnixSec: T_VOL2 + 7,
      partitions: [7, 8, 9, 10, 11, 12, 13].map((id) => ({ id, peers: [DATA], diskPaths: [DISK] })),
    }),
  );
  ok(state, makeCommand('vol.update', { name: 'vol2', capacityGB: 15, dpReplicaNum: null, settings: {} }));
  nodesAlive(state);
  for (const id of [4, 5, 6]) reportMeta(state, id);
  for (let id = 4; id <= 13; id++) reportData(state, id);
  return state;
}

/** Then volA: a create that failed after its meta partitions (7-9), left marked deleted, no dps. */
function withVolA(): ModelState {
  const state = withVol2();
  const volA = createVol(state, { name: 'volA', createTimeUnixSec: T_VOLA, dps: 0, dpReplicaNum: 3, followerRead: false });
  assert.equal(volA, 7);
  ok(state, makeCommand('vol.setDeleted', { name: 'volA', deleted: true, timeUnixSec: T_VOLA }));
  return state;
}

/** Then volB (id 8): mps 10-12, dps 14-16, none of them reported yet. */
function withVolB(): ModelState {
  const state = withVolA();
  assert.equal(createVol(state, { name: 'volB', createTimeUnixSec: T_VOLB }), 8);
  return state;
}

// --- tests -----------------------------------------------------------------------------------

void describe('vol views match the captured CubeFS replies', () => {
  void it('SimpleVolView of /admin/getVol after heartbeats (vol2: 10 dps, 1 inode, zone "" shown as default)', () => {
    const state = withVol2();
    assert.equal(state.vols.get(6)?.settings.zoneName, '');
    assert.equal(formatDateTime(T_VOL2, 0), '2026-11-25 18:43:45');
    sameJson(simpleVolViewByName(state, 'vol2', UTC_VIEW), wireData(wire.getVolVol2));
  });

  void it('SimpleVolView of a vol marked deleted by a failed create (volA: Status 1, 3 mps, 0 dps)', () => {
    sameJson(simpleVolViewByName(withVolA(), 'volA', UTC_VIEW), wireData(wire.getVolVolAMarkDelete));
  });

  void it('SimpleVolView right after a create (volB); MaxDataPartitionID is the real max, not Go 10 s cache', () => {
    const view = simpleVolViewByName(withVolB(), 'volB', UTC_VIEW);
    const expected = wireData(wire.getVolVolB) as Json;
    // Go's QosItems come from a map: compare the rows sorted (ours: FlowRead, FlowWrite).
    const qos = expected['QosInfo'] as { QosItems: Json[]; QosEnable: boolean };
    const sortedQos = { QosItems: sortedBy(qos.QosItems, 'Type'), QosEnable: qos.QosEnable };
    assert.deepEqual(
      view.QosInfo.QosItems.map((q) => q.Name),
      ['FlowRead', 'FlowWrite'],
    );
    // Deliberate: getMaxDataPartitionID answers from a 10 s cache in Go (0 right after the create).
    assert.equal(view.MaxDataPartitionID, 16);
    sameJson(view, replaced(replaced(expected, 'QosInfo', qos, sortedQos), 'MaxDataPartitionID', 0, 16));
  });

  void it('/vol/list: every vol (marked-deleted ones with Status 1), sizes in bytes, by vol id', () => {
    sameJson(volList(withVolA(), ''), wireData(wire.volListTwo));
  });

  void it('/client/metaPartitions without a leader report: figures 0, LeaderAddr "", last End 2^63-1', () => {
    const state = withVolA();
    const text = stringifyJson(metaPartitionViewsByName(state, 'volA'));
    assert.match(text, /"End":9223372036854775807,/);
    sameJson(metaPartitionViewsByName(state, 'volA'), wireData(wire.clientMetaPartitionsVolA));
    sameJson(metaPartitionViewsByName(withVolB(), 'volB'), wireData(wire.clientMetaPartitionsVolB));
  });

  void it('/client/partitions before any report (volB): LeaderAddr "", rows in Go map order sorted', () => {
    const expected = wireData(wire.clientPartitionsVolB) as Json;
    const rows = expected['DataPartitions'] as Json[];
    assert.deepEqual(
      rows.map((r) => r['PartitionID']),
      [15, 16, 14],
    );
    sameJson(dataPartitionsViewByName(withVolB(), 'volB'), replaced(expected, 'DataPartitions', rows, sortedBy(rows, 'PartitionID')));
  });

  void it('/client/partitions with leaders reported (vol2, 10 dps)', () => {
    const expected = wireData(wire.clientPartitionsVol2) as Json;
    const rows = expected['DataPartitions'] as Json[];
    sameJson(dataPartitionsViewByName(withVol2(), 'vol2'), replaced(expected, 'DataPartitions', rows, sortedBy(rows, 'PartitionID')));
  });

  void it('/client/partitions of a hot vol without data partitions answers 18', () => {
    const envelope = JSON.parse(wire.clientPartitionsNone) as { code: number; msg: string; data: unknown };
    assert.throws(() => dataPartitionsViewByName(withVolA(), 'volA'), { code: envelope.code, message: envelope.msg });
  });

  void it('MetaPartitionInfo of /metaPartition/get with one replica report (LoadResponse is not kept)', () => {
    const view = metaPartitionInfoById(withVolB(), 4);
    const expected = wireData(wire.metaPartitionGet4) as Json;
    // Deliberate: LoadResponse holds the results of Go's periodic load tasks, which are not kept.
    assert.deepEqual(view.LoadResponse, []);
    const loads = expected['LoadResponse'] as unknown[];
    assert.equal(loads.length, 1);
    sameJson(view, replaced(expected, 'LoadResponse', loads, []));
  });

  void it('DataPartitionInfo of /dataPartition/get with one replica report (LastLoadedTime = create time)', () => {
    const view = dataPartitionInfoById(withVolB(), 5);
    // Deliberate: Go's LastLoadedTime is when a load task last ran on the leader, not a state value.
    assert.equal(view.LastLoadedTime, T_VOL2);
    sameJson(view, replaced(wireData(wire.dataPartitionGet5), 'LastLoadedTime', 1_795_632_723, T_VOL2));
    // With a vol scope, only that vol's partitions are found (Go answers 11 for both cases).
    assert.equal(dataPartitionInfoById(withVolB(), 5, 'vol2').PartitionID, 5);
    assert.throws(() => dataPartitionInfoById(withVolB(), 5, 'volB'), { code: 11 });
    assert.throws(() => dataPartitionInfoById(withVolB(), 5, 'nope'), { code: 11 });
  });

  void it('ClusterView.VolStatInfo before the stat round reached the vols (zeros, "NaN")', () => {
    const view = wireData(wire.getClusterWithVol) as Json;
    sameJson(clusterVolStatInfos(withVol2(), true), view['VolStatInfo']);
  });

  // A real metanode asks /admin/getVol while it creates a meta partition and refuses the create
  // when the vol does not exist, so getVol shows a vol whose create runs, as Go does.
  void it('shows a vol while its create runs as Go does (no partitions yet)', () => {
    const sample = wireData(wire.getVolVol1Creating) as Json;
    assert.equal(sample['MpCnt'], 0);
    const state = bootstrapped();
    withNodes(state);
    ok(state, beginCmd({ name: 'vol1', createTimeUnixSec: T_VOL1 }));
    const view = simpleVolViewByName(state, 'vol1', UTC_VIEW) as unknown as Json;
    assert.deepEqual(Object.keys(view), Object.keys(sample));
    for (const key of ['MpCnt', 'DpCnt', 'MaxMetaPartitionID', 'MaxDataPartitionID', 'RwDpCnt', 'Status', 'Name', 'Owner']) assert.deepEqual(view[key], sample[key], key);
  });
});

void describe('vol views', () => {
  void it('never show a create in progress (vol.createBegin without commit) in a list or a client view', () => {
    const state = withVol2();
    const before = {
      list: stringifyJson(volList(state, '')),
      stats: stringifyJson(clusterVolStatInfos(state)),
    };
    const intent = ok(state, beginCmd({ name: 'volC', createTimeUnixSec: T_VOLB }));
    assert.equal(state.volIntents.size, 1);
    assert.deepEqual(
      intent.metaPartitions.map((mp) => mp.id),
      [7, 8, 9],
    );
    assert.deepEqual(
      intent.dataPartitions.map((dp) => dp.id),
      [14, 15, 16],
    );
    // The nodes may already report the new partitions: still nothing shows.
    reportMeta(state, 7);
    reportData(state, 14);
    assert.equal(stringifyJson(volList(state, '')), before.list);
    assert.equal(stringifyJson(clusterVolStatInfos(state)), before.stats);
    assert.deepEqual(volList(state, 'volC'), []);
    // The node-facing lookups answer as Go's do mid-create: the vol, and no data partition (18).
    assert.equal(simpleVolViewByName(state, 'volC', UTC_VIEW).MpCnt, 0);
    assert.throws(() => dataPartitionsViewByName(state, 'volC'), { code: 18 });
    assert.throws(() => volViewByName(state, 'volC'), { code: 7 });
    assert.throws(() => metaPartitionViewsByName(state, 'volC'), { code: 7 });
    assert.throws(() => volStatInfoByName(state, 'volC'), { code: 7 });
    for (const mp of intent.metaPartitions) assert.throws(() => metaPartitionInfoById(state, mp.id), { code: 10 });
    for (const dp of intent.dataPartitions) assert.throws(() => dataPartitionInfoById(state, dp.id), { code: 11 });
    // The vol the intent sits beside is unchanged.
    assert.equal(simpleVolViewByName(state, 'vol2', UTC_VIEW).MaxMetaPartitionID, 6);
    // After the commit it is there.
    ok(state, makeCommand('vol.createCommit', { volId: intent.vol.id, dpDiskPaths: diskPaths(intent) }));
    assert.equal(simpleVolViewByName(state, 'volC', UTC_VIEW).DpCnt, 3);
  });

  void it('show a vol marked for deletion with Status 1 everywhere, and Status 0 again after undelete', () => {
    const state = withVol2();
    ok(state, makeCommand('vol.setDeleted', { name: 'vol2', deleted: true, timeUnixSec: T_VOL2 + 60 }));
    assert.equal(simpleVolViewByName(state, 'vol2', UTC_VIEW).Status, 1);
    assert.equal(volViewByName(state, 'vol2').Status, 1);
    assert.deepEqual(
      volList(state, '').map((v) => [v.Name, v.Status]),
      [['vol2', 1]],
    );
    assert.deepEqual(
      clusterVolStatInfos(state).map((v) => v.Name),
      ['vol2'],
    );
    // Partitions stay visible (the Go master serves them until the background removal).
    assert.equal(dataPartitionsViewByName(state, 'vol2').DataPartitions.length, 10);
    ok(state, makeCommand('vol.setDeleted', { name: 'vol2', deleted: false, timeUnixSec: T_VOL2 + 61 }));
    assert.equal(simpleVolViewByName(state, 'vol2', UTC_VIEW).Status, 0);
  });

  void it('forget a removed vol and its partitions (vol1 of the capture)', () => {
    const state = withVol2();
    assert.throws(() => simpleVolViewByName(state, 'vol1', UTC_VIEW), { code: 7 });
    assert.throws(() => metaPartitionInfoById(state, 1), { code: 10 });
    assert.throws(() => dataPartitionInfoById(state, 3), { code: 11 });
  });

  void it('filter /vol/list by a case-sensitive substring of the name', () => {
    const state = withVolB();
    const names = (keywords: string) => volList(state, keywords).map((v) => v.Name);
    assert.deepEqual(names(''), ['vol2', 'volA', 'volB']);
    assert.deepEqual(names('vol'), ['vol2', 'volA', 'volB']);
    assert.deepEqual(names('A'), ['volA']);
    assert.deepEqual(names('l2'), ['vol2']);
    assert.deepEqual(names('a'), []);
    assert.deepEqual(names('volBB'), []);
  });

  void it('keep 64-bit inode figures exact in the rendered JSON', () => {
    const state = withVol2();
    const big = INODE_ID_MAX - 1n; // 9223372036854775806
    const count = 2n ** 53n + 1n; // not a double
    reportMeta(state, 6, { maxInodeId: big, inodeCount: count, dentryCount: count });
    reportMeta(state, 5, { inodeCount: count });
    const views = stringifyJson(metaPartitionViewsByName(state, 'vol2'));
    assert.match(views, /"PartitionID":6,"Start":8388609,"End":9223372036854775807,"MaxInodeID":9223372036854775806,"InodeCount":9007199254740993,"DentryCount":9007199254740993,/);
    const info = stringifyJson(metaPartitionInfoById(state, 6));
    assert.match(info, /"MaxInodeID":9223372036854775806,"InodeCount":9007199254740993,/);
    assert.match(info, /"MaxInode":9223372036854775806,/);
    const parsed = parseJsonExact(info) as Json;
    assert.equal(parsed['MaxInodeID'], big);
    // Sums over partitions stay exact too: 1 + 2 * (2^53 + 1).
    const sum = 1n + 2n * count;
    assert.match(stringifyJson(simpleVolViewByName(state, 'vol2', UTC_VIEW)), new RegExp(`"InodeCount":${sum},"DentryCount":${count},`));
    assert.match(stringifyJson(volStatInfoByName(state, 'vol2')), new RegExp(`"InodeCount":${sum},`));
  });

  void it('keep 64-bit range bounds exact after a split far up the inode space', () => {
    const state = withVol2();
    const newEnd = 2n ** 62n + 12_345n;
    ok(state, makeCommand('ids.reserve', { counter: 'metaPartition', count: 1 }));
    ok(
      state,
      makeCommand('mp.split', { volId: 6, mpId: 6, newEnd, newPartitions: [{ id: 7, start: newEnd + 1n, end: INODE_ID_MAX, peers: [META] }] }),
    );
    const text = stringifyJson(metaPartitionViewsByName(state, 'vol2'));
    assert.match(text, /"PartitionID":6,"Start":8388609,"End":4611686018427400249,/);
    assert.match(text, /"PartitionID":7,"Start":4611686018427400250,"End":9223372036854775807,/);
  });

  void it('show zone "" as "default" unless the vol is cross-zone', () => {
    const state = withVol2();
    assert.equal(simpleVolViewByName(state, 'vol2', UTC_VIEW).ZoneName, 'default');
    ok(state, makeCommand('vol.update', { name: 'vol2', capacityGB: null, dpReplicaNum: null, settings: { crossZone: true } }));
    assert.equal(simpleVolViewByName(state, 'vol2', UTC_VIEW).ZoneName, '');
    ok(state, makeCommand('vol.update', { name: 'vol2', capacityGB: null, dpReplicaNum: null, settings: { crossZone: false, zoneName: 'default' } }));
    assert.equal(simpleVolViewByName(state, 'vol2', UTC_VIEW).ZoneName, 'default');
  });

  void it('VolView of /client/vol: Go field order, meta partitions by id, DataPartitions [], owner keys', () => {
    const state = withVolB();
    const view = volViewByName(state, 'volB');
    const expected = {
      Name: 'volB',
      Owner: 'alice',
      Status: 0,
      FollowerRead: true,
      MetaPartitions: wireData(wire.clientMetaPartitionsVolB),
      DataPartitions: [],
      DomainOn: false,
      // Deliberate: Go draws a random OSS key pair per vol; this model keeps none and shows the owner's.
      OSSSecure: { AccessKey: 'MzloR2E5EYUGKBkY', SecretKey: '67gNEnZWH1LRMGVjNp4i3kFIHHZ9ONWH' },
      CreateTime: T_VOLB,
      DeleteLockTime: 0,
      VolType: 0,
    };
    sameJson(view, expected);
    assert.throws(() => volViewByName(state, 'nope'), { code: 7 });
  });

  void it('VolStatInfo of /client/volStat: Go field order, 2-decimal ratio, used bytes and inodes from reports', () => {
    const state = withVol2();
    reportData(state, 4, { usedBytes: GIB });
    reportData(state, 9, { usedBytes: GIB / 2n });
    const used = GIB + GIB / 2n;
    const expected = {
      Name: 'vol2',
      TotalSize: 15n * GIB,
      UsedSize: used,
      UsedRatio: '0.10', // 1.5 / 15
      CacheTotalSize: 0,
      CacheUsedSize: 0,
      CacheUsedRatio: '',
      EnableToken: false,
      InodeCount: 1,
      TxCnt: 0,
      TxRbInoCnt: 0,
      TxRbDenCnt: 0,
      DpReadOnlyWhenVolFull: false,
      TrashIntervalV2: 0,
      DefaultStorageClass: 1,
      MetaFollowerRead: false,
      MaximallyRead: false,
      LeaderRetryTimeOut: 0,
      StatByStorageClass: [],
      StatMigrateStorageClass: [],
      StatByDpMediaType: [{ StorageClass: 1, InodeCount: 0, UsedSizeBytes: used, QuotaGB: 0 }],
    };
    sameJson(volStatInfoByName(state, 'vol2'), expected);
    // /vol/list and the cluster stat round count the same bytes.
    assert.equal(volList(state, 'vol2')[0].UsedSize, used);
    const [stat] = clusterVolStatInfos(state);
    assert.deepEqual([stat.TotalSize, stat.UsedSize, stat.UsedRatio, stat.InodeCount], [15n * GIB, used, '0.100', 1n]);
    assert.throws(() => volStatInfoByName(state, 'nope'), { code: 7 });
  });

  void it('VolStatInfo of a vol without data partitions: StatByDpMediaType [] and ratio "0.00"', () => {
    const stat = volStatInfoByName(withVolA(), 'volA');
    assert.equal(stat.UsedRatio, '0.00');
    assert.deepEqual(stat.StatByDpMediaType, []);
  });

  void it('count a cold vol by meta: UsedSize 0, the data bytes as CacheUsedSize, ratio over 0 total', () => {
    const state = withVol2();
    const intent = ok(state, { ...beginCmd({ name: 'cold1', createTimeUnixSec: T_VOLB }), volType: 1 });
    ok(state, makeCommand('vol.createCommit', { volId: intent.vol.id, dpDiskPaths: diskPaths(intent) }));
    const stat = volStatInfoByName(state, 'cold1');
    assert.deepEqual([stat.UsedSize, stat.CacheUsedSize, stat.CacheUsedRatio], [0n, 0n, 'NaN']);
    reportData(state, intent.dataPartitions[0].id, { usedBytes: GIB });
    const after = volStatInfoByName(state, 'cold1');
    assert.deepEqual([after.UsedSize, after.CacheTotalSize, after.CacheUsedSize, after.CacheUsedRatio], [0n, 0n, GIB, '+Inf']);
    // A cold vol's /client/partitions may be empty without error (only hot vols answer 18).
    const empty = ok(state, { ...beginCmd({ name: 'cold2', createTimeUnixSec: T_VOLB, dps: 0 }), volType: 1 });
    ok(state, makeCommand('vol.createCommit', { volId: empty.vol.id, dpDiskPaths: [] }));
    assert.deepEqual(dataPartitionsViewByName(state, 'cold2').DataPartitions, []);
  });

  void it('mark /client/partitions VolReadOnly when a full hot vol asked for it (BlobStore allowed or not)', () => {
    const state = withVol2();
    const full = (allowed: readonly number[]) => {
      const name = `full${allowed.length}`;
      const intent = ok(state, {
        ...beginCmd({ name, createTimeUnixSec: T_VOLB, capacityGB: 1 }),
        allowedStorageClass: allowed as (1 | 3)[],
        settings: { ...DEFAULT_VOL_SETTINGS, followerRead: true, dpReadOnlyWhenVolFull: true },
      });
      ok(state, makeCommand('vol.createCommit', { volId: intent.vol.id, dpDiskPaths: diskPaths(intent) }));
      const view = dataPartitionsViewByName(state, name);
      assert.deepEqual([view.VolReadOnly, view.StatByClass], [false, []]);
      reportData(state, intent.dataPartitions[0].id, { usedBytes: GIB });
      return name;
    };
    for (const name of [full([1]), full([1, 3])]) {
      assert.equal(dataPartitionsViewByName(state, name).VolReadOnly, true, name);
      // Go's stat round (totalUsedSpace) counts a hot vol's data partitions whatever its classes.
      assert.equal(clusterVolStatInfos(state).find((v) => v.Name === name)?.UsedSize, GIB, name);
    }
    // volStat counts a BlobStore-capable vol by meta (not reported here: 0).
    assert.equal(volStatInfoByName(state, 'full2').UsedSize, 0n);
    assert.equal(volStatInfoByName(state, 'full1').UsedSize, GIB);
    assert.equal(dataPartitionsViewByName(state, 'vol2').StatByClass, null);
  });

  void it('MetaPartitionInfo before any report: Replicas [], figures 0, StatByMigrateStorageClass null', () => {
    const info = metaPartitionInfoById(withVolB(), 10);
    const expected = {
      PartitionID: 10,
      Start: 0,
      End: 4194304,
      MaxInodeID: 0,
      InodeCount: 0,
      DentryCount: 0,
      VolName: 'volB',
      Replicas: [],
      ReplicaNum: 1,
      Status: 2,
      IsRecover: false,
      Hosts: [META.addr],
      Peers: [{ id: 2, addr: META.addr, raftHeartbeat: '17230', raftReplica: '17231' }],
      Zones: ['default'],
      NodeSets: [1],
      OfflinePeerID: 0,
      MissNodes: {},
      LoadResponse: [],
      Forbidden: false,
      Freeze: 0,
      StatByStorageClass: [],
      StatByMigrateStorageClass: null,
      ForbidWriteOpOfProtoVer0: false,
    };
    sameJson(info, expected);
    assert.throws(() => metaPartitionInfoById(withVolB(), 99), { code: 10 });
  });

  void it('DataPartitionInfo before any report: replica as Go afterCreation leaves it', () => {
    const info = dataPartitionInfoById(withVolB(), 14);
    const replica = {
      Addr: DATA.addr,
      DomainAddr: DATA_DOMAIN,
      ReportTime: T_VOLB,
      FileCount: 0,
      Status: 0, // Recovering: a 1-replica partition
      HasLoadResponse: false,
      TotalSize: 120n * GIB,
      UsedSize: 0,
      IsLeader: false,
      NeedsToCompare: false,
      DiskPath: DISK,
      DecommissionRepairProgress: 0,
      LocalPeers: null,
      TriggerDiskError: false,
      ForbidWriteOpOfProtoVer0: false,
      ReadOnlyReasons: 0,
      IsMissingTinyExtent: false,
      IsRepairing: false,
    };
    // dp 5 of the capture after its first report, turned into dp 14 of volB before one.
    const sample = wireData(wire.dataPartitionGet5) as Json;
    const expected = patched(sample, {
      PartitionID: [5, 14],
      LastLoadedTime: [1_795_632_723, T_VOLB],
      Replicas: [sample['Replicas'], [replica]],
      VolName: ['vol2', 'volB'],
      VolID: [6, 8],
      ForbidWriteOpOfProtoVer0: [true, false],
    });
    sameJson(info, expected);
  });

  void it('take leaders and inode figures from reports: max over replicas, first leader in peer order', () => {
    const state = withVol2();
    reportMeta(state, 5, { isLeader: false, maxInodeId: 4_194_400n, inodeCount: 7n });
    const mp5 = metaPartitionViewsByName(state, 'vol2').find((v) => v.PartitionID === 5) ?? assert.fail('no mp 5');
    // Without a leader Go leaves the figures at zero.
    assert.deepEqual([mp5.LeaderAddr, mp5.MaxInodeID, mp5.InodeCount], ['', 0n, 0n]);
    const info = metaPartitionInfoById(state, 5);
    assert.deepEqual([info.MaxInodeID, info.InodeCount, info.Replicas[0].IsLeader], [4_194_400n, 7n, false]);
    reportData(state, 4, { isLeader: false });
    const dp4 = dataPartitionsViewByName(state, 'vol2').DataPartitions.find((d) => d.PartitionID === 4) ?? assert.fail('no dp 4');
    assert.equal(dp4.LeaderAddr, '');
  });

  void it('drop the leader of a replica whose node went inactive, as Go checkLeader does', () => {
    const state = withVol2();
    setMetaNodeLive(state, META.nodeId, { isActive: false });
    setDataNodeLive(state, DATA.nodeId, { isActive: false });
    assert.deepEqual(
      metaPartitionViewsByName(state, 'vol2').map((v) => [v.LeaderAddr, v.MaxInodeID]),
      [
        ['', 0n],
        ['', 0n],
        ['', 0n],
      ],
    );
    assert.ok(dataPartitionsViewByName(state, 'vol2').DataPartitions.every((d) => d.LeaderAddr === ''));
    const info = metaPartitionInfoById(state, 4);
    // The replica's figures stay (Go keeps them), only IsLeader is cleared.
    assert.deepEqual([info.MaxInodeID, info.Replicas[0].IsLeader], [1n, false]);
    assert.equal(dataPartitionInfoById(state, 5).Replicas[0].IsLeader, false);
    // A replica reporting Unavailable does not lead either.
    nodesAlive(state);
    reportMeta(state, 4, { status: -1 });
    assert.equal(metaPartitionViewsByName(state, 'vol2')[0].LeaderAddr, '');
    assert.equal(metaPartitionViewsByName(state, 'vol2')[1].LeaderAddr, META.addr);
  });

  void it('answer 7 for unknown vols', () => {
    const state = withVol2();
    assert.throws(() => simpleVolViewByName(state, 'nope', UTC_VIEW), { code: 7, message: 'vol not exists' });
    assert.throws(() => metaPartitionViewsByName(state, 'nope'), { code: 7 });
    assert.throws(() => dataPartitionsViewByName(state, 'nope'), { code: 7 });
  });
});

void describe('formatGoFloat (strconv.FormatFloat with the f format)', () => {
  void it('rounds exact ties half to even and everything else to nearest', () => {
    assert.equal(formatGoFloat(0.125, 2), '0.12');
    assert.equal(formatGoFloat(0.375, 2), '0.38');
    assert.equal(formatGoFloat(2.5, 0), '2');
    assert.equal(formatGoFloat(3.5, 0), '4');
    // 1.005 is 1.00499999999999989... in binary: rounds down, where a decimal reading would not.
    assert.equal(formatGoFloat(1.005, 2), '1.00');
    assert.equal(formatGoFloat(2 / 3, 3), '0.667');
    assert.equal(formatGoFloat(0.1, 20), '0.10000000000000000555');
  });

  void it('narrows to float32 first with bitSize 32', () => {
    assert.equal(formatGoFloat(0.1, 10, 32), '0.1000000015');
    assert.equal(formatGoFloat(1 / 15, 3, 32), '0.067');
    assert.equal(formatGoFloat(16_777_217, 0, 32), '16777216');
  });

  void it('prints NaN, infinities, zeros, signs and large values as Go does', () => {
    assert.equal(formatGoFloat(0 / 0, 2), 'NaN');
    assert.equal(formatGoFloat(1 / 0, 2, 32), '+Inf');
    assert.equal(formatGoFloat(-1 / 0, 2), '-Inf');
    assert.equal(formatGoFloat(0, 3), '0.000');
    assert.equal(formatGoFloat(-0, 2), '-0.00');
    assert.equal(formatGoFloat(-0.5, 0), '-0');
    assert.equal(formatGoFloat(-1.25, 1), '-1.2');
    assert.equal(formatGoFloat(1e21, 0), '1000000000000000000000');
    assert.equal(formatGoFloat(5e-324, 3), '0.000');
    assert.equal(formatGoFloat(123.456, 0), '123');
  });
});

void describe('partition diagnosis (/metaPartition/diagnose?v1=true, /dataPartition/diagnose)', () => {
  const metaDiagnosis = (fields: Partial<Record<string, unknown>>) => ({
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
    ...fields,
  });
  const dataDiagnosis = (fields: Partial<Record<string, unknown>>) => ({
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
    ...fields,
  });

  void it('match the captured replies of a cluster without nodes', () => {
    const state = bootstrapped();
    sameJson(metaPartitionDiagnosis(state), wireData(wire.metaPartitionDiagnoseEmpty));
    sameJson(dataPartitionDiagnosis(state), wireData(wire.dataPartitionDiagnoseEmpty));
  });

  void it('list unreported partitions as leaderless and lacking replicas, skipping vols marked deleted', () => {
    const state = withVolB();
    // volA (7-9) is marked deleted and never reported: not listed. volB (10-12, 14-16) is new.
    ok(state, beginCmd({ name: 'volC', createTimeUnixSec: T_VOLB }));
    sameJson(metaPartitionDiagnosis(state), metaDiagnosis({ NoLeaderMetaPartitionIDs: [10, 11, 12], LackReplicaMetaPartitionIDs: [10, 11, 12] }));
    sameJson(dataPartitionDiagnosis(state), dataDiagnosis({ CorruptDataPartitionIDs: [14, 15, 16], LackReplicaDataPartitionIDs: [14, 15, 16] }));
  });

  void it('list the nodes that stopped heartbeating and the partitions they held', () => {
    const state = withVol2();
    setMetaNodeLive(state, META.nodeId, { isActive: false });
    setDataNodeLive(state, DATA.nodeId, { isActive: false });
    sameJson(
      metaPartitionDiagnosis(state),
      metaDiagnosis({
        InactiveMetaNodes: [META.addr],
        NoLeaderMetaPartitionIDs: [4, 5, 6],
        LackReplicaMetaPartitionIDs: [4, 5, 6],
        UnavailableMetaPartitionIDs: [4, 5, 6],
      }),
    );
    const all = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
    // A missing data replica turns ReadOnly in Go, not Unavailable: BadReplica stays empty.
    sameJson(dataPartitionDiagnosis(state), dataDiagnosis({ InactiveDataNodes: [DATA.addr], CorruptDataPartitionIDs: all, LackReplicaDataPartitionIDs: all }));
  });

  void it('list replicas that report Unavailable', () => {
    const state = withVol2();
    reportMeta(state, 5, { status: -1 });
    reportData(state, 4, { status: -1 });
    sameJson(
      metaPartitionDiagnosis(state),
      metaDiagnosis({ NoLeaderMetaPartitionIDs: [5], LackReplicaMetaPartitionIDs: [5], UnavailableMetaPartitionIDs: [5] }),
    );
    sameJson(
      dataPartitionDiagnosis(state),
      dataDiagnosis({ CorruptDataPartitionIDs: [4], LackReplicaDataPartitionIDs: [4], BadReplicaDataPartitionIDs: [4] }),
    );
  });

  void it('list partitions with more replicas reporting than they should have', () => {
    const state = withVol2();
    putMetaReplicaLive(state, 4, { ...(state.live.metaReplicas.get(4)?.get(META.addr) ?? assert.fail('no report')), addr: '127.0.0.9:17210', nodeId: 99 });
    putDataReplicaLive(state, 4, { ...(state.live.dataReplicas.get(4)?.get(DATA.addr) ?? assert.fail('no report')), addr: '127.0.0.9:17310', nodeId: 99 });
    sameJson(metaPartitionDiagnosis(state), metaDiagnosis({ InConsistRreplicaCntMetaPartitionIDs: [4] }));
    sameJson(dataPartitionDiagnosis(state), dataDiagnosis({ ExcessReplicaDpIDs: [4] }));
  });

  void it('compare replica used bytes (1 GiB) and file counts (20, with Go uint32 wrap) against the first replica', () => {
    const state = withVol2();
    const second = ok(state, dataNodeAddCmd('127.0.0.2:17310'));
    assert.ok(setDataNodeLive(state, second.id, { isActive: true, isWritable: true }));
    const data2: PartitionPeer = { nodeId: second.id, addr: '127.0.0.2:17310' };
    const intent = ok(state, volCreateBeginCmd('rep2', 'alice', { meta: [META], data: [DATA, data2], mps: 1, dps: 4 }, { settings: { ...DEFAULT_VOL_SETTINGS, followerRead: true } }));
    ok(state, makeCommand('vol.createCommit', { volId: intent.vol.id, dpDiskPaths: diskPaths(intent) }));
    reportMeta(state, intent.metaPartitions[0].id);
    const [a, b, c, d] = intent.dataPartitions.map((dp) => dp.id);
    const report = (id: number, first: Partial<DataReplicaLive>, other: Partial<DataReplicaLive>) => {
      reportData(state, id, first);
      reportData(state, id, { addr: data2.addr, nodeId: data2.nodeId, isLeader: false, ...other });
    };
    report(a, { usedBytes: GIB }, { usedBytes: 2n * GIB, fileCount: 84 }); // exactly 1 GiB and 20 apart: fine
    report(b, { usedBytes: 2n * GIB + 1n }, { usedBytes: GIB }); // more than 1 GiB less
    report(c, {}, { fileCount: 85 }); // 21 more files
    report(d, {}, { fileCount: 63 }); // 1 file less: Go's uint32 difference wraps, so it differs
    sameJson(dataPartitionDiagnosis(state), dataDiagnosis({ RepFileCountDifferDpIDs: [c, d], RepUsedSizeDifferDpIDs: [b] }));
  });
});
