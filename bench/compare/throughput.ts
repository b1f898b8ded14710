// One cell of the comparison table: the same closed-loop load against each system, alternating
// which system goes first from run to run and from cell to cell (noise on a shared machine then
// hits both), `runs` times each; the median of each figure, with the CPU the members spent.
import { processCpuSeconds, type RunningSystem } from '../systems.js';
import { closedLoop, median, type LoadFigures, type RequestSpec } from '../write-load.js';
import { wrkLoop } from './wrk-load.js';

export interface CellFigures extends LoadFigures {
  /** CPU seconds per 1,000 operations, averaged over the members. */
  readonly cpuSecPer1000PerMember: number;
  /** CPU seconds per 1,000 operations on the leader alone. */
  readonly leaderCpuSecPer1000: number;
}

export interface CellSide {
  readonly label: string;
  readonly system: RunningSystem;
  /** Base URLs the clients use (client c takes urls[c % n]). */
  readonly urls: readonly string[];
  readonly request: (tag: string) => (client: number, seq: number) => RequestSpec;
  readonly ok: (status: number, body: string) => boolean;
  /** The same workload as a bench/wrk/workload.lua KIND, used when the cell's client is wrk. */
  readonly wrkKind?: string;
}

export interface CellSpec {
  readonly clients: number;
  readonly seconds: number;
  readonly runs: number;
  readonly warmupSeconds: number;
  /** Position of the cell in the run: which side goes first alternates with it. */
  readonly index: number;
  readonly tag: string;
  /** Which load generator: the Node client in this process, or Debian's wrk. */
  readonly client: 'node' | 'wrk';
}

export async function measureCell(sides: readonly CellSide[], spec: CellSpec): Promise<CellFigures[]> {
  const runs: CellFigures[][] = sides.map(() => []);
  for (let r = 0; r < spec.runs; r++) {
    const order = sides.map((_, i) => i);
    if ((spec.index + r) % 2 === 1) order.reverse();
    for (const i of order) runs[i].push(await measureOnce(sides[i], spec, `${spec.tag}r${r}`));
  }
  return runs.map(medianFigures);
}

async function measureOnce(side: CellSide, spec: CellSpec, tag: string): Promise<CellFigures> {
  const leader = await side.system.leader();
  let before: number[] = [];
  let after: number[] = [];
  const window = {
    onStart: () => (before = side.system.pids().map(processCpuSeconds)),
    onEnd: () => (after = side.system.pids().map(processCpuSeconds)),
  };
  const figures =
    spec.client === 'wrk' && side.wrkKind !== undefined
      ? await wrkLoop(side.urls, spec.clients, spec.seconds, side.wrkKind, tag, spec.warmupSeconds, window)
      : await closedLoop(side.urls, spec.clients, spec.seconds, side.request(tag), side.ok, spec.warmupSeconds, window);
  const spent = after.map((a, i) => Math.max(0, a - (before[i] ?? a)));
  const per1000 = (cpu: number): number => (figures.ops === 0 ? NaN : (cpu * 1000) / figures.ops);
  const running = spent.filter((_, i) => side.system.pids()[i] !== 0);
  return {
    ...figures,
    cpuSecPer1000PerMember: per1000(running.reduce((a, b) => a + b, 0) / Math.max(1, running.length)),
    leaderCpuSecPer1000: per1000(spent[leader] ?? NaN),
  };
}

function medianFigures(runs: readonly CellFigures[]): CellFigures {
  const pick = (f: (x: CellFigures) => number): number => median(runs.map(f));
  return {
    ops: pick((x) => x.ops),
    errors: pick((x) => x.errors),
    seconds: pick((x) => x.seconds),
    opsPerSec: pick((x) => x.opsPerSec),
    p50Ms: pick((x) => x.p50Ms),
    p99Ms: pick((x) => x.p99Ms),
    p999Ms: pick((x) => x.p999Ms),
    cpuSecPer1000PerMember: pick((x) => x.cpuSecPer1000PerMember),
    leaderCpuSecPer1000: pick((x) => x.leaderCpuSecPer1000),
  };
}
