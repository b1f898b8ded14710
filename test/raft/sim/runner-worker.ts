// Worker thread body: runs its share of seeds and posts the totals back.
import { parentPort, workerData } from 'node:worker_threads';
import { brokenVariant } from './broken-variants.js';
import { addResult, emptySummary, nodesForSeed, type SeedRange } from './runner.js';
import { runSimulation } from './simulation.js';

const range = workerData as SeedRange;
const variant = range.variant === undefined ? undefined : brokenVariant(range.variant);
const summary = emptySummary();
for (let seed = range.firstSeed; seed < range.firstSeed + range.seeds; seed++) {
  const result = runSimulation({ seed, nodes: nodesForSeed(seed, range.nodeChoices), steps: range.steps, variant });
  addResult(summary, result);
  if (result.violation !== null && range.stopAtFirstViolation === true) break;
}
parentPort!.postMessage(summary);
