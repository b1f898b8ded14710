// Placement of new partitions (src/cluster/placement.ts): eligibility, zones, node sets,
// crossZone, media, load spread and determinism, on models built through the real commands.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  HEARTBEAT_TIMEOUT_MS,
  PlacementError,
  placeDataPartitions,
  placeMetaPartitions,
  type DataPlacementRequest,
  type PlacementRequest,
} from '../../src/cluster/placement.js';
import { DEFAULT_VOL_SETTINGS, forgetNodeLive, makeCommand, modelDigest, setDataNodeLive, setMetaNodeLive, type ModelState, type PartitionPeer } from '../../src/model/index.js';
import { bootstrapped, dataNodeAddCmd, metaNodeAddCmd, ok, volCreateBeginCmd } from '../model/helpers.js';

const NOW_MS = Date.UTC(2026, 10, 25, 19, 0, 0);
/** The proposer's monotonic clock: unrelated to the wall clock, as in a process. */
const MONO_NOW_MS = 3_600_000;
const GIB = 1_073_741_824n;
const TIB = 1024 * 1024 * 1024 * 1024;

interface ZoneSpec {
  readonly meta?: number;
  readonly data?: number;
  readonly media?: 1 | 2;
  /** nodeSetCapacity of the add commands. */
  readonly setCap?: number;
}

interface Built {
  readonly state: ModelState;
  readonly meta: Map<string, number[]>;
  readonly data: Map<string, number[]>;
}

let hostSeq = 0;
/** Registers the nodes zone by zone and marks every node live, writable, with 10 TiB free. */
function build(zones: Readonly<Record<string, ZoneSpec>>): Built {
  const state = bootstrapped();
  const meta = new Map<string, number[]>();
  const data = new Map<string, number[]>();
  for (const [zone, spec] of Object.entries(zones)) {
    const cap = spec.setCap ?? 18;
    meta.set(zone, []);
    data.set(zone, []);
    for (let i = 0; i < (spec.meta ?? 0); i++) {
      hostSeq += 1;
      const { id } = ok(state, metaNodeAddCmd(`10.${hostSeq >> 16}.${(hostSeq >> 8) & 255}.${hostSeq & 255}:17210`, { zoneName: zone, nodeSetCapacity: cap }));
      meta.get(zone)!.push(id);
      setMetaNodeLive(state, id, liveMeta());
    }
    for (let i = 0; i < (spec.data ?? 0); i++) {
      hostSeq += 1;
      const { id } = ok(state, dataNodeAddCmd(`10.${hostSeq >> 16}.${(hostSeq >> 8) & 255}.${hostSeq & 255}:17310`, { zoneName: zone, nodeSetCapacity: cap, mediaType: spec.media ?? 1 }));
      data.get(zone)!.push(id);
      setDataNodeLive(state, id, liveData());
    }
  }
  return { state, meta, data };
}

function liveMeta() {
  return { isActive: true, isWritable: true, reportTimeMs: NOW_MS - 1000, reportMonoMs: MONO_NOW_MS - 1000, totalWeight: 64 * 2 ** 30, usedWeight: 2 ** 30, ratio: 1 / 64, threshold: 0.75 };
}

function liveData() {
  return { isActive: true, isWritable: true, reportTimeMs: NOW_MS - 1000, reportMonoMs: MONO_NOW_MS - 1000, totalWeight: 10 * TIB, usedWeight: 0, availableSpace: 10 * TIB };
}

function metaReq(fields: Partial<PlacementRequest> = {}): PlacementRequest {
  return { count: 1, replicaNum: 3, zoneNames: [], crossZone: false, monoNowMs: MONO_NOW_MS, ...fields };
}

function dataReq(fields: Partial<DataPlacementRequest> = {}): DataPlacementRequest {
  return { count: 1, replicaNum: 3, zoneNames: [], crossZone: false, monoNowMs: MONO_NOW_MS, mediaType: 1, partitionSizeBytes: 120n * GIB, ...fields };
}

function ids(placed: readonly (readonly PartitionPeer[])[]): Set<number> {
  return new Set(placed.flat().map((p) => p.nodeId));
}

function counts(placed: readonly (readonly PartitionPeer[])[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of placed.flat()) out.set(p.nodeId, (out.get(p.nodeId) ?? 0) + 1);
  return out;
}

function spreadOf(nodeIds: readonly number[], load: (id: number) => number): number {
  const values = nodeIds.map(load);
  return Math.max(...values) - Math.min(...values);
}

function throwsCode(fn: () => unknown, code: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PlacementError, `expected a PlacementError, got ${String(e)}`);
    assert.equal(e.code, code, `${e.message}: ${e.detail}`);
    return true;
  });
}

/** Commits the placement as a volume's partitions (real createBegin/createCommit). */
function commitVol(state: ModelState, name: string, mp: PartitionPeer[][], dp: PartitionPeer[][]): void {
  const intent = ok(
    state,
    volCreateBeginCmd(name, 'alice', { meta: mp[0], data: dp[0] }, { mpPeers: mp, dpPeers: dp, mpReplicaNum: mp[0].length, dpReplicaNum: dp[0].length, settings: { ...DEFAULT_VOL_SETTINGS, zoneName: '' } }),
  );
  ok(state, makeCommand('vol.createCommit', { volId: intent.vol.id, dpDiskPaths: dp.map((peers) => peers.map(() => '/disk1')) }));
}

void describe('placement: replicas', () => {
  void it('gives every partition replicaNum replicas on distinct registered nodes', () => {
    const { state } = build({ default: { meta: 6, data: 6 } });
    for (const replicaNum of [1, 2, 3, 5]) {
      const mps = placeMetaPartitions(state, metaReq({ count: 20, replicaNum }));
      const dps = placeDataPartitions(state, dataReq({ count: 20, replicaNum }));
      assert.equal(mps.length, 20);
      assert.equal(dps.length, 20);
      for (const peers of mps) {
        assert.equal(peers.length, replicaNum);
        assert.equal(new Set(peers.map((p) => p.nodeId)).size, replicaNum);
        for (const p of peers) assert.equal(state.metaNodes.get(p.nodeId)?.addr, p.addr);
      }
      for (const peers of dps) {
        assert.equal(peers.length, replicaNum);
        assert.equal(new Set(peers.map((p) => p.nodeId)).size, replicaNum);
        for (const p of peers) assert.equal(state.dataNodes.get(p.nodeId)?.addr, p.addr);
      }
    }
  });

  void it('places nothing for count 0', () => {
    const { state } = build({ default: { meta: 3, data: 3 } });
    assert.deepEqual(placeMetaPartitions(state, metaReq({ count: 0 })), []);
    assert.deepEqual(placeDataPartitions(state, dataReq({ count: 0 })), []);
  });

  void it('refuses a bad request with code 2', () => {
    const { state } = build({ default: { meta: 3, data: 3 } });
    assert.throws(() => placeMetaPartitions(state, metaReq({ replicaNum: 0 })), { code: 2 });
    assert.throws(() => placeMetaPartitions(state, metaReq({ count: -1 })), { code: 2 });
    assert.throws(() => placeDataPartitions(state, dataReq({ mediaType: 3 })), { code: 2 });
  });
});

void describe('placement: eligibility', () => {
  void it('never chooses an inactive, non-writable, stale, read-only or over-threshold meta node', () => {
    const { state, meta } = build({ default: { meta: 8 } });
    const [inactive, unwritable, stale, rdOnly, hot, unknownThreshold, wallStepped] = meta.get('default')!;
    setMetaNodeLive(state, inactive, { isActive: false });
    setMetaNodeLive(state, unwritable, { isWritable: false });
    // Freshness is aged on the monotonic clock: a stale report stamped in the wall clock's
    // future (taken before a backward step) is still stale, and a fresh one stamped an hour ago
    // (before a forward step) is still fresh.
    setMetaNodeLive(state, stale, { reportTimeMs: NOW_MS + 3_600_000, reportMonoMs: MONO_NOW_MS - HEARTBEAT_TIMEOUT_MS - 1 });
    setMetaNodeLive(state, wallStepped, { reportTimeMs: NOW_MS - 3_600_000 });
    ok(state, makeCommand('node.setRdOnly', { kind: 'meta', addr: state.metaNodes.get(rdOnly)!.addr, rdOnly: true }));
    setMetaNodeLive(state, hot, { ratio: 0.8, threshold: 0.75 });
    setMetaNodeLive(state, unknownThreshold, { ratio: 0.9, threshold: 0 });
    const used = ids(placeMetaPartitions(state, metaReq({ count: 30 })));
    for (const bad of [inactive, unwritable, stale, rdOnly, hot]) assert.ok(!used.has(bad), `node ${bad} chosen`);
    assert.ok(used.has(unknownThreshold), 'threshold 0 (not reported) does not exclude');
    assert.ok(used.has(wallStepped), 'an hour-old wall ReportTime with a fresh monotonic report does not exclude');
    assert.equal(used.size, 3);
  });

  void it('never chooses a data node before its first heartbeat, inactive, non-writable, read-only or without space', () => {
    const { state, data } = build({ default: { data: 8 } });
    const [fresh, inactive, unwritable, rdOnly, noSpace] = data.get('default')!;
    forgetNodeLive(state, 'data', fresh); // registered, no heartbeat yet
    setDataNodeLive(state, inactive, { isActive: false });
    setDataNodeLive(state, unwritable, { isWritable: false });
    ok(state, makeCommand('node.setRdOnly', { kind: 'data', addr: state.dataNodes.get(rdOnly)!.addr, rdOnly: true }));
    setDataNodeLive(state, noSpace, { availableSpace: Number(119n * GIB) });
    const used = ids(placeDataPartitions(state, dataReq({ count: 30 })));
    for (const bad of [fresh, inactive, unwritable, rdOnly, noSpace]) assert.ok(!used.has(bad), `node ${bad} chosen`);
    assert.equal(used.size, 3);
  });

  void it('counts the space each replica of the call takes', () => {
    const { state, data } = build({ default: { data: 4 } });
    const [small] = data.get('default')!;
    setDataNodeLive(state, small, { availableSpace: Number(250n * GIB) }); // two 120 GiB partitions
    const placed = placeDataPartitions(state, dataReq({ count: 12 }));
    assert.equal(counts(placed).get(small), 2);
  });

  void it('stops at the cluster maxDpCntLimit / maxMpCntLimit, counting the replicas of the call', () => {
    const { state } = build({ default: { meta: 3, data: 4 } });
    ok(
      state,
      makeCommand('cluster.setNodeInfo', {
        batchCount: null,
        markDeleteRate: null,
        autoRepairRate: null,
        deleteWorkerSleepMs: null,
        loadFactor: null,
        maxDpCntLimit: 5,
        maxMpCntLimit: 2,
        dpMaxRepairErrCnt: null,
      }),
    );
    // 4 nodes x 5 replicas = 20 = 6 partitions of 3 (18) and no room for a 7th.
    const dps = placeDataPartitions(state, dataReq({ count: 6 }));
    assert.ok(Math.max(...counts(dps).values()) <= 5);
    throwsCode(() => placeDataPartitions(state, dataReq({ count: 7 })), 26);
    assert.equal(placeMetaPartitions(state, metaReq({ count: 2 })).length, 2);
    throwsCode(() => placeMetaPartitions(state, metaReq({ count: 3 })), 30);
  });

  void it('counts the replicas the model already holds', () => {
    const { state } = build({ default: { meta: 3, data: 6 } });
    const mp = placeMetaPartitions(state, metaReq({ count: 3 }));
    const first = placeDataPartitions(state, dataReq({ count: 1 }));
    commitVol(state, 'vol1', mp, first);
    const second = placeDataPartitions(state, dataReq({ count: 1 }));
    const overlap = [...ids(second)].filter((id) => ids(first).has(id));
    assert.deepEqual(overlap, [], 'the next partition avoids the loaded nodes');
  });
});

void describe('placement: zones and codes', () => {
  void it('honours zoneNames', () => {
    const { state, meta, data } = build({ a: { meta: 3, data: 3 }, b: { meta: 3, data: 3 }, c: { meta: 3, data: 3 } });
    const mps = placeMetaPartitions(state, metaReq({ count: 10, zoneNames: ['b'] }));
    assert.deepEqual([...ids(mps)].sort(), [...meta.get('b')!].sort());
    const dps = placeDataPartitions(state, dataReq({ count: 10, zoneNames: ['a', 'c'] }));
    const allowed = new Set([...data.get('a')!, ...data.get('c')!]);
    for (const id of ids(dps)) assert.ok(allowed.has(id));
  });

  void it('answers 52 for an unknown zone', () => {
    const { state } = build({ a: { meta: 3, data: 3 } });
    throwsCode(() => placeMetaPartitions(state, metaReq({ zoneNames: ['a', 'nope'] })), 52);
    throwsCode(() => placeDataPartitions(state, dataReq({ zoneNames: ['nope'] })), 52);
    assert.throws(() => placeDataPartitions(state, dataReq({ zoneNames: ['nope'] })), (e: unknown) => e instanceof PlacementError && e.zoneName === 'nope' && e.message === 'zone not exists');
  });

  void it('answers 26 / 30 when too few nodes are eligible', () => {
    const { state, meta, data } = build({ a: { meta: 3, data: 3 } });
    setMetaNodeLive(state, meta.get('a')![0], { isActive: false });
    setDataNodeLive(state, data.get('a')![0], { isActive: false });
    throwsCode(() => placeMetaPartitions(state, metaReq()), 30);
    throwsCode(() => placeDataPartitions(state, dataReq()), 26);
    assert.equal(placeDataPartitions(state, dataReq({ replicaNum: 2 })).length, 1);
  });

  void it('answers 28 / 29 when enough nodes are eligible but no node set holds replicaNum of them', () => {
    const { state, meta, data } = build({ a: { meta: 6, data: 6, setCap: 3 } });
    // Two node sets of 3; one node of each down: 4 eligible nodes, no set with 3.
    for (const i of [0, 3]) {
      setMetaNodeLive(state, meta.get('a')![i], { isActive: false });
      setDataNodeLive(state, data.get('a')![i], { isActive: false });
    }
    throwsCode(() => placeMetaPartitions(state, metaReq()), 29);
    throwsCode(() => placeDataPartitions(state, dataReq()), 28);
  });

  void it('answers 27 / 51 when no zone can host the kind or the media', () => {
    const { state } = build({ ssd: { data: 3, media: 1 }, metaonly: { meta: 3 } });
    throwsCode(() => placeDataPartitions(state, dataReq({ mediaType: 2 })), 27);
    throwsCode(() => placeMetaPartitions(state, metaReq({ zoneNames: ['ssd'] })), 51);
    throwsCode(() => placeDataPartitions(state, dataReq({ zoneNames: ['metaonly'] })), 27);
  });

  void it('honours the media type', () => {
    const { state, data } = build({ ssd: { data: 4, media: 1 }, hdd: { data: 4, media: 2 } });
    assert.deepEqual([...ids(placeDataPartitions(state, dataReq({ count: 8, mediaType: 2 })))].sort(), [...data.get('hdd')!].sort());
    assert.deepEqual([...ids(placeDataPartitions(state, dataReq({ count: 8, mediaType: 1 })))].sort(), [...data.get('ssd')!].sort());
    // media 0 with crossZone: one media per partition
    const mixed = placeDataPartitions(state, dataReq({ count: 8, mediaType: 0, crossZone: true }));
    for (const peers of mixed) assert.equal(new Set(peers.map((p) => state.dataNodes.get(p.nodeId)?.mediaType)).size, 1);
  });
});

void describe('placement: node sets and crossZone', () => {
  void it('without crossZone keeps every partition in one node set of one zone', () => {
    const { state } = build({ a: { meta: 12, data: 12, setCap: 4 }, b: { meta: 8, data: 8, setCap: 4 } });
    const dps = placeDataPartitions(state, dataReq({ count: 60 }));
    const mps = placeMetaPartitions(state, metaReq({ count: 60 }));
    for (const peers of dps) assert.equal(new Set(peers.map((p) => state.dataNodes.get(p.nodeId)!.nodeSetId)).size, 1);
    for (const peers of mps) assert.equal(new Set(peers.map((p) => state.metaNodes.get(p.nodeId)!.nodeSetId)).size, 1);
    // ...and uses every node set (5 data sets of 4 nodes).
    assert.equal(new Set(dps.map((peers) => state.dataNodes.get(peers[0].nodeId)!.nodeSetId)).size, 5);
  });

  void it('with crossZone spreads the replicas over min(3, replicaNum, zones) zones', () => {
    const three = build({ a: { meta: 3, data: 3 }, b: { meta: 3, data: 3 }, c: { meta: 3, data: 3 }, d: { meta: 3, data: 3 } });
    for (const peers of placeDataPartitions(three.state, dataReq({ count: 20, crossZone: true }))) {
      assert.equal(new Set(peers.map((p) => three.state.dataNodes.get(p.nodeId)!.zoneName)).size, 3);
    }
    for (const peers of placeMetaPartitions(three.state, metaReq({ count: 20, crossZone: true }))) {
      assert.equal(new Set(peers.map((p) => three.state.metaNodes.get(p.nodeId)!.zoneName)).size, 3);
    }
    for (const peers of placeDataPartitions(three.state, dataReq({ count: 20, crossZone: true, replicaNum: 2 }))) {
      assert.equal(new Set(peers.map((p) => three.state.dataNodes.get(p.nodeId)!.zoneName)).size, 2);
    }
    const two = build({ a: { data: 3 }, b: { data: 3 } });
    for (const peers of placeDataPartitions(two.state, dataReq({ count: 20, crossZone: true }))) {
      const zones = peers.map((p) => two.state.dataNodes.get(p.nodeId)!.zoneName);
      assert.equal(new Set(zones).size, 2);
      assert.equal(new Set(peers.map((p) => p.nodeId)).size, 3);
    }
    const one = build({ a: { data: 3 } });
    assert.equal(placeDataPartitions(one.state, dataReq({ count: 3, crossZone: true })).length, 3);
  });

  void it('with crossZone spreads partitions evenly over the zones', () => {
    const { state, data } = build({ a: { data: 6 }, b: { data: 6 }, c: { data: 6 }, d: { data: 6 }, e: { data: 6 } });
    const placed = counts(placeDataPartitions(state, dataReq({ count: 100, crossZone: true })));
    const all = [...data.values()].flat();
    assert.ok(spreadOf(all, (id) => placed.get(id) ?? 0) <= 1, JSON.stringify([...placed]));
  });
});

void describe('placement: spread and determinism', () => {
  void it('keeps max - min replicas per node <= 1 on equal nodes, within one call and across calls', () => {
    const { state, meta, data } = build({ a: { meta: 12, data: 12, setCap: 6 }, b: { meta: 12, data: 12, setCap: 6 } });
    const allData = [...data.values()].flat();
    const allMeta = [...meta.values()].flat();
    const dps = placeDataPartitions(state, dataReq({ count: 100 }));
    const first = counts(dps);
    assert.ok(spreadOf(allData, (id) => first.get(id) ?? 0) <= 1, JSON.stringify([...first]));
    const mps = placeMetaPartitions(state, metaReq({ count: 16 }));
    const m = counts(mps);
    assert.ok(spreadOf(allMeta, (id) => m.get(id) ?? 0) <= 1);
    commitVol(state, 'vol1', mps, dps.slice(0, 100));
    // Small calls one after another (the top-up scheduler's pattern) stay even too.
    for (let i = 0; i < 20; i++) {
      const one = placeDataPartitions(state, dataReq({ count: 1 }));
      ok(state, makeCommand('ids.reserve', { counter: 'dataPartition', count: 1 }));
      ok(
        state,
        makeCommand('dp.add', {
          volId: state.index.volIdByName.get('vol1')!,
          mediaType: 1,
          sizeBytes: 120n * GIB,
          createTimeUnixSec: 1,
          partitions: [{ id: state.counters.dataPartition, peers: one[0], diskPaths: one[0].map(() => '/d') }],
        }),
      );
    }
    assert.ok(spreadOf(allData, (id) => state.index.replicasByDataNode.get(id) ?? 0) <= 1);
  });

  void it('weighs node sets by size: a zone of 5 x 18 + 10 nodes loads every node evenly', () => {
    const { state, data } = build({ a: { data: 100 } });
    const placed = counts(placeDataPartitions(state, dataReq({ count: 1000 })));
    const all = data.get('a')!;
    assert.ok(spreadOf(all, (id) => placed.get(id) ?? 0) <= 1, JSON.stringify([...placed.values()]));
  });

  void it('gives the same answer for the same input and changes nothing', () => {
    const zones = { a: { meta: 7, data: 9, setCap: 4 }, b: { meta: 5, data: 11, setCap: 4 }, c: { data: 4, media: 2 as const } };
    const x = build(zones);
    const y = build(zones);
    const before = modelDigest(x.state);
    const requests = [dataReq({ count: 50 }), dataReq({ count: 50, crossZone: true, mediaType: 0 }), dataReq({ count: 10, mediaType: 2, replicaNum: 2 })];
    for (const req of requests) {
      const a = placeDataPartitions(x.state, req);
      assert.deepEqual(placeDataPartitions(x.state, req), a);
      // Same commands, other hosts: the same shape of answer (node ids are equal, addrs differ).
      assert.deepEqual(
        placeDataPartitions(y.state, req).map((peers) => peers.map((p) => p.nodeId)),
        a.map((peers) => peers.map((p) => p.nodeId)),
      );
    }
    const m = placeMetaPartitions(x.state, metaReq({ count: 30, crossZone: true }));
    assert.deepEqual(placeMetaPartitions(x.state, metaReq({ count: 30, crossZone: true })), m);
    assert.equal(modelDigest(x.state), before);
  });
});
