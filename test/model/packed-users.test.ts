// The packed tables of users and access keys as a snapshot builds and receives them:
// PackedUsersBuilder (from records one at a time) against packUsers (from a model's Maps), and
// verifyPackedUsers, which must pass tables as written and refuse any break of their layout or
// of the pairing a checked image promises.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  keyHash,
  packedAccessKeyCodec,
  packedUserCodec,
  PackedMap,
  packUsers,
  PackedUsersBuilder,
  TableWriter,
  unpackUsers,
  verifyPackedUsers,
  writeStoredPair,
  PAIR_OVERHEAD_BYTES,
  changeToOp,
  type Change,
  type AccessKeyRecord,
  type ModelState,
  type PackedCodec,
  type PackedTable,
  type PackedUsers,
  type UserRecord,
} from '../../src/model/index.js';
import { bootstrapped, createVol, okChecked, prng, userCreateCmd, withNodesN } from './helpers.js';

/** Plain users (one with a non-ASCII description), and an owner of a vol, who has a policy. */
function modelWithUsers(count: number): ModelState {
  const state = bootstrapped();
  const { meta, data } = withNodesN(state, 1);
  createVol(state, 'big', 'owner', { meta, data, mps: 1, dps: 1 });
  for (let i = 0; i < count; i++) okChecked(state, userCreateCmd(`u${i}`));
  okChecked(state, userCreateCmd('zoe', { description: 'café ☕' }));
  return state;
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = prng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function built(users: Iterable<UserRecord>, keys: Iterable<AccessKeyRecord>): { packed: PackedUsers; leftUsers: string[]; leftKeys: string[] } {
  const builder = new PackedUsersBuilder();
  const leftUsers: string[] = [];
  const leftKeys: string[] = [];
  for (const user of users) if (!builder.addUser(user)) leftUsers.push(user.userId);
  for (const key of keys) if (!builder.addAccessKey(key)) leftKeys.push(key.accessKey);
  return { packed: builder.finish(), leftUsers, leftKeys };
}

function entriesOf<V>(table: PackedTable, codec: PackedCodec<V>): [string, V][] {
  return [...new PackedMap(table, codec)].sort(([a], [b]) => (a < b ? -1 : 1));
}

/** A copy of the tables, so that a test can change bytes. */
function copyOf(packed: PackedUsers): PackedUsers {
  const copy = (t: PackedTable): PackedTable => ({ count: t.count, rows: Buffer.from(t.rows), starts: t.starts.slice(), hashes: t.hashes.slice() });
  return { users: copy(packed.users), accessKeys: copy(packed.accessKeys) };
}

/** Byte offset of `needle` in the table's rows, for tests that change one field. */
function offsetOf(table: PackedTable, needle: string): number {
  const at = table.rows.indexOf(Buffer.from(needle, 'utf8'));
  assert.ok(at >= 0, `${needle} is in the rows`);
  return at;
}

void describe('PackedUsersBuilder', () => {
  void it('packs what packUsers packs, whatever the order of the keys', () => {
    const state = modelWithUsers(300);
    const expected = packUsers(state);
    const want = { users: entriesOf(expected.packed.users, packedUserCodec), keys: entriesOf(expected.packed.accessKeys, packedAccessKeyCodec) };
    for (const seed of [0, 1, 2, 3]) {
      // Seed 0: the keys in their users' order (the builder's fast path); else shuffled.
      const keys = seed === 0 ? [...state.accessKeys.values()] : shuffled([...state.accessKeys.values()], seed);
      const got = built(state.users.values(), keys);
      assert.deepEqual(entriesOf(got.packed.users, packedUserCodec), want.users, `seed ${seed}: users`);
      assert.deepEqual(entriesOf(got.packed.accessKeys, packedAccessKeyCodec), want.keys, `seed ${seed}: keys`);
      assert.deepEqual(got.leftUsers, ['owner'], 'the owner of a vol has a policy: an ordinary record');
      assert.deepEqual(got.leftKeys, [state.users.get('owner')!.accessKey]);
      assert.deepEqual(verifyPackedUsers(got.packed), [], `seed ${seed}`);
    }
  });

  void it('leaves out a key whose owner does not hold it, and a key of a user with a policy', () => {
    const state = modelWithUsers(3);
    const users = [...state.users.values()];
    const orphan: AccessKeyRecord = { accessKey: 'ORPHAN0000000000', userId: 'u1', passwordSha1: 'x'.repeat(40) };
    const got = built(users, [...state.accessKeys.values(), orphan]);
    assert.ok(got.leftKeys.includes('ORPHAN0000000000'));
    assert.ok(got.leftKeys.includes(state.users.get('owner')!.accessKey));
    assert.equal(got.packed.accessKeys.count, got.packed.users.count);
  });
});

const state0 = modelWithUsers(0);

void describe('verifyPackedUsers', () => {
  const state = modelWithUsers(50);
  const good = packUsers(state).packed;

  void it('passes tables as packUsers writes them, and empty ones', () => {
    assert.deepEqual(verifyPackedUsers(good), []);
    assert.deepEqual(verifyPackedUsers(packUsers(bootstrapped()).packed), []);
  });

  void it("refuses a user whose key is not in the key table, and a key held by another user", () => {
    const user = state.users.get('u7')!;
    const missing = copyOf(good);
    // Change one character of u7's access key in its row.
    const at = offsetOf(missing.users, user.accessKey);
    missing.users.rows[at] = missing.users.rows[at] === 0x41 ? 0x42 : 0x41;
    assert.match(verifyPackedUsers(missing).join('; '), /packed user u7: access key not in the packed keys/);

    const stolen = copyOf(good);
    // u7's key row now names u8 as its owner (same length).
    const keyRow = stolen.accessKeys.rows.indexOf(Buffer.from(user.accessKey, 'utf8'));
    const ownerAt = stolen.accessKeys.rows.indexOf(Buffer.from('u7', 'utf8'), keyRow + user.accessKey.length);
    stolen.accessKeys.rows.write('u8', ownerAt, 'utf8');
    assert.match(verifyPackedUsers(stolen).join('; '), /packed user u7: its access key is held by u8/);
  });

  void it('refuses a key no packed user matches (more keys than users)', () => {
    const keys = new TableWriter();
    for (const [accessKey, record] of new PackedMap(good.accessKeys, packedAccessKeyCodec)) keys.entry(accessKey, record, packedAccessKeyCodec);
    keys.entry('EXTRA00000000000', { accessKey: 'EXTRA00000000000', userId: 'nobody', passwordSha1: 'x'.repeat(40) }, packedAccessKeyCodec);
    assert.match(verifyPackedUsers({ users: good.users, accessKeys: keys.finish() }).join('; '), /packed access keys for .* packed users/);
  });

  void it('refuses a key twice, a wrong stored hash, rows that do not hold the codec fields, and arrays that do not match the rows', () => {
    const twice = new TableWriter();
    const first = new PackedMap(good.users, packedUserCodec).get('u1')!;
    twice.entry('u1', first, packedUserCodec);
    twice.entry('u1', first, packedUserCodec);
    assert.match(verifyPackedUsers({ users: twice.finish(), accessKeys: good.accessKeys }).join('; '), /packed users: key u1 twice/);

    const hashed = copyOf(good);
    hashed.users.hashes[3] ^= 1;
    assert.match(verifyPackedUsers(hashed).join('; '), /packed users row 3: stored hash is not its key's/);

    // A description length that runs past the row (the description is a row's last field).
    const long = copyOf(good);
    const row = [...new PackedMap(good.users, packedUserCodec).keys()].indexOf('u5');
    const descriptionBytes = Buffer.byteLength(state.users.get('u5')!.description, 'utf8');
    long.users.rows.writeUInt32LE(descriptionBytes + 1000, long.users.starts[row + 1] - 4 - descriptionBytes);
    assert.match(verifyPackedUsers(long).join('; '), new RegExp(`packed user row ${row}: fields do not fit the row`));

    const shifted = copyOf(good);
    shifted.users.starts[2] += 1;
    assert.notDeepEqual(verifyPackedUsers(shifted), []);

    const cut = copyOf(good);
    assert.match(verifyPackedUsers({ users: { ...cut.users, count: cut.users.count - 1 }, accessKeys: cut.accessKeys }).join('; '), /arrays do not match its rows/);
  });

  void it('hashes non-ASCII keys as the map does, so such rows are found and paired', () => {
    // Commands accept ASCII ids and keys only; the rows do not rely on it.
    const user: UserRecord = { ...state.users.get('zoe')!, userId: 'zoë', accessKey: 'ÄK00000000000001' };
    const builder = new PackedUsersBuilder();
    assert.ok(builder.addUser(user));
    assert.ok(builder.addAccessKey({ accessKey: 'ÄK00000000000001', userId: 'zoë', passwordSha1: 'x'.repeat(40) }));
    const packed = builder.finish();
    assert.deepEqual(verifyPackedUsers(packed), []);
    assert.equal(packed.users.hashes[0], keyHash('zoë'));
    assert.equal(unpackUsers(packed, { checked: true }).users.get('zoë')?.description, 'café ☕');
  });

  void it('stops at maxProblems', () => {
    const bad = copyOf(good);
    for (let row = 0; row < bad.users.count; row++) bad.users.hashes[row] ^= 1;
    assert.equal(verifyPackedUsers(bad, 3).length, 3);
  });
});

void describe('writeStoredPair', () => {
  void it("writes a row's record as the store encodes it, byte for byte, or nothing when a string needs escapes (300 random records)", () => {
    const random = prng(42);
    const chars = ['a', 'Z', '9', '_', '-', '.', ' ', '~', '"', '\\', '\n', '\u0001', 'é', '☕', '\u007f'];
    const pick = (n: number, plainOnly: boolean): string =>
      Array.from({ length: n }, () => (plainOnly ? chars.slice(0, 8) : chars)[Math.floor(random() * (plainOnly ? 8 : chars.length))]).join('');
    const builder = new PackedUsersBuilder();
    const users: UserRecord[] = [];
    const keys: AccessKeyRecord[] = [];
    for (let i = 0; i < 300; i++) {
      const plain = random() < 0.6;
      const userId = `u${i}${pick(3, plain)}`;
      const accessKey = `AK${i}${pick(5, plain)}`;
      const user: UserRecord = {
        ...state0.users.get('zoe')!,
        userId,
        accessKey,
        secretKey: pick(32, plain),
        userType: (1 + Math.floor(random() * 3)) as UserRecord['userType'],
        createTimeUnixSec: random() < 0.5 ? 1_700_000_000 + i : 1e15 * random(),
        description: pick(Math.floor(random() * 20), plain),
      };
      users.push(user);
      keys.push({ accessKey, userId, passwordSha1: pick(40, plain) });
    }
    // And one special character in one field of an otherwise plain record, for each character and field.
    const specials = ['"', '\\', '\n', '\u0001', 'é', '\u007f'];
    specials.forEach((special, s) => {
      for (const field of ['userId', 'accessKey', 'secretKey', 'description', 'passwordSha1'] as const) {
        const odd = (text: string, on: boolean): string => (on ? `${text}${special}` : text);
        const userId = odd(`s${s}${field}`, field === 'userId');
        const accessKey = odd(`SK${s}${field}`, field === 'accessKey');
        const user: UserRecord = {
          ...state0.users.get('zoe')!,
          userId,
          accessKey,
          secretKey: odd('x'.repeat(32), field === 'secretKey'),
          description: odd('plain', field === 'description'),
          createTimeUnixSec: 1_700_000_000,
        };
        const key: AccessKeyRecord = { accessKey, userId, passwordSha1: odd('y'.repeat(40), field === 'passwordSha1') };
        users.push(user);
        keys.push(key);
      }
    });
    for (const user of users) assert.ok(builder.addUser(user));
    for (const key of keys) assert.ok(builder.addAccessKey(key));
    const packed = builder.finish();
    let written = 0;
    for (const [table, kind, records] of [
      [packed.users, 'user', users],
      [packed.accessKeys, 'accessKey', keys],
    ] as const) {
      for (let row = 0; row < table.count; row++) {
        const change: Change = kind === 'user' ? { kind, op: 'put', record: records[row] } : { kind, op: 'put', record: records[row] };
        const op = changeToOp(change);
        assert.ok(op.type === 'put');
        const out = Buffer.alloc(2 * (table.starts[row + 1] - table.starts[row]) + PAIR_OVERHEAD_BYTES + 10);
        const ends = { keyEnd: 0 };
        const end = writeStoredPair(table, row, kind, out, 10, ends);
        const strings = kind === 'user' ? [users[row].userId, users[row].accessKey, users[row].secretKey, users[row].description] : [keys[row].accessKey, keys[row].userId, keys[row].passwordSha1];
        const plain = strings.every((text) => /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(text));
        assert.equal(end >= 0, plain, `${kind} row ${row}: written from its bytes exactly when its strings are plain`);
        if (end < 0) continue;
        written++;
        assert.equal(out.toString('utf8', 10, ends.keyEnd), op.key, `${kind} row ${row}: key`);
        assert.equal(out.toString('utf8', ends.keyEnd, end), Buffer.from(op.value).toString('utf8'), `${kind} row ${row}: value`);
      }
    }
    assert.ok(written > 200, `most rows are written from their bytes (${written})`);
  });
});
