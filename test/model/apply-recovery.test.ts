// The recovery commands (docs/recovery.md): a round begins, nodes come back with the ids their
// partitions' raft groups know them by, vols come back with their partitions under the ids the
// nodes hold them by, and the finish puts the id counters above every id seen. Every command
// runs through okChecked / failsChecked: the model invariants hold after each, and a refused
// command changes nothing.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AdoptedDataPartition, AdoptedMetaPartition, AdoptedNode, CommandOf, ModelState, RecoveryParams } from '../../src/model/index.js';
import {
  DEFAULT_VOL_SETTINGS,
  emptyRecoverySummary,
  emptyState,
  INODE_ID_MAX,
  isPreLossPartition,
  loadRecord,
  makeCommand,
  metaPartitionsOf,
  modelDigest,
  recoveryCollecting,
  ROOT_USER_ID,
  volByName,
} from '../../src/model/index.js';
import { bootstrapped, dataNodeAddCmd, failsChecked, MemoryStore, okChecked } from './helpers.js';

const PARAMS: RecoveryParams = {
  nodes: [{ kind: 'any', addr: '127.0.0.1:17210' }],
  collectTimeoutMs: 30_000,
  idMargin: 1_000,
  nodeIdHints: [],
};
const T = 1_800_000_000;

function begin(newRound = false): CommandOf<'recovery.begin'> {
  return makeCommand('recovery.begin', { params: PARAMS, timeUnixSec: T, newRound });
}

function node(kind: 'meta' | 'data', id: number, port: number, zoneName = 'default'): AdoptedNode {
  return { kind, id, addr: `127.0.0.1:${port}`, zoneName, heartbeatPort: String(port + 20), replicaPort: String(port + 21), mediaType: kind === 'data' ? 1 : 0 };
}

/** Meta nodes 21..23, data nodes 31..33: ids a lost cluster gave out, not 1, 2, 3. */
const NODES: AdoptedNode[] = [node('meta', 21, 17210), node('meta', 22, 17211), node('meta', 23, 17212), node('data', 31, 17310), node('data', 32, 17311), node('data', 33, 17312)];
const META_PEERS = NODES.filter((n) => n.kind === 'meta').map((n) => ({ nodeId: n.id, addr: n.addr }));
const DATA_PEERS = NODES.filter((n) => n.kind === 'data').map((n) => ({ nodeId: n.id, addr: n.addr }));

function adoptNodes(nodes: readonly AdoptedNode[], round = 1): CommandOf<'recovery.adoptNodes'> {
  return makeCommand('recovery.adoptNodes', { round, nodeSetCapacity: 18, createTimeMs: T * 1000, idFloor: 33, nodes });
}

/** A vol split twice: [0, 100], [101, 5000], [5001, MAX], ids 40, 41, 57. */
const MPS: AdoptedMetaPartition[] = [
  { id: 40, start: 0n, end: 100n, peers: META_PEERS },
  { id: 41, start: 101n, end: 5_000n, peers: META_PEERS },
  { id: 57, start: 5_001n, end: INODE_ID_MAX, peers: META_PEERS },
];

function dp(id: number, peers = DATA_PEERS): AdoptedDataPartition {
  return { id, peers, diskPaths: peers.map((_, i) => `/disk${i}`), sizeBytes: 120n << 30n, mediaType: 1, status: 2 };
}

function adoptVol(name: string, fields: Partial<Omit<CommandOf<'recovery.adoptVol'>, 'v' | 'type' | 'name'>> = {}): CommandOf<'recovery.adoptVol'> {
  return makeCommand('recovery.adoptVol', {
    round: 1,
    name,
    owner: ROOT_USER_ID,
    createTimeUnixSec: T,
    capacityGB: 360,
    mpReplicaNum: 3,
    dpReplicaNum: 3,
    dpSizeBytes: 120n << 30n,
    volStorageClass: 1,
    settings: { ...DEFAULT_VOL_SETTINGS, zoneName: 'default' },
    metaPartitions: MPS,
    dataPartitions: [dp(70), dp(71)],
    ...fields,
  });
}

function finish(floors = { common: 1_100, metaPartition: 1_057, dataPartition: 1_071 }, round = 1): CommandOf<'recovery.finish'> {
  return makeCommand('recovery.finish', {
    round,
    timeUnixSec: T + 60,
    counterFloors: floors,
    summary: { ...emptyRecoverySummary(), volsAdopted: 1 },
    findings: [{ kind: 'unknown', subject: 'users', detail: 'users and their keys are not kept by nodes', rule: '' }],
    findingsOmitted: 0,
  });
}

function collecting(store?: MemoryStore): ModelState {
  const state = bootstrapped(store);
  okChecked(state, begin(), store);
  return state;
}

void describe('recovery.begin', () => {
  void it('needs a bootstrapped cluster', () => {
    failsChecked(emptyState(), begin(), 1);
  });

  void it('opens round 1 collecting; a second begin (a new leader retrying) changes nothing', () => {
    const state = bootstrapped();
    const r = okChecked(state, begin());
    assert.equal(r.round, 1);
    assert.equal(r.phase, 'collecting');
    assert.ok(recoveryCollecting(state));
    const digest = modelDigest(state);
    assert.deepEqual(okChecked(state, makeCommand('recovery.begin', { params: { ...PARAMS, idMargin: 5 }, timeUnixSec: T + 9, newRound: true })), r);
    assert.equal(modelDigest(state), digest);
  });

  void it('after a finish, opens another round only when asked, keeping the pre-loss ids', () => {
    const state = collecting();
    okChecked(state, finish());
    failsChecked(state, begin(), 1);
    const r = okChecked(state, begin(true));
    assert.equal(r.round, 2);
    assert.deepEqual(r.preLossIds, { metaPartition: 1_057, dataPartition: 1_071 });
  });

  void it('refuses a listed node address that is not ip:port', () => {
    const state = bootstrapped();
    failsChecked(state, makeCommand('recovery.begin', { params: { ...PARAMS, nodes: [{ kind: 'meta', addr: 'node1' }] }, timeUnixSec: T, newRound: false }), 2);
  });
});

void describe('recovery.adoptNodes', () => {
  void it('gives every node the id it had, and node sets ids above all of them', () => {
    const state = collecting();
    assert.deepEqual(okChecked(state, adoptNodes(NODES)), { added: 6, existing: 0 });
    for (const n of NODES) {
      const record = n.kind === 'meta' ? state.metaNodes.get(n.id) : state.dataNodes.get(n.id);
      assert.equal(record?.addr, n.addr);
      assert.equal(record?.heartbeatPort, n.heartbeatPort);
    }
    assert.deepEqual([...state.nodeSets.keys()], [34]);
    assert.equal(state.counters.common, 34);
    assert.equal(state.zones.get('default')?.dataMediaType, 1);
  });

  void it('puts nodes of a zone into node sets of its capacity', () => {
    const state = collecting();
    const many = Array.from({ length: 5 }, (_, i) => node('meta', 100 + i, 18000 + i, 'z1'));
    okChecked(state, makeCommand('recovery.adoptNodes', { round: 1, nodeSetCapacity: 3, createTimeMs: T * 1000, idFloor: 0, nodes: many }));
    assert.deepEqual([...state.nodeSets.values()].map((s) => s.id).sort(), [105, 106]);
    assert.deepEqual(many.map((n) => state.metaNodes.get(n.id)?.nodeSetId), [105, 105, 105, 106, 106]);
  });

  void it('keeps a node already there with that id, and refuses one whose addr or id is taken', () => {
    const state = collecting();
    okChecked(state, adoptNodes(NODES.slice(0, 2)));
    assert.deepEqual([...state.nodeSets.keys()], [34], 'node sets above the id floor of the round');
    assert.deepEqual(okChecked(state, adoptNodes(NODES.slice(0, 3))), { added: 1, existing: 2 });
    failsChecked(state, adoptNodes([{ ...NODES[0], id: 99 }]), 1);
    failsChecked(state, adoptNodes([{ ...NODES[3], id: NODES[0].id }]), 1);
  });

  void it('refuses a data node of another media than its zone', () => {
    const state = collecting();
    okChecked(state, adoptNodes([NODES[3]]));
    failsChecked(state, adoptNodes([{ ...NODES[4], mediaType: 2 }]), 1);
  });

  void it('refuses nodes outside a collecting round', () => {
    failsChecked(bootstrapped(), adoptNodes(NODES), 1);
    const state = collecting();
    failsChecked(state, adoptNodes(NODES, 2), 1);
  });
});

void describe('recovery.adoptVol and recovery.adoptDataPartitions', () => {
  function withNodes(): ModelState {
    const state = collecting();
    okChecked(state, adoptNodes(NODES));
    return state;
  }

  void it('rebuilds the vol under a new id with its partitions under their own ids, End 2^63-1 exact', () => {
    const state = withNodes();
    const vol = okChecked(state, adoptVol('vol1'));
    assert.equal(vol.id, 35);
    assert.deepEqual(metaPartitionsOf(state, vol.id).map((p) => [p.id, p.start, p.end]), [[40, 0n, 100n], [41, 101n, 5_000n], [57, 5_001n, 9_223_372_036_854_775_807n]]);
    assert.deepEqual(state.dataPartitions.get(71)?.replicas, DATA_PEERS.map((p, i) => ({ addr: p.addr, diskPath: `/disk${i}` })));
    assert.deepEqual(state.counters, { common: 35, metaPartition: 57, dataPartition: 71 });
    assert.deepEqual(state.users.get(ROOT_USER_ID)?.policy.ownVols, ['vol1']);
  });

  void it('refuses a vol whose meta partitions leave a gap, overlap, or stop short of 2^63-1', () => {
    const state = withNodes();
    failsChecked(state, adoptVol('gap', { metaPartitions: [MPS[0], MPS[2]] }), 1);
    failsChecked(state, adoptVol('overlap', { metaPartitions: [MPS[0], { ...MPS[1], start: 100n }, MPS[2]] }), 1);
    failsChecked(state, adoptVol('short', { metaPartitions: [MPS[0], MPS[1]] }), 1);
    failsChecked(state, adoptVol('order', { metaPartitions: [MPS[0], { ...MPS[2], start: 101n, id: 30 }] }), 1);
  });

  void it('refuses replicas on nodes that were not adopted, and ids or names in use', () => {
    const state = withNodes();
    failsChecked(state, adoptVol('stranger', { dataPartitions: [dp(70, [{ nodeId: 99, addr: '127.0.0.1:1' }])] }), 1);
    failsChecked(state, adoptVol('wrongaddr', { dataPartitions: [dp(70, [{ nodeId: 31, addr: '127.0.0.1:17311' }])] }), 1);
    failsChecked(state, adoptVol('twice', { dataPartitions: [dp(70), dp(70)] }), 1);
    failsChecked(state, adoptVol('noowner', { owner: 'alice' }), 46);
    okChecked(state, adoptVol('vol1'));
    failsChecked(state, adoptVol('vol1', { metaPartitions: MPS.map((p) => ({ ...p, id: p.id + 100 })), dataPartitions: [] }), 1);
    failsChecked(state, adoptVol('vol2', { dataPartitions: [] }), 1);
  });

  void it('adds data partitions to an adopted vol in later batches', () => {
    const state = withNodes();
    okChecked(state, adoptVol('vol1', { dataPartitions: [] }));
    const batch = makeCommand('recovery.adoptDataPartitions', { round: 1, volName: 'vol1', createTimeUnixSec: T, partitions: [dp(90), dp(91)] });
    assert.deepEqual(okChecked(state, batch), { added: 2 });
    assert.equal(state.counters.dataPartition, 91);
    failsChecked(state, batch, 1);
    failsChecked(state, makeCommand('recovery.adoptDataPartitions', { round: 1, volName: 'nope', createTimeUnixSec: T, partitions: [dp(92)] }), 7);
  });
});

void describe('recovery.finish', () => {
  void it('raises the counters to the floors and marks every id up to them pre-loss', () => {
    const state = collecting();
    okChecked(state, adoptNodes(NODES));
    okChecked(state, adoptVol('vol1'));
    const r = okChecked(state, finish());
    assert.equal(r.phase, 'done');
    assert.deepEqual(state.counters, { common: 1_100, metaPartition: 1_057, dataPartition: 1_071 });
    assert.ok(!recoveryCollecting(state));
    assert.ok(isPreLossPartition(state, 'data', 1_071));
    assert.ok(!isPreLossPartition(state, 'data', 1_072));
    assert.ok(isPreLossPartition(state, 'meta', 3));
    failsChecked(state, finish(), 1);
  });

  void it('never lowers a counter', () => {
    const state = collecting();
    okChecked(state, adoptNodes(NODES));
    okChecked(state, adoptVol('vol1'));
    okChecked(state, finish({ common: 0, metaPartition: 0, dataPartition: 0 }));
    assert.deepEqual(state.counters, { common: 35, metaPartition: 57, dataPartition: 71 });
    assert.deepEqual(state.recovery?.preLossIds, { metaPartition: 0, dataPartition: 0 });
  });

  void it('is stored and loaded back with everything else (same digest after a restart)', () => {
    const store = new MemoryStore();
    const state = collecting(store);
    okChecked(state, adoptNodes(NODES), store);
    okChecked(state, adoptVol('vol1'), store);
    okChecked(state, dataNodeAddCmd('127.0.0.1:17399'), store);
    okChecked(state, finish(), store);
    const loaded = emptyState();
    for (const { key, value } of store.entries()) assert.ok(loadRecord(loaded, key, value));
    assert.equal(modelDigest(loaded), modelDigest(state));
    assert.deepEqual(loaded.recovery, state.recovery);
    assert.equal(volByName(loaded, 'vol1')?.id, 35);
  });
});
