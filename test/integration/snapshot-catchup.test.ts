// Issue 3, 7f: a member that was down while the leader compacted its log catches up by
// snapshot; a crash in the middle of installing it (after staging, and after the swap but before
// the log recorded it) leaves a member that recovers and converges.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MasterCluster } from './cluster.js';
import { lostWrites, readState, startLoad } from './load.js';
import { memberAudit, memberStatus, waitUntil } from './member-status.js';

void test('a member down during compaction catches up by snapshot, and recovers from a crash at each install point', { timeout: 300_000 }, async () => {
  const cluster = new MasterCluster({ subnet: 51, size: 3, extraConfig: { retainLogs: 100, tickInterval: 50 } });
  try {
    await cluster.start();
    const leader = await cluster.leader();
    const follower = cluster.masters.find((m) => m !== leader)!;
    const acked = { ackedUsers: new Set<string>(), ackedMetaNodes: new Map<string, number>() };

    for (const crashAt of ['snapshot-staged', 'snapshot-promoted', 'none'] as const) {
      follower.signal('SIGTERM');
      assert.deepEqual(await follower.waitExit(15_000), { code: 0, signal: null });
      const before = await memberStatus(leader.url);
      const load = startLoad({ urls: [leader.url], clients: 16, prefix: `s_${crashAt.replace('-', '_')}` });
      // Enough writes that the leader compacts past everything the follower holds.
      await waitUntil('leader compaction', async () => (await memberStatus(leader.url)).firstIndex > before.lastIndex + 1, 60_000);
      const result = await load.stop();
      for (const u of result.ackedUsers) acked.ackedUsers.add(u);
      for (const [a, id] of result.ackedMetaNodes) acked.ackedMetaNodes.set(a, id);

      if (crashAt !== 'none') {
        // The follower dies at the install point; SIGKILL from inside, as a power cut would.
        follower.launch({ CUBEMASTER_TEST_CRASH_AT: crashAt });
        await waitUntil(`crash at ${crashAt}`, () => Promise.resolve(follower.exitInfo?.signal === 'SIGKILL'), 60_000);
        assert.match(follower.logs, new RegExp(`test crash point reached.*${crashAt}|"point":"${crashAt}"`));
      }
      await follower.start();
      const leaderApplied = (await memberStatus(leader.url)).applied;
      // Caught up, following, and its log has recorded the snapshot (which lands right after
      // the state machine swapped it in).
      await waitUntil('follower caught up', async () => {
        const s = await memberStatus(follower.url);
        return s.applied >= leaderApplied && s.leaderId !== 0 && s.firstIndex > before.lastIndex;
      }, 60_000);
      const status = await memberStatus(follower.url);
      assert.ok(status.firstIndex > before.lastIndex, `follower installed a snapshot (first index ${status.firstIndex}) after ${crashAt}`);
      assert.deepEqual(lostWrites(acked, await readState(follower.url)).slice(0, 10), [], `after ${crashAt}`);
      const [a, b] = await Promise.all([memberAudit(leader.url), memberAudit(follower.url)]);
      if (a.applied === b.applied) assert.equal(a.modelDigest, b.modelDigest, `digests after ${crashAt}`);
      assert.equal(b.modelDigest, b.storeDigest, 'the follower\'s model matches its store');
      console.log(`crash at ${crashAt}: follower recovered and caught up by snapshot (first index ${status.firstIndex}, applied ${status.applied})`);
    }
    for (const m of cluster.masters) assert.deepEqual(m.crashLines(), [], `member ${m.spec.id}`);
    await cluster.stop();
  } finally {
    await cluster.destroy();
  }
});
