import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CreatableUserType } from '../../src/model/index.js';
import { applyChanges, checkModel, makeCommand, userByAccessKey } from '../../src/model/index.js';
import { DuplicateAccessKeyError, DuplicateUserError, UserNotFoundError } from '../../src/model/errors.js';
import { ak, bootstrapped, fails, ok, PW, ROOT_AK, run, sk, T_USERS, userCreateCmd, userUpdateCmd } from './helpers.js';

void describe('apply: user.create', () => {
  void it('creates the user and its access key record', () => {
    const state = bootstrapped();
    const cmd = userCreateCmd('alice', { description: 'first' });
    const applied = run(state, cmd);
    assert.ok(applied.result.ok);
    assert.deepEqual(
      applied.changes.map((c) => c.kind),
      ['user', 'accessKey'],
    );
    const user = state.users.get('alice');
    assert.equal(applied.result.value, user);
    assert.equal(user?.accessKey, cmd.accessKey);
    assert.equal(user?.secretKey, cmd.secretKey);
    assert.equal(user?.userType, 3);
    assert.equal(user?.description, 'first');
    assert.equal(user?.createTimeUnixSec, T_USERS);
    assert.deepEqual(user?.policy.ownVols, []);
    assert.equal(user?.policy.authorizedVols.size, 0);
    assert.deepEqual(state.accessKeys.get(cmd.accessKey), { accessKey: cmd.accessKey, userId: 'alice', passwordSha1: PW });
    assert.equal(userByAccessKey(state, cmd.accessKey)?.userId, 'alice');
  });

  void it('refuses a duplicate user id (45)', () => {
    const state = bootstrapped();
    ok(state, userCreateCmd('alice'));
    const e = fails(state, userCreateCmd('alice'), 45);
    assert.ok(e instanceof DuplicateUserError);
    assert.equal(e.message, 'duplicate user id');
  });

  void it('refuses an access key another user holds (49)', () => {
    const state = bootstrapped();
    const e = fails(state, userCreateCmd('alice', { accessKey: ROOT_AK }), 49);
    assert.ok(e instanceof DuplicateAccessKeyError);
  });

  const bad: [string, Parameters<typeof userCreateCmd>[1], string, number][] = [
    ['an id starting with a digit', {}, '1alice', 55],
    ['an id with a dash', {}, 'ali-ce', 55],
    ['type root', { userType: 1 as CreatableUserType }, 'carol', 56],
    ['type 4', { userType: 4 as CreatableUserType }, 'carol', 56],
    ['a short access key', { accessKey: 'short' }, 'carol', 59],
    ['a short secret key', { secretKey: 'short' }, 'carol', 60],
    ['a malformed password hash', { passwordSha1: 'pw' }, 'carol', 2],
    ['a negative create time', { createTimeUnixSec: -1 }, 'carol', 2],
  ];
  for (const [what, fields, id, code] of bad) {
    void it(`refuses ${what} (${code}) and changes nothing`, () => {
      fails(bootstrapped(), userCreateCmd(id, fields), code);
    });
  }

  void it('checks the fields before looking for duplicates (59 beats 45)', () => {
    const state = bootstrapped();
    fails(state, userCreateCmd('root', { accessKey: 'bad' }), 59);
  });
});

void describe('apply: user.update', () => {
  function withAlice() {
    const state = bootstrapped();
    const created = ok(state, userCreateCmd('alice', { accessKey: ak(1), secretKey: sk(1) }));
    return { state, created };
  }

  void it('changes the user type (observed: alice becomes admin)', () => {
    const { state } = withAlice();
    const updated = ok(state, userUpdateCmd('alice', { userType: 2 }));
    assert.equal(updated.userType, 2);
    assert.equal(state.users.get('alice')?.userType, 2);
    assert.equal(updated.accessKey, ak(1));
  });

  void it('moves the access key record when the access key changes', () => {
    const { state } = withAlice();
    const applied = run(state, userUpdateCmd('alice', { accessKey: ak(2) }));
    assert.deepEqual(
      applied.changes.map((c) => `${c.kind}:${c.op}`),
      ['user:put', 'accessKey:del', 'accessKey:put'],
    );
    assert.equal(userByAccessKey(state, ak(2))?.userId, 'alice');
    assert.equal(state.accessKeys.has(ak(1)), false);
    assert.equal(state.accessKeys.get(ak(2))?.passwordSha1, PW, 'the password moves with the key');
    assert.deepEqual(checkModel(state), []);
  });

  void it('changes secret key and description; a password alone rewrites only the access key record', () => {
    const { state } = withAlice();
    ok(state, userUpdateCmd('alice', { secretKey: sk(9), description: 'hello' }));
    assert.equal(state.users.get('alice')?.secretKey, sk(9));
    assert.equal(state.users.get('alice')?.description, 'hello');
    const pw = 'f'.repeat(40);
    const applied = run(state, userUpdateCmd('alice', { passwordSha1: pw }));
    assert.deepEqual(
      applied.changes.map((c) => c.kind),
      ['accessKey'],
    );
    assert.equal(state.accessKeys.get(ak(1))?.passwordSha1, pw);
  });

  void it('writes nothing when nothing changes (also for the current access key)', () => {
    const { state, created } = withAlice();
    const applied = run(state, userUpdateCmd('alice', { accessKey: ak(1), userType: 3, description: '' }));
    assert.deepEqual(applied.result, { ok: true, value: created });
    assert.equal(applied.changes.length, 0);
  });

  const bad: [string, string, Parameters<typeof userUpdateCmd>[1], number][] = [
    ['an unknown user', 'bob', {}, 46],
    ['a malformed access key', 'alice', { accessKey: 'short' }, 59],
    ['an access key held by root', 'alice', { accessKey: ROOT_AK }, 49],
    ['a malformed secret key', 'alice', { secretKey: 'short' }, 60],
    ['type root', 'alice', { userType: 1 as CreatableUserType }, 56],
    ['a malformed password hash', 'alice', { passwordSha1: 'x' }, 2],
    ['a type change of root', 'root', { userType: 2 }, 57],
  ];
  for (const [what, userId, fields, code] of bad) {
    void it(`refuses ${what} (${code}) and changes nothing`, () => {
      const { state } = withAlice();
      const e = fails(state, userUpdateCmd(userId, fields), code);
      if (code === 46) assert.ok(e instanceof UserNotFoundError);
    });
  }
});

void describe('apply: user.delete', () => {
  void it('deletes the user and its access key record', () => {
    const state = bootstrapped();
    const created = ok(state, userCreateCmd('bob'));
    const applied = run(state, makeCommand('user.delete', { userId: 'bob' }));
    assert.deepEqual(applied.result, { ok: true, value: { userId: 'bob' } });
    assert.equal(state.users.has('bob'), false);
    assert.equal(state.accessKeys.has(created.accessKey), false);
    assert.deepEqual(checkModel(state), []);
  });

  void it('refuses an unknown user (46)', () => {
    fails(bootstrapped(), makeCommand('user.delete', { userId: 'bob' }), 46);
  });

  void it('refuses the root user (57)', () => {
    fails(bootstrapped(), makeCommand('user.delete', { userId: 'root' }), 57);
  });

  void it('refuses a user that owns vols (53)', () => {
    const state = bootstrapped();
    const user = ok(state, userCreateCmd('alice'));
    applyChanges(state, [
      { kind: 'user', op: 'put', record: { ...user, policy: { ...user.policy, ownVols: ['vol2'] } } },
    ]);
    fails(state, makeCommand('user.delete', { userId: 'alice' }), 53);
  });

  void it('lets a deleted id and its access key be used again', () => {
    const state = bootstrapped();
    const first = ok(state, userCreateCmd('bob'));
    ok(state, makeCommand('user.delete', { userId: 'bob' }));
    ok(state, userCreateCmd('bob', { accessKey: first.accessKey }));
    assert.equal(userByAccessKey(state, first.accessKey)?.userId, 'bob');
  });
});

void describe('invariants: users and their access keys', () => {
  /** Root and three users, each holding its own key. */
  function withUsers(): ReturnType<typeof bootstrapped> {
    const state = bootstrapped();
    for (const id of ['alice', 'bob', 'carol']) ok(state, userCreateCmd(id));
    assert.deepEqual(checkModel(state), []);
    return state;
  }

  void it('finds a key that no user holds, beside users who all hold theirs', () => {
    const state = withUsers();
    applyChanges(state, [{ kind: 'accessKey', op: 'put', record: { accessKey: ak(9001), userId: 'nobody', passwordSha1: PW } }]);
    assert.deepEqual(checkModel(state), [`access key ${ak(9001)}: no user nobody holding it`]);
  });

  void it("finds a key naming a user who holds another, and a user whose key names someone else", () => {
    const state = withUsers();
    const bob = state.users.get('bob')!;
    applyChanges(state, [{ kind: 'accessKey', op: 'put', record: { accessKey: ak(9002), userId: 'alice', passwordSha1: PW } }]);
    assert.deepEqual(checkModel(state), [`access key ${ak(9002)}: no user alice holding it`]);
    applyChanges(state, [{ kind: 'accessKey', op: 'put', record: { accessKey: bob.accessKey, userId: 'carol', passwordSha1: PW } }]);
    assert.deepEqual(checkModel(state).sort(), [`access key ${ak(9002)}: no user alice holding it`, `access key ${bob.accessKey}: no user carol holding it`, 'user bob: access key held by carol'].sort());
  });

  void it('finds a user whose key record is missing', () => {
    const state = withUsers();
    const carol = state.users.get('carol')!;
    applyChanges(state, [{ kind: 'accessKey', op: 'del', accessKey: carol.accessKey }]);
    assert.deepEqual(checkModel(state), ['user carol: access key record missing']);
  });
});
