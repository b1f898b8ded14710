// Bookkeeping shared by the crash tests: acknowledged writes over many runs, and a summary line.
import type { LoadResult } from './load.js';

export interface AckedWrites {
  readonly ackedUsers: Set<string>;
  readonly ackedMetaNodes: Map<string, number>;
  acked: number;
  attempts: number;
}

export function newAcked(): AckedWrites {
  return { ackedUsers: new Set(), ackedMetaNodes: new Map(), acked: 0, attempts: 0 };
}

export function mergeAcked(into: AckedWrites, result: LoadResult, failures: Map<string, number>): void {
  for (const u of result.ackedUsers) into.ackedUsers.add(u);
  for (const [a, id] of result.ackedMetaNodes) into.ackedMetaNodes.set(a, id);
  into.acked += result.acked;
  into.attempts += result.attempts;
  for (const [k, n] of result.failures) failures.set(k, (failures.get(k) ?? 0) + n);
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export function summarize(what: string, runs: number, stopMs: readonly number[], acked: AckedWrites, failures: Map<string, number>): string {
  const kinds = [...failures].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`).join(', ');
  const stop = stopMs.length > 0 ? `, stop ms median ${percentile(stopMs, 50).toFixed(0)} max ${Math.max(...stopMs).toFixed(0)}` : '';
  return `${what}: ${runs} runs${stop}, ${acked.acked} acknowledged of ${acked.attempts} writes, 0 lost; not acknowledged: ${kinds || 'none'}`;
}
