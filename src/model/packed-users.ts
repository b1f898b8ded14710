// The users and access keys of a model image as packed tables (packed-map.ts). Only users who
// own and were granted nothing go in (nearly all of a large cluster's users: the policy is the
// one part of a user with a variable shape), with their access keys; every other user and key
// stays an ordinary record of the image. A packed user decodes with the shared empty policy.
//
// Every packed access key belongs to a packed user of the same image, who holds it: the
// invariant check of a loaded model relies on it to check only what changed since the image
// (invariants.ts checkUsers).
import { assert } from '../util/assert.js';
import { packEntries, PackedMap } from './packed-map.js';
import type { PackedCodec, PackedTable } from './packed-rows.js';
import type { AccessKeyRecord, ModelView, UserRecord, UserType } from './state.js';
import { emptyPolicy, isEmptyPolicy } from './state.js';

export interface PackedUsers {
  readonly users: PackedTable;
  readonly accessKeys: PackedTable;
}

/** Row value: u8 user type, f64 create time, then access key, secret key, description (u32 length + UTF-8 each). */
export const packedUserCodec: PackedCodec<UserRecord> = {
  encode(r, row) {
    assert(isPackable(r), () => `user ${r.userId} has a policy and cannot be packed`);
    row.u8(r.userType);
    row.f64(r.createTimeUnixSec);
    row.string(r.accessKey);
    row.string(r.secretKey);
    row.string(r.description);
  },
  decode(userId, row) {
    const userType = row.u8() as UserType;
    const createTimeUnixSec = row.f64();
    return { userId, accessKey: row.string(), secretKey: row.string(), userType, createTimeUnixSec, description: row.string(), policy: emptyPolicy() };
  },
};

/** Row value: the owner's user id and the password's sha1 (u32 length + UTF-8 each). */
export const packedAccessKeyCodec: PackedCodec<AccessKeyRecord> = {
  encode(r, row) {
    row.string(r.userId);
    row.string(r.passwordSha1);
  },
  decode(accessKey, row) {
    return { accessKey, userId: row.string(), passwordSha1: row.string() };
  },
};

/** A user with no claim on any vol. */
export function isPackable(user: UserRecord): boolean {
  return isEmptyPolicy(user.policy);
}

/** Whether a key goes in the packed table: its owner does, and the owner's key is this one. */
function isPackableKey(model: ModelView, ak: AccessKeyRecord): boolean {
  const owner = model.users.get(ak.userId);
  return owner !== undefined && owner.accessKey === ak.accessKey && isPackable(owner);
}

/**
 * The users with no policy and their keys, packed; every other user and key as the puts that
 * recreate them.
 */
export function packUsers(model: ModelView): { packed: PackedUsers; puts: UserPut[] } {
  const users = packEntries(model.users, packedUserCodec, isPackable);
  // An unchanged packed key whose owner changed (or went) is decided again, not copied.
  const recheck = touchedSinceImage(model)?.accessKeys ?? [];
  const accessKeys = packEntries(model.accessKeys, packedAccessKeyCodec, (ak) => isPackableKey(model, ak), recheck);
  const puts: UserPut[] = [
    ...users.left.map((record): UserPut => ({ kind: 'user', op: 'put', record })),
    ...accessKeys.left.map((record): UserPut => ({ kind: 'accessKey', op: 'put', record })),
  ];
  return { packed: { users: users.table, accessKeys: accessKeys.table }, puts };
}

/**
 * For a model whose users and keys are still the packed maps of one image: the user ids and
 * access keys that changed since, each with the counterpart it had before its change (the key a
 * changed user held, the owner of a changed key). Null for any other model.
 */
export function touchedSinceImage(model: ModelView): { userIds: Set<string>; accessKeys: Set<string> } | null {
  if (!(model.users instanceof PackedMap && model.accessKeys instanceof PackedMap)) return null;
  const users = model.users as PackedMap<UserRecord>;
  const keys = model.accessKeys as PackedMap<AccessKeyRecord>;
  const userIds = new Set<string>();
  const accessKeys = new Set<string>();
  for (const userId of users.changedKeys()) {
    userIds.add(userId);
    const before = users.baseGet(userId);
    if (before !== undefined) accessKeys.add(before.accessKey);
  }
  for (const accessKey of keys.changedKeys()) {
    accessKeys.add(accessKey);
    const before = keys.baseGet(accessKey);
    if (before !== undefined) userIds.add(before.userId);
  }
  return { userIds, accessKeys };
}

type UserPut = { kind: 'user'; op: 'put'; record: UserRecord } | { kind: 'accessKey'; op: 'put'; record: AccessKeyRecord };

/**
 * Maps over packed tables, for a model loaded from an image (emptyState's `users` and
 * `accessKeys`). `checked`: the image was written from a model that passed its invariant checks.
 */
export function unpackUsers(packed: PackedUsers, options: { checked: boolean }): { users: PackedMap<UserRecord>; accessKeys: PackedMap<AccessKeyRecord> } {
  return {
    users: new PackedMap(packed.users, packedUserCodec, options.checked),
    accessKeys: new PackedMap(packed.accessKeys, packedAccessKeyCodec, options.checked),
  };
}
