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
import { TableWriter, type PackedCodec, type PackedTable } from './packed-rows.js';
import type { AccessKeyRecord, ModelView, UserRecord, UserType } from './state.js';
import { emptyPolicy, isEmptyPolicy } from './state.js';

/**
 * The layout of the rows below (the codecs, and packed-rows.ts): a snapshot's tables name it, and
 * a member reads only its own (fsm/snapshot-stream.ts). Bump it with any change to either.
 */
export const PACKED_ROWS_VERSION = 1;

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

/**
 * The packed tables built one record at a time, from records that are not in a Map (a snapshot
 * streamed from a model's frozen records): every user first, then every key. Packs the same as
 * packUsers: the users with no policy, and the keys such a user holds.
 */
export class PackedUsersBuilder {
  private readonly users: TableWriter;
  private readonly accessKeys: TableWriter;
  private readonly packedUsers: UserRecord[] = [];
  /** The packed user whose key is expected next: keys usually come in their users' order. */
  private keyCursor = 0;
  /** access key -> the packed user who holds it; made only if the keys come out of that order. */
  private holders: Map<string, string> | null = null;
  private keysStarted = false;

  constructor(expectedUsers = 0) {
    this.users = new TableWriter(expectedUsers, expectedUsers * USER_ROW_BYTES_GUESS);
    this.accessKeys = new TableWriter(expectedUsers, expectedUsers * KEY_ROW_BYTES_GUESS);
  }

  /** Packs the user if it has no policy; false when it stays an ordinary record. */
  addUser(user: UserRecord): boolean {
    assert(!this.keysStarted, 'PackedUsersBuilder: every user before the first key');
    if (!isPackable(user)) return false;
    this.users.entry(user.userId, user, packedUserCodec);
    this.packedUsers.push(user);
    return true;
  }

  /** Packs the key if a packed user holds it; false when it stays an ordinary record. */
  addAccessKey(key: AccessKeyRecord): boolean {
    this.keysStarted = true;
    const next = this.packedUsers[this.keyCursor] as UserRecord | undefined;
    if (next !== undefined && next.accessKey === key.accessKey && next.userId === key.userId) this.keyCursor++;
    else {
      this.holders ??= new Map(this.packedUsers.map((user) => [user.accessKey, user.userId]));
      if (this.holders.get(key.accessKey) !== key.userId) return false;
    }
    this.accessKeys.entry(key.accessKey, key, packedAccessKeyCodec);
    return true;
  }

  finish(): PackedUsers {
    return { users: this.users.finish(), accessKeys: this.accessKeys.finish() };
  }
}

/** First guesses of a row's size (a 32-character secret key and a 40-character sha1 dominate). */
const USER_ROW_BYTES_GUESS = 96;
const KEY_ROW_BYTES_GUESS = 72;
