// Runs many simulator seeds across worker threads and gathers the totals; on a violation it
// replays the seed with tracing on and shows the last steps before it.
import { Worker } from 'node:worker_threads';
import { brokenVariant } from './broken-variants.js';
import { runSimulation, type SimResult } from './simulation.js';

export interface SeedRange {
  readonly firstSeed: number;
  readonly seeds: number;
  readonly nodeChoices: readonly number[];
  readonly steps: number;
  readonly workers: number;
  /** Name of a broken variant from broken-variants.ts (tests only). */
  readonly variant?: string;
  /** Stop at the first violation (when hunting a broken variant). */
  readonly stopAtFirstViolation?: boolean;
}

export interface ViolationReport {
  readonly seed: number;
  readonly nodes: number;
  readonly message: string;
}

export interface Summary {
  seeds: number;
  commits: number;
  elections: number;
  snapshots: number;
  membershipChanges: number;
  faults: number;
  events: number;
  elapsedMs: number;
  violations: ViolationReport[];
}

export function nodesForSeed(seed: number, nodeChoices: readonly number[]): number {
  return nodeChoices[seed % nodeChoices.length];
}

export function emptySummary(): Summary {
  return { seeds: 0, commits: 0, elections: 0, snapshots: 0, membershipChanges: 0, faults: 0, events: 0, elapsedMs: 0, violations: [] };
}

export function addResult(summary: Summary, r: SimResult): void {
  summary.seeds++;
  summary.commits += r.commits;
  summary.elections += r.elections;
  summary.snapshots += r.snapshots;
  summary.membershipChanges += r.membershipChanges;
  summary.faults += r.faults;
  summary.events += r.events;
  if (r.violation !== null) summary.violations.push({ seed: r.seed, nodes: r.nodes, message: r.violation.message });
}

/** Runs seeds [firstSeed, firstSeed + seeds) split over worker threads. */
export async function runSeeds(range: SeedRange): Promise<Summary> {
  const started = performance.now();
  const workers = Math.max(1, Math.min(range.workers, range.seeds));
  const per = Math.ceil(range.seeds / workers);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const first = range.firstSeed + w * per;
      const count = Math.max(0, Math.min(per, range.firstSeed + range.seeds - first));
      return runInWorker({ ...range, firstSeed: first, seeds: count });
    }),
  );
  const total = emptySummary();
  for (const p of parts) {
    for (const key of ['seeds', 'commits', 'elections', 'snapshots', 'membershipChanges', 'faults', 'events'] as const) total[key] += p[key];
    total.violations.push(...p.violations);
  }
  total.violations.sort((a, b) => a.seed - b.seed);
  total.elapsedMs = performance.now() - started;
  return total;
}

function runInWorker(range: SeedRange): Promise<Summary> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./runner-worker.js', import.meta.url), { workerData: range });
    let result: Summary | null = null;
    worker.once('message', (summary: Summary) => {
      result = summary;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (result !== null) resolve(result);
      else reject(new Error(`sim worker exited with code ${code} without a result`));
    });
  });
}

/** Replays a failing seed with tracing and returns the seed, the violation and the last trace lines. */
export function formatViolation(result: SimResult, steps: number, variantName?: string, traceLines = 60): string {
  const lines: string[] = [];
  const replay = runSimulation({
    seed: result.seed,
    nodes: result.nodes,
    steps,
    variant: variantName === undefined ? undefined : brokenVariant(variantName),
    trace: (line) => {
      lines.push(line);
      if (lines.length > traceLines * 4) lines.splice(0, lines.length - traceLines);
    },
  });
  const same = replay.violation?.message === result.violation?.message;
  return [
    `VIOLATION seed=${result.seed} nodes=${result.nodes}: ${result.violation?.message}`,
    `replay with: npm run sim -- --seed ${result.seed} --nodes ${result.nodes} --steps ${steps} --trace${same ? '' : '   (WARNING: the replay did not reproduce it)'}`,
    'last steps:',
    ...lines.slice(-traceLines),
  ].join('\n');
}

export function printSummary(summary: Summary, steps: number, variantName?: string): void {
  const perMinute = summary.elapsedMs > 0 ? Math.round((summary.seeds * 60000) / summary.elapsedMs) : 0;
  console.log(`sim: ran ${summary.seeds} seeds x ${steps} steps in ${(summary.elapsedMs / 1000).toFixed(1)} s (${perMinute} seeds/min), ${summary.events} events, ${summary.faults} faults`);
  for (const v of summary.violations.slice(0, 3)) {
    console.log(formatViolation(toResult(v), steps, variantName));
  }
  if (summary.violations.length > 0) console.log(`failing seeds: ${summary.violations.map((v) => v.seed).join(' ')}`);
  console.log(
    `sim: ${summary.seeds} seeds, ${summary.violations.length} violations, ${summary.commits} commits, ${summary.elections} elections, ${summary.snapshots} snapshots, ${summary.membershipChanges} membership changes`,
  );
}

function toResult(v: ViolationReport): SimResult {
  return { seed: v.seed, nodes: v.nodes, violation: { message: v.message } as SimResult['violation'], commits: 0, elections: 0, snapshots: 0, membershipChanges: 0, faults: 0, simTimeMs: 0, events: 0 };
}
