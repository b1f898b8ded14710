// /user/create, /user/info, /user/list, /user/update, /user/delete (cli-vs-single-master.jsonl).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modelDigest } from '../../src/model/index.js';
import { userCreateAlice, userListThree, userUpdateAlice } from '../model/wire-samples.js';
import { assertSameShape, call, fails, ok, postJson, singleMaster, wireData } from './helpers.js';

// The bodies cfs-cli sent.
const ALICE = { id: 'alice', pwd: '', ak: '', sk: '', type: 3, description: '' };
const BOB = { id: 'bob', pwd: 'pw123', ak: 'AAAAAAAAAAAAAAAA', sk: 'SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS', type: 2, description: '' };

void describe('POST /user/create', () => {
  void it('answers UserInfo with generated keys, in the wire shape', async () => {
    const { app } = singleMaster();
    const data = (await ok(app, postJson('/user/create?clientIDKey=', ALICE))) as Record<string, unknown>;
    assertSameShape(data, wireData(userCreateAlice));
    const sample = wireData(userCreateAlice) as Record<string, unknown>;
    assert.deepEqual({ ...data, access_key: '', secret_key: '' }, { ...sample, access_key: '', secret_key: '' });
    assert.match(String(data.access_key), /^[A-Za-z0-9]{16}$/);
    assert.match(String(data.secret_key), /^[A-Za-z0-9]{32}$/);
  });

  void it('lists users oldest first, as the wire sample', async () => {
    const { app, group } = singleMaster();
    await ok(app, postJson('/user/create', ALICE));
    await ok(app, postJson('/user/create', BOB));
    const list = (await ok(app, '/user/list?keywords=')) as Record<string, unknown>[];
    assertSameShape(list, wireData(userListThree));
    assert.deepEqual(list.map((u) => [u.user_id, u.user_type, u.create_time]), [
      ['root', 1, '2026-11-25 18:40:41'],
      ['alice', 3, '2026-11-25 18:41:11'],
      ['bob', 2, '2026-11-25 18:41:11'],
    ]);
    assert.deepEqual(list[2], (wireData(userListThree) as unknown[])[2]);
    assert.deepEqual(((await ok(app, '/user/list?keywords=li')) as { user_id: string }[]).map((u) => u.user_id), ['alice']);
    assert.ok(group.readBarriers >= 2);
  });

  void it('answers the CubeFS codes for bad input and changes nothing', async () => {
    const { app, group } = singleMaster();
    await ok(app, postJson('/user/create', ALICE));
    const before = modelDigest(group.state);
    const proposed = group.proposed.length;
    assert.equal(await fails(app, postJson('/user/create', { ...ALICE, id: '1alice' }), 55), 'invalid user ID');
    assert.equal(await fails(app, postJson('/user/create', { ...ALICE, id: 'carol', type: 1 }), 56), 'invalid user type');
    assert.equal(await fails(app, postJson('/user/create', { ...ALICE, id: 'carol', ak: 'short' }), 59), 'invalid access key');
    assert.equal(await fails(app, postJson('/user/create', { ...ALICE, id: 'carol', sk: 'short' }), 60), 'invalid secret key');
    assert.match(await fails(app, postJson('/user/create', { ...ALICE, id: 7 }), 2), /field id of type string/);
    assert.match(await fails(app, postJson('/user/create', { ...ALICE, type: '3' }), 2), /field type/);
    const badJson = await call(app, { method: 'POST', url: '/user/create', headers: { 'content-type': 'application/json' }, payload: '{"id":nope}' });
    assert.equal(badJson.envelope.code, 2);
    assert.match(badJson.envelope.msg, /invalid JSON body/);
    assert.equal(await fails(app, { method: 'POST', url: '/user/create' }, 2), 'unexpected end of JSON input');
    assert.equal(modelDigest(group.state), before);
    assert.equal(group.proposed.length, proposed);
    // a duplicate reaches the log and is refused there: 45, still no change
    assert.equal(await fails(app, postJson('/user/create', ALICE), 45), 'duplicate user id');
    assert.equal(modelDigest(group.state), before);
  });
});

void describe('/user/info, /user/update, /user/delete', () => {
  void it('updates the type as cfs-cli does (wire: user update alice --user-type admin)', async () => {
    const { app } = singleMaster();
    const created = (await ok(app, postJson('/user/create', ALICE))) as Record<string, unknown>;
    // read before the update too: the reply kept for alice's record must not outlive it
    assert.deepEqual(await ok(app, '/user/info?user=alice'), created);
    assert.deepEqual(await ok(app, `/user/akInfo?ak=${String(created.access_key)}`), created);
    const body = { user_id: 'alice', access_key: '', secret_key: '', type: 2, password: '', description: '' };
    const updated = (await ok(app, postJson('/user/update?clientIDKey=', body))) as Record<string, unknown>;
    assertSameShape(updated, wireData(userUpdateAlice));
    assert.deepEqual(updated, { ...created, user_type: 2 });
    assert.deepEqual(await ok(app, '/user/info?user=alice'), updated);
    assert.deepEqual(await ok(app, `/user/akInfo?ak=${String(created.access_key)}`), updated);
  });

  void it('refuses updates of unknown users (46), bad keys (59), root type (57), missing user_id (2)', async () => {
    const { app, group } = singleMaster();
    await ok(app, postJson('/user/create', ALICE));
    const before = modelDigest(group.state);
    const base = { user_id: 'alice', access_key: '', secret_key: '', type: 0, password: '', description: '' };
    await fails(app, postJson('/user/update', { ...base, user_id: 'nobody' }), 46);
    await fails(app, postJson('/user/update', { ...base, access_key: 'bad' }), 59);
    await fails(app, postJson('/user/update', { ...base, secret_key: 'bad' }), 60);
    await fails(app, postJson('/user/update', { ...base, type: 9 }), 56);
    await fails(app, postJson('/user/update', { ...base, user_id: 'root', type: 3 }), 57);
    assert.equal(await fails(app, postJson('/user/update', { ...base, user_id: '' }), 2), '[operate_util.go 225] parameter user_id not found');
    assert.equal(modelDigest(group.state), before);
  });

  void it('deletes as cfs-cli does (POST with the user in the query) with the CubeFS message', async () => {
    const { app, group } = singleMaster();
    await ok(app, postJson('/user/create', BOB));
    const res = await ok(app, { method: 'POST', url: '/user/delete?user=bob&clientIDKey=', headers: { 'content-type': 'application/json' } });
    assert.equal(res, 'delete user[bob] successfully');
    assert.equal(group.state.users.has('bob'), false);
    assert.equal(group.state.accessKeys.has(BOB.ak), false);
    await fails(app, '/user/info?user=bob', 46);
    await fails(app, '/user/delete?user=bob', 46);
    await fails(app, '/user/delete?user=root', 57);
    assert.equal(await fails(app, '/user/delete', 2), '[operate_util.go 225] parameter user not found');
  });
});
