import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allDataNodes,
  allMetaNodes,
  applyChanges,
  clusterInfo,
  clusterView,
  dataNodeInfoByAddr,
  emptyState,
  formatDateTime,
  formatGoTime,
  makeCommand,
  metaNodeInfoByAddr,
  nodeInfo,
  setDataNodeLive,
  setMetaNodeLive,
  userInfo,
  userInfoByAccessKey,
  userInfoById,
  userList,
  UTC_VIEW,
} from '../../src/model/index.js';
import { bootstrapped, dataNodeAddCmd, fails, metaNodeAddCmd, ok, T_USERS, userCreateCmd, userUpdateCmd } from './helpers.js';
import * as wire from './wire-samples.js';

/** The `data` of a captured reply. */
function data(body: string): unknown {
  const envelope = JSON.parse(body) as { code: number; data: unknown };
  assert.equal(envelope.code, 0);
  return envelope.data;
}

/** Same keys in the same order, same values and types: compare the JSON text. */
function sameJson(actual: unknown, expected: unknown): void {
  assert.equal(JSON.stringify(actual), JSON.stringify(expected));
}

/** The users of the single-master capture: root at bootstrap, then alice and bob. */
function capturedUsers() {
  const state = bootstrapped();
  ok(state, userCreateCmd('alice', { accessKey: 'MzloR2E5EYUGKBkY', secretKey: '67gNEnZWH1LRMGVjNp4i3kFIHHZ9ONWH' }));
  ok(
    state,
    userCreateCmd('bob', {
      accessKey: 'AAAAAAAAAAAAAAAA',
      secretKey: 'SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS',
      userType: 2,
    }),
  );
  return state;
}

void describe('views match the captured CubeFS replies', () => {
  void it('UserInfo of /user/create', () => {
    const state = capturedUsers();
    sameJson(userInfoById(state, 'alice', UTC_VIEW), data(wire.userCreateAlice));
  });

  void it('the user list of /user/list (oldest first)', () => {
    sameJson(userList(capturedUsers(), '', UTC_VIEW), data(wire.userListThree));
  });

  void it('UserInfo of /user/update after a type change', () => {
    const state = capturedUsers();
    ok(state, userUpdateCmd('alice', { userType: 2 }));
    sameJson(userInfoById(state, 'alice', UTC_VIEW), data(wire.userUpdateAlice));
  });

  void it('UserInfo with authorized vols (/user/updatePolicy)', () => {
    const state = bootstrapped();
    const carol = ok(
      state,
      userCreateCmd('carol2', {
        accessKey: 'KSPrAqmmruZBHaL5',
        secretKey: 'VU1UyGMRPnNmWSjkUZOiLvGvn61zFr2t',
        createTimeUnixSec: Date.UTC(2026, 10, 25, 18, 52, 28) / 1000,
      }),
    );
    const policy = { ownVols: [], authorizedVols: new Map([['volA', ['perm:builtin:ReadOnly']]]) };
    applyChanges(state, [{ kind: 'user', op: 'put', record: { ...carol, policy } }]);
    sameJson(userInfoByAccessKey(state, 'KSPrAqmmruZBHaL5', UTC_VIEW), data(wire.userInfoCarolWithPolicy));
  });

  void it('ClusterView of /admin/getCluster on a fresh cluster', () => {
    const view = clusterView(bootstrapped(), {
      ...UTC_VIEW,
      leaderAddr: '127.0.0.1:17010',
      applied: 4,
      masterPeers: [{ id: 1, addr: '127.0.0.1:17010' }],
    });
    sameJson(view, data(wire.getClusterFresh));
  });

  void it('/admin/getNodeInfo and /admin/getIp on a fresh cluster', () => {
    const state = bootstrapped();
    sameJson(nodeInfo(state), data(wire.getNodeInfoFresh));
    sameJson(clusterInfo(state, { ip: '127.0.0.1' }), data(wire.getIp));
  });

  void it('/admin/getNodeInfo prints floats as Go does', () => {
    const state = bootstrapped();
    const cluster = state.cluster ?? assert.fail('no cluster');
    applyChanges(state, [{ kind: 'cluster', op: 'put', record: { ...cluster, loadFactor: 1.5, metaNodeDeleteBatchCount: 100 } }]);
    assert.equal(nodeInfo(state)['loadFactor'], '1.5');
    assert.equal(nodeInfo(state)['batchCount'], '100');
  });

  void it('/metaNode/add then /metaNode/get before the first heartbeat', () => {
    const state = bootstrapped();
    const added = ok(state, metaNodeAddCmd('127.0.0.1:17210'));
    assert.equal(added.id, data(wire.metaNodeAdd));
    sameJson(metaNodeInfoByAddr(state, '127.0.0.1:17210'), data(wire.metaNodeGetAfterAdd));
  });

  void it('/dataNode/add then /dataNode/get before the first heartbeat (ReportTime = add time)', () => {
    const state = bootstrapped();
    ok(state, metaNodeAddCmd('127.0.0.1:17210'));
    const added = ok(state, dataNodeAddCmd('127.0.0.1:17310'));
    assert.equal(added.id, data(wire.dataNodeAdd));
    const view = dataNodeInfoByAddr(state, '127.0.0.1:17310');
    const expected = data(wire.dataNodeGetAfterAdd) as Record<string, unknown>;
    // The capture has nanoseconds; commands carry milliseconds.
    assert.equal(expected['ReportTime'], '2026-11-25T18:42:06.869224858Z');
    assert.equal(view.ReportTime, '2026-11-25T18:42:06.869Z');
    sameJson({ ...view, ReportTime: expected['ReportTime'] }, expected);
  });

  void it('/admin/cluster/getAllMetaNodes and getAllDataNodes with heartbeat fields', () => {
    const state = bootstrapped();
    ok(state, metaNodeAddCmd('127.0.0.1:17210'));
    ok(state, dataNodeAddCmd('127.0.0.1:17310'));
    assert.equal(setMetaNodeLive(state, 2, { isActive: true, isWritable: true, domainAddr: 'localhost:17210,runsc:17210,vm:17210' }), true);
    assert.equal(setDataNodeLive(state, 3, { isActive: true, isWritable: true, domainAddr: 'localhost:17310,runsc:17310,vm:17310' }), true);
    assert.equal(setMetaNodeLive(state, 99, { isActive: true }), false);
    sameJson(allMetaNodes(state), data(wire.getAllMetaNodes));
    sameJson(allDataNodes(state), data(wire.getAllDataNodes));
  });
});

void describe('views', () => {
  void it('answer 46 / 40 / 13 / 12 for unknown subjects', () => {
    const state = bootstrapped();
    assert.throws(() => userInfoById(state, 'nobody', UTC_VIEW), { code: 46 });
    assert.throws(() => userInfoByAccessKey(state, 'AAAAAAAAAAAAAAAA', UTC_VIEW), { code: 40 });
    assert.throws(() => metaNodeInfoByAddr(state, '1.2.3.4:5'), { code: 13 });
    assert.throws(() => dataNodeInfoByAddr(state, '1.2.3.4:5'), { code: 12 });
  });

  void it('need a bootstrapped cluster for cluster views (code 1)', () => {
    assert.throws(() => nodeInfo(emptyState()), { code: 1 });
  });

  void it('filter the user list by keyword', () => {
    const state = capturedUsers();
    assert.deepEqual(
      userList(state, 'o', UTC_VIEW).map((u) => u.user_id),
      ['root', 'bob'],
    );
  });

  void it('list nodes by id and reflect freeze in the cluster view', () => {
    const state = bootstrapped();
    for (const i of [3, 1, 2]) ok(state, metaNodeAddCmd(`10.0.0.${i}:17210`));
    assert.deepEqual(
      allMetaNodes(state).map((n) => n.ID),
      [2, 3, 4],
    );
    ok(state, makeCommand('cluster.setFrozen', { frozen: true }));
    const view = clusterView(state, { ...UTC_VIEW, leaderAddr: '', applied: 0, masterPeers: [] });
    assert.equal(view.DisableAutoAlloc, true);
    assert.equal(view.MaxMetaNodeID, 4);
    assert.equal(view.MetaNodes.length, 3);
  });

  void it('format times as Go does', () => {
    assert.equal(formatDateTime(T_USERS, 0), '2026-11-25 18:41:11');
    assert.equal(formatDateTime(T_USERS, 8 * 3600), '2026-11-26 02:41:11');
    assert.equal(formatGoTime(0), '0001-01-01T00:00:00Z');
    assert.equal(formatGoTime(Date.UTC(2026, 0, 2, 3, 4, 5)), '2026-01-02T03:04:05Z');
    assert.equal(formatGoTime(Date.UTC(2026, 0, 2, 3, 4, 5, 500)), '2026-01-02T03:04:05.5Z');
  });

  void it('copy arrays so callers cannot reach into the model', () => {
    const state = bootstrapped();
    const user = ok(state, userCreateCmd('alice'));
    const view = userInfo(user, UTC_VIEW);
    view.policy.own_vols.push('x');
    assert.deepEqual(state.users.get('alice')?.policy.ownVols, []);
    fails(state, userCreateCmd('alice'), 45);
  });
});
