// node dist/bench/api-pipeline.js [--clients 64 --seconds 4 --rounds 3 --workloads info,cluster,create]
// Issue 10: the CPU the HTTP API's per-request pipeline costs (fastify hooks, limits, metrics,
// request state, routing, envelope, Node's HTTP), without Raft, disk or other members: one API
// server in this process over the tests' in-memory replicated core (FakeGroup: a read barrier
// resolves at once, a proposal applies at once), listening on loopback, driven by wrk
// (bench/wrk/workload.lua) with `clients` keep-alive connections. Prints this process's CPU
// (user + system) per request in µs, median of the rounds. With a pino logger at `warn`, as a
// master runs.
//
// On a shared 2-core machine this is steadier than api-cost.ts (one process and wrk, no three
// masters competing for the cores), so small cuts show; for an A/B, run this file compiled in
// each checkout, alternating.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { InjectOptions } from 'fastify';
import { pino } from 'pino';
import { createApiServer } from '../src/api/server.js';
import { FakeGroup } from '../test/cluster/fakes.js';
import { wrkLoop } from './compare/wrk-load.js';
import { HOT_PATH_WRK_KINDS, hotPathWorkloads } from './compare/workloads.js';
import { median } from './write-load.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    workloads: { type: 'string', default: 'info,cluster,create' },
    label: { type: 'string', default: '' },
    client: { type: 'string', default: 'wrk' },
    prof: { type: 'string' },
  },
});
const workloads = hotPathWorkloads(values.workloads);
const here = path.dirname(fileURLToPath(import.meta.url));
const label = values.label !== '' ? values.label : path.resolve(here, '..', '..');

const group = new FakeGroup([1], 1);
group.setHttpAddr(1, '127.0.0.1:17010');
const api = createApiServer({
  replicator: group.replicator(1),
  raft: group.raft(1),
  cluster: { clusterName: 'test', selfId: 1, selfHttpAddr: '127.0.0.1:17010' },
  logger: pino({ level: 'warn' }, pino.destination('/dev/null')),
});
// The 1,000 users the reads pick from (workload.lua: rk_0 .. rk_999).
for (let i = 0; i < 1000; i++) {
  const res = await api.app.inject({ method: 'POST', url: '/user/create', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ id: `rk_${i}`, type: 2 }) });
  if (!res.body.startsWith('{"code":0')) throw new Error(`seed rk_${i}: ${res.body}`);
}
await api.app.listen({ host: '127.0.0.1', port: 0 });
const address = api.app.server.address();
if (address === null || typeof address !== 'object') throw new Error('not listening');
const url = `http://127.0.0.1:${address.port}`;

/**
 * `clients` loops of app.inject (light-my-request: no socket, so no kernel time and no Node
 * HTTP parsing or writing; the inject machinery's own cost is in the figure, the same for A and B).
 */
async function injectLoop(workload: string, clients: number, seconds: number, tag: string, window: { onStart: () => void; onEnd: () => void }): Promise<{ ops: number; errors: number; opsPerSec: number }> {
  let seq = 0;
  const request = (): InjectOptions => {
    seq += 1;
    if (workload === 'info') return { method: 'GET', url: `/user/info?user=rk_${(seq * 7919) % 1000}` };
    if (workload === 'cluster') return { method: 'GET', url: '/admin/getCluster' };
    return { method: 'POST', url: '/user/create', headers: { 'content-type': 'application/json' }, payload: `{"id":"u${tag}_${seq}","type":2}` };
  };
  let ops = 0;
  let errors = 0;
  let stopAt = 0;
  const client = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      const res = await api.app.inject(request());
      if (res.body.startsWith('{"code":0')) ops += 1;
      else errors += 1;
    }
  };
  stopAt = performance.now() + 1000;
  await Promise.all(Array.from({ length: clients }, client));
  ops = 0;
  errors = 0;
  window.onStart();
  const started = performance.now();
  stopAt = started + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, client));
  window.onEnd();
  return { ops, errors, opsPerSec: ops / ((performance.now() - started) / 1000) };
}

/** --prof DIR: V8's CPU profiler in this process, over each measured window (sampling every 200 µs). */
const profiler = values.prof === undefined ? null : windowProfiler();

function windowProfiler(): { start(): void; stop(file: string): void } {
  mkdirSync(values.prof ?? '.', { recursive: true });
  const session = new Session();
  session.connect();
  // The in-thread session answers synchronously: each call is done when post returns.
  return {
    start() {
      session.post('Profiler.enable');
      session.post('Profiler.setSamplingInterval', { interval: 200 });
      session.post('Profiler.start');
    },
    stop(file) {
      session.post('Profiler.stop', (err, result) => {
        if (err === null) writeFileSync(file, JSON.stringify(result.profile));
        session.post('Profiler.disable');
      });
    },
  };
}

const results = new Map<string, number[]>();
try {
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const w of workloads) {
      let before = process.cpuUsage();
      let after = before;
      const window = {
        onStart: () => {
          profiler?.start();
          before = process.cpuUsage();
        },
        onEnd: () => {
          after = process.cpuUsage();
          profiler?.stop(path.join(values.prof ?? '', `${w}-${process.pid}-${round}.cpuprofile`));
        },
      };
      const tag = `ap${process.pid}r${round}`;
      const figures =
        values.client === 'inject'
          ? await injectLoop(w, Number(values.clients), Number(values.seconds), tag, window)
          : await wrkLoop([url], Number(values.clients), Number(values.seconds), HOT_PATH_WRK_KINDS[w], tag, 1, window);
      const cpuUs = (after.user - before.user + after.system - before.system) / Math.max(1, figures.ops);
      if (figures.errors > 0) console.log(`${label} ${w}: ${figures.errors} errors`);
      results.set(w, [...(results.get(w) ?? []), cpuUs]);
      const userUs = (after.user - before.user) / Math.max(1, figures.ops);
      console.log(`${label} ${w}: ${Math.round(figures.opsPerSec)} ops/s, ${cpuUs.toFixed(1)} µs CPU/op (user ${userUs.toFixed(1)}, system ${(cpuUs - userUs).toFixed(1)})`);
      group.proposed.length = 0;
    }
  }
} finally {
  await api.app.close();
}
for (const [w, cpu] of results) console.log(`SUMMARY ${label} ${w} cpuUsPerOp=${median(cpu).toFixed(1)} runs=${cpu.map((c) => c.toFixed(1)).join(',')}`);
