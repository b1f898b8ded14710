// `npm run fuzz -- [--seconds N] [--seed S] [--real] [--only http,raft,node]`: the fuzzers for a
// wall-clock budget shared between them (default 60 s), each from the seed (default: from the
// clock, printed), with `--real` also against a real master process with simulated nodes.
// Prints one report per fuzzer (cases, outcomes, findings) and exits 1 when anything was found.
// A finding names its case index; the same seed and budget replay the run.

import { formatReport, type FuzzReport } from './fuzz-report.js';
import { inProcessTarget, runHttpFuzz } from './http-fuzz.js';
import { realMasterTarget } from './http-real-target.js';
import { runNodeCodecFuzz, runNodePacketFuzz } from './node-packet-fuzz.js';
import { runRaftCodecFuzz, runRaftTransportFuzz } from './raft-transport-fuzz.js';

interface Args {
  readonly seconds: number;
  readonly seed: number;
  readonly real: boolean;
  readonly only: ReadonlySet<string>;
}

const GROUPS = ['http', 'raft', 'node'] as const;

function parseArgs(argv: readonly string[]): Args {
  let seconds = 60;
  let seed = Math.floor(Date.now() % 2_147_483_647);
  let real = false;
  let only: Set<string> = new Set(GROUPS);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--seconds') seconds = Number(value());
    else if (a === '--seed') seed = Number(value());
    else if (a === '--real') real = true;
    else if (a === '--only') only = new Set(value().split(','));
    else throw new Error(`unknown argument ${a} (--seconds N, --seed S, --real, --only ${GROUPS.join(',')})`);
  }
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error('--seconds must be a positive number');
  if (!Number.isSafeInteger(seed)) throw new Error('--seed must be an integer');
  for (const g of only) if (!(GROUPS as readonly string[]).includes(g)) throw new Error(`--only: unknown fuzzer ${g}`);
  return { seconds, seed, real, only };
}

interface Job {
  readonly group: (typeof GROUPS)[number];
  readonly weight: number;
  run(seconds: number, seed: number): Promise<FuzzReport>;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const realJob: Job = {
    group: 'http',
    weight: 3,
    run: async (seconds, seed) => {
      const target = await realMasterTarget();
      const report = await runHttpFuzz(target, { seed: seed + 2, seconds });
      return { ...report, outcomes: { ...report.outcomes, 'target rebuilds': target.rebuilds() } };
    },
  };
  const all: Job[] = [
    { group: 'http', weight: 3, run: (seconds, seed) => runHttpFuzz(inProcessTarget('cubefs'), { seed, seconds }) },
    { group: 'http', weight: 1, run: (seconds, seed) => runHttpFuzz(inProcessTarget('signed'), { seed: seed + 1, seconds }) },
    ...(args.real ? [realJob] : []),
    { group: 'raft', weight: 2, run: (seconds, seed) => runRaftTransportFuzz({ seed, seconds }) },
    { group: 'raft', weight: 0.5, run: (seconds, seed) => runRaftCodecFuzz({ seed, seconds }) },
    { group: 'node', weight: 2, run: (seconds, seed) => runNodePacketFuzz({ seed, seconds }) },
    { group: 'node', weight: 0.5, run: (seconds, seed) => runNodeCodecFuzz({ seed, seconds }) },
  ];
  const jobs = all.filter((j) => args.only.has(j.group));
  const total = jobs.reduce((sum, j) => sum + j.weight, 0);
  console.log(`fuzz: seed ${args.seed}, ${args.seconds} s over ${jobs.length} fuzzers${args.real ? ' (with a real master)' : ''}`);
  const reports: FuzzReport[] = [];
  for (const job of jobs) {
    const report = await job.run((args.seconds * job.weight) / total, args.seed);
    reports.push(report);
    console.log(formatReport(report));
    for (const f of report.findings) console.log(`  ${f}`);
  }
  const cases = reports.reduce((sum, r) => sum + r.cases, 0);
  const findings = reports.reduce((sum, r) => sum + r.findings.length, 0);
  console.log(`fuzz: ${cases} cases, ${findings} findings (seed ${args.seed})`);
  return findings === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exitCode = 2;
  },
);
