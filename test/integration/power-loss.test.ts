// Issue 3, 7e: power loss on a member. A follower is killed and its Raft log cut at a random byte
// offset of its last segment (a torn write, or worse: a cut into synced records): open must keep
// every whole record before the cut (reported), and the member must restart and rejoin, with
// the cluster's acknowledged writes intact and its model equal to its store.
import assert from 'node:assert/strict';
import { readFileSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { SeededRandom } from '../../src/raft/core/index.js';
import { listSegmentNumbers, segmentPath } from '../../src/storage/segment-files.js';
import { MasterCluster } from './cluster.js';
import { lostWrites, readState, startLoad } from './load.js';
import { memberAudit, memberStatus, waitUntil } from './member-status.js';

const CUTS = Number(process.env.POWER_LOSS_CUTS ?? 6);
const SEED = Number(process.env.SEED ?? Date.now() % 1_000_000);

void test(`a member whose Raft log is cut at random offsets restarts and rejoins (${CUTS} cuts, seed ${SEED})`, { timeout: 300_000 }, async () => {
  const random = new SeededRandom(SEED);
  const cluster = new MasterCluster({ subnet: 52, size: 3, extraConfig: { tickInterval: 50 } });
  try {
    await cluster.start();
    const leader = await cluster.leader();
    const followers = cluster.masters.filter((m) => m !== leader);
    const acked = { ackedUsers: new Set<string>(), ackedMetaNodes: new Map<string, number>() };
    for (let cut = 0; cut < CUTS; cut++) {
      const victim = followers[random.nextInt(followers.length)];
      const load = startLoad({ urls: [leader.url], clients: 8, prefix: `p${cut}` });
      await new Promise((r) => setTimeout(r, 200 + random.nextInt(400)));
      await victim.kill();
      const result = await load.stop();
      for (const u of result.ackedUsers) acked.ackedUsers.add(u);
      for (const [a, id] of result.ackedMetaNodes) acked.ackedMetaNodes.set(a, id);

      const walDir = path.join(victim.spec.dataDir, 'wal');
      const segments = listSegmentNumbers(walDir);
      const file = segmentPath(walDir, segments[segments.length - 1]);
      // A segment prepared ahead (walPreallocate) ends in zeros: cut among the records, not there.
      const sizeBytes = bytesBeforeZeroTail(file);
      const at = random.nextInt(sizeBytes + 1);
      truncateSync(file, at);

      await victim.start();
      assert.match(victim.logs, /raft log opened/);
      const leaderApplied = (await memberStatus(leader.url)).applied;
      try {
        await waitUntil('the member rejoined and caught up', async () => {
          const s = await memberStatus(victim.url);
          return s.applied >= leaderApplied && s.leaderId === leader.spec.id;
        }, 30_000);
      } catch (error) {
        console.log(JSON.stringify(await memberStatus(victim.url)), JSON.stringify(await memberStatus(leader.url)));
        console.log(victim.logs.split('\n').slice(-30).join('\n'));
        throw error;
      }
      assert.deepEqual(lostWrites(acked, await readState(victim.url)).slice(0, 10), [], `cut ${cut} at ${at}/${sizeBytes} (seed ${SEED})`);
      const audit = await memberAudit(victim.url);
      assert.equal(audit.modelDigest, audit.storeDigest, 'model equals store');
      console.log(`cut ${cut}: member ${victim.spec.id}'s last segment cut at ${at} of ${sizeBytes} bytes; it restarted and rejoined at applied ${audit.applied}`);
    }
    for (const m of cluster.masters) assert.deepEqual(m.crashLines(), [], `member ${m.spec.id}`);
    await cluster.stop();
  } finally {
    await cluster.destroy();
  }
});

/** The file's length without its trailing zero bytes. */
function bytesBeforeZeroTail(file: string): number {
  const data = readFileSync(file);
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  return end;
}
