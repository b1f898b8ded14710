// A seed replays bit for bit: the same trace, the same counters.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { runSimulation } from './simulation.js';

function tracedRun(seed: number, nodes: number): { digest: string; lines: number; commits: number } {
  const hash = createHash('sha256');
  let lines = 0;
  const result = runSimulation({ seed, nodes, steps: 3000, trace: (line) => { hash.update(line); lines++; } });
  assert.equal(result.violation, null);
  return { digest: hash.digest('hex'), lines, commits: result.commits };
}

void test('the same seed replays the same run, trace line for trace line', () => {
  for (const [seed, nodes] of [[7, 3], [8, 5]] as const) {
    const a = tracedRun(seed, nodes);
    const b = tracedRun(seed, nodes);
    assert.deepEqual(a, b);
    assert.ok(a.lines > 1000 && a.commits > 0);
  }
});

void test('different seeds give different runs', () => {
  assert.notEqual(tracedRun(1, 3).digest, tracedRun(2, 3).digest);
});
