// The signed membership routes: learner add and promote are separate calls on RaftControl, each
// answering with the group; bad ids and addresses are refused naming the field; unsigned calls
// change nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { signRequest } from '../../src/api/root-auth.js';
import { FakeGroup } from '../cluster/fakes.js';
import { ROOT_AK, ROOT_SK } from '../model/helpers.js';
import { T_USERS_MS, fails, ok, startMaster } from './helpers.js';

function signed(url: string): InjectOptions {
  return { method: 'POST', url, headers: signRequest({ method: 'POST', pathAndQuery: url, body: undefined }, ROOT_AK, ROOT_SK, T_USERS_MS) };
}

interface Members {
  members: { id: number; learner: boolean; httpAddr: string }[];
}

void describe('/cubemaster/members routes', () => {
  void it('adds a learner, then promotes it, as two calls, answering with the group', async () => {
    const { app, raft } = startMaster(new FakeGroup([1, 2, 3], 1), 1);
    const added = (await ok(app, signed('/cubemaster/members/learner?id=4&addr=10.0.0.4:17010'))) as Members;
    const learner = added.members.find((m) => m.id === 4);
    assert.deepEqual([learner?.httpAddr, learner?.learner], ['10.0.0.4:17010', true]);
    const promoted = (await ok(app, signed('/cubemaster/members/promote?id=4'))) as Members;
    assert.equal(promoted.members.find((m) => m.id === 4)?.learner, false);
    assert.deepEqual(raft.calls.map((c) => [c.op, c.id]), [['addLearner', 4], ['promoteLearner', 4]]);
    const listed = (await ok(app, { method: 'GET', url: '/cubemaster/members' })) as Members;
    assert.equal(listed.members.length, 4);
  });

  void it('refuses a bad id or addr naming it, an unknown member to remove, and unsigned calls, calling nothing', async () => {
    const { app, raft } = startMaster(new FakeGroup([1, 2, 3], 1), 1);
    assert.match(await fails(app, signed('/cubemaster/members/learner?id=0&addr=10.0.0.4:17010'), 2), /id must be a master id > 0/);
    assert.match(await fails(app, signed('/cubemaster/members/learner?id=4&addr=nowhere'), 2), /addr/);
    assert.match(await fails(app, signed('/cubemaster/members/remove?id=9'), 2), /master 9 is not a member/);
    await fails(app, { method: 'POST', url: '/cubemaster/members/remove?id=2' }, 57);
    assert.equal(raft.calls.length, 0);
  });
});
