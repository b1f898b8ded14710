// /get/raftStatus, /raftNode/add, /raftNode/remove, /master/changeleader on one member
// (forwarding from followers is in forwarding.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHANGE_LEADER_MSG } from '../../src/api/routes/raft.js';
import { ConfChangeRejectedError } from '../../src/raft/core/errors.js';
import { FakeGroup } from '../cluster/fakes.js';
import { call, fails, ok, startMaster } from './helpers.js';

function threeMembers() {
  const group = new FakeGroup([1, 2, 3], 1);
  group.appliedIndex = 7;
  return startMaster(group, 1);
}

void describe('/get/raftStatus', () => {
  void it('answers the tiglabs raft Status shape with this leader\'s view', async () => {
    const { app } = threeMembers();
    const data = (await ok(app, '/get/raftStatus')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(data), [
      'ID', 'NodeID', 'Leader', 'Term', 'Index', 'Commit', 'Applied', 'Vote', 'PendQueue', 'RecvQueue', 'AppQueue',
      'TicketQueue', 'Stopped', 'RestoringSnapshot', 'State', 'Replicas',
    ]);
    assert.equal(data.ID, 1);
    assert.equal(data.NodeID, 1);
    assert.equal(data.Leader, 1);
    assert.equal(data.State, 'StateLeader');
    assert.equal(data.Applied, 7);
    const replicas = data.Replicas as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(replicas), ['2', '3']);
    assert.deepEqual(replicas['2'], {
      Match: 7, Commit: 7, Next: 8, State: 'ReplicaStateReplicate', Snapshoting: false, Paused: false, Active: true,
      LastActive: '0001-01-01T00:00:00Z', Inflight: 0,
    });
  });
});

void describe('/raftNode/add and /raftNode/remove', () => {
  void it('adds a member through RaftControl.addMember with the CubeFS message', async () => {
    const { app, raft, group } = threeMembers();
    assert.equal(await ok(app, '/raftNode/add?id=4&addr=127.0.0.1:17004'), 'add  raft node id :4, addr:127.0.0.1:17004 successfully \n');
    assert.deepEqual(raft.calls.map((c) => [c.op, c.id, c.addr]), [['addMember', 4, '127.0.0.1:17004']]);
    assert.equal(raft.calls[0].options?.timeoutMs, 25_000);
    assert.ok(raft.calls[0].options?.signal instanceof AbortSignal);
    assert.equal(group.peers.get(4)?.httpAddr, '127.0.0.1:17004');
    assert.equal(await ok(app, { method: 'POST', url: '/raftNode/remove', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'id=4&addr=127.0.0.1:17004' }), 'remove  raft node id :4,adr:127.0.0.1:17004 successfully\n');
    assert.deepEqual(raft.calls.map((c) => [c.op, c.id]), [['addMember', 4], ['removeMember', 4]]);
    assert.equal(group.peers.has(4), false);
  });

  void it('refuses missing or bad id/addr with code 2 naming the field, calling nothing', async () => {
    const { app, raft } = threeMembers();
    assert.equal(await fails(app, '/raftNode/add?addr=127.0.0.1:1', 2), '[operate_util.go 225] parameter id not found');
    assert.equal(await fails(app, '/raftNode/add?id=4', 2), '[operate_util.go 225] parameter addr not found');
    assert.match(await fails(app, '/raftNode/add?id=x&addr=127.0.0.1:1', 2), /args \[id\] is not legal/);
    assert.match(await fails(app, '/raftNode/add?id=0&addr=127.0.0.1:1', 2), /args \[id\] is not legal/);
    assert.match(await fails(app, '/raftNode/add?id=4&addr=nocolon', 2), /parameter addr not match/);
    assert.match(await fails(app, '/raftNode/remove?id=99999999999999999&addr=a:1', 2), /args \[id\]/);
    assert.equal(raft.calls.length, 0);
  });

  void it('passes a refused configuration change on as its code', async () => {
    const { app, raft } = threeMembers();
    raft.failNext = new ConfChangeRejectedError('a configuration change is already in progress');
    assert.equal(await fails(app, '/raftNode/add?id=4&addr=127.0.0.1:17004', 2), 'a configuration change is already in progress');
  });
});

void describe('/master/changeleader on the leader', () => {
  void it('is a no-op success: this member leads already', async () => {
    const { app, raft } = threeMembers();
    const res = await call(app, '/master/changeleader');
    assert.equal(res.envelope.data, CHANGE_LEADER_MSG);
    assert.equal(raft.calls.length, 0);
  });
});
