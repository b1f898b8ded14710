// npm run bench:profile [-- --members 3 --clients 64 --seconds 15 --workload write|read --label before --out bench/results/profile.md]
// V8 CPU profiles of a leader and a follower under closed-loop load (issue 10, point 3): the
// masters preload prof-hook.js, the profilers run only during the measured window, and the
// summary (top functions by self time, and by source area) is printed and appended as a markdown
// section to --out. A profiled run carries the profiler's overhead (sampling every 500 µs): take
// throughput figures from bench:compare, not from here.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { summarizeProfile, type ProfileSummary } from './cpu-profile.js';
import { CUBEFS_WORKLOAD, isEnvelopeOk } from './compare/workloads.js';
import { startCubemaster, type CubemasterSystem } from './systems.js';
import { closedLoop, sleep } from './write-load.js';

const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '3' },
    clients: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '15' },
    workload: { type: 'string', default: 'write' },
    label: { type: 'string', default: 'now' },
    out: { type: 'string' },
    top: { type: 'string', default: '15' },
    keep: { type: 'string' },
  },
});
const MEMBERS = Number(values.members);
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const TOP = Number(values.top);
const WARMUP_SECONDS = 3;
const here = path.dirname(fileURLToPath(import.meta.url));
const PROF_HOOK_JS = path.join(here, 'prof-hook.js');

const profDir = values.keep !== undefined ? path.resolve(values.keep) : mkdtempSync(path.join(tmpdir(), 'bench-prof-'));
mkdirSync(profDir, { recursive: true });
const env = { NODE_OPTIONS: `--import=${pathToFileURL(PROF_HOOK_JS).href}`, HB_PROF_DIR: profDir };
const system: CubemasterSystem = await startCubemaster(MEMBERS, 95, { env: (id) => ({ ...env, HB_PROF_NAME: `m${id}` }) });
try {
  const leader = await system.leader();
  const follower = MEMBERS > 1 ? (leader + 1) % MEMBERS : -1;
  const toggle = (): void => {
    for (const m of system.masters) m.signal('SIGUSR2');
  };
  const load = closedLoop(
    [system.urls[leader]],
    CLIENTS,
    SECONDS,
    values.workload === 'read' ? () => ({ method: 'GET', path: '/admin/getCluster' }) : CUBEFS_WORKLOAD.write(`prof${process.pid}`),
    isEnvelopeOk,
    WARMUP_SECONDS,
  );
  await sleep(WARMUP_SECONDS * 1000);
  toggle();
  await sleep(SECONDS * 1000);
  toggle();
  const figures = await load;
  const summary = `${values.workload} load, ${MEMBERS} members, ${CLIENTS} clients to the leader, ${SECONDS} s profiled: ${Math.round(figures.opsPerSec)} ops/s under the profiler, p50 ${figures.p50Ms.toFixed(2)} ms, p99 ${figures.p99Ms.toFixed(2)} ms`;
  console.log(summary);
  const sections = [`## ${values.label}: ${summary}`, ''];
  const roles: [string, number][] = [['leader', leader]];
  if (follower >= 0) roles.push(['follower', follower]);
  for (const [role, index] of roles) {
    const file = path.join(profDir, `m${system.masters[index].spec.id}-1.cpuprofile`);
    const deadline = Date.now() + 30_000;
    while (!existsSync(file) && Date.now() < deadline) await sleep(100);
    await sleep(300);
    const s = summarizeProfile(file, -Infinity, Infinity, [], TOP);
    sections.push(...markdown(`${role} (member ${system.masters[index].spec.id})`, s, figures.ops), '');
  }
  const text = sections.join('\n');
  console.log(text);
  if (values.out !== undefined) {
    mkdirSync(path.dirname(values.out), { recursive: true });
    appendFileSync(values.out, `${text}\n`);
  }
} finally {
  await system.stop();
  if (values.keep === undefined) rmSync(profDir, { recursive: true, force: true });
}

function markdown(title: string, s: ProfileSummary, ops: number): string[] {
  const busy = s.sampledMs - s.idleMs;
  const lines = [
    `### ${title}: ${(busy / 1000).toFixed(1)} s busy of ${(s.sampledMs / 1000).toFixed(1)} s (${((100 * busy) / Math.max(1, s.sampledMs)).toFixed(0)}%), ${((1000 * busy) / Math.max(1, ops)).toFixed(3)} µs of JS thread per op`,
    '',
    '| self % | self ms | function |',
    '|---:|---:|---|',
    ...s.byFunction.map((f) => `| ${((100 * f.ms) / Math.max(1, busy)).toFixed(1)} | ${f.ms.toFixed(0)} | \`${f.name}\` |`),
    '',
    '| area % | ms | area |',
    '|---:|---:|---|',
    ...s.byArea.map((a) => `| ${((100 * a.ms) / Math.max(1, busy)).toFixed(1)} | ${a.ms.toFixed(0)} | ${a.name} |`),
  ];
  return lines;
}
