// npm run bench:compare [-- --sections writes,reads,go,mixed,failover,recovery,memory
//                          --members 1,3,5 --clients 1,16,64,256 --read-clients 1,16,64
//                          --seconds 5 --runs 3 --failover-runs 10 --keys 100000,1000000
//                          --dps 20000 --quick --readme --out bench/results]
// Issue 10, point 1: cubemaster side by side with etcd 3.4 (Debian's etcd-server, started here on
// loopback with its default durability) and the Go CubeFS master (where
// ../shared/tools/build-cubefs-ref.sh built it), the same HTTP client for all, alternating
// systems cell by cell. Writes a markdown table and an SVG chart under --out: a full run (every
// section, default options) as compare.md and compare.svg with a dated copy of the table; any
// other run under a name of its own (compare-<date>T<time>-<sections>.md and .svg), so that a
// partial run never replaces the full table with "not measured" rows. --readme (full runs only)
// puts the table into README.md between its compare markers. A cell prints as it finishes.
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { etcdAvailable, etcdVersion } from '../etcd-cluster.js';
import { goMasterBinary, startGoMaster } from '../go-master.js';
import { startCubemaster, startEtcd, type ControllableSystem, type RunningSystem } from '../systems.js';
import { median } from '../write-load.js';
import { measureFailover } from './failover.js';
import { cubemasterBytesPer100kDataPartitions, meanResidentBytes } from './memory.js';
import { fillKeys, replaceFollower, restartToReady } from './recovery.js';
import { ratioChartSvg, targetsTable, throughputTable, timedTable, type Target, type ThroughputRow, type TimedRow } from './report.js';
import { measureCell, type CellSide } from './throughput.js';
import { wrkAvailable } from './wrk-load.js';
import { CLUSTER_VIEW_READ, CUBEFS_WORKLOAD, ETCD_WORKLOAD, GO_WORKLOAD, isEnvelopeOk, type ReadMode, type Workload } from './workloads.js';

const ALL_SECTIONS = 'writes,reads,go,mixed,failover,recovery,memory';
const { values, tokens } = parseArgs({
  tokens: true,
  options: {
    sections: { type: 'string', default: ALL_SECTIONS },
    members: { type: 'string', default: '1,3,5' },
    clients: { type: 'string', default: '1,16,64,256' },
    'read-clients': { type: 'string', default: '1,16,64' },
    'read-members': { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
    'failover-runs': { type: 'string', default: '10' },
    keys: { type: 'string', default: '100000,1000000' },
    dps: { type: 'string', default: '20000' },
    'dp-nodes': { type: 'string', default: '60' },
    quick: { type: 'boolean', default: false },
    client: { type: 'string' },
    readme: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results' },
  },
});
/** Only a run of every section with the default options stands for "the" table (compare.md). */
const FULL_RUN = tokens.every((t) => t.kind !== 'option' || t.name === 'readme' || t.name === 'out' || t.name === 'client');
if (values.readme === true && !FULL_RUN) {
  console.error('bench:compare: --readme needs a full run (every section, default options): a partial table would replace the README\'s full one');
  process.exit(2);
}
const list = (s: string): number[] => s.split(',').filter((x) => x.trim() !== '').map(Number);
const quick = values.quick === true;
const O = {
  sections: new Set(values.sections.split(',')),
  members: quick ? [1, 3] : list(values.members),
  clients: quick ? [1, 64] : list(values.clients),
  readClients: quick ? [64] : list(values['read-clients']),
  readMembers: list(values['read-members']),
  seconds: quick ? 3 : Number(values.seconds),
  warmup: Number(values.warmup),
  runs: quick ? 1 : Number(values.runs),
  failoverRuns: quick ? 3 : Number(values['failover-runs']),
  keys: quick ? [20_000] : list(values.keys),
  dps: quick ? 5_000 : Number(values.dps),
  dpNodes: Number(values['dp-nodes']),
};
const HAVE_ETCD = etcdAvailable();
const CLIENT: 'node' | 'wrk' = values.client === 'node' || values.client === 'wrk' ? values.client : wrkAvailable() ? 'wrk' : 'node';
const GO_BINARY = goMasterBinary();

const writeRows: ThroughputRow[] = [];
const readRows: ThroughputRow[] = [];
const goRows: ThroughputRow[] = [];
const mixedRows: ThroughputRow[] = [];
const failoverRows: TimedRow[] = [];
const recoveryRows: TimedRow[] = [];
const memoryRows: TimedRow[] = [];
let cellIndex = 0;
const log = (line: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

function printRow(r: ThroughputRow): void {
  const ratio = r.peer === null ? '' : ` x${(r.ours.opsPerSec / r.peer.opsPerSec).toFixed(2)}`;
  log(`${r.section} ${r.cell}: cubemaster ${Math.round(r.ours.opsPerSec)}/s p99 ${r.ours.p99Ms.toFixed(1)} ms | ${r.peerName} ${r.peer === null ? 'n/a' : `${Math.round(r.peer.opsPerSec)}/s p99 ${r.peer.p99Ms.toFixed(1)} ms`}${ratio}`);
}

function side(label: string, system: RunningSystem, urls: readonly string[], request: CellSide['request'], ok: CellSide['ok'], wrkKind: string): CellSide {
  return { label, system, urls, request, ok, wrkKind };
}

async function cell(section: string, cellLabel: string, peerName: string, sides: CellSide[], clients: number, into: ThroughputRow[]): Promise<void> {
  const figures = await measureCell(sides, { clients, seconds: O.seconds, runs: O.runs, warmupSeconds: O.warmup, index: cellIndex++, tag: `c${cellIndex}`, client: CLIENT });
  const row: ThroughputRow = { section, cell: cellLabel, ours: figures[0], peer: figures[1] ?? null, peerName };
  into.push(row);
  printRow(row);
}

async function seedReadKeys(system: RunningSystem, workload: Workload, names: readonly string[]): Promise<void> {
  const leader = await system.leader();
  await fillKeys(system.urls[leader], workload, names.length, 32, 'rk');
}

// ------------------------------------------------------------------ sections

async function throughputSections(): Promise<void> {
  for (const m of O.members) {
    const ours = await startCubemaster(m, 90 + m);
    const peer = HAVE_ETCD ? await startEtcd(m, 100 + m) : null;
    try {
      const memberLabel = `${m} member${m > 1 ? 's' : ''}`;
      const leaderOf = async (s: RunningSystem): Promise<string[]> => [s.urls[await s.leader()]];
      if (O.sections.has('writes')) {
        for (const c of O.clients) {
          const sides = [side('cubemaster', ours, await leaderOf(ours), CUBEFS_WORKLOAD.write, CUBEFS_WORKLOAD.writeOk, 'cubefs-write')];
          if (peer !== null) sides.push(side('etcd', peer, await leaderOf(peer), ETCD_WORKLOAD.write, ETCD_WORKLOAD.writeOk, 'etcd-write'));
          await cell('writes', `${memberLabel}, ${c} client${c > 1 ? 's' : ''}`, 'etcd 3.4', sides, c, writeRows);
        }
      }
      const names = Array.from({ length: 1000 }, (_, i) => `rk_${i}`);
      const wantReads = O.sections.has('reads') && O.readMembers.includes(m);
      const wantMixed = O.sections.has('mixed') && m === 3;
      if (wantReads || wantMixed) {
        await seedReadKeys(ours, CUBEFS_WORKLOAD, names);
        if (peer !== null) await seedReadKeys(peer, ETCD_WORKLOAD, names);
      }
      if (wantReads) {
        const modes: [string, ReadMode, 'leader' | 'followers'][] = [
          ['linearizable, leader', 'linearizable', 'leader'],
          ['linearizable, followers', 'linearizable', 'followers'],
          ['serializable, followers', 'serializable', 'followers'],
        ];
        for (const [label, mode, where] of modes) {
          if (where === 'followers' && m === 1) continue;
          for (const c of O.readClients) {
            const urlsOf = async (s: RunningSystem): Promise<string[]> => {
              const l = await s.leader();
              return where === 'leader' ? [s.urls[l]] : s.urls.filter((_, i) => i !== l);
            };
            const suffix = mode === 'serializable' ? '-read-serializable' : '-read';
            const sides = [side('cubemaster', ours, await urlsOf(ours), () => CUBEFS_WORKLOAD.read(mode, names), CUBEFS_WORKLOAD.readOk, `cubefs${suffix}`)];
            if (peer !== null) sides.push(side('etcd', peer, await urlsOf(peer), () => ETCD_WORKLOAD.read(mode, names), ETCD_WORKLOAD.readOk, `etcd${suffix}`));
            await cell('reads', `${memberLabel}, ${label}, ${c} clients`, 'etcd 3.4', sides, c, readRows);
          }
        }
      }
      if (wantMixed) {
        const mixed = (w: Workload) => (tag: string) => {
          const write = w.write(tag);
          const read = w.read('linearizable', names);
          return (client: number, seq: number) => (seq % 10 === 0 ? write(client, seq) : read(client, seq));
        };
        const okEither = (w: Workload) => (status: number, body: string) => w.writeOk(status, body) || w.readOk(status, body);
        const sides = [side('cubemaster', ours, ours.urls, mixed(CUBEFS_WORKLOAD), okEither(CUBEFS_WORKLOAD), 'cubefs-mixed')];
        if (peer !== null) sides.push(side('etcd', peer, peer.urls, mixed(ETCD_WORKLOAD), okEither(ETCD_WORKLOAD), 'etcd-mixed'));
        await cell('mixed 90/10', `${memberLabel}, 64 clients over every member`, 'etcd 3.4', sides, 64, mixedRows);
      }
    } finally {
      await ours.stop();
      await peer?.stop();
    }
  }
}

async function goSection(): Promise<void> {
  if (GO_BINARY === null) {
    log('Go master: cfs-server not built (../shared/tools/build-cubefs-ref.sh): section skipped');
    return;
  }
  for (const m of [1, 3]) {
    const ours = await startCubemaster(m, 110 + m);
    const peer = await startGoMaster(GO_BINARY, m, 120 + m);
    try {
      const memberLabel = `${m} master${m > 1 ? 's' : ''}`;
      const leaderUrl = async (s: RunningSystem): Promise<string[]> => [s.urls[await s.leader()]];
      await cell('Go master', `${memberLabel}, /user/create, 64 clients`, 'Go master', [
        side('cubemaster', ours, await leaderUrl(ours), CUBEFS_WORKLOAD.write, CUBEFS_WORKLOAD.writeOk, 'cubefs-write'),
        side('Go', peer, await leaderUrl(peer), GO_WORKLOAD.write, GO_WORKLOAD.writeOk, 'cubefs-write'),
      ], 64, goRows);
      await cell('Go master', `${memberLabel}, /admin/getCluster, 64 clients`, 'Go master', [
        side('cubemaster', ours, await leaderUrl(ours), () => () => CLUSTER_VIEW_READ, isEnvelopeOk, 'cubefs-get:/admin/getCluster'),
        side('Go', peer, await leaderUrl(peer), () => () => CLUSTER_VIEW_READ, isEnvelopeOk, 'cubefs-get:/admin/getCluster'),
      ], 64, goRows);
    } finally {
      await ours.stop();
      await peer.stop();
    }
  }
}

async function failoverSection(): Promise<void> {
  const ours = await startCubemaster(3, 130);
  const peer = HAVE_ETCD ? await startEtcd(3, 131) : null;
  try {
    for (const sig of ['SIGKILL', 'SIGTERM'] as const) {
      const a = await measureFailover(ours, CUBEFS_WORKLOAD, sig, O.failoverRuns, 'fo');
      const b = peer === null ? null : await measureFailover(peer, ETCD_WORKLOAD, sig, O.failoverRuns, 'fo');
      const p50 = (runs: { outageMs: number }[]): number => median(runs.map((r) => r.outageMs));
      const spread = (runs: { outageMs: number }[]): string => `${Math.round(Math.min(...runs.map((r) => r.outageMs)))}-${Math.round(Math.max(...runs.map((r) => r.outageMs)))}`;
      const row: TimedRow = {
        section: 'failover (3 members)',
        cell: `leader ${sig}, ${O.failoverRuns} runs`,
        peerName: 'etcd 3.4',
        figures: [{ name: 'p50 ms to the first acknowledged write', ours: p50(a), peer: b === null ? null : p50(b) }],
        note: `range ms: cubemaster ${spread(a)}${b === null ? '' : `, etcd ${spread(b)}`}`,
      };
      failoverRows.push(row);
      log(`failover ${sig}: cubemaster p50 ${Math.round(p50(a))} ms${b === null ? '' : `, etcd p50 ${Math.round(p50(b))} ms`}`);
    }
  } finally {
    await ours.stop();
    await peer?.stop();
  }
}

interface RecoveryFigures {
  readonly fillSeconds: number;
  readonly rssBytesPer100k: number;
  readonly restartMs: number;
  readonly catchUpMs: number;
  readonly gapMs: number;
}

async function recoveryOf(system: ControllableSystem, workload: Workload, keys: number): Promise<RecoveryFigures> {
  const rssBefore = meanResidentBytes(system);
  const leader = await system.leader();
  const fillSeconds = await fillKeys(system.urls[leader], workload, keys, 128, `k${keys}`, (done) => log(`  ${system.name}: ${done} keys written`));
  const rssAfter = meanResidentBytes(system);
  const restartMs = await restartToReady(system, workload, `rs${keys}`);
  const { catchUpMs, longestWriteGapMs } = await replaceFollower(system, workload, `cu${keys}`);
  return { fillSeconds, rssBytesPer100k: ((rssAfter - rssBefore) / keys) * 100_000, restartMs, catchUpMs, gapMs: longestWriteGapMs };
}

async function recoverySection(): Promise<void> {
  for (const keys of O.keys) {
    const results: { ours: RecoveryFigures; peer: RecoveryFigures | null } = { ours: null as unknown as RecoveryFigures, peer: null };
    // One system at a time: the fill is long and both at once would slow each other.
    const ours = await startCubemaster(3, 140);
    try {
      results.ours = await recoveryOf(ours, CUBEFS_WORKLOAD, keys);
    } finally {
      await ours.stop();
    }
    if (HAVE_ETCD) {
      const peer = await startEtcd(3, 141);
      try {
        results.peer = await recoveryOf(peer, ETCD_WORKLOAD, keys);
      } finally {
        await peer.stop();
      }
    }
    const { ours: a, peer: b } = results;
    recoveryRows.push({
      section: 'recovery (3 members)',
      cell: `${keys.toLocaleString('en-US')} keys`,
      peerName: 'etcd 3.4',
      figures: [
        { name: 'restart to ready ms', ours: a.restartMs, peer: b?.restartMs ?? null },
        { name: 'new member caught up ms', ours: a.catchUpMs, peer: b?.catchUpMs ?? null },
        { name: 'longest write gap meanwhile ms', ours: a.gapMs, peer: b?.gapMs ?? null },
      ],
      note: `fill at 128 clients: cubemaster ${Math.round(keys / a.fillSeconds)}/s${b === null ? '' : `, etcd ${Math.round(keys / b.fillSeconds)}/s`}`,
    });
    memoryRows.push({
      section: 'resident memory',
      cell: `per 100,000 keys (after ${keys.toLocaleString('en-US')})`,
      peerName: 'etcd 3.4',
      figures: [{ name: 'MiB per member', ours: a.rssBytesPer100k / 2 ** 20, peer: b === null ? null : b.rssBytesPer100k / 2 ** 20 }],
      note: 'cubemaster key = one user (two records: #user# and #ak#); etcd key = one 64-byte value',
    });
    log(`recovery ${keys} keys: cubemaster restart ${Math.round(a.restartMs)} ms, catch-up ${Math.round(a.catchUpMs)} ms (gap ${Math.round(a.gapMs)} ms)${b === null ? '' : `; etcd restart ${Math.round(b.restartMs)} ms, catch-up ${Math.round(b.catchUpMs)} ms (gap ${Math.round(b.gapMs)} ms)`}`);
  }
}

async function memorySection(): Promise<void> {
  const { bytesPer100k, dps } = await cubemasterBytesPer100kDataPartitions(O.dps, O.dpNodes, (line) => log(`  ${line}`));
  memoryRows.push({
    section: 'resident memory',
    cell: `per 100,000 data partitions (measured with ${dps.toLocaleString('en-US')})`,
    peerName: 'etcd 3.4',
    figures: [{ name: 'MiB per member', ours: bytesPer100k / 2 ** 20, peer: null }],
    note: 'etcd holds no data partitions: no peer figure',
  });
  log(`memory: ${(bytesPer100k / 2 ** 20).toFixed(1)} MiB per 100k data partitions`);
}

// ------------------------------------------------------------------ targets and output

function targets(): Target[] {
  const w = (m: number, c: number): ThroughputRow | undefined => writeRows.find((r) => r.cell === `${m} member${m > 1 ? 's' : ''}, ${c} client${c > 1 ? 's' : ''}`);
  const out: Target[] = [];
  const x = (r: ThroughputRow | undefined): number => (r?.peer ? r.ours.opsPerSec / r.peer.opsPerSec : NaN);
  const w364 = w(3, 64);
  out.push({ goal: '3 members, 64 clients: writes/s at least 1.5x etcd, p99 no higher', measured: w364?.peer ? `x${x(w364).toFixed(2)}, p99 ${w364.ours.p99Ms.toFixed(1)} vs ${w364.peer.p99Ms.toFixed(1)} ms` : 'n/a', met: w364?.peer ? x(w364) >= 1.5 && w364.ours.p99Ms <= w364.peer.p99Ms : null });
  const w164 = w(1, 64);
  out.push({ goal: '1 member, 64 clients: writes/s at least 1.5x etcd', measured: w164?.peer ? `x${x(w164).toFixed(2)}` : 'n/a', met: w164?.peer ? x(w164) >= 1.5 : null });
  for (const m of [1, 3]) {
    const r = w(m, 1);
    out.push({ goal: `${m} member${m > 1 ? 's' : ''}, 1 client: p50 no higher than etcd's`, measured: r?.peer ? `${r.ours.p50Ms.toFixed(2)} vs ${r.peer.p50Ms.toFixed(2)} ms` : 'n/a', met: r?.peer ? r.ours.p50Ms <= r.peer.p50Ms : null });
  }
  for (const where of ['leader', 'followers']) {
    const r = readRows.find((row) => row.cell === `3 members, linearizable, ${where}, 64 clients`);
    out.push({ goal: `3 members, linearizable reads (${where}, 64 clients): at least 2x etcd`, measured: r?.peer ? `x${x(r).toFixed(2)}` : 'n/a', met: r?.peer ? x(r) >= 2 : null });
  }
  for (const m of [1, 3]) {
    const r = goRows.find((row) => row.cell === `${m} master${m > 1 ? 's' : ''}, /user/create, 64 clients`);
    out.push({ goal: `/user/create on ${m} master${m > 1 ? 's' : ''}: at least 10x the Go master`, measured: r?.peer ? `x${x(r).toFixed(1)}` : 'n/a', met: r?.peer ? x(r) >= 10 : null });
  }
  const million = recoveryRows.find((r) => r.cell.startsWith('1,000,000'));
  const restart = million?.figures[0].ours;
  out.push({ goal: 'restart to ready with 1M keys within 5 s', measured: restart === undefined ? 'n/a' : `${(restart / 1000).toFixed(2)} s`, met: restart === undefined ? null : restart <= 5000 });
  const catchUp = million?.figures[1].ours;
  const gap = million?.figures[2].ours;
  out.push({
    goal: 'new member caught up from a 1M-key snapshot within 15 s, no write outage on the others (longest gap under 1 s)',
    measured: catchUp === undefined || gap === undefined ? 'n/a' : `${(catchUp / 1000).toFixed(2)} s, longest gap ${Math.round(gap)} ms`,
    met: catchUp === undefined || gap === undefined ? null : catchUp <= 15_000 && gap < 1000,
  });
  return out;
}

function machine(): string {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.+)/)?.[1] ?? 'unknown CPU';
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return `${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}, cubemaster ${commit}`;
}

function report(startedAt: Date): string {
  const lines = [
    `# cubemaster side by side (npm run bench:compare)`,
    '',
    `${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine()}; peers: ${HAVE_ETCD ? `etcd ${etcdVersion()} (Debian etcd-server)` : 'etcd not installed'}, ${GO_BINARY === null ? 'Go master not built' : `Go CubeFS master (${GO_BINARY})`}.`,
    `Every figure is the median of ${O.runs} run${O.runs > 1 ? 's' : ''} of ${O.seconds} s (after ${O.warmup} s of warm-up), systems alternating which goes first cell by cell; closed-loop keep-alive HTTP clients on the same machine: ${CLIENT === 'wrk' ? "Debian's wrk (bench/wrk/workload.lua), one process per target member" : 'Node http clients in one process'} for the throughput tables, Node clients for failover and recovery. Ratios are cubemaster / peer.`,
    '',
    '**Durability, both sides as shipped:** cubemaster acknowledges a write once it is fdatasync\'d in the Raft log of a majority (one fdatasync per Ready on each member, group commit) and applied on the leader; the state store (RocksDB) is a checkpoint written behind the log and rebuilt from it after a crash. etcd: WAL fsync before acknowledging (--unsafe-no-fsync off), --snapshot-count 100000 (3.4 default), backend commit every 100 ms. The Go master: its defaults (raft WAL, RocksDB).',
    '',
  ];
  const section = (title: string, table: string[]): void => {
    if (table.length === 0) return;
    lines.push(`## ${title}`, '', ...table, '');
  };
  section('Targets', targetsTable(targets()));
  section('Replicated small writes (cubemaster /user/create, etcd put of a 64-byte value), clients on the leader', throughputTable(writeRows));
  section('Reads (cubemaster /user/info, etcd range of one key)', throughputTable(readRows));
  section('Mixed 90% linearizable reads, 10% writes', throughputTable(mixedRows));
  section('Against the Go CubeFS master', throughputTable(goRows));
  section('Failover (lower is better)', timedTable(failoverRows));
  section('Restart and catch-up (lower is better)', timedTable(recoveryRows));
  section('Memory (lower is better)', timedTable(memoryRows));
  lines.push(`![ratios](${outName}.svg)`, '');
  return lines.join('\n');
}

const startedAt = new Date();
const outName = FULL_RUN ? 'compare' : `compare-${startedAt.toISOString().slice(0, 16).replace(':', '')}-${[...O.sections].join('-')}`;
log(`bench:compare: sections ${[...O.sections].join(',')}; members ${O.members.join(',')}; client ${CLIENT}; ${HAVE_ETCD ? '' : 'etcd NOT installed (apt-get install etcd-server): no etcd column; '}${GO_BINARY === null ? 'Go master not built' : 'Go master found'}`);
if (O.sections.has('writes') || O.sections.has('reads') || O.sections.has('mixed')) await throughputSections();
if (O.sections.has('go')) await goSection();
if (O.sections.has('failover')) await failoverSection();
if (O.sections.has('recovery')) await recoverySection();
if (O.sections.has('memory')) await memorySection();

const markdown = report(startedAt);
mkdirSync(values.out, { recursive: true });
writeFileSync(path.join(values.out, `${outName}.md`), markdown);
if (FULL_RUN) writeFileSync(path.join(values.out, `compare-${startedAt.toISOString().slice(0, 10)}.md`), markdown);
writeFileSync(path.join(values.out, `${outName}.svg`), ratioChartSvg([...writeRows, ...readRows, ...mixedRows, ...goRows], `cubemaster throughput / peer's, ${startedAt.toISOString().slice(0, 10)}, ${os.cpus().length} cores`));
console.log(`\n${markdown}\nwritten: ${path.join(values.out, `${outName}.md`)} and .svg`);
if (values.readme) {
  const readme = readFileSync('README.md', 'utf8');
  const begin = '<!-- bench:compare begin -->';
  const end = '<!-- bench:compare end -->';
  const at = readme.indexOf(begin);
  const to = readme.indexOf(end);
  if (at < 0 || to < at) console.error('README.md has no bench:compare markers: not updated');
  else writeFileSync('README.md', `${readme.slice(0, at + begin.length)}\n${markdown.replace(/^# .*\n/, '').replace('![ratios](compare.svg)', '![ratios](bench/results/compare.svg)')}\n${readme.slice(to)}`);
}
