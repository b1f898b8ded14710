// PackedMap (src/model/packed-map.ts) behaves as a Map: random operations on a PackedMap over a
// packed base and on a Map holding the same entries give the same answers, sizes and iteration
// order, seed by seed. Plus the user and access-key row codecs (packed-users.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DECODED_CACHE_MAX,
  emptyPolicy,
  keyHash,
  packedAccessKeyCodec,
  packedUserCodec,
  packEntries,
  PackedMap,
  type PackedCodec,
  type UserRecord,
} from '../../src/model/index.js';
import { prng } from './helpers.js';

interface Value {
  readonly n: number;
  readonly s: string;
}

const valueCodec: PackedCodec<Value> = {
  encode: (v, row) => row.string(JSON.stringify(v)),
  decode: (_key, row) => JSON.parse(row.string()) as Value,
};

function packed<V>(entries: Iterable<readonly [string, V]>, codec: PackedCodec<V>): PackedMap<V> {
  return new PackedMap(packEntries(new Map(entries), codec).table, codec);
}

// Keys of every sort the model meets: ASCII ids, keys of the same length, non-ASCII (2, 3 and
// 4 byte UTF-8), the empty key.
const KEY_POOL = ['', 'a', 'b', 'ab', 'ba', 'user1', 'user2', 'usér', 'ユーザー', 'emoji😀', 'AK0000000000001', 'AK0000000000002', ...Array.from({ length: 60 }, (_, i) => `k${i}`)];

function sameAsMap(packed: PackedMap<Value>, map: Map<string, Value>, seed: number, step: number): void {
  const where = `seed ${seed}, step ${step}`;
  assert.equal(packed.size, map.size, `size, ${where}`);
  assert.deepEqual([...packed.keys()], [...map.keys()], `key order, ${where}`);
  assert.deepEqual([...packed.values()], [...map.values()], `values, ${where}`);
  assert.deepEqual([...packed], [...map], `entries, ${where}`);
}

void describe('PackedMap', () => {
  void it('answers as a Map under random sets, deletes, reads and re-sets, seed by seed', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = prng(seed);
      const pick = (): string => KEY_POOL[Math.floor(random() * KEY_POOL.length)];
      const base = new Map<string, Value>();
      const baseCount = Math.floor(random() * 40);
      while (base.size < baseCount) base.set(pick(), { n: base.size, s: 'base' });
      const map = new Map(base);
      const packedMap = packed(base, valueCodec);
      sameAsMap(packedMap, map, seed, 0);
      for (let step = 1; step <= 120; step++) {
        const key = pick();
        const op = random();
        if (op < 0.35) {
          const value = { n: step, s: `set ${step}` };
          assert.equal(packedMap.set(key, value), packedMap);
          map.set(key, value);
        } else if (op < 0.6) assert.equal(packedMap.delete(key), map.delete(key), `delete ${key}, seed ${seed}, step ${step}`);
        else if (op < 0.97) {
          assert.deepEqual(packedMap.get(key), map.get(key), `get ${key}, seed ${seed}, step ${step}`);
          assert.equal(packedMap.has(key), map.has(key), `has ${key}, seed ${seed}, step ${step}`);
        } else {
          packedMap.clear();
          map.clear();
        }
        if (step % 10 === 0) sameAsMap(packedMap, map, seed, step);
      }
      sameAsMap(packedMap, map, seed, 120);
      // Packed again: unchanged rows are copied, the rest encoded, in the map's order.
      sameAsMap(new PackedMap(packEntries(packedMap, valueCodec).table, valueCodec), map, seed, 121);
      // `keep` decides for the entries that are encoded; unchanged base rows stay packed.
      const even = (v: Value): boolean => v.n % 2 === 0;
      const split = packEntries(packedMap, valueCodec, even);
      const kept = [...new PackedMap(split.table, valueCodec).values()];
      const byOrder = (a: Value, b: Value): number => a.n - b.n || (a.s < b.s ? -1 : a.s > b.s ? 1 : 0);
      assert.deepEqual([...kept, ...split.left].sort(byOrder), [...map.values()].sort(byOrder), `kept and left, seed ${seed}`);
      assert.ok(split.left.every((v) => !even(v)) && kept.every((v) => even(v) || v.s === 'base'), `split, seed ${seed}`);
    }
  });

  void it('returns one object for repeated reads of an unchanged entry, and a new one after a change', () => {
    const map = packed([['a', { n: 1, s: 'x' }]], valueCodec);
    map.get('a'); // the first read is not cached: a pass over every entry caches nothing
    const first = map.get('a');
    assert.equal(map.get('a'), first);
    assert.equal([...map.values()][0], first, 'iteration hands out the cached object');
    map.set('a', { n: 2, s: 'y' });
    assert.deepEqual(map.get('a'), { n: 2, s: 'y' });
    assert.notEqual(map.get('a'), first);
  });

  void it('keeps at most DECODED_CACHE_MAX decoded entries and still answers past it', () => {
    const count = DECODED_CACHE_MAX + 10;
    const entries = Array.from({ length: count }, (_, i) => [`u${i}`, { n: i, s: '' }] as const);
    const map = packed(entries, valueCodec);
    map.get('u0');
    const first = map.get('u0');
    for (let i = 1; i < count; i++) for (let read = 0; read < 2; read++) assert.equal(map.get(`u${i}`)?.n, i);
    const again = map.get('u0');
    assert.deepEqual(again, first);
    assert.notEqual(again, first, 'the cache was full and started again');
  });

  void it('finds keys whose hashes collide', () => {
    // Many keys in a small table: probing must walk past other rows with equal slots.
    const keys = Array.from({ length: 500 }, (_, i) => `collide-${i}`);
    const map = packed(
      keys.map((k, i) => [k, { n: i, s: k }] as const),
      valueCodec,
    );
    keys.forEach((k, i) => assert.equal(map.get(k)?.n, i, k));
    assert.equal(map.get('collide-500'), undefined);
    assert.equal(keyHash('ab') === keyHash('ba'), false, 'the hash sees the order of characters');
  });
});

void describe('packed user and access key rows', () => {
  void it('give back the records: non-ASCII description, every user type, a large create time', () => {
    const users: UserRecord[] = [1, 2, 3].map((userType) => ({
      userId: `user${userType}`,
      accessKey: `AK${userType}`.padEnd(16, '0'),
      secretKey: 'S'.repeat(32),
      userType: userType as UserRecord['userType'],
      createTimeUnixSec: 4_102_444_800 + userType,
      description: userType === 2 ? 'décrit: ユーザー 😀, tabs\tand\nlines' : '',
      policy: emptyPolicy(),
    }));
    const map = packed(
      users.map((u) => [u.userId, u] as const),
      packedUserCodec,
    );
    assert.deepEqual([...map.values()], users);
    assert.equal(map.get('user2')?.policy, emptyPolicy(), 'packed users share the empty policy');
    const ak = { accessKey: 'AK1000000000000', userId: 'user1', passwordSha1: 'f'.repeat(40) };
    const aks = packed([[ak.accessKey, ak]], packedAccessKeyCodec);
    assert.deepEqual(aks.get(ak.accessKey), ak);
  });

  void it('refuses to pack a user with a policy (a programmer error)', () => {
    const user: UserRecord = {
      userId: 'owner',
      accessKey: 'A'.repeat(16),
      secretKey: 'S'.repeat(32),
      userType: 3,
      createTimeUnixSec: 1,
      description: '',
      policy: { ownVols: ['vol1'], authorizedVols: new Map() },
    };
    assert.throws(() => packEntries(new Map([[user.userId, user]]), packedUserCodec), /has a policy/);
  });
});
