// Summary of a V8 .cpuprofile (`node --cpu-prof`) for `npm run bench:heartbeats --prof DIR`:
// self time by function and by source area, optionally only for the samples taken inside a time
// window. V8 stamps samples with the monotonic clock in microseconds, the clock behind
// process.hrtime on Linux, so the bench passes the window as hrtime microseconds.
// Usable on its own: node cpu-profile.js FILE [fromUs toUs [functionName...]].
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  readonly sampledMs: number;
  readonly idleMs: number;
  readonly byFunction: readonly { readonly name: string; readonly ms: number }[];
  readonly byArea: readonly { readonly name: string; readonly ms: number }[];
  /** Inclusive time (self + callees) of the watched function names. */
  readonly inclusive: readonly { readonly name: string; readonly ms: number }[];
}

/** Where a frame's code lives: our source folder, a dependency, or Node itself. */
function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const dist = url.match(/\/(src|bench|test)\/([^/]+)\//);
  if (!url.includes('node_modules') && dist !== null) return `${dist[1]}/${dist[2]}`;
  const mod = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (mod !== null) return mod[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return path.basename(url);
}

export function summarizeProfile(file: string, fromUs = -Infinity, toUs = Infinity, watch: readonly string[] = [], top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const watched = new Set(watch);
  const inclusiveUs = new Map<string, number>(watch.map((w) => [w, 0]));
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  let sampled = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < fromUs || t > toUs) continue;
    // A sample's weight is the time to the next one (the last one gets the previous delta).
    const weight = profile.timeDeltas[i + 1] ?? delta;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + weight);
    sampled += weight;
    if (watched.size > 0) {
      const seen = new Set<string>();
      for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parentOf.get(id)) {
        const name = byId.get(id)!.callFrame.functionName;
        if (watched.has(name) && !seen.has(name)) {
          seen.add(name);
          inclusiveUs.set(name, inclusiveUs.get(name)! + weight);
        }
      }
    }
  }
  const fn = new Map<string, number>();
  const area = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const where = frame.url === '' ? '' : ` ${path.basename(frame.url)}:${frame.lineNumber + 1}`;
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    const a = areaOf(frame.url, frame.functionName);
    area.set(a, (area.get(a) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000 }));
  const inclusive = watch.map((name) => ({ name, ms: inclusiveUs.get(name)! / 1000 }));
  return { sampledMs: sampled / 1000, idleMs: idle / 1000, byFunction: sorted(fn), byArea: sorted(area), inclusive };
}

export function printProfile(title: string, s: ProfileSummary): void {
  const busy = s.sampledMs - s.idleMs;
  console.log(`${title}: ${(s.sampledMs / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy (${((100 * busy) / Math.max(1, s.sampledMs)).toFixed(0)}%)`);
  console.log('  self time by area:');
  for (const a of s.byArea) console.log(`    ${((100 * a.ms) / Math.max(1, busy)).toFixed(1).padStart(5)}%  ${a.ms.toFixed(0).padStart(7)} ms  ${a.name}`);
  if (s.inclusive.length > 0) {
    console.log('  inclusive time of:');
    for (const f of s.inclusive) console.log(`    ${((100 * f.ms) / Math.max(1, busy)).toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}`);
  }
  console.log('  self time by function:');
  for (const f of s.byFunction) console.log(`    ${((100 * f.ms) / Math.max(1, busy)).toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, from, to, ...watch] = process.argv.slice(2);
  if (file === undefined) {
    console.error('usage: cpu-profile.js FILE.cpuprofile [fromUs toUs]');
    process.exitCode = 2;
  } else {
    printProfile(path.basename(file), summarizeProfile(file, from === undefined ? -Infinity : Number(from), to === undefined ? Infinity : Number(to), watch));
  }
}
