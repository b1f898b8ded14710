// /admin/getIp, /admin/getCluster, /admin/getNodeInfo, /cluster/freeze against the wire samples.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modelDigest } from '../../src/model/index.js';
import { FakeGroup } from '../cluster/fakes.js';
import { getClusterFresh, getIp, getNodeInfoFresh } from '../model/wire-samples.js';
import { assertSameShape, call, fails, ok, singleMaster, startMaster, wireData } from './helpers.js';

void describe('GET /admin/getIp', () => {
  void it('answers ClusterInfo exactly as the wire sample, with the caller IP', async () => {
    const { app } = singleMaster();
    const data = await ok(app, { url: '/admin/getIp', remoteAddress: '127.0.0.1' });
    assert.deepEqual(data, wireData(getIp));
  });

  void it('honours X-Real-IP, then X-Forwarded-For', async () => {
    const { app } = singleMaster();
    const ip = async (headers: Record<string, string>) => ((await ok(app, { url: '/admin/getIp', headers })) as { Ip: string }).Ip;
    assert.equal(await ip({ 'x-real-ip': '10.0.0.1', 'x-forwarded-for': '10.0.0.2' }), '10.0.0.1');
    assert.equal(await ip({ 'x-forwarded-for': '10.0.0.2, 10.0.0.3' }), '10.0.0.2');
  });

  void it('is served locally without a barrier, even with no leader and before bootstrap', async () => {
    const group = new FakeGroup([1, 2], 0, { bootstrap: false });
    const { app } = startMaster(group, 2);
    const data = (await ok(app, '/admin/getIp')) as { Cluster: string; DirChildrenNumLimit: number };
    assert.equal(data.Cluster, 'test');
    assert.equal(data.DirChildrenNumLimit, 20_000_000);
    assert.equal(group.readBarriers, 0);
  });
});

void describe('GET /admin/getCluster and /admin/getNodeInfo', () => {
  void it('answers ClusterView with the shape and values of a fresh cluster (wire sample)', async () => {
    const { app, group } = singleMaster();
    group.appliedIndex = 4;
    const data = await ok(app, '/admin/getCluster?volStorageClass=false');
    assertSameShape(data, wireData(getClusterFresh));
    assert.deepEqual(data, wireData(getClusterFresh));
    assert.equal(group.readBarriers, 1);
  });

  void it('lists every master and the leader address from Raft', async () => {
    const group = new FakeGroup([1, 2, 3], 2);
    const { app } = startMaster(group, 2);
    const data = (await ok(app, '/admin/getCluster')) as { LeaderAddr: string; MasterNodes: { ID: number; Addr: string; Status: boolean }[] };
    assert.equal(data.LeaderAddr, '127.0.0.1:17002');
    assert.deepEqual(
      data.MasterNodes.map((n) => [n.ID, n.Addr, n.Status]),
      [
        [1, '127.0.0.1:17001', true],
        [2, '127.0.0.1:17002', true],
        [3, '127.0.0.1:17003', true],
      ],
    );
  });

  void it('refuses a malformed volStorageClass with code 2 naming it', async () => {
    const { app } = singleMaster();
    assert.match(await fails(app, '/admin/getCluster?volStorageClass=maybe', 2), /volStorageClass/);
  });

  void it('answers getNodeInfo as the wire sample, GET and POST', async () => {
    const { app } = singleMaster();
    assert.deepEqual(await ok(app, '/admin/getNodeInfo'), wireData(getNodeInfoFresh));
    assert.deepEqual(await ok(app, { method: 'POST', url: '/admin/getNodeInfo' }), wireData(getNodeInfoFresh));
  });
});

void describe('/cluster/freeze', () => {
  void it('sets and clears DisableAutoAllocate with the CubeFS message', async () => {
    const { app, group } = singleMaster();
    assert.equal(await ok(app, '/cluster/freeze?enable=true&clientIDKey='), 'set DisableAutoAllocate to true successfully');
    assert.equal(group.state.cluster?.disableAutoAllocate, true);
    assert.equal(((await ok(app, '/admin/getCluster')) as { DisableAutoAlloc: boolean }).DisableAutoAlloc, true);
    assert.equal(await ok(app, { method: 'POST', url: '/cluster/freeze', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'enable=false' }), 'set DisableAutoAllocate to false successfully');
    assert.equal(group.state.cluster?.disableAutoAllocate, false);
  });

  void it('needs enable, a Go bool, and changes nothing otherwise', async () => {
    const { app, group } = singleMaster();
    const before = modelDigest(group.state);
    assert.equal(await fails(app, '/cluster/freeze?enable=', 2), '[operate_util.go 225] parameter enable not found');
    assert.match(await fails(app, '/cluster/freeze?enable=yes', 2), /parameter enable not match/);
    assert.equal(modelDigest(group.state), before);
    assert.equal(group.proposed.length, 0);
    // Go's ParseBool spellings
    for (const v of ['1', 't', 'T', 'TRUE', 'True']) await ok(app, `/cluster/freeze?enable=${v}`);
    assert.equal(group.state.cluster?.disableAutoAllocate, true);
  });

  void it('returns code 4 when Raft cannot persist, as PersistenceByRaft', async () => {
    const { app, group } = singleMaster();
    const { RaftTimeoutError } = await import('../../src/raft/errors.js');
    group.beforePropose = () => {
      throw new RaftTimeoutError('proposal', 10);
    };
    const res = await call(app, '/cluster/freeze?enable=true');
    assert.equal(res.envelope.code, 4);
  });
});
