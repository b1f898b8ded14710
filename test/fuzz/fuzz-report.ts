// What every fuzzer reports, and the seeded choice helpers they share. A case is replayed from
// its fuzzer's seed and its index (`npm run fuzz -- --seed S` reruns a whole run; each finding
// names the case index).

import { Prng } from '../storage/helpers.js';

export interface FuzzReport {
  readonly fuzzer: string;
  readonly seed: number;
  readonly cases: number;
  /** Crashes, hangs, leaks and broken promises (a refused call that changed state...), each with its case index. */
  readonly findings: readonly string[];
  /** Outcome counts, e.g. { refused: 812, accepted: 188 }. */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly seconds: number;
}

/** How long a run goes: a number of cases, or a wall-clock budget, whichever ends first. */
export interface FuzzBudget {
  readonly seed: number;
  readonly cases?: number;
  readonly seconds?: number;
}

export class Rng extends Prng {
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Runs `one(index)` until the budget ends; counts outcomes; collects findings. */
export async function fuzzLoop(
  fuzzer: string,
  budget: FuzzBudget,
  one: (index: number, outcomes: Map<string, number>) => Promise<string[]>,
): Promise<FuzzReport> {
  const started = Date.now();
  const deadline = budget.seconds === undefined ? Number.POSITIVE_INFINITY : started + budget.seconds * 1000;
  const maxCases = budget.cases ?? Number.POSITIVE_INFINITY;
  assertFinite(maxCases, deadline);
  const outcomes = new Map<string, number>();
  const findings: string[] = [];
  let cases = 0;
  while (cases < maxCases && Date.now() < deadline) {
    for (const f of await one(cases, outcomes)) findings.push(`case ${cases}: ${f}`);
    cases += 1;
    // A run that keeps finding the same bug stops early; the first findings say enough.
    if (findings.length >= 50) break;
  }
  return { fuzzer, seed: budget.seed, cases, findings, outcomes: Object.fromEntries(outcomes), seconds: (Date.now() - started) / 1000 };
}

function assertFinite(maxCases: number, deadline: number): void {
  if (!Number.isFinite(maxCases) && !Number.isFinite(deadline)) throw new Error('a fuzz budget needs cases or seconds');
}

export function count(outcomes: Map<string, number>, key: string): void {
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
}

/** One line per report, for the test output and the CLI. */
export function formatReport(r: FuzzReport): string {
  const outcomes = Object.entries(r.outcomes)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `${r.fuzzer}: seed ${r.seed}, ${r.cases} cases in ${r.seconds.toFixed(1)} s, ${r.findings.length} findings (${outcomes})`;
}

/** Resources this process holds, by type (process.getActiveResourcesInfo), without the test runner's own. */
export function activeResources(): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) out.set(r, (out.get(r) ?? 0) + 1);
  return out;
}

/** Resource types held now beyond `baseline`, after letting closes settle (at most ~1 s). */
export async function leakedResources(baseline: Map<string, number>): Promise<string[]> {
  let extra: string[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    await new Promise((r) => setTimeout(r, attempt === 0 ? 0 : 50));
    const now = activeResources();
    extra = [...now.entries()].filter(([k, v]) => v > (baseline.get(k) ?? 0)).map(([k, v]) => `${k} x${v - (baseline.get(k) ?? 0)}`);
    if (extra.length === 0) return [];
  }
  return extra;
}
