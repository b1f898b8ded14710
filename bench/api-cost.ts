// node dist/bench/api-cost.js [--members 3 --clients 64 --seconds 5 --rounds 1
//                             --workloads info,cluster,create --prof DIR --subnet 96]
// Issue 10: what one HTTP request costs the leader's JavaScript thread. wrk (bench/wrk/workload.lua)
// drives `clients` keep-alive connections at the leader with one workload at a time:
//   info    linearizable /user/info of one of 1,000 seeded users (ReadIndex on every request);
//   cluster /admin/getCluster (leader-read: the cached body, cluster-view-cache.ts);
//   create  /user/create (a replicated write).
// Prints ops/s and the leader's CPU (utime + stime, all threads) per request, in µs. With --prof
// the masters preload prof-hook.js and the leader is profiled during each measured window; the
// top functions by self time are printed (the profiler's sampling costs a little throughput).
// For an A/B against another build, run this same file compiled in each checkout, alternating
// (the machine is shared): each run starts its own masters from its own dist/.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { printProfile, summarizeProfile } from './cpu-profile.js';
import { fillKeys } from './compare/recovery.js';
import { wrkLoop } from './compare/wrk-load.js';
import { CUBEFS_WORKLOAD, HOT_PATH_WRK_KINDS, hotPathWorkloads } from './compare/workloads.js';
import { processCpuSeconds, startCubemaster } from './systems.js';
import { median, sleep } from './write-load.js';

const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '3' },
    clients: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '1' },
    workloads: { type: 'string', default: 'info,cluster,create' },
    prof: { type: 'string' },
    subnet: { type: 'string', default: '96' },
    label: { type: 'string', default: '' },
  },
});
const MEMBERS = Number(values.members);
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const workloads = hotPathWorkloads(values.workloads);

const here = path.dirname(fileURLToPath(import.meta.url));
const profDir = values.prof === undefined ? undefined : path.resolve(values.prof);
if (profDir !== undefined) mkdirSync(profDir, { recursive: true });
const env = profDir === undefined ? undefined : { NODE_OPTIONS: `--import=${pathToFileURL(path.join(here, 'prof-hook.js')).href}`, HB_PROF_DIR: profDir };
const label = values.label !== '' ? values.label : path.resolve(here, '..', '..');

const system = await startCubemaster(MEMBERS, Number(values.subnet), env === undefined ? {} : { env: (id) => ({ ...env, HB_PROF_NAME: `m${id}-${process.pid}` }) });
const results = new Map<string, { opsPerSec: number[]; cpuUs: number[]; p99Ms: number[] }>();
let profiles = 0;
try {
  const leader = await system.leader();
  const url = system.urls[leader];
  const pid = system.pids()[leader];
  if (workloads.includes('info')) await fillKeys(url, CUBEFS_WORKLOAD, 1000, 32, 'rk');
  for (let round = 0; round < ROUNDS; round++) {
    for (const w of workloads) {
      let cpuBefore = 0;
      let cpuAfter = 0;
      const figures = await wrkLoop([url], CLIENTS, SECONDS, HOT_PATH_WRK_KINDS[w], `ac${process.pid}r${round}`, 1, {
        onStart: () => {
          if (profDir !== undefined) system.masters[leader].signal('SIGUSR2');
          cpuBefore = processCpuSeconds(pid);
        },
        onEnd: () => {
          cpuAfter = processCpuSeconds(pid);
          if (profDir !== undefined) system.masters[leader].signal('SIGUSR2');
        },
      });
      const cpuUs = ((cpuAfter - cpuBefore) * 1e6) / Math.max(1, figures.ops);
      const r = results.get(w) ?? { opsPerSec: [], cpuUs: [], p99Ms: [] };
      r.opsPerSec.push(figures.opsPerSec);
      r.cpuUs.push(cpuUs);
      r.p99Ms.push(figures.p99Ms);
      results.set(w, r);
      console.log(`${label} ${w}: ${Math.round(figures.opsPerSec)} ops/s, leader ${cpuUs.toFixed(1)} µs CPU/op, p99 ${figures.p99Ms.toFixed(1)} ms, errors ${figures.errors}`);
      if (profDir !== undefined) {
        const file = path.join(profDir, `m${system.masters[leader].spec.id}-${process.pid}-${++profiles}.cpuprofile`);
        const deadline = Date.now() + 30_000;
        while (!existsSync(file) && Date.now() < deadline) await sleep(100);
        await sleep(300);
        console.log(`  profile ${file}`);
        printProfile(`leader, ${w}`, summarizeProfile(file, -Infinity, Infinity, [], 25));
      }
      await sleep(500);
    }
  }
} finally {
  await system.stop();
}
for (const [w, r] of results) {
  console.log(`SUMMARY ${label} ${w} ops/s=${Math.round(median(r.opsPerSec))} cpuUsPerOp=${median(r.cpuUs).toFixed(1)} p99ms=${median(r.p99Ms).toFixed(1)}`);
}
