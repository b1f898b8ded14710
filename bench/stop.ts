// npm run bench:stop [-- --runs 20]
// SIGTERM-to-exit time of a master under load (64 writing clients), over N runs: a single master,
// and the leader of a 3-master cluster (which hands leadership over first). Prints median and max,
// beside the Go master's measured 10 s (its sleep before closing RocksDB).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MasterCluster } from '../test/integration/cluster.js';
import { startLoad } from '../test/integration/load.js';
import { MasterProcess } from '../test/integration/master-process.js';
import { median } from './write-load.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const RUNS = Number(values.runs);

async function singleMaster(): Promise<number[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-stop-'));
  const master = new MasterProcess({ id: 1, host: '127.0.95.1', httpPort: 17010, raftPort: 17110, peers: '1:127.0.95.1:17010:17110', dataDir: dir, extraConfig: { logLevel: 'warn' } });
  const times: number[] = [];
  try {
    for (let r = 0; r < RUNS; r++) {
      await master.start();
      const load = startLoad({ urls: [master.url], clients: 64, prefix: `s${r}` });
      await new Promise((res) => setTimeout(res, 1000));
      const t = performance.now();
      master.signal('SIGTERM');
      const exit = await master.waitExit(60_000);
      times.push(performance.now() - t);
      await load.stop();
      if (exit.code !== 0) throw new Error(`exit ${JSON.stringify(exit)}:\n${master.tail()}`);
    }
  } finally {
    await master.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  return times;
}

async function clusterLeader(): Promise<number[]> {
  const cluster = new MasterCluster({ subnet: 96, size: 3, extraConfig: { logLevel: 'warn' } });
  const times: number[] = [];
  try {
    await cluster.start();
    for (let r = 0; r < RUNS; r++) {
      const leader = await cluster.leader();
      const load = startLoad({ urls: cluster.urls, clients: 64, prefix: `c${r}` });
      await new Promise((res) => setTimeout(res, 1000));
      const t = performance.now();
      leader.signal('SIGTERM');
      const exit = await leader.waitExit(60_000);
      times.push(performance.now() - t);
      await load.stop();
      if (exit.code !== 0) throw new Error(`exit ${JSON.stringify(exit)}:\n${leader.tail()}`);
      await leader.start();
    }
    await cluster.stop();
  } finally {
    await cluster.destroy();
  }
  return times;
}

const fmt = (xs: number[]) => `median ${median(xs).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
console.log(`SIGTERM to exit under 64 writing clients, ${RUNS} runs each`);
const single = await singleMaster();
console.log(`single master:          ${fmt(single)}`);
const leader = await clusterLeader();
console.log(`leader of 3 masters:    ${fmt(leader)} (includes handing leadership over)`);
console.log(`summary: stop takes ${median(single).toFixed(0)} ms (single) and ${median(leader).toFixed(0)} ms (leader of 3) at the median, against the Go master's 10,000 ms sleep`);
