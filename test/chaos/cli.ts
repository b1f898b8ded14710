// npm run chaos -- [--duration S] [--run-seconds S] [--seed S] [--nodes 3|5] [--faults LIST] [--dir D] [--no-domain] [--tls] [--https]
// Runs chaos seeds one after another until --duration seconds have passed (or one seed with
// --seed), then prints faults by kind, availability per fault kind, the domain operations
// (--no-domain: no simulated nodes and no vol operations; --tls: peer TLS; --https: the API over
// HTTPS with client certificates, chaos-tls.ts), and a last line:
//   chaos: S seeds, H operations, 0 anomalies, 0 lost writes, F faults injected
// Exits non-zero, naming the seed, on any anomaly, lost write or failed audit. A failed seed keeps
// its members' logs and history in <dir>/seed-S; CHAOS_KEEP_LOGS=1 keeps them for passing ones too.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FAULT_KINDS, type FaultKind } from './faults.js';
import { runChaos, type ChaosRunResult } from './harness.js';
import { formatChaosSummary } from './summary.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    'run-seconds': { type: 'string', default: '30' },
    seed: { type: 'string' },
    'first-seed': { type: 'string' },
    nodes: { type: 'string' },
    faults: { type: 'string', default: FAULT_KINDS.join(',') },
    dir: { type: 'string', default: '.chaos' },
    clients: { type: 'string', default: '8' },
    'no-domain': { type: 'boolean', default: false },
    tls: { type: 'boolean', default: false },
    https: { type: 'boolean', default: false },
  },
});

const faults = values.faults.split(',').map((f) => f.trim()).filter(Boolean) as FaultKind[];
for (const f of faults) {
  if (!(FAULT_KINDS as readonly string[]).includes(f)) {
    console.error(`chaos: unknown fault "${f}"; known: ${FAULT_KINDS.join(', ')}`);
    process.exit(2);
  }
}
const nodeChoices = values.nodes === undefined ? [3, 5] : [Number(values.nodes)];
if (nodeChoices.some((n) => n !== 3 && n !== 5)) {
  console.error('chaos: --nodes must be 3 or 5');
  process.exit(2);
}
const runMs = Number(values['run-seconds']) * 1000;
const deadlineMs = performance.now() + Number(values.duration) * 1000;
const firstSeed = Number(values.seed ?? values['first-seed'] ?? Date.now() % 1_000_000);
const dir = path.resolve(values.dir);
const results: ChaosRunResult[] = [];
let failed: ChaosRunResult | null = null;

for (let seed = firstSeed; ; seed++) {
  const nodes = nodeChoices[seed % nodeChoices.length];
  console.log(`chaos seed ${seed}: ${nodes} members${values.tls ? ', peer TLS' : ''}${values.https ? ', HTTPS' : ''}, ${runMs / 1000} s of faults (${faults.join(',')})`);
  let result: ChaosRunResult;
  try {
    result = await runChaos({ seed, nodes, runMs, faults, dir, clients: Number(values.clients), domain: !values['no-domain'], tls: values.tls, https: values.https, log: (line) => console.log(line) });
  } catch (error) {
    console.error(`chaos seed ${seed} FAILED: ${(error as Error).message}`);
    console.log(`chaos: ${results.length + 1} seeds, 0 operations, 0 anomalies, 0 lost writes, 0 faults injected (seed ${seed} failed to run)`);
    process.exit(1);
  }
  results.push(result);
  console.log(`chaos seed ${seed}: ${result.operations} operations, ${result.verdict} (checked in ${result.checkMs.toFixed(0)} ms), ${result.faults.length} faults (${[...new Set(result.faults.map((f) => f.kind))].join(', ')}), ${result.lostWrites.length} lost writes, settled in ${result.settleMs.toFixed(0)} ms (phases: ${[...result.phasesMs].map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`).join(', ')})${result.ok ? '' : `, PROBLEMS:\n  ${[...result.problems, ...result.lostWrites].join('\n  ')}`}`);
  if (result.anomaly !== null) console.log(result.anomaly);
  if (!result.ok) {
    failed = result;
    break;
  }
  if (values.seed !== undefined || performance.now() > deadlineMs) break;
}

console.log(formatChaosSummary(results));
if (failed !== null) {
  console.log(`chaos: FAILED at seed ${failed.seed} (replay: npm run chaos -- --seed ${failed.seed} --nodes ${failed.nodes} --run-seconds ${runMs / 1000}${failed.tls ? ' --tls' : ''}${failed.https ? ' --https' : ''}; logs in ${path.join(dir, `seed-${failed.seed}`)})`);
}
process.exit(failed === null ? 0 : 1);
