import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterService } from '../../src/cluster/cluster.js';
import { randomKey } from '../../src/cluster/sources.js';
import { passwordSha1, ROOT_PASSWORD } from '../../src/model/index.js';
import { countingRandom, FakeGroup, fixedClock, T_CLUSTER_MS } from './fakes.js';

void describe('ClusterService', () => {
  void it('bootstraps the cluster record and root with the clock, generated keys and the root password', async () => {
    const group = new FakeGroup([1], 1, { bootstrap: false });
    const cluster = new ClusterService({ replicator: group.replicator(1), clock: fixedClock(T_CLUSTER_MS), random: countingRandom(), clusterName: 'test' });
    assert.deepEqual(await cluster.bootstrap(), { clusterCreated: true, rootCreated: true });
    assert.equal(group.state.cluster?.createTimeUnixSec, T_CLUSTER_MS / 1000);
    const root = group.state.users.get('root');
    assert.match(root?.accessKey ?? '', /^[A-Za-z0-9]{16}$/);
    assert.equal(group.state.accessKeys.get(root?.accessKey ?? '')?.passwordSha1, passwordSha1(ROOT_PASSWORD));
    assert.deepEqual(await cluster.bootstrap(), { clusterCreated: false, rootCreated: false });
  });

  void it('refuses a bootstrap with another cluster name (code 3)', async () => {
    const group = new FakeGroup([1], 1);
    const cluster = new ClusterService({ replicator: group.replicator(1), clock: fixedClock(0), random: countingRandom(), clusterName: 'other' });
    await assert.rejects(cluster.bootstrap(), { code: 3 });
  });

  void it('freezes and unfreezes', async () => {
    const group = new FakeGroup([1], 1);
    const cluster = new ClusterService({ replicator: group.replicator(1), clock: fixedClock(0), random: countingRandom(), clusterName: 'test' });
    assert.deepEqual(await cluster.setFrozen(true), { frozen: true });
    assert.equal(group.state.cluster?.disableAutoAllocate, true);
    await cluster.setFrozen(false);
    assert.equal(group.state.cluster?.disableAutoAllocate, false);
  });
});

void describe('randomKey', () => {
  void it('draws another block when the source keeps returning bytes the model skips', () => {
    let calls = 0;
    const key = randomKey(
      {
        bytes: (n) => {
          calls += 1;
          return new Uint8Array(n).fill(calls === 1 ? 250 : 1);
        },
      },
      16,
    );
    assert.equal(key, 'B'.repeat(16));
    assert.equal(calls, 2);
  });
});
