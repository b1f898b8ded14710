// npm run bench:write [-- --seconds 5 --runs 3]
// Closed-loop writes at concurrency 1, 16 and 64 against 1 and 3 masters (clients talk to the
// leader, as the Go SDK settles on it), with etcd (Debian's etcd-server) side by side in the same
// run where it is installed: /user/create on cubemaster, a small put through etcd's HTTP gateway.
// Prints ops/s, p50 and p99 per cell (the median of the runs) and the ratios.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MasterProcess } from '../test/integration/master-process.js';
import { cfsGet } from '../test/integration/cfs-client.js';
import { b64, EtcdCluster, etcdAvailable } from './etcd-cluster.js';
import { closedLoop, median, type LoadFigures } from './write-load.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, runs: { type: 'string', default: '3' } } });
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const CONCURRENCY = [1, 16, 64];

interface Row {
  system: string;
  members: number;
  concurrency: number;
  figures: LoadFigures;
}

async function startMasters(size: number, subnet: number): Promise<{ masters: MasterProcess[]; leaderUrl: string; dir: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-masters-'));
  const hosts = Array.from({ length: size }, (_, i) => `127.0.${subnet}.${i + 1}`);
  const peers = hosts.map((h, i) => `${i + 1}:${h}:17010:17110`).join(',');
  const masters = hosts.map((host, i) => new MasterProcess({ id: i + 1, host, httpPort: 17010, raftPort: 17110, peers, dataDir: path.join(dir, `m${i + 1}`), extraConfig: { logLevel: 'warn' } }));
  await Promise.all(masters.map((m) => m.start()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const reply = await cfsGet<{ LeaderAddr: string }>(masters[0].url, '/admin/getCluster').catch(() => null);
    const addr = reply?.envelope?.code === 0 ? reply.envelope.data.LeaderAddr : '';
    if (addr !== '') return { masters, leaderUrl: `http://${addr}`, dir };
    if (Date.now() > deadline) throw new Error('no leader');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function measureCubemaster(size: number, subnet: number, rows: Row[]): Promise<void> {
  const { masters, leaderUrl, dir } = await startMasters(size, subnet);
  try {
    for (const c of CONCURRENCY) {
      const runs: LoadFigures[] = [];
      for (let r = 0; r < RUNS; r++) {
        const tag = `b${size}_${c}_${r}_${process.pid}`;
        runs.push(
          await closedLoop([leaderUrl], c, SECONDS, (client, seq) => ({ method: 'POST', path: '/user/create', body: JSON.stringify({ id: `${tag}_${client}_${seq}`, type: 2 }) }), (status, body) => status === 200 && body.startsWith('{"code":0')),
        );
      }
      rows.push({ system: 'cubemaster', members: size, concurrency: c, figures: medianFigures(runs) });
      print(rows[rows.length - 1]);
    }
  } finally {
    for (const m of masters) m.signal('SIGTERM');
    await Promise.all(masters.map((m) => m.waitExit(20_000).catch(() => undefined)));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measureEtcd(size: number, subnet: number, rows: Row[]): Promise<void> {
  const etcd = new EtcdCluster(size, subnet);
  try {
    await etcd.ready();
    // The leader's client URL: etcd forwards proposals from followers internally anyway.
    const leaderUrl = await etcdLeaderUrl(etcd.clientUrls);
    for (const c of CONCURRENCY) {
      const runs: LoadFigures[] = [];
      for (let r = 0; r < RUNS; r++) {
        runs.push(
          await closedLoop([leaderUrl], c, SECONDS, (client, seq) => ({ method: 'POST', path: '/v3/kv/put', body: JSON.stringify({ key: b64(`k${client}_${seq}`), value: b64('v'.repeat(64)) }) }), (status) => status === 200),
        );
      }
      rows.push({ system: 'etcd 3.4', members: size, concurrency: c, figures: medianFigures(runs) });
      print(rows[rows.length - 1]);
    }
  } finally {
    await etcd.stop();
  }
}

async function etcdLeaderUrl(urls: string[]): Promise<string> {
  for (const url of urls) {
    const res = await fetch(`${url}/v3/maintenance/status`, { method: 'POST', body: '{}' });
    const status = (await res.json()) as { header: { member_id: string }; leader: string };
    if (status.header.member_id === status.leader) return url;
  }
  return urls[0];
}

function medianFigures(runs: LoadFigures[]): LoadFigures {
  const pick = (f: (x: LoadFigures) => number) => median(runs.map(f));
  return { ops: pick((x) => x.ops), errors: pick((x) => x.errors), seconds: pick((x) => x.seconds), opsPerSec: pick((x) => x.opsPerSec), p50Ms: pick((x) => x.p50Ms), p99Ms: pick((x) => x.p99Ms) };
}

function print(row: Row): void {
  const f = row.figures;
  console.log(`${row.system.padEnd(11)} | ${String(row.members).padStart(7)} | ${String(row.concurrency).padStart(7)} | ${Math.round(f.opsPerSec).toLocaleString('en-US').padStart(8)} | ${f.p50Ms.toFixed(2).padStart(7)} | ${f.p99Ms.toFixed(2).padStart(7)} | ${f.errors}`);
}

const rows: Row[] = [];
console.log(`closed-loop writes, ${SECONDS} s per run, median of ${RUNS} runs, keep-alive HTTP clients to the leader`);
console.log('system      | members | clients |    ops/s | p50 ms  | p99 ms  | errors');
await measureCubemaster(1, 91, rows);
await measureCubemaster(3, 92, rows);
const withEtcd = etcdAvailable();
if (withEtcd) {
  await measureEtcd(1, 93, rows);
  await measureEtcd(3, 94, rows);
} else {
  console.log('etcd not installed (apt-get install etcd-server): no peer column');
}
const find = (system: string, members: number, c: number) => rows.find((r) => r.system === system && r.members === members && r.concurrency === c)?.figures.opsPerSec ?? NaN;
const summary = [1, 3].map((m) => {
  const ours = find('cubemaster', m, 64);
  const peer = find('etcd 3.4', m, 64);
  return `${m} member${m > 1 ? 's' : ''} at 64 clients: ${Math.round(ours)} writes/s${withEtcd ? ` vs etcd ${Math.round(peer)} (x${(ours / peer).toFixed(2)})` : ''}; vs the Go master's measured ${m === 1 ? 1600 : 675}/s x${(ours / (m === 1 ? 1600 : 675)).toFixed(1)}`;
});
console.log(`summary: ${summary.join('; ')}`);
