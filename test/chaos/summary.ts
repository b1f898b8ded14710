// The closing report of chaos runs: faults by kind, availability after each kind, the vol and
// data node operations by answer, and the one-line verdict the soak and CI grep for.
import type { FaultKind } from './faults.js';
import type { ChaosRunResult } from './harness.js';

export function formatChaosSummary(results: readonly ChaosRunResult[]): string {
  const byKind = new Map<FaultKind, number>();
  const availability = new Map<FaultKind, number[]>();
  for (const r of results) {
    for (const f of r.faults) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
    for (const [kind, ms] of r.availabilityMs) availability.set(kind, [...(availability.get(kind) ?? []), ...ms]);
  }
  const lines = ['fault kind        | injected | first write after it: median ms | max ms'];
  for (const [kind, count] of [...byKind].sort((a, b) => b[1] - a[1])) {
    const ms = [...(availability.get(kind) ?? [])].sort((a, b) => a - b);
    const median = ms.length === 0 ? NaN : ms[Math.floor(ms.length / 2)];
    lines.push(`${kind.padEnd(17)} | ${String(count).padStart(8)} | ${median.toFixed(0).padStart(31)} | ${ms.length === 0 ? 'n/a' : Math.max(...ms).toFixed(0)}`);
  }
  const domain = new Map<string, number>();
  for (const r of results) for (const [key, n] of r.domainCounts) domain.set(key, (domain.get(key) ?? 0) + n);
  if (domain.size > 0) {
    // One line per operation: "vol.create 120 ok, 300 duplicate, 5 lost, 2 code_4".
    const byOp = new Map<string, string[]>();
    const opOf = (key: string): string => key.split(' ')[0];
    for (const [key, n] of [...domain].sort((a, b) => opOf(a[0]).localeCompare(opOf(b[0])) || b[1] - a[1])) {
      const [f, outcome] = key.split(' ');
      byOp.set(f, [...(byOp.get(f) ?? []), outcome === undefined ? `${n}` : `${n} ${outcome}`]);
    }
    lines.push(`domain operations (vol.removal: added per delete that may have marked):`);
    for (const [f, parts] of byOp) lines.push(`  ${f.padEnd(13)} ${parts.join(', ')}`);
    const settle = results.map((r) => r.settleMs).filter((ms) => ms > 0);
    if (settle.length > 0) lines.push(`domain settle after the heal: max ${Math.max(...settle).toFixed(0)} ms`);
  }
  const operations = results.reduce((n, r) => n + r.operations, 0);
  const anomalies = results.filter((r) => r.anomaly !== null || r.problems.length > 0).length;
  const lost = results.reduce((n, r) => n + r.lostWrites.length, 0);
  const faults = results.reduce((n, r) => n + r.faults.length, 0);
  lines.push(`chaos: ${results.length} seeds, ${operations} operations, ${anomalies} anomalies, ${lost} lost writes, ${faults} faults injected`);
  return lines.join('\n');
}
