import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserService } from '../../src/cluster/users.js';
import { DEFAULT_USER_PASSWORD, modelDigest, passwordSha1 } from '../../src/model/index.js';
import { countingRandom, FakeGroup, fixedClock } from './fakes.js';

const T_MS = Date.UTC(2026, 10, 25, 18, 41, 11, 500);

function setup() {
  const group = new FakeGroup([1], 1);
  const random = countingRandom();
  const users = new UserService({ replicator: group.replicator(1), clock: fixedClock(T_MS), random });
  return { group, users, random };
}

const create = { id: 'alice', password: '', accessKey: '', secretKey: '', type: 3, description: '' };

void describe('UserService.create', () => {
  void it('generates AK/SK from the random source, hashes the default password, stamps the clock', async () => {
    const { group, users } = setup();
    const user = await users.create(create);
    assert.equal(user.userId, 'alice');
    assert.match(user.accessKey, /^[A-Za-z0-9]{16}$/);
    assert.match(user.secretKey, /^[A-Za-z0-9]{32}$/);
    // counting bytes 0..15 -> 'A'..'P', then 32 more for the secret key
    assert.equal(user.accessKey, 'ABCDEFGHIJKLMNOP');
    assert.equal(user.createTimeUnixSec, Math.floor(T_MS / 1000));
    assert.equal(group.state.accessKeys.get(user.accessKey)?.passwordSha1, passwordSha1(DEFAULT_USER_PASSWORD));
    const cmd = group.proposed.at(-1);
    assert.equal(cmd?.type, 'user.create');
  });

  void it('keeps given keys and hashes the given password', async () => {
    const { group, users, random } = setup();
    const user = await users.create({ ...create, id: 'bob', password: 'pw123', accessKey: 'A'.repeat(16), secretKey: 'S'.repeat(32), type: 2 });
    assert.equal(user.accessKey, 'A'.repeat(16));
    assert.equal(random.calls, 0);
    assert.equal(group.state.accessKeys.get('A'.repeat(16))?.passwordSha1, passwordSha1('pw123'));
  });

  void it('refuses bad input in CubeFS order (55, 56, 59, 60) before proposing anything', async () => {
    const { group, users } = setup();
    const before = modelDigest(group.state);
    const cases: [Partial<typeof create>, number, string][] = [
      [{ id: '1bad', type: 1 }, 55, 'id'],
      [{ type: 1 }, 56, 'type'],
      [{ type: 0 }, 56, 'type'],
      [{ accessKey: 'short', secretKey: 'short' }, 59, 'ak'],
      [{ secretKey: 'short' }, 60, 'sk'],
    ];
    for (const [fields, code, field] of cases) {
      await assert.rejects(users.create({ ...create, ...fields }), (e: Error & { code?: number; field?: string }) => {
        assert.equal(e.code, code, e.message);
        assert.equal(e.field, field);
        return true;
      });
    }
    assert.equal(group.proposed.length, 0);
    assert.equal(modelDigest(group.state), before);
  });

  void it('passes a duplicate to the log, where apply refuses it with 45', async () => {
    const { users } = setup();
    await users.create(create);
    await assert.rejects(users.create(create), { code: 45, message: 'duplicate user id' });
  });
});

void describe('UserService.update and delete', () => {
  void it('turns empty fields into "keep" and hashes a new password', async () => {
    const { group, users } = setup();
    const alice = await users.create({ ...create, description: 'first' });
    const updated = await users.update({ userId: 'alice', accessKey: '', secretKey: '', type: 2, password: 'new', description: '' });
    assert.equal(updated.userType, 2);
    assert.equal(updated.description, 'first');
    assert.equal(updated.accessKey, alice.accessKey);
    assert.equal(group.state.accessKeys.get(alice.accessKey)?.passwordSha1, passwordSha1('new'));
  });

  void it('refuses a malformed new access key (59) without proposing', async () => {
    const { group, users } = setup();
    await users.create(create);
    const n = group.proposed.length;
    await assert.rejects(users.update({ userId: 'alice', accessKey: 'x', secretKey: '', type: 0, password: '', description: '' }), {
      code: 59,
    });
    assert.equal(group.proposed.length, n);
  });

  void it('deletes, and answers 46 for an unknown user and 57 for root', async () => {
    const { users, group } = setup();
    await users.create(create);
    assert.deepEqual(await users.delete('alice'), { userId: 'alice' });
    assert.equal(group.state.users.has('alice'), false);
    await assert.rejects(users.delete('alice'), { code: 46 });
    await assert.rejects(users.delete('root'), { code: 57 });
  });

  void it('surfaces NotLeaderError from a follower', async () => {
    const group = new FakeGroup([1, 2], 1);
    const users = new UserService({ replicator: group.replicator(2), clock: fixedClock(T_MS), random: countingRandom() });
    await assert.rejects(users.create(create), { name: 'NotLeaderError', code: 33 });
  });
});
