// Volume commands (vol.createBegin/Commit/Abort, vol.update, vol.setDeleted, vol.remove,
// vol.transfer) and the per-vol grants (user.updatePolicy/removePolicy). Every command runs
// through okChecked/failsChecked: the model invariants (invariants.ts) are asserted after each
// one, and a refused command must leave the state digest unchanged.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command, ModelState, VolIntentRecord } from '../../src/model/index.js';
import {
  applyChanges,
  assertModel,
  checkModel,
  decodeCommand,
  emptyState,
  encodeCommand,
  INODE_ID_MAX,
  loadRecord,
  makeCommand,
  metaPartitionsOf,
  modelDigest,
  passwordSha1,
  userByAccessKey,
  volByName,
} from '../../src/model/index.js';
import { AssertionError } from '../../src/util/assert.js';
import type { Peer } from './helpers.js';
import {
  ak,
  bootstrapped,
  createVol,
  diskPathsFor,
  failsChecked,
  MemoryStore,
  okChecked,
  prng,
  run,
  shuffled,
  sk,
  userCreateCmd,
  volCreateBeginCmd,
  withNodesN,
} from './helpers.js';

const STEP = 4_194_304n;

interface Fixture {
  state: ModelState;
  meta: Peer[];
  data: Peer[];
  placement: { meta: Peer[]; data: Peer[] };
}

/** A bootstrapped cluster with 3 meta nodes (ids 2, 3, 4; node set 1) and 3 data nodes (5, 6, 7). */
function fixture(): Fixture {
  const state = bootstrapped();
  const { meta, data } = withNodesN(state, 3);
  assert.deepEqual(
    [...meta, ...data].map((p) => p.nodeId),
    [2, 3, 4, 5, 6, 7],
  );
  return { state, meta, data, placement: { meta, data } };
}

function commitCmd(intent: VolIntentRecord) {
  return makeCommand('vol.createCommit', { volId: intent.vol.id, dpDiskPaths: diskPathsFor(intent) });
}

function duplicateVolMessage(name: string): string {
  return `action[createVol], clusterID[test] name:${name}, err:action[doCreateVol], clusterID[test] name:${name}, err:duplicate vol  `;
}

void describe('apply: vol.createBegin', () => {
  void it('records an intent with every id allocated and the spec 3.1 ranges, and shows nothing yet', () => {
    const { state, placement } = fixture();
    const intent = okChecked(state, volCreateBeginCmd('vol1', 'alice', placement));
    assert.equal(intent.vol.id, 8);
    assert.equal(intent.vol.name, 'vol1');
    assert.equal(intent.vol.owner, 'alice');
    assert.deepEqual(
      intent.metaPartitions.map((mp) => [mp.id, mp.start, mp.end]),
      [
        [1, 0n, 4_194_304n],
        [2, 4_194_305n, 8_388_608n],
        [3, 8_388_609n, 9_223_372_036_854_775_807n],
      ],
    );
    assert.deepEqual(
      intent.dataPartitions.map((dp) => [dp.id, dp.replicas.length, dp.peers.length]),
      [
        [1, 0, 3],
        [2, 0, 3],
        [3, 0, 3],
      ],
    );
    assert.deepEqual(state.counters, { common: 8, metaPartition: 3, dataPartition: 3 });
    // The owner does not exist: the intent carries the keys the commit will create it with.
    assert.deepEqual(intent.newOwner, { accessKey: ak(90), secretKey: sk(90), passwordSha1: passwordSha1('CubeFSUser') });
    assert.equal(state.volIntents.get(8), intent);
    assert.equal(state.index.intentIdByName.get('vol1'), 8);
    // Nothing is visible: no vol, no partitions, no replica counted, no user made.
    assert.equal(volByName(state, 'vol1'), undefined);
    assert.equal(state.vols.size, 0);
    assert.equal(state.metaPartitions.size, 0);
    assert.equal(state.dataPartitions.size, 0);
    assert.equal(state.index.replicasByMetaNode.size, 0);
    assert.equal(state.users.has('alice'), false);
  });

  void it('uses the cluster step for the ranges and ends the only mp at INT64_MAX', () => {
    const { state, placement } = fixture();
    const one = okChecked(state, volCreateBeginCmd('single', 'alice', { ...placement, mps: 1, dps: 0 }));
    assert.deepEqual(
      one.metaPartitions.map((mp) => [mp.start, mp.end]),
      [[0n, INODE_ID_MAX]],
    );
    assert.equal(one.dataPartitions.length, 0);
    // No dp id is taken when there is no data partition.
    assert.equal(state.counters.dataPartition, 0);
    const many = okChecked(state, volCreateBeginCmd('many', 'alice', { ...placement, mps: 5 }));
    many.metaPartitions.forEach((mp, i) => {
      assert.equal(mp.start, i === 0 ? 0n : BigInt(i) * STEP + 1n);
      assert.equal(mp.end, i === 4 ? INODE_ID_MAX : BigInt(i + 1) * STEP);
    });
  });

  void it('keeps no new-owner keys when the owner exists (and does not check them)', () => {
    const { state, placement } = fixture();
    okChecked(state, userCreateCmd('alice'));
    const intent = okChecked(state, volCreateBeginCmd('vol1', 'alice', placement, { newOwner: { accessKey: 'bad', secretKey: 'bad', passwordSha1: 'bad' } }));
    assert.equal(intent.newOwner, null);
  });

  void it('refuses a name held by an open intent or by a committed vol (code 1, "duplicate vol")', () => {
    const { state, placement } = fixture();
    okChecked(state, volCreateBeginCmd('vol1', 'alice', placement));
    const e1 = failsChecked(state, volCreateBeginCmd('vol1', 'bob', placement), 1);
    assert.equal(e1.message, duplicateVolMessage('vol1'));
    createVol(state, 'vol2', 'alice', placement);
    const e2 = failsChecked(state, volCreateBeginCmd('vol2', 'alice', placement), 1);
    assert.equal(e2.name, 'DuplicateVolError');
    assert.equal(e2.message, duplicateVolMessage('vol2'));
  });

  void it('refuses while the cluster is frozen and before bootstrap (code 1)', () => {
    const { state, placement } = fixture();
    okChecked(state, makeCommand('cluster.setFrozen', { frozen: true }));
    const e = failsChecked(state, volCreateBeginCmd('vol1', 'alice', placement), 1);
    assert.equal(e.message, 'the cluster is frozen, can not create volume');
    const empty = emptyState();
    const e2 = failsChecked(empty, volCreateBeginCmd('vol1', 'alice', { meta: [], data: [] }), 1);
    assert.equal(e2.message, 'cluster is not bootstrapped');
  });

  void it('refuses bad input with its CubeFS code and message, and changes nothing', () => {
    const { state, placement, meta, data } = fixture();
    const cases: [string, ReturnType<typeof volCreateBeginCmd>, number, string][] = [
      ['bad name', volCreateBeginCmd('-x', 'alice', placement), 2, 'name can only be number and letters'],
      ['name too short', volCreateBeginCmd('ab', 'alice', placement), 2, 'name can only be number and letters'],
      ['bad owner', volCreateBeginCmd('vol1', '9alice', placement), 2, 'owner can only be number and letters'],
      ['no mp', volCreateBeginCmd('vol1', 'alice', { ...placement, mps: 0 }), 2, 'mpCount must be in [1, 100]'],
      ['101 mps', volCreateBeginCmd('vol1', 'alice', { ...placement, mps: 101 }), 2, 'mpCount must be in [1, 100]'],
      ['201 dps', volCreateBeginCmd('vol1', 'alice', { ...placement, dps: 201 }), 2, 'dpCount must be at most 200'],
      ['capacity 0', volCreateBeginCmd('vol1', 'alice', placement, { capacityGB: 0 }), 2, 'capacity must be positive'],
      [
        'unknown zone',
        volCreateBeginCmd('vol1', 'alice', placement, { settings: { ...volCreateBeginCmd('x', 'y', placement).settings, zoneName: 'default,nozone' } }),
        52,
        'zone not exists',
      ],
      ['2 of 3 meta replicas', volCreateBeginCmd('vol1', 'alice', { meta: meta.slice(1), data }, { mpReplicaNum: 3 }), 1, 'mpPeers[0] has 2 replicas, want 3'],
      [
        'unknown meta node',
        volCreateBeginCmd('vol1', 'alice', { meta: [...meta.slice(1), { nodeId: 99, addr: '10.9.9.9:17210' }], data }),
        1,
        'mpPeers[0]: no meta node 99 at 10.9.9.9:17210',
      ],
      [
        'meta node at another addr',
        volCreateBeginCmd('vol1', 'alice', { meta: [...meta.slice(1), { nodeId: 2, addr: '10.0.0.9:17210' }], data }),
        1,
        'mpPeers[0]: no meta node 2 at 10.0.0.9:17210',
      ],
      ['a data node as a meta replica', volCreateBeginCmd('vol1', 'alice', { meta: [meta[0], meta[1], data[0]], data }), 1, `mpPeers[0]: no meta node 5 at ${data[0].addr}`],
      ['one node twice', volCreateBeginCmd('vol1', 'alice', { meta: [meta[0], meta[1], meta[0]], data }), 1, 'mpPeers[0]: node 2 twice'],
      ['unknown data node', volCreateBeginCmd('vol1', 'alice', { meta, data: [data[0], data[1], { nodeId: 4, addr: meta[2].addr }] }), 1, `dpPeers[0]: no data node 4 at ${meta[2].addr}`],
      [
        'bad generated access key',
        volCreateBeginCmd('vol1', 'alice', placement, { newOwner: { accessKey: 'short', secretKey: sk(90), passwordSha1: passwordSha1('CubeFSUser') } }),
        59,
        'invalid access key',
      ],
      [
        'bad generated secret key',
        volCreateBeginCmd('vol1', 'alice', placement, { newOwner: { accessKey: ak(90), secretKey: 'short', passwordSha1: passwordSha1('CubeFSUser') } }),
        60,
        'invalid secret key',
      ],
    ];
    const before = modelDigest(state);
    for (const [what, cmd, code, message] of cases) {
      const e = failsChecked(state, cmd, code);
      assert.equal(e.message, message, what);
    }
    assert.equal(modelDigest(state), before);
    assert.equal(state.index.intentIdByName.size, 0);
    assert.deepEqual(state.counters, { common: 7, metaPartition: 0, dataPartition: 0 });
  });

  void it('refuses generated owner keys that another user holds (49)', () => {
    const { state, placement } = fixture();
    okChecked(state, userCreateCmd('bob', { accessKey: ak(90), secretKey: sk(91) }));
    failsChecked(state, volCreateBeginCmd('vol1', 'alice', placement), 49);
  });
});

void describe('apply: vol.createCommit', () => {
  void it('turns the intent into the vol, its partitions and a new owner user (spec 1.5: password CubeFSUser)', () => {
    const { state, placement, data } = fixture();
    const intent = okChecked(state, volCreateBeginCmd('vol1', 'alice', placement));
    const vol = okChecked(state, commitCmd(intent));
    assert.deepEqual(vol, intent.vol);
    assert.equal(volByName(state, 'vol1'), vol);
    assert.equal(state.volIntents.size, 0);
    assert.equal(state.index.intentIdByName.size, 0);
    assert.deepEqual(state.index.metaPartitionsByVol.get(8), [1, 2, 3]);
    assert.deepEqual(state.index.dataPartitionsByVol.get(8), [1, 2, 3]);
    assert.deepEqual(
      metaPartitionsOf(state, 8).map((mp) => [mp.start, mp.end]),
      [
        [0n, 4_194_304n],
        [4_194_305n, 8_388_608n],
        [8_388_609n, INODE_ID_MAX],
      ],
    );
    assert.deepEqual(state.dataPartitions.get(2)?.replicas, [
      { addr: data[0].addr, diskPath: '/disk0' },
      { addr: data[1].addr, diskPath: '/disk1' },
      { addr: data[2].addr, diskPath: '/disk2' },
    ]);
    // Every meta node holds one replica of each of the 3 mps, every data node one of each dp.
    assert.deepEqual([...state.index.replicasByMetaNode.entries()].sort(), [[2, 3], [3, 3], [4, 3]]);
    assert.deepEqual([...state.index.replicasByDataNode.entries()].sort(), [[5, 3], [6, 3], [7, 3]]);
    const alice = state.users.get('alice');
    assert.ok(alice !== undefined);
    assert.equal(alice.userType, 3);
    assert.equal(alice.accessKey, ak(90));
    assert.equal(alice.secretKey, sk(90));
    assert.equal(alice.createTimeUnixSec, intent.vol.createTimeUnixSec);
    assert.deepEqual(alice.policy.ownVols, ['vol1']);
    assert.equal(userByAccessKey(state, ak(90)), alice);
    assert.equal(state.accessKeys.get(ak(90))?.passwordSha1, passwordSha1('CubeFSUser'));
  });

  void it('adds the vol to an existing owner in creation order', () => {
    const { state, placement } = fixture();
    const bob = okChecked(state, userCreateCmd('bob'));
    createVol(state, 'volB', 'bob', placement);
    createVol(state, 'volA', 'bob', placement);
    const after = state.users.get('bob');
    assert.deepEqual(after?.policy.ownVols, ['volB', 'volA']);
    assert.equal(after?.accessKey, bob.accessKey);
    assert.equal(state.accessKeys.has(ak(90)), false);
  });

  void it('uses an owner created between begin and commit instead of making one', () => {
    const { state, placement } = fixture();
    const intent = okChecked(state, volCreateBeginCmd('vol1', 'erin', placement));
    const erin = okChecked(state, userCreateCmd('erin'));
    okChecked(state, commitCmd(intent));
    assert.equal(state.users.get('erin')?.accessKey, erin.accessKey);
    assert.deepEqual(state.users.get('erin')?.policy.ownVols, ['vol1']);
    assert.equal(state.accessKeys.has(ak(90)), false);
  });

  void it('refuses an owner deleted since begin (46) and generated keys taken since begin (1); the intent stays', () => {
    const { state, placement } = fixture();
    okChecked(state, userCreateCmd('bob'));
    const i1 = okChecked(state, volCreateBeginCmd('vol1', 'bob', placement));
    okChecked(state, makeCommand('user.delete', { userId: 'bob' }));
    failsChecked(state, commitCmd(i1), 46);
    assert.ok(state.volIntents.has(i1.vol.id));

    const i2 = okChecked(state, volCreateBeginCmd('vol2', 'carol', placement));
    okChecked(state, userCreateCmd('dave', { accessKey: ak(90), secretKey: sk(90) }));
    const e = failsChecked(state, commitCmd(i2), 1);
    assert.equal(e.message, 'the generated owner access key is taken');
    assert.ok(state.volIntents.has(i2.vol.id));
  });

  void it('refuses an unknown or finished intent and disk paths that do not match (code 1), changing nothing', () => {
    const { state, placement } = fixture();
    const intent = okChecked(state, volCreateBeginCmd('vol1', 'alice', placement));
    failsChecked(state, makeCommand('vol.createCommit', { volId: 99, dpDiskPaths: [] }), 1);
    const short = failsChecked(state, makeCommand('vol.createCommit', { volId: intent.vol.id, dpDiskPaths: [['/a', '/b', '/c']] }), 1);
    assert.equal(short.message, 'commit names 1 data partitions, the intent has 3');
    const paths = diskPathsFor(intent);
    paths[1] = ['/a'];
    const replica = failsChecked(state, makeCommand('vol.createCommit', { volId: intent.vol.id, dpDiskPaths: paths }), 1);
    assert.equal(replica.message, 'data partition 2: 1 disk paths for 3 replicas');
    assert.ok(state.volIntents.has(intent.vol.id));
    okChecked(state, commitCmd(intent));
    const again = failsChecked(state, commitCmd(intent), 1);
    assert.equal(again.message, `no volume create in progress for vol id ${intent.vol.id}`);
  });
});

void describe('apply: vol.createAbort', () => {
  void it('drops the intent and frees the name; the ids stay burned', () => {
    const { state, placement } = fixture();
    const intent = okChecked(state, volCreateBeginCmd('vol1', 'alice', placement));
    assert.deepEqual(okChecked(state, makeCommand('vol.createAbort', { volId: intent.vol.id })), { volId: 8, aborted: true });
    assert.equal(state.volIntents.size, 0);
    assert.equal(state.index.intentIdByName.size, 0);
    assert.equal(state.users.has('alice'), false);
    assert.deepEqual(state.counters, { common: 8, metaPartition: 3, dataPartition: 3 });
    const again = okChecked(state, volCreateBeginCmd('vol1', 'alice', placement));
    assert.equal(again.vol.id, 9);
    assert.deepEqual(
      again.metaPartitions.map((mp) => mp.id),
      [4, 5, 6],
    );
  });

  void it('is a no-op for an unknown intent and after the commit', () => {
    const { state, placement } = fixture();
    const before = modelDigest(state);
    assert.deepEqual(okChecked(state, makeCommand('vol.createAbort', { volId: 42 })), { volId: 42, aborted: false });
    assert.equal(modelDigest(state), before);
    const vol = createVol(state, 'vol1', 'alice', placement);
    assert.deepEqual(okChecked(state, makeCommand('vol.createAbort', { volId: vol.id })), { volId: vol.id, aborted: false });
    assert.equal(volByName(state, 'vol1'), vol);
  });
});

void describe('apply: vol.update', () => {
  void it('replaces only the given fields', () => {
    const { state, placement } = fixture();
    const vol = createVol(state, 'vol1', 'alice', placement);
    const next = okChecked(
      state,
      makeCommand('vol.update', { name: 'vol1', capacityGB: 50, dpReplicaNum: null, settings: { description: 'hello', followerRead: true } }),
    );
    assert.deepEqual(next, { ...vol, capacityGB: 50, settings: { ...vol.settings, description: 'hello', followerRead: true } });
    const again = okChecked(state, makeCommand('vol.update', { name: 'vol1', capacityGB: null, dpReplicaNum: 2, settings: {} }));
    assert.equal(again.capacityGB, 50);
    assert.equal(again.dpReplicaNum, 2);
    assert.equal(again.settings.description, 'hello');
    assert.equal(volByName(state, 'vol1'), again);
  });

  void it('refuses an unknown vol (7), a marked vol (1), capacity 0 (2) and an unknown zone (52)', () => {
    const { state, placement } = fixture();
    createVol(state, 'vol1', 'alice', placement);
    okChecked(state, volCreateBeginCmd('pending', 'alice', placement));
    const update = (name: string, fields: Partial<{ capacityGB: number | null; settings: { zoneName?: string } }> = {}) =>
      makeCommand('vol.update', { name, capacityGB: null, dpReplicaNum: null, settings: {}, ...fields });
    assert.equal(failsChecked(state, update('nope'), 7).message, 'vol not exists');
    // A create in progress is not a vol yet.
    failsChecked(state, update('pending'), 7);
    assert.equal(failsChecked(state, update('vol1', { capacityGB: 0 }), 2).message, 'capacity must be positive');
    failsChecked(state, update('vol1', { settings: { zoneName: 'elsewhere' } }), 52);
    okChecked(state, makeCommand('vol.setDeleted', { name: 'vol1', deleted: true, timeUnixSec: 1_800_000_000 }));
    const marked = failsChecked(state, update('vol1', { capacityGB: 20 }), 1);
    assert.equal(marked.message, 'action[updateVol], clusterID[test] name:vol1, err:vol not exists ');
  });
});

// Found by the chaos suite (seed 533231): two expands checked against the same old capacity,
// the larger one applied first; the smaller must not shrink the vol back.
void describe('apply: vol.update from /vol/expand and /vol/shrink', () => {
  void it('checks the direction against the vol as apply sees it, so racing requests cannot undo each other', () => {
    const { state, placement } = fixture();
    createVol(state, 'vol1', 'alice', placement);
    const expand = (capacityGB: number) => makeCommand('vol.update', { name: 'vol1', capacityGB, dpReplicaNum: null, settings: {}, capacityChange: 'expand' as const });
    const shrink = (capacityGB: number) => makeCommand('vol.update', { name: 'vol1', capacityGB, dpReplicaNum: null, settings: {}, capacityChange: 'shrink' as const });
    const base = state.vols.get(state.index.volIdByName.get('vol1')!)!.capacityGB;
    okChecked(state, expand(base + 20));
    const before = modelDigest(state);
    const e = failsChecked(state, expand(base + 10), 2);
    assert.equal(e.message, `expand capacity[${base + 10}] should be larger than the old capacity[${base + 20}]`);
    assert.equal(modelDigest(state), before);
    const s = failsChecked(state, shrink(base + 30), 2);
    assert.equal(s.message, `shrink capacity[${base + 30}] should be less than the old capacity[${base + 20}]`);
    assert.equal(okChecked(state, shrink(base + 5)).capacityGB, base + 5);
    // /vol/update sets any capacity.
    assert.equal(okChecked(state, makeCommand('vol.update', { name: 'vol1', capacityGB: base + 50, dpReplicaNum: null, settings: {} })).capacityGB, base + 50);
  });

  void it('round-trips the direction through the command codec, and decodes entries written without it', () => {
    const cmd = makeCommand('vol.update', { name: 'vol1', capacityGB: 30, dpReplicaNum: null, settings: {}, capacityChange: 'shrink' as const });
    assert.deepEqual(decodeCommand(encodeCommand(cmd)), cmd);
    const old = makeCommand('vol.update', { name: 'vol1', capacityGB: 30, dpReplicaNum: null, settings: {} });
    assert.deepEqual(decodeCommand(encodeCommand(old)), old);
  });
});

void describe('apply: vol.setDeleted', () => {
  void it('marks the vol with the time, strips every claim on it (Go deleteVolPolicy), and takes it back with deleted=false', () => {
    const { state, placement } = fixture();
    const vol = createVol(state, 'vol1', 'alice', placement);
    createVol(state, 'vol2', 'alice', placement);
    okChecked(state, userCreateCmd('bob'));
    okChecked(state, makeCommand('user.updatePolicy', { userId: 'bob', volume: 'vol1', actions: ['perm:builtin:ReadOnly'] }));
    okChecked(state, makeCommand('user.updatePolicy', { userId: 'bob', volume: 'vol2', actions: ['perm:builtin:Writable'] }));

    const marked = okChecked(state, makeCommand('vol.setDeleted', { name: 'vol1', deleted: true, timeUnixSec: 1_800_000_000 }));
    assert.deepEqual(marked, { ...vol, status: 1, deleteTimeUnixSec: 1_800_000_000 });
    assert.deepEqual([...(state.users.get('bob')?.policy.authorizedVols.keys() ?? [])], ['vol2']);
    // The owner's claim goes too, so the owner can be deleted before the removal.
    assert.deepEqual(state.users.get('alice')?.policy.ownVols, ['vol2']);

    const before = modelDigest(state);
    assert.equal(okChecked(state, makeCommand('vol.setDeleted', { name: 'vol1', deleted: true, timeUnixSec: 1_900_000_000 })), marked);
    assert.equal(modelDigest(state), before, 'marking twice keeps the first time');

    const back = okChecked(state, makeCommand('vol.setDeleted', { name: 'vol1', deleted: false, timeUnixSec: 1_900_000_000 }));
    assert.deepEqual(back, vol);
    assert.deepEqual(state.users.get('alice')?.policy.ownVols, ['vol2', 'vol1'], 'the claim comes back');
    const unchanged = modelDigest(state);
    okChecked(state, makeCommand('vol.setDeleted', { name: 'vol1', deleted: false, timeUnixSec: 1_900_000_001 }));
    assert.equal(modelDigest(state), unchanged);
  });

  void it('refuses an unknown vol (7)', () => {
    const { state } = fixture();
    failsChecked(state, makeCommand('vol.setDeleted', { name: 'nope', deleted: true, timeUnixSec: 1 }), 7);
  });
});

void describe('apply: vol.remove', () => {
  void it('removes a marked vol with all its partitions, its owner claim and late grants, and frees the name', () => {
    const { state, placement, meta, data } = fixture();
    const vol = createVol(state, 'vol1', 'alice', placement);
    const other = createVol(state, 'vol2', 'alice', placement);
    // More partitions than the create made: a split and added data partitions go too.
    okChecked(state, makeCommand('ids.reserve', { counter: 'metaPartition', count: 1 }));
    okChecked(state, makeCommand('ids.reserve', { counter: 'dataPartition', count: 1 }));
    okChecked(state, makeCommand('mp.split', { volId: vol.id, mpId: 3, newEnd: 9_000_000n, newPartitions: [{ id: 7, start: 9_000_001n, end: INODE_ID_MAX, peers: meta }] }));
    okChecked(
      state,
      makeCommand('dp.add', { volId: vol.id, mediaType: 1, sizeBytes: 120n * 1_073_741_824n, createTimeUnixSec: 1, partitions: [{ id: 7, peers: data, diskPaths: ['/a', '/b', '/c'] }] }),
    );
    okChecked(state, userCreateCmd('bob'));
    okChecked(state, makeCommand('vol.setDeleted', { name: 'vol1', deleted: true, timeUnixSec: 1_800_000_000 }));
    // A grant given after the mark (allowed, as getVol finds marked vols) goes with the vol.
    okChecked(state, makeCommand('user.updatePolicy', { userId: 'bob', volume: 'vol1', actions: ['perm:builtin:ReadOnly'] }));
    failsChecked(state, makeCommand('user.delete', { userId: 'alice' }), 53);

    assert.deepEqual(okChecked(state, makeCommand('vol.remove', { volId: vol.id })), { volId: vol.id, removed: true });
    assert.equal(state.vols.has(vol.id), false);
    assert.equal(volByName(state, 'vol1'), undefined);
    assert.equal(state.index.metaPartitionsByVol.has(vol.id), false);
    assert.equal(state.index.dataPartitionsByVol.has(vol.id), false);
    assert.deepEqual([...state.metaPartitions.keys()].sort((a, b) => a - b), [4, 5, 6]);
    assert.deepEqual([...state.dataPartitions.keys()].sort((a, b) => a - b), [4, 5, 6]);
    assert.ok([...state.metaPartitions.values()].every((mp) => mp.volId === other.id));
    assert.deepEqual([...state.index.replicasByMetaNode.values()], [3, 3, 3]);
    assert.deepEqual(state.users.get('alice')?.policy.ownVols, ['vol2']);
    assert.equal(state.users.get('bob')?.policy.authorizedVols.size, 0);

    // The name can be used again; the old ids are not.
    const again = createVol(state, 'vol1', 'bob', placement);
    assert.ok(again.id > other.id);
    assert.deepEqual(state.users.get('bob')?.policy.ownVols, ['vol1']);
  });

  void it('refuses a vol that is not marked (1) and is a no-op for an unknown id', () => {
    const { state, placement } = fixture();
    const vol = createVol(state, 'vol1', 'alice', placement);
    const e = failsChecked(state, makeCommand('vol.remove', { volId: vol.id }), 1);
    assert.equal(e.message, 'vol vol1 is not marked for deletion');
    assert.deepEqual(okChecked(state, makeCommand('vol.remove', { volId: 99 })), { volId: 99, removed: false });
  });

  void it('lets the last owner of a removed vol be deleted', () => {
    const { state, placement } = fixture();
    const vol = createVol(state, 'vol1', 'alice', placement);
    okChecked(state, makeCommand('vol.setDeleted', { name: 'vol1', deleted: true, timeUnixSec: 1 }));
    okChecked(state, makeCommand('vol.remove', { volId: vol.id }));
    okChecked(state, makeCommand('user.delete', { userId: 'alice' }));
  });
});

void describe('apply: vol.transfer', () => {
  void it('moves the vol to the target user, who loses any grant on it (Go addOwnVol)', () => {
    const { state, placement } = fixture();
    const vol = createVol(state, 'vol1', 'alice', placement);
    createVol(state, 'vol2', 'alice', placement);
    okChecked(state, userCreateCmd('bob'));
    okChecked(state, makeCommand('user.updatePolicy', { userId: 'bob', volume: 'vol1', actions: ['perm:builtin:ReadOnly'] }));
    const bob = okChecked(state, makeCommand('vol.transfer', { name: 'vol1', fromUserId: 'alice', toUserId: 'bob', force: false }));
    assert.deepEqual(bob.policy.ownVols, ['vol1']);
    assert.equal(bob.policy.authorizedVols.size, 0);
    assert.equal(state.users.get('bob'), bob);
    assert.deepEqual(state.users.get('alice')?.policy.ownVols, ['vol2']);
    assert.deepEqual(volByName(state, 'vol1'), { ...vol, owner: 'bob' });
  });

  void it('with force, takes the vol from its owner whoever the source is', () => {
    const { state, placement } = fixture();
    createVol(state, 'vol1', 'alice', placement);
    okChecked(state, userCreateCmd('bob'));
    okChecked(state, userCreateCmd('carol'));
    okChecked(state, makeCommand('vol.transfer', { name: 'vol1', fromUserId: 'bob', toUserId: 'carol', force: true }));
    okChecked(state, makeCommand('vol.transfer', { name: 'vol1', fromUserId: 'ghost', toUserId: 'bob', force: true }));
    assert.equal(volByName(state, 'vol1')?.owner, 'bob');
    assert.deepEqual(state.users.get('alice')?.policy.ownVols, []);
    assert.deepEqual(state.users.get('carol')?.policy.ownVols, []);
    assert.deepEqual(state.users.get('bob')?.policy.ownVols, ['vol1']);
  });

  void it('to the owner itself changes nothing', () => {
    const { state, placement } = fixture();
    createVol(state, 'vol1', 'alice', placement);
    const before = modelDigest(state);
    okChecked(state, makeCommand('vol.transfer', { name: 'vol1', fromUserId: 'alice', toUserId: 'alice', force: false }));
    assert.equal(modelDigest(state), before);
  });

  void it('refuses in the Go order: unknown vol 7, source not the owner without force 50, unknown target 46', () => {
    const { state, placement } = fixture();
    createVol(state, 'vol1', 'alice', placement);
    okChecked(state, userCreateCmd('bob'));
    okChecked(state, volCreateBeginCmd('pending', 'alice', placement));
    const t = (name: string, fromUserId: string, toUserId: string, force = false) => makeCommand('vol.transfer', { name, fromUserId, toUserId, force });
    assert.equal(failsChecked(state, t('nope', 'ghost', 'ghost'), 7).message, 'vol not exists');
    failsChecked(state, t('pending', 'alice', 'bob'), 7);
    assert.equal(failsChecked(state, t('vol1', 'bob', 'ghost'), 50).message, 'no vol policy');
    failsChecked(state, t('vol1', 'ghost', 'bob'), 50);
    failsChecked(state, t('vol1', 'alice', 'ghost'), 46);
    failsChecked(state, t('vol1', 'bob', 'ghost', true), 46);
  });
});

void describe('apply: user.updatePolicy / user.removePolicy', () => {
  void it('replaces the grants of a user on a vol, keeping only well-formed ones, and removes them', () => {
    const { state, placement } = fixture();
    createVol(state, 'vol1', 'alice', placement);
    okChecked(state, userCreateCmd('bob'));
    const bob = okChecked(
      state,
      makeCommand('user.updatePolicy', { userId: 'bob', volume: 'vol1', actions: ['perm:builtin:ReadOnly', 'junk', 'action:oss:GetObject'] }),
    );
    assert.deepEqual([...bob.policy.authorizedVols.entries()], [['vol1', ['perm:builtin:ReadOnly', 'action:oss:GetObject']]]);
    const replaced = okChecked(state, makeCommand('user.updatePolicy', { userId: 'bob', volume: 'vol1', actions: ['perm:builtin:Writable'] }));
    assert.deepEqual(replaced.policy.authorizedVols.get('vol1'), ['perm:builtin:Writable']);
    const removed = okChecked(state, makeCommand('user.removePolicy', { userId: 'bob', volume: 'vol1' }));
    assert.equal(removed.policy.authorizedVols.size, 0);
    const before = modelDigest(state);
    okChecked(state, makeCommand('user.removePolicy', { userId: 'bob', volume: 'vol1' }));
    assert.equal(modelDigest(state), before, 'removing a grant the user does not hold changes nothing');
  });

  void it('refuses an unknown vol first (7), then an unknown user (46), then the owner (61)', () => {
    const { state, placement } = fixture();
    createVol(state, 'vol1', 'alice', placement);
    for (const type of ['user.updatePolicy', 'user.removePolicy'] as const) {
      const cmd = (userId: string, volume: string) =>
        type === 'user.updatePolicy'
          ? makeCommand('user.updatePolicy', { userId, volume, actions: ['perm:builtin:ReadOnly'] })
          : makeCommand('user.removePolicy', { userId, volume });
      failsChecked(state, cmd('ghost', 'nope'), 7);
      failsChecked(state, cmd('ghost', 'vol1'), 46);
      assert.equal(failsChecked(state, cmd('alice', 'vol1'), 61).message, 'user owns the volume');
    }
  });
});

void describe('invariants: users and vols', () => {
  void it('report own_vols that disagree with vol owners, and grants on missing or owned vols', () => {
    const { state, placement } = fixture();
    createVol(state, 'vol1', 'alice', placement);
    const alice = state.users.get('alice');
    assert.ok(alice !== undefined);
    const broken = structuredClone(state);
    applyChanges(broken, [{ kind: 'user', op: 'put', record: { ...alice, policy: { ownVols: ['gone'], authorizedVols: new Map([['vol9', []]]) } } }]);
    assert.deepEqual(checkModel(broken), [
      'user alice: owns vol gone that does not exist',
      'user alice: grant on vol vol9 that does not exist',
      'vol 8 (vol1): owner alice does not list it in own_vols',
    ]);
    assert.throws(() => assertModel(broken), AssertionError);
    const owned = structuredClone(state);
    applyChanges(owned, [{ kind: 'user', op: 'put', record: { ...alice, policy: { ownVols: ['vol1'], authorizedVols: new Map([['vol1', []]]) } } }]);
    assert.deepEqual(checkModel(owned), ['user alice: grant on vol vol1 it owns']);
  });

  void it('report a name held by a vol and an intent at once, and indexes that disagree', () => {
    const { state, placement } = fixture();
    createVol(state, 'vol1', 'alice', placement);
    const broken = structuredClone(state);
    broken.index.intentIdByName.set('vol1', 99);
    broken.index.volIdByName.set('ghost', 8);
    const problems = checkModel(broken);
    assert.ok(problems.includes('vol 8 (vol1): name also reserved by intent 99'), problems.join('\n'));
    assert.ok(problems.includes('vol name index has 2 names for 1 vols'), problems.join('\n'));
    assert.ok(problems.includes('intent name index has 1 names for 0 intents'), problems.join('\n'));
  });
});

void describe('a seeded history of vol and partition commands', () => {
  void it('keeps every invariant after every command and reloads to the same model', () => {
    for (const seed of [1, 7, 2026]) {
      const random = prng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
      const store = new MemoryStore();
      const state = bootstrapped(store);
      const nodes = withNodesN(state, 4, store);
      const names = ['vol-a', 'vol-b', 'vol-c', 'vol-d'];
      const users = ['alice', 'bob', 'carol'];
      const succeeded = new Map<string, number>();
      for (let step = 0; step < 400; step++) {
        const name = pick(names);
        const vol = volByName(state, name);
        const intent = [...state.volIntents.values()].find((i) => i.vol.name === name);
        const three = <T>(xs: readonly T[]): T[] => shuffled(xs, random).slice(0, 3);
        let cmd: Command;
        switch (Math.floor(random() * 11)) {
          case 0:
          case 1:
            cmd = volCreateBeginCmd(name, pick(users), { meta: three(nodes.meta), data: three(nodes.data), mps: 1 + Math.floor(random() * 3), dps: Math.floor(random() * 3) }, {
              newOwner: { accessKey: ak(500 + step), secretKey: sk(500 + step), passwordSha1: passwordSha1('CubeFSUser') },
            });
            break;
          case 2:
            cmd = intent === undefined ? makeCommand('vol.createAbort', { volId: 1 + Math.floor(random() * 40) }) : commitCmd(intent);
            break;
          case 3:
            cmd = makeCommand('vol.createAbort', { volId: intent?.vol.id ?? 1 });
            break;
          case 4:
            cmd = makeCommand('vol.setDeleted', { name, deleted: random() < 0.7, timeUnixSec: step });
            break;
          case 5:
            cmd = makeCommand('vol.remove', { volId: vol?.id ?? 1 });
            break;
          case 6:
            cmd = makeCommand('vol.transfer', { name, fromUserId: pick(users), toUserId: pick(users), force: random() < 0.5 });
            break;
          case 7:
            cmd =
              random() < 0.6
                ? makeCommand('user.updatePolicy', { userId: pick(users), volume: name, actions: ['perm:builtin:ReadOnly'] })
                : makeCommand('user.removePolicy', { userId: pick(users), volume: name });
            break;
          case 8: {
            const last = vol === undefined ? undefined : metaPartitionsOf(state, vol.id).at(-1);
            const id = state.counters.metaPartition + 1;
            okChecked(state, makeCommand('ids.reserve', { counter: 'metaPartition', count: 1 }), store);
            const newEnd = (last?.start ?? 0n) + BigInt(Math.floor(random() * 1000));
            cmd = makeCommand('mp.split', { volId: vol?.id ?? 1, mpId: last?.id ?? 1, newEnd, newPartitions: [{ id, start: newEnd + 1n, end: INODE_ID_MAX, peers: three(nodes.meta) }] });
            break;
          }
          case 9: {
            const id = state.counters.dataPartition + 1;
            okChecked(state, makeCommand('ids.reserve', { counter: 'dataPartition', count: 1 }), store);
            const peers = three(nodes.data).slice(0, vol?.dpReplicaNum ?? 3);
            cmd = makeCommand('dp.add', { volId: vol?.id ?? 1, mediaType: 1, sizeBytes: 1n << 40n, createTimeUnixSec: step, partitions: [{ id, peers, diskPaths: peers.map(() => '/d') }] });
            break;
          }
          default:
            cmd = userCreateCmd(pick(users), { accessKey: ak(800 + step), secretKey: sk(800 + step) });
        }
        const before = modelDigest(state);
        const applied = okOrRefused(state, cmd, store);
        if (applied) succeeded.set(cmd.type, (succeeded.get(cmd.type) ?? 0) + 1);
        else assert.equal(modelDigest(state), before, `seed ${seed} step ${step}: a refused ${cmd.type} changed the model`);
      }
      // The history must exercise the real paths, not only refusals and no-ops.
      for (const type of ['vol.createBegin', 'vol.createCommit', 'vol.setDeleted', 'vol.remove', 'vol.transfer', 'user.updatePolicy', 'mp.split', 'dp.add']) {
        assert.ok((succeeded.get(type) ?? 0) >= 3, `seed ${seed}: ${type} succeeded ${succeeded.get(type) ?? 0} times`);
      }
      const reloaded = emptyState();
      for (const { key, value } of shuffled(store.entries(), random)) loadRecord(reloaded, key, value);
      assertModel(reloaded, `seed ${seed}: reloaded model`);
      assert.equal(modelDigest(reloaded), modelDigest(state), `seed ${seed}: reload`);
    }
  });
});

/** Apply a command that may be refused (as the FSM does); the invariants must hold either way. */
function okOrRefused(state: ModelState, cmd: Command, store: MemoryStore): boolean {
  const applied = run(state, cmd, store);
  assertModel(state, `model after ${applied.result.ok ? '' : 'a refused '}${cmd.type}`);
  return applied.result.ok;
}
