// cubemaster's own operator routes: signed with the root user's keys or refused with code 57.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { signRequest } from '../../src/api/root-auth.js';
import { FakeGroup } from '../cluster/fakes.js';
import { ROOT_AK, ROOT_SK } from '../model/helpers.js';
import { T_USERS_MS, fails, ok, startMaster } from './helpers.js';

function signed(url: string, accessKey = ROOT_AK, secretKey = ROOT_SK): InjectOptions {
  return { method: 'POST', url, headers: signRequest({ method: 'POST', pathAndQuery: url, body: undefined }, accessKey, secretKey, T_USERS_MS) };
}

void describe('POST /cubemaster/leader/transfer', () => {
  void it('moves leadership when signed by root', async () => {
    const group = new FakeGroup([1, 2, 3], 1);
    const { app, raft } = startMaster(group, 1);
    assert.deepEqual(await ok(app, signed('/cubemaster/leader/transfer?target=2')), { leaderId: 2 });
    assert.deepEqual(raft.calls.map((c) => [c.op, c.id]), [['transferLeadership', 2]]);
  });

  void it('refuses an unsigned request, a wrong secret and a GET with code 57 or 404/405, calling nothing', async () => {
    const group = new FakeGroup([1, 2, 3], 1);
    const { app, raft } = startMaster(group, 1);
    await fails(app, { method: 'POST', url: '/cubemaster/leader/transfer?target=2' }, 57);
    await fails(app, signed('/cubemaster/leader/transfer?target=2', ROOT_AK, 'x'.repeat(32)), 57);
    const get = await app.inject({ method: 'GET', url: '/cubemaster/leader/transfer?target=2' });
    assert.equal(get.statusCode, 405);
    assert.equal(raft.calls.length, 0);
  });
});

void describe('POST /cubemaster/node/decommission', () => {
  void it('refuses a bad kind or an unknown node, naming it', async () => {
    const group = new FakeGroup([1], 1);
    const { app } = startMaster(group, 1);
    assert.match(await fails(app, signed('/cubemaster/node/decommission?kind=disk&addr=1.2.3.4:1'), 2), /kind must be meta or data/);
    await fails(app, signed('/cubemaster/node/decommission?kind=meta&addr=1.2.3.4:1'), 13);
    await fails(app, signed('/cubemaster/node/decommission?kind=data&addr=1.2.3.4:1'), 12);
    await fails(app, { method: 'POST', url: '/cubemaster/node/decommission?kind=meta&addr=1.2.3.4:1' }, 57);
  });
});
