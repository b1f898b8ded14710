import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  changesToBatch,
  checkModel,
  decodeRecord,
  digestRecords,
  emptyState,
  encodeUser,
  FSM_KEY_PREFIX,
  KEY,
  loadRecord,
  modelDigest,
  recordsOf,
} from '../../src/model/index.js';
import { CodecError } from '../../src/model/errors.js';
import { MemoryStore, prng, replicated, run, scenarioCommands, shuffled } from './helpers.js';

function buildWithStore(): { state: ReturnType<typeof emptyState>; store: MemoryStore } {
  const state = emptyState();
  const store = new MemoryStore();
  for (const cmd of scenarioCommands()) run(state, cmd, store);
  return { state, store };
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

void describe('records', () => {
  void it('uses CubeFS key shapes', () => {
    const { store } = buildWithStore();
    const keys = store.entries().map((e) => e.key);
    // Ids: node set 1 + meta node 2 (default); node set 3 + meta nodes 4, 5, 6 (z2, capacity 3);
    // node set 7 + meta node 8 (z2 full); data node 9 joins node set 1; node set 10 + data node 11 (hdd).
    assert.deepEqual(keys, [
      '#ak#7WgP0alY4SbpIPNL',
      '#ak#AK00000000000002',
      '#ak#AK00000000000003',
      '#c#test',
      '#dn#11#127.0.0.1:17312',
      '#dn#9#127.0.0.1:17310',
      '#max_common_id',
      '#max_dp_id',
      '#max_mp_id',
      '#mn#2#127.0.0.1:17210',
      '#mn#4#127.0.0.1:17211',
      '#mn#5#127.0.0.1:17212',
      '#mn#6#127.0.0.1:17213',
      '#mn#8#127.0.0.1:17214',
      '#s#1',
      '#s#10',
      '#s#3',
      '#s#7',
      '#user#alice',
      '#user#carol',
      '#user#root',
      '#zone#default',
      '#zone#hdd',
      '#zone#z2',
    ]);
    assert.equal(new TextDecoder().decode(store.data.get('#max_common_id')), '11');
  });

  void it('rebuilds the same model from a scan in any order (changes -> records -> reload)', () => {
    const { state, store } = buildWithStore();
    assert.deepEqual(checkModel(state), []);
    const random = prng(7);
    for (let round = 0; round < 5; round++) {
      const reloaded = emptyState();
      for (const { key, value } of shuffled(store.entries(), random)) assert.equal(loadRecord(reloaded, key, value), true);
      assert.deepEqual(replicated(reloaded), replicated(state));
      assert.deepEqual(checkModel(reloaded), []);
      assert.equal(modelDigest(reloaded), modelDigest(state));
    }
  });

  void it('stores exactly the records of the model (store digest = model digest)', () => {
    const { state, store } = buildWithStore();
    assert.equal(digestRecords(store.entries()), modelDigest(state));
    const fromModel = [...recordsOf(state)].sort((a, b) => (a.key < b.key ? -1 : 1));
    assert.deepEqual(
      fromModel.map((r) => r.key),
      store.entries().map((e) => e.key).sort((a, b) => (a < b ? -1 : 1)),
    );
  });

  void it('deletes keys of deleted users', () => {
    const { store } = buildWithStore();
    assert.equal(store.data.has(KEY.user('bob')), false);
    assert.equal(store.data.has(KEY.accessKey('AK00000000000001')), false, 'alice moved off her first key');
  });

  void it('loads keys given as bytes, and leaves FSM keys alone', () => {
    const { store } = buildWithStore();
    const state = emptyState();
    for (const { key, value } of store.entries()) loadRecord(state, utf8(key), value);
    assert.equal(loadRecord(state, `${FSM_KEY_PREFIX}applied`, utf8('17')), false);
    assert.equal(loadRecord(state, 'applied', utf8('17')), false);
    assert.equal(digestRecords([...store.entries(), { key: `${FSM_KEY_PREFIX}applied`, value: utf8('17') }]), modelDigest(state));
  });

  void it('writes one batch op per change, in change order', () => {
    const state = emptyState();
    const applied = run(state, scenarioCommands()[0]);
    assert.deepEqual(
      changesToBatch(applied.changes).map((op) => `${op.type} ${op.key}`),
      ['put #c#test', 'put #user#root', 'put #ak#7WgP0alY4SbpIPNL'],
    );
  });

  const userValue = (over: Record<string, unknown>): Uint8Array => {
    const base = JSON.parse(
      new TextDecoder().decode(
        encodeUser({
          userId: 'alice',
          accessKey: 'AK00000000000001',
          secretKey: 'S'.repeat(32),
          userType: 3,
          createTimeUnixSec: 1,
          description: '',
          policy: { ownVols: [], authorizedVols: new Map() },
        }),
      ),
    ) as Record<string, unknown>;
    return utf8(JSON.stringify({ ...base, ...over }));
  };
  const corrupt: [string, string, Uint8Array, string | RegExp][] = [
    ['a value that is not JSON', '#user#alice', utf8('{nope'), '#user#alice'],
    ['a value that is not UTF-8', '#user#alice', Uint8Array.from([0xff, 0xfe]), '#user#alice'],
    ['a JSON array', '#user#alice', utf8('[]'), '#user#alice'],
    ['an unknown record version', '#user#alice', userValue({ v: 2 }), '#user#alice.v'],
    ['an unknown field', '#user#alice', userValue({ extra: 1 }), '#user#alice.extra'],
    ['a wrong field type', '#user#alice', userValue({ userType: '3' }), '#user#alice.userType'],
    ['a key that does not match the value', '#user#bob', userValue({}), '#user#bob'],
    ['bad authorized vols', '#user#alice', userValue({ authorizedVols: [['v']] }), /authorizedVols\[0\]/],
    ['an unknown kind', '#zzz#1', utf8('{"v":1}'), '#zzz#1'],
    ['a model key without kind', '#what', utf8('1'), '#what'],
    ['a counter that is not a number', '#max_common_id', utf8('12a'), '#max_common_id'],
    ['a counter with a sign', '#max_common_id', utf8('-1'), '#max_common_id'],
  ];
  for (const [what, key, value, path] of corrupt) {
    void it(`refuses ${what} with a CodecError`, () => {
      assert.throws(
        () => loadRecord(emptyState(), key, value),
        (e: unknown) => {
          assert.ok(e instanceof CodecError, String(e));
          if (typeof path === 'string') assert.equal(e.path, path);
          else assert.match(e.path, path);
          return true;
        },
      );
    });
  }

  void it('refuses a second cluster record', () => {
    const { store } = buildWithStore();
    const state = emptyState();
    const cluster = store.data.get('#c#test');
    assert.ok(cluster !== undefined);
    loadRecord(state, '#c#test', cluster);
    const other = utf8(new TextDecoder().decode(cluster).replace('"name":"test"', '"name":"other"'));
    assert.throws(() => loadRecord(state, '#c#other', other), CodecError);
  });

  void it('decodes authorized vols into a map, whatever order they were granted in', () => {
    const record = {
      userId: 'carol2',
      accessKey: 'KSPrAqmmruZBHaL5',
      secretKey: 'VU1UyGMRPnNmWSjkUZOiLvGvn61zFr2t',
      userType: 3 as const,
      createTimeUnixSec: 5,
      description: '',
      policy: {
        ownVols: ['volB', 'volA'],
        authorizedVols: new Map<string, readonly string[]>([
          ['volB', ['perm:builtin:ReadOnly']],
          ['volA', ['perm:builtin:Writable']],
        ]),
      },
    };
    const reordered = { ...record, policy: { ...record.policy, authorizedVols: new Map([...record.policy.authorizedVols].reverse()) } };
    assert.deepEqual(encodeUser(record), encodeUser(reordered));
    const change = decodeRecord('#user#carol2', encodeUser(record));
    assert.equal(change.kind, 'user');
    assert.deepEqual(change.op === 'put' && change.kind === 'user' ? change.record : null, record);
  });
});
