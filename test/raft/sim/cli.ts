// npm run sim -- [--seeds N] [--seed S] [--nodes 3|5] [--steps K] [--trace] [--workers W]
// Runs the Raft simulator over many seeds (in worker threads), or replays one seed with a trace.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { runSeeds, printSummary, formatViolation } from './runner.js';
import { runSimulation } from './simulation.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '100' },
    seed: { type: 'string' },
    'first-seed': { type: 'string', default: '1' },
    nodes: { type: 'string' },
    steps: { type: 'string', default: '10000' },
    trace: { type: 'boolean', default: false },
    workers: { type: 'string', default: String(availableParallelism()) },
  },
});

const steps = Number(values.steps);
const nodeChoices = values.nodes === undefined ? [3, 5] : [Number(values.nodes)];
for (const n of nodeChoices) {
  if (n !== 3 && n !== 5) {
    console.error('sim: --nodes must be 3 or 5');
    process.exit(2);
  }
}

if (values.seed !== undefined) {
  // Replay one seed, bit for bit, optionally with the full trace.
  const seed = Number(values.seed);
  const nodes = nodeChoices[seed % nodeChoices.length];
  const result = runSimulation({ seed, nodes, steps, trace: values.trace ? (line) => console.log(line) : undefined });
  if (result.violation !== null) {
    console.log(formatViolation(result, steps));
    console.log(`sim: 1 seeds, 1 violations, ${result.commits} commits, ${result.elections} elections, ${result.snapshots} snapshots, ${result.membershipChanges} membership changes`);
    process.exit(1);
  }
  console.log(`sim: 1 seeds, 0 violations, ${result.commits} commits, ${result.elections} elections, ${result.snapshots} snapshots, ${result.membershipChanges} membership changes`);
} else {
  const summary = await runSeeds({ firstSeed: Number(values['first-seed']), seeds: Number(values.seeds), nodeChoices, steps, workers: Number(values.workers) });
  printSummary(summary, steps);
  process.exit(summary.violations.length === 0 ? 0 : 1);
}
