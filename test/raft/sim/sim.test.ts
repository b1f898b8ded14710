// The simulator over many seeds, 3 and 5 members: no invariant may break, and the runs must
// actually exercise what they claim to (commits, elections, snapshots, membership changes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printSummary, runSeeds } from './runner.js';

const STEPS = 10000;

for (const nodes of [3, 5]) {
  void test(`1000 seeds of ${nodes} members keep every Raft invariant and stay live`, { timeout: 600_000 }, async () => {
    const summary = await runSeeds({ firstSeed: nodes * 1_000_000, seeds: 1000, nodeChoices: [nodes], steps: STEPS, workers: 2 });
    printSummary(summary, STEPS);
    assert.deepEqual(summary.violations, [], `failing seeds: ${summary.violations.map((v) => v.seed).join(' ')}`);
    assert.equal(summary.seeds, 1000);
    // Coverage: a run that never elects, compacts or changes membership proves little.
    assert.ok(summary.commits > summary.seeds * 50, `commits ${summary.commits}`);
    assert.ok(summary.elections > summary.seeds * 2, `elections ${summary.elections}`);
    assert.ok(summary.snapshots > summary.seeds, `snapshots ${summary.snapshots}`);
    assert.ok(summary.membershipChanges > summary.seeds, `membership changes ${summary.membershipChanges}`);
  });
}
