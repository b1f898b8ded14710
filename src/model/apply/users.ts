// User commands (spec 1.5 user routes, 3 `#user#` / `#ak#`). A user is two records that change
// together: the UserInfo under its id and the access key record (owner + password hash).

import { assert } from '../../util/assert.js';
import type { Success } from './results.js';
import type { Change } from '../changes.js';
import type { CommandOf } from '../commands.js';
import {
  DuplicateAccessKeyError,
  DuplicateUserError,
  NoPermissionError,
  OwnVolsNotEmptyError,
  UserNotFoundError,
} from '../errors.js';
import type { AccessKeyRecord, ModelView, UserRecord } from '../state.js';
import { emptyPolicy, ROOT_USER_ID, UserType } from '../state.js';
import {
  checkAccessKey,
  checkPasswordSha1,
  checkSecretKey,
  checkTimestamp,
  checkUserId,
  checkUserTypeForCreate,
} from '../validate.js';

/** Checks in the order the route answers them: 55, 56, 59, 60, then 45, 49. */
export function applyUserCreate(model: ModelView, cmd: CommandOf<'user.create'>): Success<UserRecord> {
  checkUserId(cmd.userId, 'id');
  checkUserTypeForCreate(cmd.userType, 'type');
  checkAccessKey(cmd.accessKey, 'ak');
  checkSecretKey(cmd.secretKey, 'sk');
  checkPasswordSha1(cmd.passwordSha1, 'pwd');
  checkTimestamp(cmd.createTimeUnixSec, 'createTimeUnixSec');
  if (model.users.has(cmd.userId)) throw new DuplicateUserError(cmd.userId);
  if (model.accessKeys.has(cmd.accessKey)) throw new DuplicateAccessKeyError(cmd.accessKey);
  const user: UserRecord = {
    userId: cmd.userId,
    accessKey: cmd.accessKey,
    secretKey: cmd.secretKey,
    userType: cmd.userType,
    createTimeUnixSec: cmd.createTimeUnixSec,
    description: cmd.description,
    policy: emptyPolicy(),
  };
  const ak: AccessKeyRecord = { accessKey: cmd.accessKey, userId: cmd.userId, passwordSha1: cmd.passwordSha1 };
  return {
    value: user,
    changes: [
      { kind: 'user', op: 'put', record: user },
      { kind: 'accessKey', op: 'put', record: ak },
    ],
  };
}

/**
 * `/user/update` (body user_id, access_key, secret_key, type, password, description): every
 * non-null field replaces the current value. A new access key must be well formed (59) and
 * free (49; the user's own current key is not a conflict); the root user's type cannot change
 * (57). Nothing to change → no changes, the current record as result.
 */
export function applyUserUpdate(model: ModelView, cmd: CommandOf<'user.update'>): Success<UserRecord> {
  const user = model.users.get(cmd.userId);
  if (user === undefined) throw new UserNotFoundError(cmd.userId);
  const currentAk = model.accessKeys.get(user.accessKey);
  assert(currentAk !== undefined, () => `user ${user.userId} has no access key record`);

  const accessKey = cmd.accessKey ?? user.accessKey;
  if (cmd.accessKey !== null) {
    checkAccessKey(cmd.accessKey, 'access_key');
    if (cmd.accessKey !== user.accessKey && model.accessKeys.has(cmd.accessKey)) {
      throw new DuplicateAccessKeyError(cmd.accessKey);
    }
  }
  if (cmd.secretKey !== null) checkSecretKey(cmd.secretKey, 'secret_key');
  if (cmd.userType !== null) {
    checkUserTypeForCreate(cmd.userType, 'type');
    if (user.userType === UserType.Root) {
      throw new NoPermissionError('the type of the root user cannot change');
    }
  }
  if (cmd.passwordSha1 !== null) checkPasswordSha1(cmd.passwordSha1, 'password');

  const next: UserRecord = {
    ...user,
    accessKey,
    secretKey: cmd.secretKey ?? user.secretKey,
    userType: cmd.userType ?? user.userType,
    description: cmd.description ?? user.description,
  };
  const nextAk: AccessKeyRecord = {
    accessKey,
    userId: user.userId,
    passwordSha1: cmd.passwordSha1 ?? currentAk.passwordSha1,
  };
  const changes: Change[] = [];
  const userChanged =
    next.accessKey !== user.accessKey ||
    next.secretKey !== user.secretKey ||
    next.userType !== user.userType ||
    next.description !== user.description;
  if (userChanged) changes.push({ kind: 'user', op: 'put', record: next });
  if (nextAk.accessKey !== currentAk.accessKey) {
    changes.push({ kind: 'accessKey', op: 'del', accessKey: currentAk.accessKey });
    changes.push({ kind: 'accessKey', op: 'put', record: nextAk });
  } else if (nextAk.passwordSha1 !== currentAk.passwordSha1) {
    changes.push({ kind: 'accessKey', op: 'put', record: nextAk });
  }
  return { value: userChanged ? next : user, changes };
}

/** `/user/delete` (spec 1.5): 46 unknown, 57 root, 53 while the user owns vols. */
export function applyUserDelete(model: ModelView, cmd: CommandOf<'user.delete'>): Success<{ userId: string }> {
  const user = model.users.get(cmd.userId);
  if (user === undefined) throw new UserNotFoundError(cmd.userId);
  if (user.userType === UserType.Root || user.userId === ROOT_USER_ID) {
    throw new NoPermissionError('the root user cannot be deleted');
  }
  if (user.policy.ownVols.length > 0) throw new OwnVolsNotEmptyError(user.userId);
  return {
    value: { userId: user.userId },
    changes: [
      { kind: 'user', op: 'del', userId: user.userId },
      { kind: 'accessKey', op: 'del', accessKey: user.accessKey },
    ],
  };
}
