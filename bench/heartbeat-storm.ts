// npm run bench:heartbeats [-- --meta 500 --data 4500 --procs 5 --vols 10 --dps 1000
//   --clients 16 --heartbeat-ms 6000 --baseline-seconds 30 --idle-seconds 30
//   --window-seconds 60 --storm-seconds 40 --nodes-nice 10 --prof DIR]
//
// Issue 9.5 and 9.3: 5,000 simulated nodes heartbeating against one 3-master cluster on this
// machine. Masters 127.0.85.1-3 are real processes; the nodes (src/nodes/sim: real HTTP
// registration, TCP heartbeat tasks, reports POSTed to /metaNode/response and /dataNode/response)
// live in `--procs` forked processes, run under `nice --nodes-nice` so that the simulator, which
// on a real cluster runs on other machines, takes the CPU the masters leave. Vols give the nodes
// partitions to report. Phases, one run:
//   baseline  /user/create closed loop (`--clients`) against the leader, no nodes registered;
//   idle      nodes heartbeating, no writes: leader CPU per heartbeat, heartbeat latency;
//   steady    nodes heartbeating and the same write load as the baseline, side by side;
//   storm     the same writes; the leader is SIGKILLed, so every node gets its next heartbeat
//             from the new leader at once and reports to it: the write outage (longest gap
//             between acknowledged writes) and the heartbeat latency right after.
// Heartbeat figures: "master" is the leader's own view, the /…/response request from its first
// hook to its answer (cubemaster_api_request_duration_seconds, bucket bounds) and the report's
// apply alone (cubemaster_node_heartbeat_apply_seconds); "node" is the node's view, from the
// task's arrival over TCP to the answer of its report POST (the master applies the report before
// it answers), which includes the simulator's own CPU on this shared machine; "pass" is from the
// first arrival of a heartbeat pass to the last report of that pass applied.
// With --prof DIR the masters preload prof-hook.js: V8 CPU profiles of the
// leader in the idle and steady windows and of the new leader in the storm window are summarized
// at the end (a --prof run carries the profiler's overhead; take the figures from a run without
// it). The "others CPU" column shows load from outside the bench: figures taken beside other
// work on this 2-core machine are not comparable.
//
// Figures (2026-12-04, 2-core machine, quiet: others <= 6%; one default run, 196 s): one report
// in-process costs 75 us to parse and 3 us to apply (7 partitions), 2.8 ms and 23 us (300). With
// 5,000 nodes (807 reports/s) the leader spends 0.30 ms CPU per heartbeat (24% of a core), answers
// a report in <= 0.5 ms (p50) / <= 1 ms (p99), sees each node again after <= 6.5 s (p99), and a
// pass takes 1.6-1.9 s from the first task to the last report applied (node end-to-end 84 / 364
// ms, simulator included). /user/create with 16 clients: 4,853/s, p99 12 ms without nodes;
// 3,203/s, p99 25 ms with them. Leader SIGKILL: a leader after 1.9 s, no write acknowledged for
// 2.0 s, then no gap over 341 ms but mostly 1,000-1,600 writes/s (a quarter to a third of the
// rate before) for ~7 s while the new leader dials every node and takes the first pass, part of
// it forwarded by the other survivor. The leader's profile (idle window): the
// exact JSON parse of report bodies (lossless-json via parseJsonExact) 30-34% of its busy time,
// GC 14%, the apply into the live state 5%; with 1,010 nodes of 300 partitions each the parse is
// 66% and writes drop from 4,850/s (p99 12 ms) to 730-1,110/s (p99 57-195 ms, max 1.1-1.3 s).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { cfsGet } from '../test/integration/cfs-client.js';
import { MasterProcess } from '../test/integration/master-process.js';
import type { ChildMessage, ParentMessage, Samples } from './heartbeat-storm-nodes.js';
import { printReportCosts, reportCosts } from './heartbeat-storm-apply.js';
import { printProfile, summarizeProfile } from './cpu-profile.js';

const { values } = parseArgs({
  options: {
    meta: { type: 'string', default: '500' },
    data: { type: 'string', default: '4500' },
    procs: { type: 'string', default: '5' },
    vols: { type: 'string', default: '10' },
    dps: { type: 'string', default: '1000' },
    clients: { type: 'string', default: '16' },
    'heartbeat-ms': { type: 'string', default: '6000' },
    'baseline-seconds': { type: 'string', default: '30' },
    'idle-seconds': { type: 'string', default: '30' },
    'window-seconds': { type: 'string', default: '60' },
    'storm-seconds': { type: 'string', default: '40' },
    'nodes-nice': { type: 'string', default: '10' },
    prof: { type: 'string' },
  },
});
const num = (k: keyof typeof values): number => {
  const n = Number(values[k]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${k} must be a number >= 0, got ${String(values[k])}`);
  return n;
};
const META = num('meta');
const DATA = num('data');
const PROCS = Math.max(1, num('procs'));
const VOLS = num('vols');
const DPS = num('dps');
const CLIENTS = Math.max(1, num('clients'));
const HEARTBEAT_MS = num('heartbeat-ms');
const BASELINE_S = num('baseline-seconds');
const IDLE_S = num('idle-seconds');
const WINDOW_S = num('window-seconds');
const STORM_S = num('storm-seconds');
const NODES_NICE = num('nodes-nice');
const PROF_DIR = values.prof === undefined ? null : path.resolve(values.prof);
/** Seconds of writes before the leader is killed in the storm phase. */
const STORM_KILL_AFTER_S = 5;
/** Data partitions per createVol or /dataPartition/create request (Go's batch bound). */
const DP_BATCH_MAX = 200;

const here = path.dirname(fileURLToPath(import.meta.url));
const NODES_JS = path.join(here, 'heartbeat-storm-nodes.js');
const PROF_HOOK_JS = path.join(here, 'prof-hook.js');
const HOSTS = [1, 2, 3].map((i) => `127.0.85.${i}`);
const nowMs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (line: string): void => console.log(line);

// ---------------------------------------------------------------- figures

function quantile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
const ms = (x: number): string => (Number.isNaN(x) ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(0));
const pct = (x: number): string => (Number.isNaN(x) ? '-' : `${x.toFixed(0)}%`);

let clockTicksPerSec = 100;
try {
  clockTicksPerSec = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // keep Linux's usual 100
}

/** utime + stime of a process, seconds (/proc/<pid>/stat fields 14 and 15). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSec;
  } catch {
    return NaN;
  }
}

/** Busy CPU seconds of the whole machine (/proc/stat: user, nice, system, irq, softirq, steal). */
function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / clockTicksPerSec;
  } catch {
    return NaN;
  }
}

const selfCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const loadAverage = (): string => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
};

// ---------------------------------------------------------------- masters

const dir = mkdtempSync(path.join(tmpdir(), 'bench-heartbeats-'));
const peers = HOSTS.map((h, i) => `${i + 1}:${h}:17010:17110`).join(',');
const masters = HOSTS.map(
  (host, i) =>
    new MasterProcess({
      id: i + 1,
      host,
      httpPort: 17010,
      raftPort: 17110,
      peers,
      dataDir: path.join(dir, `m${i + 1}`),
      extraConfig: { logLevel: 'warn', clusterName: 'hbstorm', nodeHeartbeatIntervalMs: HEARTBEAT_MS },
    }),
);
const masterAddr = (m: MasterProcess): string => `${m.spec.host}:${m.spec.httpPort}`;

async function findLeader(timeoutMs = 30_000): Promise<MasterProcess> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const m of masters.filter((x) => x.running)) {
      const reply = await cfsGet<{ role: string }>(m.url, '/cubemaster/status', {}, { timeoutMs: 2000 }).catch(() => null);
      if (reply?.envelope?.code === 0 && reply.envelope.data.role === 'leader') return m;
    }
    if (Date.now() > deadline) throw new Error(`no leader within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** One Prometheus histogram series: cumulative bucket counts by upper bound. */
interface Series {
  readonly labels: ReadonlyMap<string, string>;
  readonly le: number[];
  readonly counts: number[];
  sum: number;
  count: number;
}
type Scrape = Map<string, Series> & { lagMs?: { p50: number; p99: number; max: number } };

const HISTOGRAMS = ['cubemaster_node_heartbeat_apply_seconds', 'cubemaster_node_heartbeat_report_interval_seconds', 'cubemaster_api_request_duration_seconds'];

/** Node reports a member forwarded to the leader (cubemaster_api_forwarded_total of the /…/response routes). */
async function forwardedReports(m: MasterProcess): Promise<number> {
  const reply = await cfsGet(m.url, '/metrics', {}, { timeoutMs: 10_000 }).catch(() => null);
  let n = 0;
  for (const line of reply?.body.split('\n') ?? []) {
    const hit = line.match(/^cubemaster_api_forwarded_total\{([^}]*)\} (\S+)$/);
    if (hit !== null && /route="\/(meta|data)Node\/response"/.test(hit[1])) n += Number(hit[2]);
  }
  return n;
}

/** The histograms this bench reads, from a member's /metrics. */
async function scrape(m: MasterProcess): Promise<Scrape> {
  const out: Scrape = new Map();
  const reply = await cfsGet(m.url, '/metrics', {}, { timeoutMs: 10_000 }).catch(() => null);
  const lag = { p50: NaN, p99: NaN, max: NaN };
  out.lagMs = lag;
  for (const line of reply?.body.split('\n') ?? []) {
    // Event-loop delay since the previous scrape (prom-client resets it on every collect).
    const gauge = line.match(/^nodejs_eventloop_lag_(p50|p99|max)_seconds (\S+)$/);
    if (gauge !== null) lag[gauge[1] as 'p50' | 'p99' | 'max'] = 1000 * Number(gauge[2]);
    const hit = line.match(/^(\w+)_(bucket|sum|count)\{([^}]*)\} (\S+)$/);
    if (hit === null || !HISTOGRAMS.includes(hit[1])) continue;
    const labels = new Map([...hit[3].matchAll(/(\w+)="([^"]*)"/g)].map((l): [string, string] => [l[1], l[2]]));
    const le = labels.get('le');
    labels.delete('le');
    const key = `${hit[1]}{${[...labels].map(([k, v]) => `${k}=${v}`).join(',')}}`;
    let series = out.get(key);
    if (series === undefined) out.set(key, (series = { labels: new Map([...labels, ['__name__', hit[1]]]), le: [], counts: [], sum: 0, count: 0 }));
    const value = Number(hit[4]);
    if (hit[2] === 'bucket') {
      series.le.push(le === '+Inf' || le === undefined ? Infinity : Number(le));
      series.counts.push(value);
    } else series[hit[2] as 'sum' | 'count'] = value;
  }
  return out;
}

interface HistogramFigures {
  readonly count: number;
  readonly meanMs: number;
  /** Upper bounds of the buckets holding the quantiles. */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** The change between two scrapes of the series of `name` whose labels pass `pick`, merged. */
function histogram(before: Scrape, after: Scrape, name: string, pick: (labels: ReadonlyMap<string, string>) => boolean): HistogramFigures {
  let le: number[] = [];
  let counts: number[] = [];
  let sum = 0;
  let count = 0;
  for (const [key, a] of after) {
    if (a.labels.get('__name__') !== name || !pick(a.labels)) continue;
    const b = before.get(key);
    le = a.le;
    counts = a.counts.map((c, i) => (counts[i] ?? 0) + c - (b?.counts[i] ?? 0));
    sum += a.sum - (b?.sum ?? 0);
    count += a.count - (b?.count ?? 0);
  }
  const at = (p: number): number => {
    const i = counts.findIndex((c) => c >= p * count);
    return count === 0 || i < 0 ? NaN : 1000 * le[i];
  };
  return { count, meanMs: count === 0 ? NaN : (1000 * sum) / count, p50Ms: at(0.5), p99Ms: at(0.99) };
}

// ---------------------------------------------------------------- profiles

const PROFILE_WATCH = ['takeNodeResponse', 'parseNodeResponse', 'parseJsonExact', 'applyDataHeartbeat', 'applyMetaHeartbeat', 'sendHeartbeats', 'heartbeat', 'checkLiveness', 'checkReplicaHealth', 'stringifyJson'];
const profileSeq = new Map<MasterProcess, number>();
const profiles: { title: string; file: string; slices: { title: string; fromUs: number; toUs: number }[] }[] = [];
/** The monotonic clock V8 stamps profile samples with (CLOCK_MONOTONIC, as process.hrtime), in µs. */
const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Toggles the profiler of `m` (prof-hook.ts); a stop with a title is summarized at the end. */
function toggleProfile(m: MasterProcess, starting: boolean, title = '', slices: { title: string; fromUs: number; toUs: number }[] = []): void {
  if (PROF_DIR === null || !m.running) return;
  m.signal('SIGUSR2');
  if (starting) return;
  const seq = (profileSeq.get(m) ?? 0) + 1;
  profileSeq.set(m, seq);
  if (title !== '') profiles.push({ title, file: path.join(PROF_DIR, `m${m.spec.id}-${seq}.cpuprofile`), slices });
}

async function printProfiles(): Promise<void> {
  for (const p of profiles) {
    const deadline = Date.now() + 30_000;
    while (!existsSync(p.file) && Date.now() < deadline) await sleep(100);
    if (!existsSync(p.file)) {
      log(`${p.title}: no profile written (${p.file})`);
      continue;
    }
    await sleep(500);
    printProfile(`${p.title} (${p.file})`, summarizeProfile(p.file, -Infinity, Infinity, PROFILE_WATCH));
    for (const slice of p.slices) printProfile(`${p.title}, ${slice.title}`, summarizeProfile(p.file, slice.fromUs, slice.toUs, PROFILE_WATCH));
  }
}

// ---------------------------------------------------------------- node hosts

class NodeHost {
  readonly child: ChildProcess;
  private readonly waiters: { type: ChildMessage['type']; resolve: (m: ChildMessage) => void }[] = [];
  private stderr = '';
  readonly exited: Promise<void>;

  constructor(readonly index: number) {
    // fork() cannot renice; spawn with an IPC channel does the same through nice(1).
    const argv = [process.execPath, NODES_JS];
    this.child = NODES_NICE > 0 ? spawn('nice', ['-n', String(NODES_NICE), ...argv], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }) : spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr?.on('data', (c: Buffer) => {
      if (this.stderr.length < 64 * 1024) this.stderr += c.toString('utf8');
    });
    this.child.on('message', (m: ChildMessage) => {
      if (m.type === 'error') {
        for (const w of this.waiters.splice(0)) w.resolve(m);
        return;
      }
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  send(m: ParentMessage): void {
    if (this.child.connected) this.child.send(m);
  }

  /** Sends `m` and waits for the child's next message of `type`. */
  async request<T extends ChildMessage['type']>(m: ParentMessage, type: T): Promise<Extract<ChildMessage, { type: T }>> {
    const reply = await new Promise<ChildMessage>((resolve) => {
      this.waiters.push({ type, resolve });
      this.send(m);
    });
    if (reply.type === 'error') throw new Error(`node host ${this.index}: ${reply.message}\n${this.stderr.slice(-2000)}`);
    return reply as Extract<ChildMessage, { type: T }>;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.send({ cmd: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
  }
}

const hosts: NodeHost[] = [];

function markAll(): void {
  for (const h of hosts) h.send({ cmd: 'mark' });
}

async function collectAll(): Promise<Samples> {
  const all = await Promise.all(hosts.map((h) => h.request({ cmd: 'collect' }, 'samples')));
  return {
    receivedMs: all.flatMap((s) => s.receivedMs),
    postedMs: all.flatMap((s) => s.postedMs),
    appliedMs: all.flatMap((s) => s.appliedMs),
    postErrors: all.reduce((n, s) => n + s.postErrors, 0),
    nodesReported: all.reduce((n, s) => n + s.nodesReported, 0),
  };
}

const hostsCpu = (): number => hosts.reduce((sum, h) => sum + cpuSeconds(h.child.pid), 0);
/** CPU of this bench: the given masters, the node hosts and this process. */
const oursCpu = (list: readonly MasterProcess[]): number => list.reduce((sum, m) => sum + (cpuSeconds(m.pid) || 0), 0) + hostsCpu() + selfCpuSeconds();

interface Spread {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}
const spread = (xs: number[]): Spread => {
  xs.sort((a, b) => a - b);
  return { p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: xs.at(-1) ?? NaN };
};

interface NodeView {
  readonly reports: number;
  readonly postErrors: number;
  /** Task arrival -> report applied. */
  readonly endToEnd: Spread;
  /** Report POST start -> answer. */
  readonly post: Spread;
  /** First arrival of the pass -> each report applied. */
  readonly sincePassStart: Spread;
  readonly passes: number;
  /** First arrival -> last report applied, per pass. */
  readonly passMs: Spread;
}

/** Passes are split where no task arrived for a quarter of the heartbeat interval. */
function nodeView(s: Samples, fromMs = -Infinity, toMs = Infinity): NodeView {
  const rows = s.receivedMs.map((r, i) => ({ r, p: s.postedMs[i], a: s.appliedMs[i] })).filter((x) => x.r >= fromMs && x.r < toMs);
  rows.sort((x, y) => x.r - y.r);
  const since: number[] = [];
  const passMs: number[] = [];
  const gapMs = Math.max(200, HEARTBEAT_MS / 4);
  let start = NaN;
  let last = NaN;
  let passEnd = NaN;
  for (const x of rows) {
    if (Number.isNaN(start) || x.r - last > gapMs) {
      if (!Number.isNaN(start)) passMs.push(passEnd - start);
      start = x.r;
      passEnd = x.a;
    }
    last = x.r;
    passEnd = Math.max(passEnd, x.a);
    since.push(x.a - start);
  }
  if (!Number.isNaN(start)) passMs.push(passEnd - start);
  return {
    reports: rows.length,
    postErrors: s.postErrors,
    endToEnd: spread(rows.map((x) => x.a - x.r)),
    post: spread(rows.map((x) => x.a - x.p)),
    sincePassStart: spread(since),
    passes: passMs.length,
    passMs: spread(passMs),
  };
}

// ---------------------------------------------------------------- writes

interface WriteFigures {
  readonly ops: number;
  readonly errors: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Longest time without an acknowledged write (from the start, between acks, to the end). */
  readonly longestGapMs: number;
  /** Epoch ms of each acknowledged write, in order, and its latency. */
  readonly ackMs: readonly number[];
  readonly ackLatencyMs: readonly number[];
}

/** Writes acknowledged in each second from `fromMs`, with the slowest of them. */
function perSecond(w: WriteFigures, fromMs: number, seconds: number): string {
  const cells: string[] = [];
  for (let s = 0; s < seconds; s++) {
    let n = 0;
    let max = 0;
    for (let i = 0; i < w.ackMs.length; i++) {
      if (w.ackMs[i] < fromMs + s * 1000 || w.ackMs[i] >= fromMs + (s + 1) * 1000) continue;
      n++;
      max = Math.max(max, w.ackLatencyMs[i]);
    }
    cells.push(`${s - STORM_KILL_AFTER_S + 1 >= 0 ? '+' : ''}${s - STORM_KILL_AFTER_S + 1}s ${n}${n > 0 ? `/${max.toFixed(0)}` : ''}`);
  }
  return cells.join(', ');
}

/** `/user/create` closed loop: every client sends its next request when the previous one ended. */
class WriteLoad {
  private running = true;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS * 2 });
  private readonly latencies: number[] = [];
  /** Epoch ms of each acknowledgement, with its latency. */
  private readonly acks: number[] = [];
  private errors = 0;
  private readonly startedMs = nowMs();
  private readonly clients: Promise<void>[];

  /** `tag`: a letter or two, unique per load of the run (user ids are at most 21 characters). */
  constructor(
    private readonly target: () => MasterProcess,
    tag: string,
  ) {
    this.clients = Array.from({ length: CLIENTS }, (_, c) => this.client(`${tag}${c}x`));
  }

  private async client(prefix: string): Promise<void> {
    for (let seq = 0; this.running; seq++) {
      const started = performance.now();
      const ok = await this.createUser(this.target(), `${prefix}${seq}`).catch(() => false);
      if (!this.running) return;
      if (ok) {
        this.latencies.push(performance.now() - started);
        this.acks.push(nowMs());
      } else {
        this.errors++;
        await sleep(20);
      }
    }
  }

  private createUser(m: MasterProcess, id: string): Promise<boolean> {
    const body = JSON.stringify({ id, type: 2 });
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: m.spec.host, port: m.spec.httpPort, path: '/user/create', method: 'POST', agent: this.agent, timeout: 15_000, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(res.statusCode === 200 && Buffer.concat(chunks).toString('utf8').startsWith('{"code":0')));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(body);
    });
  }

  async stop(): Promise<WriteFigures> {
    const endMs = nowMs();
    this.running = false;
    await Promise.all(this.clients);
    this.agent.destroy();
    const seconds = (endMs - this.startedMs) / 1000;
    const order = this.acks.map((_, i) => i).sort((a, b) => this.acks[a] - this.acks[b]);
    const acks = order.map((i) => this.acks[i]);
    let gap = 0;
    let prev = this.startedMs;
    for (const a of [...acks, endMs]) {
      gap = Math.max(gap, a - prev);
      prev = a;
    }
    const lat = [...this.latencies].sort((a, b) => a - b);
    return { ops: acks.length, errors: this.errors, seconds, opsPerSec: acks.length / seconds, p50Ms: quantile(lat, 0.5), p99Ms: quantile(lat, 0.99), maxMs: lat.at(-1) ?? NaN, longestGapMs: gap, ackMs: acks, ackLatencyMs: order.map((i) => this.latencies[i]) };
  }
}

// ---------------------------------------------------------------- phases

interface Phase {
  readonly name: string;
  readonly seconds: number;
  readonly writes: WriteFigures | null;
  readonly nodes: NodeView | null;
  /** Leader-side histograms over the window. */
  readonly handle: HistogramFigures | null;
  readonly applyMeta: HistogramFigures | null;
  readonly applyData: HistogramFigures | null;
  /** Time between a node's consecutive reports on the leader. */
  readonly interval: HistogramFigures | null;
  readonly leaderCpuS: number;
  readonly followerCpuS: number;
  readonly nodesCpuS: number;
  /** CPU of everything else on the machine (other people's processes), seconds. */
  readonly othersCpuS: number;
  /** The leader's event-loop delay over the window (what every request waits behind). */
  readonly leaderLagMs: { p50: number; p99: number; max: number } | undefined;
}

/** Leader's CPU per applied report, ms (the window's writes included when it had any). */
function cpuPerHeartbeatMs(p: Phase): number {
  const reports = (p.applyMeta?.count ?? 0) + (p.applyData?.count ?? 0);
  return reports === 0 ? NaN : (1000 * p.leaderCpuS) / reports;
}

interface Measured {
  readonly leader: MasterProcess;
  readonly followers: readonly MasterProcess[];
  readonly writes: WriteLoad | null;
  readonly withNodes: boolean;
}

/** Measures from now until `end()` resolves: CPU, writes, heartbeats, the leader's histograms. */
async function measure(name: string, m: Measured, body: () => Promise<void>): Promise<Phase> {
  if (m.withNodes) markAll();
  const before = await scrape(m.leader);
  const cpu0 = [cpuSeconds(m.leader.pid), ...m.followers.map((f) => cpuSeconds(f.pid)), hostsCpu()];
  const others0 = machineBusySeconds() - oursCpu([m.leader, ...m.followers]);
  const t0 = performance.now();
  await body();
  const writes = m.writes === null ? null : await m.writes.stop();
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = [cpuSeconds(m.leader.pid), ...m.followers.map((f) => cpuSeconds(f.pid)), hostsCpu()];
  const others1 = machineBusySeconds() - oursCpu([m.leader, ...m.followers]);
  const after = await scrape(m.leader);
  const samples = m.withNodes ? await collectAll() : null;
  const followerCpu = m.followers.reduce((sum, _, i) => sum + cpu1[1 + i] - cpu0[1 + i], 0) / Math.max(1, m.followers.length);
  const isResponse = (l: ReadonlyMap<string, string>): boolean => /^\/(meta|data)Node\/response$/.test(l.get('route') ?? '');
  return {
    name,
    seconds,
    writes,
    nodes: samples === null ? null : nodeView(samples),
    handle: m.withNodes ? histogram(before, after, 'cubemaster_api_request_duration_seconds', isResponse) : null,
    applyMeta: m.withNodes ? histogram(before, after, 'cubemaster_node_heartbeat_apply_seconds', (l) => l.get('kind') === 'meta') : null,
    applyData: m.withNodes ? histogram(before, after, 'cubemaster_node_heartbeat_apply_seconds', (l) => l.get('kind') === 'data') : null,
    interval: m.withNodes ? histogram(before, after, 'cubemaster_node_heartbeat_report_interval_seconds', () => true) : null,
    leaderCpuS: cpu1[0] - cpu0[0],
    followerCpuS: followerCpu,
    nodesCpuS: cpu1.at(-1)! - cpu0.at(-1)!,
    othersCpuS: others1 - others0,
    leaderLagMs: after.lagMs,
  };
}

function printWrites(phases: readonly Phase[]): void {
  log('');
  log('/user/create closed loop | ops/s  | p50 ms | p99 ms | max ms | longest gap ms | failed | leader CPU | follower CPU | nodes CPU | others CPU | leader loop delay p99/max ms');
  for (const p of phases) {
    const w = p.writes;
    const cpu = (s: number): string => pct((100 * s) / p.seconds).padStart(6);
    log(
      `${p.name.padEnd(24)} | ${(w === null ? '-' : Math.round(w.opsPerSec).toString()).padStart(6)} | ${(w === null ? '-' : ms(w.p50Ms)).padStart(6)} | ${(w === null ? '-' : ms(w.p99Ms)).padStart(6)} | ${(w === null ? '-' : ms(w.maxMs)).padStart(6)} | ${(w === null ? '-' : ms(w.longestGapMs)).padStart(14)} | ${(w === null ? '-' : String(w.errors)).padStart(6)} | ${cpu(p.leaderCpuS).padStart(10)} | ${cpu(p.followerCpuS).padStart(12)} | ${cpu(p.nodesCpuS).padStart(9)} | ${cpu(p.othersCpuS).padStart(10)} | ${`${ms(p.leaderLagMs?.p99 ?? NaN)} / ${ms(p.leaderLagMs?.max ?? NaN)}`.padStart(27)}`,
    );
  }
}

function printHeartbeats(phases: readonly Phase[]): void {
  log('');
  log('heartbeats               | reports/s | leader CPU ms/hb | master: handle p50/p99 ms | apply mean us (meta/data) | interval p50/p99 s | node: end-to-end p50/p99 ms | POST p50/p99 ms | pass p50/max ms | failed POSTs');
  for (const p of phases) {
    if (p.nodes === null || p.handle === null) continue;
    const n = p.nodes;
    const reports = (p.applyMeta?.count ?? 0) + (p.applyData?.count ?? 0);
    const sec = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '-' : String(x / 1000));
    const us = (f: HistogramFigures | null): string => (f === null || Number.isNaN(f.meanMs) ? '-' : (1000 * f.meanMs).toFixed(0));
    log(
      `${p.name.padEnd(24)} | ${(reports / p.seconds).toFixed(0).padStart(9)} | ${(cpuPerHeartbeatMs(p).toFixed(3) + (p.writes === null ? '' : ' (w)')).padStart(16)} | ${`<=${ms(p.handle.p50Ms)} / <=${ms(p.handle.p99Ms)}`.padStart(25)} | ${`${us(p.applyMeta)} / ${us(p.applyData)}`.padStart(25)} | ${`<=${sec(p.interval?.p50Ms)} / <=${sec(p.interval?.p99Ms)}`.padStart(18)} | ${`${ms(n.endToEnd.p50)} / ${ms(n.endToEnd.p99)}`.padStart(27)} | ${`${ms(n.post.p50)} / ${ms(n.post.p99)}`.padStart(15)} | ${`${ms(n.passMs.p50)} / ${ms(n.passMs.max)}`.padStart(15)} | ${String(n.postErrors).padStart(12)}`,
    );
  }
}

async function createVols(leader: MasterProcess): Promise<number> {
  let dps = 0;
  for (let v = 0; v < VOLS; v++) {
    const name = `hbvol${v}`;
    const first = Math.min(DP_BATCH_MAX, DPS);
    const reply = await cfsGet(leader.url, '/admin/createVol', { name, owner: 'hbowner', capacity: 100_000, mpCount: 3, dpCount: first, replicaNum: 3 }, { timeoutMs: 300_000 });
    if (reply.envelope?.code !== 0) throw new Error(`createVol ${name}: ${reply.body.slice(0, 300)}`);
    dps += first;
    for (let done = first; done < DPS; ) {
      const count = Math.min(DP_BATCH_MAX, DPS - done);
      // The master refuses more than 1000 writable dps per vol without force (Go's rule).
      const more = await cfsGet(leader.url, '/dataPartition/create', done >= 1000 ? { name, count, force: true } : { name, count }, { timeoutMs: 300_000 });
      if (more.envelope?.code !== 0) throw new Error(`dataPartition/create ${name}: ${more.body.slice(0, 300)}`);
      done += count;
      dps += count;
    }
  }
  return dps;
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = loadAverage();
  const total = META + DATA;
  log(
    `heartbeat storm: 3 masters (${HOSTS.join(', ')}), ${META} meta + ${DATA} data simulated nodes in ${PROCS} processes (nice ${NODES_NICE}), heartbeat every ${HEARTBEAT_MS} ms, ${VOLS} vols x ${DPS} dps of 3 replicas, ${CLIENTS} /user/create clients${PROF_DIR === null ? '' : ', CPU profiles on'}`,
  );
  // What one report costs in-process, before any process competes for the CPU.
  printReportCosts(reportCosts());
  log('');
  await Promise.all(
    masters.map((m) => {
      const env: Record<string, string> = {};
      if (PROF_DIR !== null) {
        mkdirSync(PROF_DIR, { recursive: true });
        Object.assign(env, { NODE_OPTIONS: `--import=${pathToFileURL(PROF_HOOK_JS).href}`, HB_PROF_DIR: PROF_DIR, HB_PROF_NAME: `m${m.spec.id}` });
      }
      return m.start(30_000, env);
    }),
  );
  let leader = await findLeader();
  const followersOf = (l: MasterProcess): MasterProcess[] => masters.filter((m) => m !== l && m.running);
  log(`leader m${leader.spec.id} (${masterAddr(leader)}) after ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const phases: Phase[] = [];
  const timed = async (name: string, tag: string, seconds: number, withWrites: boolean, withNodes: boolean, profile = false): Promise<void> => {
    if (seconds <= 0) return;
    const l = leader;
    const writes = withWrites ? new WriteLoad(() => l, tag) : null;
    const phase = await measure(name, { leader: l, followers: followersOf(l), writes, withNodes }, async () => {
      if (profile) toggleProfile(l, true);
      await sleep(seconds * 1000);
      if (profile) toggleProfile(l, false, `profile of the leader m${l.spec.id} in the ${name} window`);
    });
    phases.push(phase);
    log(`${name}: ${phase.seconds.toFixed(1)} s measured`);
  };

  await timed('baseline (no nodes)', 'b', BASELINE_S, true, false);

  // Nodes: register from PROCS processes, then wait until each has had a report applied.
  const tReg = performance.now();
  for (let p = 0; p < PROCS; p++) hosts.push(new NodeHost(p));
  const startedReplies = await Promise.all(
    hosts.map((h, p) => {
      const share = (n: number): number => Math.floor(((p + 1) * n) / PROCS) - Math.floor((p * n) / PROCS);
      // The leader first: a node sticks with the first master that answers 200, and a follower
      // answers by forwarding, so with another order every report would take two hops.
      const order = [leader, ...followersOf(leader)].map(masterAddr);
      return h.request({ cmd: 'start', masterAddrs: order, meta: share(META), data: share(DATA), registerConcurrency: 8 }, 'started');
    }),
  );
  log(`${total} nodes registered from ${PROCS} processes in ${((performance.now() - tReg) / 1000).toFixed(1)} s (slowest process ${(Math.max(...startedReplies.map((s) => s.registerMs)) / 1000).toFixed(1)} s)`);
  const activeDeadline = performance.now() + 4 * HEARTBEAT_MS + 120_000;
  for (;;) {
    const s = await collectAll();
    if (s.nodesReported >= total) break;
    if (performance.now() > activeDeadline) throw new Error(`only ${s.nodesReported} of ${total} nodes had a report applied`);
    await sleep(500);
  }
  log(`every node's first report applied ${((performance.now() - tReg) / 1000).toFixed(1)} s after registration began`);
  if (VOLS > 0 && DPS > 0) {
    const tv = performance.now();
    const dps = await createVols(leader);
    log(`${VOLS} vols, ${dps} dps created in ${((performance.now() - tv) / 1000).toFixed(1)} s: ${dps * 3} dp replicas on ${DATA} data nodes (${((dps * 3) / Math.max(1, DATA)).toFixed(1)} per node), ${VOLS * 3 * 3} mp replicas`);
  }
  // A full pass with the partitions in the reports before measuring.
  await sleep(HEARTBEAT_MS + 2000);

  await timed('idle (nodes, no writes)', 'i', IDLE_S, false, true, true);
  await timed('steady (nodes + writes)', 's', WINDOW_S, true, true, true);

  // Storm: writes, then SIGKILL the leader; the clients follow the new leader as soon as a
  // member says it leads (a follower would forward, but the other phases talk to the leader).
  const old = leader;
  const survivors = followersOf(old);
  let current = old;
  const load = new WriteLoad(() => current, 't');
  await sleep(STORM_KILL_AFTER_S * 1000);
  markAll();
  const killMs = nowMs();
  for (const m of survivors) toggleProfile(m, true);
  await old.kill();
  const cpuAtKill = survivors.map((m) => cpuSeconds(m.pid));
  const nodesCpuAtKill = hostsCpu();
  const othersAtKill = machineBusySeconds() - oursCpu(survivors);
  leader = await findLeader(30_000);
  current = leader;
  const electedMs = nowMs() - killMs;
  const electedUs = monotonicUs();
  const before = await scrape(leader);
  const follower = survivors.find((m) => m !== leader)!;
  const forwardedBefore = await forwardedReports(follower);
  await sleep(Math.max(0, STORM_S * 1000 - (nowMs() - killMs)));
  const firstSlice = [{ title: 'its first 5 s as leader', fromUs: electedUs - 500_000, toUs: electedUs + 5_000_000 }];
  for (const m of survivors) toggleProfile(m, false, m === leader ? `profile of the new leader m${m.spec.id} from the kill to the end of the storm window` : '', m === leader ? firstSlice : []);
  const writes = await load.stop();
  const stormS = (nowMs() - killMs) / 1000;
  const cpuEnd = survivors.map((m) => cpuSeconds(m.pid));
  const after = await scrape(leader);
  const forwarded = (await forwardedReports(follower)) - forwardedBefore;
  const samples = await collectAll();
  const li = survivors.indexOf(leader);
  const storm: Phase = {
    name: 'storm (kill the leader)',
    seconds: stormS,
    writes,
    nodes: nodeView(samples, killMs),
    handle: histogram(before, after, 'cubemaster_api_request_duration_seconds', (l) => /^\/(meta|data)Node\/response$/.test(l.get('route') ?? '')),
    applyMeta: histogram(before, after, 'cubemaster_node_heartbeat_apply_seconds', (l) => l.get('kind') === 'meta'),
    applyData: histogram(before, after, 'cubemaster_node_heartbeat_apply_seconds', (l) => l.get('kind') === 'data'),
    interval: histogram(before, after, 'cubemaster_node_heartbeat_report_interval_seconds', () => true),
    leaderCpuS: cpuEnd[li] - cpuAtKill[li],
    followerCpuS: cpuEnd[1 - li] - cpuAtKill[1 - li],
    nodesCpuS: hostsCpu() - nodesCpuAtKill,
    othersCpuS: machineBusySeconds() - oursCpu(survivors) - othersAtKill,
    leaderLagMs: after.lagMs,
  };
  phases.push(storm);
  const firstPass = nodeView(samples, killMs, killMs + electedMs + HEARTBEAT_MS / 2);
  // The outage: the longest gap between acknowledged writes from 1 s before the kill to 15 s after
  // (an ack just after the kill is a write the old leader answered before it died).
  const around = [killMs - 1000, ...writes.ackMs.filter((a) => a >= killMs - 1000 && a <= killMs + 15_000), Math.min(killMs + 15_000, killMs + stormS * 1000)];
  let outage = { fromMs: NaN, toMs: NaN, gapMs: 0 };
  for (let i = 1; i < around.length; i++) if (around[i] - around[i - 1] > outage.gapMs) outage = { fromMs: around[i - 1] - killMs, toMs: around[i] - killMs, gapMs: around[i] - around[i - 1] };
  const afterOutage = writes.ackMs.filter((a) => a >= killMs + outage.toMs);
  let gapAfter = 0;
  for (let i = 1; i < afterOutage.length; i++) gapAfter = Math.max(gapAfter, afterOutage[i] - afterOutage[i - 1]);

  printWrites(phases);
  log(`storm writes per second around the kill (acknowledged/slowest ms): ${perSecond(writes, killMs - (STORM_KILL_AFTER_S - 1) * 1000, STORM_KILL_AFTER_S - 1 + 16)}`);
  printHeartbeats(phases);
  log('');
  log('CPU: share of one core over the window (follower: the mean of the followers; nodes: all simulator processes together; others: processes not of this bench); (w): writes in the same window.');
  log(
    `storm: leader m${old.spec.id} SIGKILLed ${STORM_KILL_AFTER_S} s into the writes; m${leader.spec.id} reported leading ${electedMs.toFixed(0)} ms later; write outage ${ms(outage.gapMs)} ms (no write acknowledged from ${ms(outage.fromMs)} to ${ms(outage.toMs)} ms after the kill); after that the longest gap between acknowledged writes was ${ms(gapAfter)} ms`,
  );
  log(`storm: the nodes listed the masters old leader first; ${forwarded} reports came through the follower m${follower.spec.id} (a node keeps the first master that answers 200, and a follower answers by forwarding)`);
  log(
    `storm: the new leader's first pass: ${firstPass.reports} of ${total} reports, node end-to-end p50 ${ms(firstPass.endToEnd.p50)} / p99 ${ms(firstPass.endToEnd.p99)} ms, first arrival -> last report applied ${ms(firstPass.passMs.max)} ms`,
  );
  const base = phases[0].name.startsWith('baseline') ? phases[0].writes : null;
  const idle = phases.find((p) => p.name.startsWith('idle'));
  const steady = phases.find((p) => p.name.startsWith('steady'));
  log(
    `summary: ${total} nodes (${(total / (HEARTBEAT_MS / 1000)).toFixed(0)} heartbeats/s): leader ${idle === undefined ? '-' : cpuPerHeartbeatMs(idle).toFixed(3)} ms CPU per heartbeat; heartbeat handled by the leader p50/p99 <= ${ms(idle?.handle?.p50Ms ?? NaN)}/${ms(idle?.handle?.p99Ms ?? NaN)} ms, node end-to-end ${ms(idle?.nodes?.endToEnd.p50 ?? NaN)}/${ms(idle?.nodes?.endToEnd.p99 ?? NaN)} ms; ` +
      `/user/create p99 ${ms(base?.p99Ms ?? NaN)} ms without nodes vs ${ms(steady?.writes?.p99Ms ?? NaN)} ms with (${Math.round(base?.opsPerSec ?? NaN)} vs ${Math.round(steady?.writes?.opsPerSec ?? NaN)}/s); leader kill: write outage ${ms(outage.gapMs)} ms (election ${electedMs.toFixed(0)} ms), then no gap over ${ms(gapAfter)} ms`,
  );
  await printProfiles();
  log(`run took ${((performance.now() - started) / 1000).toFixed(0)} s; load average ${loadAverage()} (at the start ${loadAtStart})`);
}

let stopped: Promise<void> | null = null;
function stopAll(): Promise<void> {
  stopped ??= (async () => {
    await Promise.allSettled(hosts.map((h) => h.stop()));
    for (const m of masters) if (m.running) m.signal('SIGTERM');
    await Promise.allSettled(masters.map((m) => (m.running ? m.waitExit(30_000) : Promise.resolve())));
    await Promise.allSettled(masters.map((m) => m.kill()));
  })();
  return stopped;
}

try {
  await main();
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
