import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyState, makeCommand, passwordSha1, ROOT_USER_ID, userByAccessKey } from '../../src/model/index.js';
import { ClusterNameMismatchError, ClusterNotBootstrappedError } from '../../src/model/errors.js';
import { bootstrapCmd, bootstrapped, fails, metaNodeAddCmd, ok, ROOT_AK, run, T_CLUSTER, userCreateCmd } from './helpers.js';

void describe('apply: cluster.bootstrap', () => {
  void it('creates the cluster record and the root user (type 1) in one command', () => {
    const state = emptyState();
    const applied = run(state, bootstrapCmd());
    assert.deepEqual(applied.result, { ok: true, value: { clusterCreated: true, rootCreated: true } });
    assert.deepEqual(
      applied.changes.map((c) => c.kind),
      ['cluster', 'user', 'accessKey'],
    );
    assert.equal(state.cluster?.name, 'test');
    assert.equal(state.cluster?.createTimeUnixSec, T_CLUSTER);
    assert.equal(state.cluster?.disableAutoAllocate, false);
    const root = state.users.get(ROOT_USER_ID);
    assert.equal(root?.userType, 1);
    assert.equal(userByAccessKey(state, ROOT_AK)?.userId, 'root');
    assert.equal(state.accessKeys.get(ROOT_AK)?.passwordSha1, passwordSha1('CubeFSRoot'));
    // Creating the root user takes no id (observed: MaxMetaNodeID 0 on a fresh cluster).
    assert.deepEqual(state.counters, { common: 0, metaPartition: 0, dataPartition: 0 });
  });

  void it('is a no-op when applied again', () => {
    const state = bootstrapped();
    const applied = run(state, bootstrapCmd('test', T_CLUSTER + 100));
    assert.deepEqual(applied.result, { ok: true, value: { clusterCreated: false, rootCreated: false } });
    assert.equal(applied.changes.length, 0);
    assert.equal(state.cluster?.createTimeUnixSec, T_CLUSTER);
  });

  void it('recreates only what is missing', () => {
    const state = emptyState();
    state.cluster = { ...(bootstrapped().cluster ?? assert.fail('no cluster')) };
    const applied = run(state, bootstrapCmd());
    assert.deepEqual(applied.result, { ok: true, value: { clusterCreated: false, rootCreated: true } });
  });

  const errors: [string, () => ReturnType<typeof bootstrapCmd>, number][] = [
    ['a different cluster name (3)', () => bootstrapCmd('other'), 3],
    ['an empty cluster name (2)', () => bootstrapCmd(''), 2],
    ['a bad root access key (59)', () => ({ ...bootstrapCmd(), root: { ...bootstrapCmd().root, accessKey: 'x' } }), 59],
    ['a bad root secret key (60)', () => ({ ...bootstrapCmd(), root: { ...bootstrapCmd().root, secretKey: 'x' } }), 60],
    ['a bad password hash (2)', () => ({ ...bootstrapCmd(), root: { ...bootstrapCmd().root, passwordSha1: 'x' } }), 2],
  ];
  for (const [what, cmd, code] of errors) {
    void it(`refuses ${what} and changes nothing`, () => {
      const state = bootstrapped();
      fails(state, cmd(), code);
    });
  }

  void it('reports the stored and configured names on a mismatch', () => {
    const e = fails(bootstrapped(), bootstrapCmd('other'), 3);
    assert.ok(e instanceof ClusterNameMismatchError);
    assert.equal(e.stored, 'test');
    assert.equal(e.configured, 'other');
  });

  void it('refuses a root access key already held by another user (49)', () => {
    const state = emptyState();
    ok(state, userCreateCmd('alice', { accessKey: ROOT_AK }));
    fails(state, bootstrapCmd(), 49);
    assert.equal(state.cluster, null, 'the cluster part is not applied either');
  });
});

void describe('apply: cluster.setFrozen', () => {
  void it('needs a bootstrapped cluster (code 1)', () => {
    const e = fails(emptyState(), makeCommand('cluster.setFrozen', { frozen: true }), 1);
    assert.ok(e instanceof ClusterNotBootstrappedError);
  });

  void it('sets and clears DisableAutoAllocate; setting the current value writes nothing', () => {
    const state = bootstrapped();
    const on = run(state, makeCommand('cluster.setFrozen', { frozen: true }));
    assert.deepEqual(on.result, { ok: true, value: { frozen: true } });
    assert.equal(on.changes.length, 1);
    assert.equal(state.cluster?.disableAutoAllocate, true);
    const again = run(state, makeCommand('cluster.setFrozen', { frozen: true }));
    assert.equal(again.changes.length, 0);
    run(state, makeCommand('cluster.setFrozen', { frozen: false }));
    assert.equal(state.cluster?.disableAutoAllocate, false);
  });
});

void describe('apply: ids.reserve', () => {
  void it('hands out consecutive ranges per counter', () => {
    const state = bootstrapped();
    assert.deepEqual(ok(state, makeCommand('ids.reserve', { counter: 'metaPartition', count: 3 })), {
      counter: 'metaPartition',
      first: 1,
      last: 3,
    });
    assert.deepEqual(ok(state, makeCommand('ids.reserve', { counter: 'metaPartition', count: 1 })), {
      counter: 'metaPartition',
      first: 4,
      last: 4,
    });
    assert.deepEqual(state.counters, { common: 0, metaPartition: 4, dataPartition: 0 });
  });

  void it('shares the common counter with node and node set ids', () => {
    const state = bootstrapped();
    ok(state, makeCommand('ids.reserve', { counter: 'common', count: 5 }));
    const added = ok(state, metaNodeAddCmd('127.0.0.1:17210'));
    assert.deepEqual(added, { id: 7, nodeSetId: 6, created: true });
  });

  for (const count of [0, -1, 10_001, 1.5]) {
    void it(`refuses count ${count} (2)`, () => {
      fails(bootstrapped(), makeCommand('ids.reserve', { counter: 'common', count }), 2);
    });
  }

  void it('refuses to leave the safe integer range (1)', () => {
    const state = bootstrapped();
    state.counters = { ...state.counters, dataPartition: Number.MAX_SAFE_INTEGER - 1 };
    fails(state, makeCommand('ids.reserve', { counter: 'dataPartition', count: 2 }), 1);
    ok(state, makeCommand('ids.reserve', { counter: 'dataPartition', count: 1 }));
  });
});
