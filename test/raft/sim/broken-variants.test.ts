// Proof that the simulator can fail: each deliberately broken variant of the core (or driver)
// must be caught within a fixed budget of seeds, by the property it breaks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BROKEN_VARIANTS } from './broken-variants.js';
import { runSeeds } from './runner.js';

const SEED_BUDGET = 1500;
const STEPS = 10000;

/** The invariant each variant breaks first (others may follow from it). */
const EXPECTED: Record<string, readonly string[]> = {
  'vote-without-log-check': ['leader completeness', 'state machine safety', 'commit quorum', 'log matching', 'core assertion'],
  'commit-previous-term-by-counting': ['leader commit rule', 'state machine safety'],
  'keep-conflicting-suffix': ['state machine safety', 'log matching', 'leader completeness', 'core assertion'],
  'ack-before-persist': ['commit quorum', 'state machine safety', 'election safety'],
  'forget-vote-on-restart': ['election safety'],
  'read-without-heartbeat': ['linearizable read'],
};

void test('there are at least six broken variants and each has an expectation', () => {
  assert.ok(BROKEN_VARIANTS.length >= 6);
  for (const v of BROKEN_VARIANTS) assert.ok(EXPECTED[v.name] !== undefined, v.name);
});

for (const variant of BROKEN_VARIANTS) {
  void test(`the simulator catches the broken variant "${variant.name}" within ${SEED_BUDGET} seeds`, { timeout: 600_000 }, async () => {
    const summary = await runSeeds({ firstSeed: 1, seeds: SEED_BUDGET, nodeChoices: [3, 5], steps: STEPS, workers: 2, variant: variant.name, stopAtFirstViolation: true });
    assert.ok(summary.violations.length > 0, `${variant.name} was not caught in ${SEED_BUDGET} seeds`);
    const first = summary.violations[0];
    const property = first.message.split(':')[0];
    console.log(`# ${variant.name}: caught at seed ${first.seed} (${first.nodes} members) by "${property}": ${first.message.split('\n')[0]}`);
    assert.ok(EXPECTED[variant.name].includes(property), `${variant.name} caught by unexpected property: ${first.message}`);
  });
}
