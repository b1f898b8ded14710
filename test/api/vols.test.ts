// Volume routes over simulated meta and data nodes (spec 1.5; the cfs-cli queries of
// cli-vs-master-with-meta-data-nodes.jsonl): create as cfs-cli sends it, every refusal with its
// code and text (and nothing changed), a node failing mid-create (nothing left anywhere),
// update/expand/shrink, delete and the background removal, the client views, gzip, 64-bit ends.
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { TX_MASK_INVALID } from '../../src/api/routes/vol-params.js';
import { removeDeletedVols, sweepIntents } from '../../src/cluster/cleanup.js';
import { INODE_ID_MAX, modelDigest, VolStatus } from '../../src/model/index.js';
import { Opcode } from '../../src/nodes/opcodes.js';
import { parseJsonExact } from '../../src/util/json.js';
import { clientMetaPartitionsVolA, clientPartitionsVolB, getVolVol2, getVolVolB, volListTwo } from '../model/wire-samples.js';
import { ALICE_KEY, authKey, createVolQuery, domainMaster, httpGet, nodeTasks, simHoldings, snapshot, volUpdateQuery, waitUntil, type DomainMaster } from './domain-helpers.js';
import { assertSameShape, call, fails, ok, singleMaster, T_USERS_MS, wireData } from './helpers.js';

const STEP = 4_194_304n;
const T_SEC = Math.floor(T_USERS_MS / 1000);

type Row = Record<string, unknown>;

/** The `/client/vol` data the real client got (node-wire/http-to-master.jsonl), for its shape. */
const CLIENT_VOL_SAMPLE = {
  Name: 'npvol',
  Owner: 'npuser',
  Status: 0,
  FollowerRead: true,
  MetaPartitions: (wireData(clientMetaPartitionsVolA) as Row[]).slice(0, 1),
  DataPartitions: [],
  DomainOn: false,
  OSSSecure: { AccessKey: '12FMR3fhbWf3BSOL', SecretKey: 'Gs0hyPUcBZj1pqghidRJpjmOTjBKUYNK' },
  CreateTime: 1795634555,
  DeleteLockTime: 0,
  VolType: 0,
};

/** `/client/volStat?...&version=1` as the real client got it (node-wire/http-to-master.jsonl). */
const VOL_STAT_SAMPLE = {
  Name: 'npvol',
  TotalSize: 21474836480,
  UsedSize: 0,
  UsedRatio: '0.00',
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
  StatByDpMediaType: [{ StorageClass: 1, InodeCount: 0, UsedSizeBytes: 0, QuotaGB: 0 }],
};

/** Captured queries (cli-vs-master-with-meta-data-nodes.jsonl). */
const EXPAND_20 = `/vol/expand?name=volB&authKey=${ALICE_KEY}&capacity=20&clientIDKey=`;
const SHRINK_15 = `/vol/shrink?capacity=15&clientIDKey=&name=volB&authKey=${ALICE_KEY}`;
const DELETE_VOLB = `/vol/delete?clientIDKey=&name=volB&authKey=${ALICE_KEY}`;

/** createVol with no data node anywhere: the first captured query (volA, defaults). */
const CREATE_VOLA_DEFAULTS =
  '/admin/createVol?dpReadOnlyWhenVolFull=false&remoteCacheEnable=&remoteCachePath=&crossZone=false&mpCount=3&allowedStorageClass=&remoteCacheTTL=432000' +
  '&remoteCacheSameZoneTimeout=400&dpSize=120&clientIDKey=&remoteCacheAutoPrepare=&maximallyRead=false&zoneName=&enableQuota=false&deleteLockTime=0' +
  '&normalZonesFirst=false&ebsBlkSize=8388608&volStorageClass=0&flashNodeTimeoutCount=5&dpCount=3&followerRead=false&capacity=10&description=' +
  '&remoteCacheOnlyForNotSSD=true&name=volA&replicaNum=0&remoteCacheReadTimeout=2000&remoteCacheMaxFileSizeGB=128&remoteCacheMultiRead=false' +
  '&remoteCacheSameRegionTimeout=100&txTimeout=1&owner=alice&metaFollowerRead=false';

async function assertUnchanged(dm: DomainMaster, before: ReturnType<typeof snapshot>, what: string): Promise<void> {
  assert.deepEqual(snapshot(dm), before, `${what}: records, proposals, node tasks and node partitions unchanged`);
  assert.equal(dm.group.state.volIntents.size, 0, `${what}: no intent`);
  await Promise.resolve();
}

void describe('/admin/createVol without data nodes', () => {
  void it("answers 2 with the storage-class texts (typos are the Go master's) and changes nothing", async () => {
    const { app, group } = singleMaster();
    const digest = modelDigest(group.state);
    assert.equal(await fails(app, CREATE_VOLA_DEFAULTS, 2), 'volStorageClass not specified and cluster has no resource to auto choose replca storageClass');
    assert.equal(await fails(app, CREATE_VOLA_DEFAULTS.replace('volStorageClass=0', 'volStorageClass=1'), 2), 'cluster has no resoure to support volStorageClass(ReplicaSSD)');
    // Observed order: name and owner are checked before the storage class.
    assert.equal(await fails(app, CREATE_VOLA_DEFAULTS.replace('&owner=alice', ''), 2), '[operate_util.go 225] parameter owner not found');
    assert.equal(await fails(app, CREATE_VOLA_DEFAULTS.replace('owner=alice', 'owner=1alice'), 2), 'owner can only be number and letters');
    assert.equal(await fails(app, CREATE_VOLA_DEFAULTS.replace('name=volA', 'name=a'), 2), 'name can only be number and letters');
    assert.equal(modelDigest(group.state), digest);
    assert.equal(group.proposed.length, 0);
    assert.deepEqual(await ok(app, '/vol/list?keywords='), []);
  });
});

void describe('/admin/createVol with one meta and one data node (singleNodeMode, as captured)', () => {
  let dm: DomainMaster;
  let metaAddr: string;
  let dataAddr: string;
  before(async () => {
    dm = await domainMaster({ meta: 1, data: 1, singleNodeMode: true });
    metaAddr = dm.sims.metaNodes[0].addr;
    dataAddr = dm.sims.dataNodes[0].addr;
  });
  after(() => dm.close());

  void it('creates volB as cfs-cli sends it: dpCount 1 is raised to 3, mpCount 1 to 3, the partitions exist on the nodes', async () => {
    const env = (await call(dm.app, createVolQuery())).envelope;
    assert.deepEqual(env, { code: 0, msg: 'success', data: 'create vol[volB] successfully, has allocate [3] data partitions' });
    // The nodes hold exactly what the model says, with the ranges of spec 3.1 and the vol's dp size.
    const mps = dm.sims.metaNodes[0].partitions();
    assert.deepEqual(
      mps.map((p) => [p.partitionId, p.volName, p.start, p.end, p.members.map((m) => m.addr)]),
      [
        [1, 'volB', 0n, STEP, [metaAddr]],
        [2, 'volB', STEP + 1n, 2n * STEP, [metaAddr]],
        [3, 'volB', 2n * STEP + 1n, INODE_ID_MAX, [metaAddr]],
      ],
    );
    const dps = dm.sims.dataNodes[0].partitions();
    assert.deepEqual(
      dps.map((p) => [p.partitionId, p.volName, p.sizeBytes, p.replicaNum, p.hosts]),
      [1, 2, 3].map((id) => [id, 'volB', 11n << 30n, 1, [dataAddr]]),
    );
    const vol = [...dm.group.state.vols.values()].find((v) => v.name === 'volB');
    assert.ok(vol !== undefined);
    assert.deepEqual(
      [...dm.group.state.dataPartitions.values()].map((d) => [d.id, d.replicas.map((r) => r.diskPath)]),
      dps.map((p) => [p.partitionId, [p.diskPath]]),
      'the disk each node chose is recorded',
    );
    assert.deepEqual(
      dm.group.proposed.map((c) => c.type).filter((t) => t.startsWith('vol.')),
      ['vol.createBegin', 'vol.createCommit'],
    );
  });

  void it('answers /admin/getVol as the captured SimpleVolView of volB', async () => {
    const data = await ok(dm.app, '/admin/getVol?name=volB');
    const sample = wireData(getVolVolB) as Row;
    assertSameShape(data, sample);
    assert.deepEqual(data, {
      ...sample,
      ID: 4, // meta node 2, data node 3, then the vol (one common id counter)
      MaxMetaPartitionID: 3,
      // Go shows 0 until its dp cache refresh has run (observed right after create); we show the
      // vol's highest data partition id at once, as Go does for vol2 later on.
      MaxDataPartitionID: 3,
      CreateTime: '2026-11-25 18:41:11',
      // Go prints this map in random order (vol2 and volB samples differ); ours is fixed.
      QosInfo: (wireData(getVolVol2) as Row).QosInfo,
    });
  });

  void it('lists volB in /vol/list and answers the client views as the real nodes and clients saw them', async () => {
    const list = (await ok(dm.app, '/vol/list?keywords=')) as Row[];
    assertSameShape(list, wireData(volListTwo));
    assert.deepEqual(list, [{ Name: 'volB', Owner: 'alice', CreateTime: T_SEC, Status: 0, TotalSize: 10 * 2 ** 30, UsedSize: 0, DpReadOnlyWhenVolFull: false }]);
    assert.deepEqual(await ok(dm.app, '/vol/list?keywords=nomatch'), []);

    const mpsSample = wireData(clientMetaPartitionsVolA) as Row[];
    const mps = await ok(dm.app, '/client/metaPartitions?name=volB');
    assert.deepEqual(
      mps,
      mpsSample.map((m, i) => ({ ...m, PartitionID: i + 1, Members: [metaAddr] })),
      'before any heartbeat: no leader, zero figures (as observed)',
    );
    const dpsSample = (wireData(clientPartitionsVolB) as { DataPartitions: Row[] }).DataPartitions;
    const dps = await ok(dm.app, '/client/partitions?name=volB');
    assert.deepEqual(dps, {
      DataPartitions: [1, 2, 3].map((id) => ({ ...dpsSample[0], PartitionID: id, Hosts: [dataAddr] })),
      VolReadOnly: false,
      StatByClass: null,
    });

    const view = (await ok(dm.app, `/client/vol?name=volB&authKey=${ALICE_KEY}`)) as Row;
    assertSameShape(view, CLIENT_VOL_SAMPLE);
    assert.deepEqual(view.MetaPartitions, mps);
    assert.deepEqual([view.Name, view.Owner, view.Status, view.FollowerRead, view.DataPartitions, view.CreateTime], ['volB', 'alice', 0, true, [], T_SEC]);
    // The owner did not exist: it was created with the vol, and owns it.
    const alice = (await ok(dm.app, '/user/info?user=alice')) as { access_key: string; secret_key: string; user_type: number; policy: { own_vols: string[] } };
    assert.deepEqual([alice.user_type, alice.policy.own_vols], [3, ['volB']]);
    assert.deepEqual(view.OSSSecure, { AccessKey: alice.access_key, SecretKey: alice.secret_key });
    assert.deepEqual(await ok(dm.app, { url: '/client/vol?name=volB', headers: { 'skip-owner-validation': 'true' } }), view);

    const stat = (await ok(dm.app, '/client/volStat?clientVer=HEAD-80a062bf2&host=vm&role=Server&enableBcacheNotSSD=false&enableRemoteCache=false&name=volB&version=1')) as Row;
    assertSameShape(stat, VOL_STAT_SAMPLE);
    assert.deepEqual([stat.Name, stat.TotalSize, stat.UsedRatio, stat.DefaultStorageClass], ['volB', 10 * 2 ** 30, '0.00', 1]);
  });

  void it('shows leaders and inode cursors once the nodes reported, and the last End exactly (2^63-1)', async () => {
    await dm.heartbeat();
    const res = await call(dm.app, '/client/metaPartitions?name=volB');
    // Exact in the bytes: a double would print 9223372036854775808.
    assert.ok(res.text.includes(`"PartitionID":3,"Start":8388609,"End":9223372036854775807,"MaxInodeID":8388609,`), res.text);
    // parseJsonExact: safe integers as numbers, the others as bigints.
    const exact = parseJsonExact(res.text) as { data: { End: number | bigint; MaxInodeID: number; LeaderAddr: string; InodeCount: number }[] };
    assert.deepEqual(
      exact.data.map((m) => [m.End, m.MaxInodeID, m.InodeCount, m.LeaderAddr]),
      [
        [Number(STEP), 1, 1, metaAddr], // the partition starting at 0 holds the root inode
        [Number(2n * STEP), Number(STEP) + 1, 0, metaAddr],
        [INODE_ID_MAX, Number(2n * STEP) + 1, 0, metaAddr],
      ],
    );
    const view = parseJsonExact((await call(dm.app, `/client/vol?name=volB&authKey=${ALICE_KEY}`)).text) as { data: { MetaPartitions: { End: bigint }[] } };
    assert.equal(view.data.MetaPartitions[2].End, INODE_ID_MAX);
    const dps = (await ok(dm.app, '/client/partitions?name=volB')) as { DataPartitions: { LeaderAddr: string }[] };
    assert.deepEqual(dps.DataPartitions.map((d) => d.LeaderAddr), [dataAddr, dataAddr, dataAddr]);
  });

  void it('gzips /client/partitions when the client sends x-cfs-Accept-Encoding: gzip, to the same JSON', async () => {
    const plain = await call(dm.app, '/client/partitions?name=volB');
    assert.equal(plain.headers['x-cfs-content-encoding'], undefined);
    // The SDK's headers (node-wire/http-to-master.jsonl): both encodings asked for.
    const zipped = await call(dm.app, { url: '/client/partitions?name=volB', headers: { 'x-cfs-accept-encoding': 'gzip', 'accept-encoding': 'gzip' } });
    assert.equal(zipped.status, 200);
    assert.equal(zipped.headers['x-cfs-content-encoding'], 'gzip');
    assert.equal(zipped.headers['content-encoding'], undefined, 'the marker is the custom header only (proto/header.go)');
    assert.match(String(zipped.headers['content-type']), /^application\/json/);
    assert.equal(Number(zipped.headers['content-length']), zipped.raw.length);
    assert.deepEqual([...zipped.raw.subarray(0, 2)], [0x1f, 0x8b]);
    assert.equal(gunzipSync(zipped.raw).toString('utf8'), plain.text);
    // A plain Accept-Encoding (Go's transport adds it to everything) does not compress: the Go master
    // only looks at its own header.
    const transportOnly = await call(dm.app, { url: '/client/partitions?name=volB', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(transportOnly.text, plain.text);
    // Over a real socket too (what the SDK sees).
    const real = await httpGet(dm.addr, '/client/partitions?name=volB', { 'x-cfs-accept-encoding': 'gzip' });
    assert.equal(real.headers['x-cfs-content-encoding'], 'gzip');
    assert.equal(gunzipSync(real.body).toString('utf8'), plain.text);
    // Errors are never compressed (observed: code 18 came back plain to a gzip request).
    const unknown = await call(dm.app, { url: '/client/partitions?name=nosuchvol', headers: { 'x-cfs-accept-encoding': 'gzip' } });
    assert.equal(unknown.headers['x-cfs-content-encoding'], undefined);
    assert.deepEqual(unknown.envelope, { code: 7, msg: 'vol not exists', data: null });
  });

  void it('answers the client views of an unknown vol with 7, and /client/vol checks the authKey first', async () => {
    for (const route of ['/client/metaPartitions', '/client/partitions', '/client/volStat', '/admin/getVol']) {
      assert.equal(await fails(dm.app, `${route}?name=nosuchvol`, 7), 'vol not exists', route);
      assert.equal(await fails(dm.app, `${route}?name=a`, 2), 'name can only be number and letters', route);
    }
    // Observed: without authKey an unknown vol is code 2, not 7.
    assert.equal(await fails(dm.app, '/client/vol?name=nosuchvol', 2), '[operate_util.go 225] parameter authKey not found');
    assert.equal(await fails(dm.app, `/client/vol?name=nosuchvol&authKey=${ALICE_KEY}`, 7), 'vol not exists');
    assert.equal(await fails(dm.app, `/client/vol?name=volB&authKey=${authKey('bob')}`, 34), 'client and server auth key do not match');
    assert.ok((await ok(dm.app, `/client/vol?name=volB&authKey=${ALICE_KEY.toUpperCase()}`)) !== null, 'compared case-insensitively');
  });

  void it('refuses a duplicate name with code 1 and the Go text, and changes nothing', async () => {
    const before = snapshot(dm);
    assert.equal(
      await fails(dm.app, createVolQuery(), 1),
      'action[createVol], clusterID[test] name:volB, err:action[doCreateVol], clusterID[test] name:volB, err:duplicate vol  ',
    );
    await assertUnchanged(dm, before, 'duplicate');
  });

  // Found by reading after the chaos suite: a NotLeader at the commit must not be forwarded
  // (the create would meet its own intent on the new leader and answer "duplicate vol").
  void it('answers 4, not a forward, when leadership moves between the intent and its commit', async () => {
    dm.group.beforePropose = (_member, command) => {
      if (command.type === 'vol.createCommit') dm.group.leaderId = 0;
    };
    try {
      const msg = await fails(dm.app, createVolQuery({ name: 'volLost' }), 4);
      assert.match(msg, /^action\[createVol\], clusterID\[test\] name:volLost, err:the volume create lost its leader before its commit was acknowledged/);
    } finally {
      dm.group.beforePropose = null;
      dm.group.leaderId = 1;
    }
    // The intent is left for the leader's sweep (the outcome was unknown to this member).
    assert.equal(dm.group.state.volIntents.size, 1);
    await sweepIntents({ replicator: dm.group.replicator(1), nodes: dm.nodes, ops: dm.ops, proposeTimeoutMs: 5_000 }, AbortSignal.timeout(10_000));
    assert.equal(dm.group.state.volIntents.size, 0);
    await waitUntil('the swept partitions to leave the nodes', () => !dm.sims.metaNodes.some((n) => n.partitions().some((p) => p.volName === 'volLost')));
  });

  void it('refuses every invalid createVol with code 2 and its text, before any proposal or node task', async () => {
    const before = snapshot(dm);
    const cases: [Record<string, string | number | boolean | null>, string][] = [
      [{ name: null }, '[operate_util.go 225] parameter name not found'],
      [{ name: 'ab' }, 'name can only be number and letters'],
      [{ name: '-volX' }, 'name can only be number and letters'],
      [{ name: 'v'.repeat(64) }, 'name can only be number and letters'],
      [{ owner: null }, '[operate_util.go 225] parameter owner not found'],
      [{ owner: '1alice' }, 'owner can only be number and letters'],
      [{ capacity: 0 }, "vol capacity can't be zero, 0"],
      [{ capacity: null }, "vol capacity can't be zero, 0"],
      [{ dpSize: 10 }, 'datapartition size must be bigger than 10 G'],
      [{ dpSize: 1 }, 'datapartition size must be bigger than 10 G'],
      [{ dpCount: 201 }, 'dpCount[201] exceeds maximum limit[200]'],
      [{ replicaNum: 4 }, "hot vol's replicaNum should be 1 to 3, received replicaNum is[4]"],
      [{ volStorageClass: 2 }, 'cluster has no resoure to support volStorageClass(ReplicaHDD)'],
      [{ volStorageClass: 3 }, 'cluster has no resoure to support volStorageClass(BlobStore)'],
      [{ volStorageClass: 9 }, 'invalid volStorageClass: 9'],
      [{ zoneName: 'nozone' }, 'assigned zone name not exist: [nozone]'],
      [{ zoneName: 'default,nozone' }, 'assigned zone name not exist: [nozone]'],
      [{ followerRead: false }, 'vol with 1 ro 2 replia should enable followerRead'],
      [{ followerRead: false, replicaNum: 2 }, 'vol with 1 ro 2 replia should enable followerRead'],
      [{ txTimeout: 0 }, 'txTimeout(0) value range [1-60] minutes'],
      [{ txTimeout: 61 }, 'txTimeout(61) value range [1-60] minutes'],
      [{ txConflictRetryNum: 1001 }, 'txRetryNum(1001) value range [1-1000]'],
      [{ txConflictRetryInterval: 9 }, 'txInterval(9) value range [10-1000] ms'],
      [{ trashInterval: 525601 }, "trash interval can't great than 525600, now 525601"],
      [{ enableTxMask: 'bogus' }, TX_MASK_INVALID],
      [{ enableTxMask: 'create|off' }, TX_MASK_INVALID],
    ];
    for (const [overrides, msg] of cases) {
      assert.equal(await fails(dm.app, createVolQuery({ name: 'volX', ...overrides }), 2), msg, JSON.stringify(overrides));
    }
    for (const [key, value] of [['capacity', '-1'], ['mpCount', 'x'], ['dpCount', '-3'], ['replicaNum', '1.5'], ['dpSize', 'big']] as const) {
      assert.match(await fails(dm.app, createVolQuery({ name: 'volX', [key]: value }), 2), new RegExp(`^args \\[${key}\\] is not legal`), key);
    }
    assert.match(await fails(dm.app, createVolQuery({ name: 'volX', crossZone: 'maybe' }), 2), /crossZone/);
    // A form POST body counts like the query (observed).
    const form = createVolQuery({ name: 'volX', capacity: 0 }).split('?')[1];
    const env = (await call(dm.app, { method: 'POST', url: '/admin/createVol', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form })).envelope;
    assert.deepEqual(env, { code: 2, msg: "vol capacity can't be zero, 0", data: null });
    await assertUnchanged(dm, before, 'invalid createVol');
    assert.deepEqual(await ok(dm.app, '/vol/list?keywords=volX'), []);
  });

  void it('refuses what the zone rule or the nodes cannot serve with code 1, and changes nothing', async () => {
    const before = snapshot(dm);
    const prefix = 'action[createVol], clusterID[test] name:volX, err:';
    assert.equal(await fails(dm.app, createVolQuery({ name: 'volX', crossZone: true }), 1), `${prefix}action[checkZoneName] cluster has one zone,can't cross zone `);
    assert.equal(
      await fails(dm.app, createVolQuery({ name: 'volX', crossZone: true, zoneName: 'default' }), 1),
      `${prefix}action[checkZoneName] vol use specified single zoneName conflit with cross zone flag `,
    );
    // replicaNum 0 -> 3, one data node: the captured failure text of the first volA create.
    assert.equal(
      await fails(dm.app, createVolQuery({ name: 'volX', replicaNum: 0, followerRead: false }), 1),
      `${prefix}action[initDataPartitionsForCreateVol] vol[volX] mediaType[SSD] initDataPartitions failed, createdCount(0), less than minLimit(3) `,
    );
    // A dp size no disk can take (the sim node has 2 TiB): no placement, nothing sent.
    assert.match(await fails(dm.app, createVolQuery({ name: 'volX', dpSize: 4096 }), 1), /initDataPartitions failed/);
    await assertUnchanged(dm, before, 'unplaceable');
  });

  void it('refuses with code 1 while the cluster is frozen', async () => {
    await ok(dm.app, '/cluster/freeze?enable=true');
    const before = snapshot(dm);
    assert.equal(await fails(dm.app, createVolQuery({ name: 'volX' }), 1), 'the cluster is frozen, can not create volume');
    await assertUnchanged(dm, before, 'frozen');
    await ok(dm.app, '/cluster/freeze?enable=false');
  });

  void it('clamps mpCount to 100, raises dpCount to 3, and forces followerRead for a 1-replica vol', async () => {
    const env = (await call(dm.app, createVolQuery({ name: 'volC', mpCount: 101, dpCount: 2, followerRead: null }))).envelope;
    assert.equal(env.data, 'create vol[volC] successfully, has allocate [3] data partitions');
    const mps = dm.sims.metaNodes[0].partitions().filter((p) => p.volName === 'volC');
    assert.equal(mps.length, 100);
    const first = mps[0].partitionId;
    mps.forEach((p, i) => {
      assert.equal(p.partitionId, first + i);
      assert.equal(p.start, i === 0 ? 0n : BigInt(i) * STEP + 1n);
      assert.equal(p.end, i === 99 ? INODE_ID_MAX : BigInt(i + 1) * STEP);
    });
    assert.equal(dm.sims.dataNodes[0].partitions().filter((p) => p.volName === 'volC').length, 3);
    const view = (await ok(dm.app, '/admin/getVol?name=volC')) as Row;
    assert.deepEqual([view.MpCnt, view.DpCnt, view.FollowerRead, view.DpReplicaNum, view.MpReplicaNum], [100, 3, true, 1, 1]);
    // mpCount 0 -> 3; the default dp size (120 GiB).
    await ok(dm.app, createVolQuery({ name: 'volD', mpCount: 0, dpSize: null, dpCount: null }));
    assert.equal(dm.sims.metaNodes[0].partitions().filter((p) => p.volName === 'volD').length, 3);
    assert.deepEqual(
      dm.sims.dataNodes[0].partitions().filter((p) => p.volName === 'volD').map((p) => p.sizeBytes),
      [120n << 30n, 120n << 30n, 120n << 30n],
    );
  });
});

void describe('/admin/createVol when a node fails mid-create', () => {
  let dm: DomainMaster;
  before(async () => {
    dm = await domainMaster({ meta: 3, data: 3 });
  });
  after(() => dm.close());

  const empty = (d: DomainMaster) => {
    const h = simHoldings(d);
    return { meta: Object.values(h.meta).flat(), data: Object.values(h.data).flat() };
  };

  void it('answers an error, leaves no vol and no intent, and deletes what the other nodes had created', async () => {
    const failing = dm.sims.dataNodes[1];
    failing.failNext(Opcode.CreateDataPartition, 1, 'disk broken');
    const proposedBefore = dm.group.proposed.length;
    const msg = await fails(dm.app, createVolQuery({ name: 'volF', replicaNum: 0, followerRead: false }), 1);
    assert.match(msg, /^action\[createVol\], clusterID\[test\] name:volF, err:data partition \d+: ActionCreateDataPartition_disk broken $/);
    // Whole or nothing, unlike the Go master, which leaves a failed vol behind marked deleted
    // with its meta partitions (observed): nothing of volF is visible, on the master or a node.
    assert.equal(await fails(dm.app, '/admin/getVol?name=volF', 7), 'vol not exists');
    assert.deepEqual(await ok(dm.app, '/vol/list?keywords='), []);
    assert.equal(dm.group.state.volIntents.size, 0);
    assert.equal(dm.group.state.index.intentIdByName.has('volF'), false);
    assert.equal(dm.group.state.metaPartitions.size + dm.group.state.dataPartitions.size, 0);
    assert.deepEqual(empty(dm), { meta: [], data: [] }, 'no orphan on any node');
    assert.deepEqual(
      dm.group.proposed.slice(proposedBefore).map((c) => c.type),
      ['vol.createBegin', 'vol.createAbort'],
    );
    // Every partition had been created on the healthy replicas, then deleted there.
    const tasks = nodeTasks(dm);
    const created = tasks.filter((t) => t.op.startsWith('OpCreate') && t.outcome === 'ok');
    const deleted = new Set(tasks.filter((t) => t.op.startsWith('OpDelete')).map((t) => `${t.addr}/${t.op.slice(8)}/${t.partitionId}`));
    assert.ok(created.length >= 9 + 2, 'the meta partitions (3 x 3) and the other data replicas were created');
    for (const t of created) assert.ok(deleted.has(`${t.addr}/${t.op.slice(8)}/${t.partitionId}`), `${t.op} ${t.partitionId} on ${t.addr} deleted`);
    // The owner is only created with the vol.
    assert.equal(await fails(dm.app, '/user/info?user=alice', 46), 'user not exists');
  });

  void it('undoes a meta node failure the same way, and the name is free again afterwards', async () => {
    dm.sims.metaNodes[2].failNext(Opcode.CreateMetaPartition, 1);
    assert.match(await fails(dm.app, createVolQuery({ name: 'volF', replicaNum: 0, followerRead: false }), 1), /^action\[createVol\], clusterID\[test\] name:volF, err:meta partition \d+: injected failure $/);
    assert.deepEqual(empty(dm), { meta: [], data: [] });
    assert.equal(dm.group.state.volIntents.size, 0);

    const env = (await call(dm.app, createVolQuery({ name: 'volF', replicaNum: 0, followerRead: false }))).envelope;
    assert.deepEqual(env, { code: 0, msg: 'success', data: 'create vol[volF] successfully, has allocate [3] data partitions' });
    const vol = (await ok(dm.app, '/admin/getVol?name=volF')) as Row;
    assert.deepEqual([vol.DpReplicaNum, vol.MpReplicaNum, vol.FollowerRead, vol.MpCnt, vol.DpCnt], [3, 3, false, 3, 3]);
    // 3 replicas of every partition, one on each node; ids continue after the aborted ones.
    const h = simHoldings(dm);
    const mpIds = [...dm.group.state.metaPartitions.keys()].sort((a, b) => a - b);
    const dpIds = [...dm.group.state.dataPartitions.keys()].sort((a, b) => a - b);
    for (const ids of Object.values(h.meta)) assert.deepEqual(ids, mpIds);
    for (const ids of Object.values(h.data)) assert.deepEqual(ids, dpIds);
    assert.ok(mpIds[0] > 3, 'meta partition ids are not reused after an abort');
  });
});

void describe('/vol/update, /vol/expand, /vol/shrink', () => {
  let dm: DomainMaster;
  before(async () => {
    dm = await domainMaster({ meta: 1, data: 1, singleNodeMode: true });
    await ok(dm.app, createVolQuery());
  });
  after(() => dm.close());

  const volB = async (): Promise<Row> => (await ok(dm.app, '/admin/getVol?name=volB')) as Row;

  void it('expands and shrinks with the captured queries and texts', async () => {
    assert.deepEqual((await call(dm.app, EXPAND_20)).envelope, { code: 0, msg: 'success', data: 'update vol[volB] successfully\n' });
    assert.equal((await volB()).Capacity, 20);
    assert.deepEqual((await call(dm.app, SHRINK_15)).envelope, { code: 0, msg: 'success', data: 'update vol[volB] successfully\n' });
    assert.equal((await volB()).Capacity, 15);
    const list = (await ok(dm.app, '/vol/list?keywords=volB')) as Row[];
    assert.equal(list[0].TotalSize, 15 * 2 ** 30);
  });

  void it('updates with the captured query: only what changed changes', async () => {
    const before = await volB();
    assert.deepEqual((await call(dm.app, volUpdateQuery())).envelope, { code: 0, msg: 'success', data: 'update vol[volB] successfully' });
    const afterUpdate = await volB();
    assert.deepEqual(afterUpdate, { ...before, Description: 'hello' });
    // A partial update keeps every other value; capacity may also move here.
    await ok(dm.app, `/vol/update?name=volB&authKey=${ALICE_KEY}&capacity=30&enablePosixAcl=true&deleteLockTime=3&trashInterval=60`);
    assert.deepEqual(await volB(), { ...afterUpdate, Capacity: 30, EnablePosixAcl: true, DeleteLockTime: 3, TrashInterval: 60 });
    await ok(dm.app, `/vol/update?name=volB&authKey=${ALICE_KEY}&dpSelectorName=kfaster&dpSelectorParm=10`);
    const v = await volB();
    assert.deepEqual([v.DpSelectorName, v.DpSelectorParm, v.Capacity], ['kfaster', '10', 30]);
    // Naming a transaction setting gets it echoed (Go hasTxParams).
    assert.equal(await ok(dm.app, `/vol/update?name=volB&authKey=${ALICE_KEY}&txTimeout=5&enableTxMask=create|mkdir`), 'update vol[volB] successfully, txTimeout[5] enableTransaction[create|mkdir]');
    const t = await volB();
    assert.deepEqual([t.TxTimeout, t.EnableTransactionV1], [5, 'create|mkdir']);
  });

  void it('refuses every invalid expand, shrink and update with its code and text, changing nothing', async () => {
    const before = snapshot(dm);
    const capacity = (await volB()).Capacity as number;
    const expand = (q: string) => `/vol/expand?${q}`;
    const table: [string, number, string | RegExp][] = [
      [expand(`name=volB&authKey=${ALICE_KEY}&capacity=${capacity}`), 2, `expand capacity[${capacity}] should be larger than the old capacity[${capacity}]`],
      [expand(`name=volB&authKey=${ALICE_KEY}`), 2, `expand capacity[0] should be larger than the old capacity[${capacity}]`],
      [`/vol/shrink?name=volB&authKey=${ALICE_KEY}&capacity=${capacity + 1}`, 2, `shrink capacity[${capacity + 1}] should be less than the old capacity[${capacity}]`],
      [expand(`name=volB&authKey=${authKey('bob')}&capacity=99`), 34, 'client and server auth key do not match'],
      [expand(`name=volB&capacity=99`), 2, '[operate_util.go 225] parameter authKey not found'],
      [expand(`authKey=${ALICE_KEY}&capacity=99`), 2, '[operate_util.go 225] parameter name not found'],
      [expand(`name=vb&capacity=99`), 2, 'name can only be number and letters'],
      [expand(`name=nosuchvol&authKey=${ALICE_KEY}&capacity=99`), 7, 'vol not exists'],
      [expand(`name=volB&authKey=${ALICE_KEY}&capacity=-5`), 2, /^args \[capacity\] is not legal/],
      [`/vol/shrink?name=nosuchvol&authKey=${ALICE_KEY}&capacity=1`, 7, 'vol not exists'],
      [volUpdateQuery({ authKey: authKey('bob') }), 34, 'client and server auth key do not match'],
      // Go reads the update's authKey with extractStr: missing is a mismatch, not a missing key.
      [volUpdateQuery({ authKey: null }), 34, 'client and server auth key do not match'],
      [volUpdateQuery({ name: 'nosuchvol' }), 7, 'vol not exists'],
      [volUpdateQuery({ name: null }), 2, '[operate_util.go 225] parameter name not found'],
      [volUpdateQuery({ replicaNum: 3 }), 2, 'replicaNum only need be reduced one replica one time'],
      [volUpdateQuery({ replicaNum: 0 }), 2, 'replica or follower read status error'],
      [volUpdateQuery({ followerRead: false }), 2, 'replica or follower read status error'],
      [volUpdateQuery({ zoneName: 'nozone' }), 1, 'action[updateVol], clusterID[test] name:volB, err:action[checkZoneName] the zonename[nozone] not found '],
      [volUpdateQuery({ crossZone: true }), 1, 'action[updateVol], clusterID[test] name:volB, err:action[checkZoneName] vol use specified single zoneName conflit with cross zone flag '],
      [volUpdateQuery({ txTimeout: 0 }), 2, 'txTimeout(0) value range [1-60] minutes'],
      [volUpdateQuery({ trashInterval: 600000 }), 2, "trash interval can't great than 525600, now 600000"],
      [volUpdateQuery({ dpSelectorName: 'kfaster' }), 2, '[operate_util.go 225] parameter dpSelectorName or dpSelectorParm not found'],
      [volUpdateQuery({ capacity: 'lots' }), 2, /^args \[capacity\] is not legal/],
      [volUpdateQuery({ followerRead: 'nope' }), 2, /followerRead/],
    ];
    for (const [url, code, msg] of table) {
      const got = await fails(dm.app, url, code);
      if (typeof msg === 'string') assert.equal(got, msg, url);
      else assert.match(got, msg, url);
    }
    await assertUnchanged(dm, before, 'invalid update');
  });

  void it('refuses updates of a vol marked for deletion with code 1, as observed, before the authKey', async () => {
    await ok(dm.app, DELETE_VOLB);
    const before = snapshot(dm);
    const gone = 'action[updateVol], clusterID[test] name:volB, err:vol not exists ';
    assert.equal(await fails(dm.app, EXPAND_20.replace('capacity=20', 'capacity=200'), 1), gone);
    assert.equal(await fails(dm.app, `/vol/shrink?name=volB&authKey=${authKey('bob')}&capacity=1`, 1), gone);
    assert.equal(await fails(dm.app, volUpdateQuery({ description: 'again' }), 1), gone);
    await assertUnchanged(dm, before, 'marked vol');
  });
});

void describe('/vol/delete and the removal of deleted vols', () => {
  let dm: DomainMaster;
  const cleanup = () =>
    removeDeletedVols({ replicator: dm.group.replicator(1), nodes: dm.nodes, ops: dm.ops, proposeTimeoutMs: 5_000 }, AbortSignal.timeout(10_000));
  before(async () => {
    dm = await domainMaster({ meta: 1, data: 1, singleNodeMode: true });
    await ok(dm.app, createVolQuery());
    await ok(dm.app, createVolQuery({ name: 'volC' }));
  });
  after(() => dm.close());

  void it('refuses a bad delete with its code and text, changing nothing', async () => {
    const before = snapshot(dm);
    assert.equal(await fails(dm.app, `/vol/delete?name=volB&authKey=${authKey('bob')}`, 34), 'client and server auth key do not match');
    assert.equal(await fails(dm.app, '/vol/delete?name=volB', 2), '[operate_util.go 225] parameter authKey not found');
    assert.equal(await fails(dm.app, `/vol/delete?authKey=${ALICE_KEY}`, 2), '[operate_util.go 225] parameter name not found');
    assert.equal(await fails(dm.app, `/vol/delete?name=vB&authKey=${ALICE_KEY}`, 2), 'name can only be number and letters');
    assert.equal(await fails(dm.app, `/vol/delete?name=nosuchvol&authKey=${ALICE_KEY}`, 7), 'vol not exists');
    assert.match(await fails(dm.app, `${DELETE_VOLB}&delete=perhaps`, 2), /delete/);
    await assertUnchanged(dm, before, 'bad delete');
  });

  void it('marks the vol with the captured query and text: still listed (Status 1), partitions kept until removal', async () => {
    const res = await httpGet(dm.addr, DELETE_VOLB);
    const env = JSON.parse(res.body.toString('utf8')) as { code: number; msg: string; data: string };
    assert.deepEqual([env.code, env.msg], [0, 'success']);
    assert.match(env.data, /^delete vol\[volB\] successfully,from\[127\.0\.0\.1:\d+\]$/);
    const list = (await ok(dm.app, '/vol/list?keywords=')) as Row[];
    assert.deepEqual(list.map((v) => [v.Name, v.Status]), [['volB', 1], ['volC', 0]]);
    assert.equal(((await ok(dm.app, '/admin/getVol?name=volB')) as Row).Status, 1);
    assert.equal(dm.sims.metaNodes[0].partitions().filter((p) => p.volName === 'volB').length, 3);
    // Again: still success (the Go master marks again). `delete=false` marks too: with the
    // default enableDirectDeleteVol the Go master ignores it, and so do we (an undelete could
    // race the removal below and resurrect a vol whose partitions are gone).
    await ok(dm.app, DELETE_VOLB);
    await ok(dm.app, `${DELETE_VOLB}&delete=false&forceDelVol=true`);
    assert.equal([...dm.group.state.vols.values()].find((v) => v.name === 'volB')?.status, VolStatus.MarkDelete);
  });

  void it('removes the vol once the removal pass runs: gone from the list, the nodes and its owner', async () => {
    const volC = { meta: dm.sims.metaNodes[0].partitions().filter((p) => p.volName === 'volC').map((p) => p.partitionId) };
    assert.deepEqual(await cleanup(), ['volB']);
    assert.deepEqual(((await ok(dm.app, '/vol/list?keywords=')) as Row[]).map((v) => v.Name), ['volC']);
    assert.equal(await fails(dm.app, '/admin/getVol?name=volB', 7), 'vol not exists');
    assert.equal(await fails(dm.app, '/client/metaPartitions?name=volB', 7), 'vol not exists');
    assert.deepEqual(dm.sims.metaNodes[0].partitions().map((p) => p.partitionId), volC.meta, 'only volC is left on the meta node');
    assert.deepEqual(new Set(dm.sims.dataNodes[0].partitions().map((p) => p.volName)), new Set(['volC']));
    assert.ok([...dm.group.state.metaPartitions.values()].every((p) => p.volName === 'volC'));
    assert.ok([...dm.group.state.dataPartitions.values()].every((p) => p.volName === 'volC'));
    const alice = (await ok(dm.app, '/user/info?user=alice')) as { policy: { own_vols: string[] } };
    assert.deepEqual(alice.policy.own_vols, ['volC']);
    assert.deepEqual(await cleanup(), [], 'nothing more to remove');
    // The name can be used again.
    await ok(dm.app, createVolQuery());
    assert.deepEqual(((await ok(dm.app, '/vol/list?keywords=')) as Row[]).map((v) => [v.Name, v.Status]), [['volC', 0], ['volB', 0]]);
  });
});
