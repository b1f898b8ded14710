// The comparison's output: markdown tables (one per section), the targets of issue 10 checked
// against the figures, and an SVG chart of the throughput ratios.
import type { CellFigures } from './throughput.js';

export interface ThroughputRow {
  readonly section: string;
  readonly cell: string;
  readonly ours: CellFigures;
  readonly peer: CellFigures | null;
  readonly peerName: string;
}

export interface TimedRow {
  readonly section: string;
  readonly cell: string;
  /** Lower is better for every figure of a timed row. */
  readonly figures: readonly { readonly name: string; readonly ours: number; readonly peer: number | null }[];
  readonly peerName: string;
  readonly note?: string;
}

export interface Target {
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean | null;
}

const fmt = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
const ratio = (ours: number, peer: number | null | undefined): string => (peer === null || peer === undefined || !Number.isFinite(peer) || peer === 0 || !Number.isFinite(ours) ? 'n/a' : `x${(ours / peer).toFixed(2)}`);
const pair = (ours: number, peer: number | null | undefined, digits: number): string => `${fmt(ours, digits)} / ${peer === null || peer === undefined ? 'n/a' : fmt(peer, digits)}`;

export function throughputTable(rows: readonly ThroughputRow[]): string[] {
  if (rows.length === 0) return [];
  const peerName = rows[0].peerName;
  return [
    `| ${rows[0].section} | cubemaster ops/s | ${peerName} ops/s | ratio | p50 ms (ours / peer) | p99 ms | p99.9 ms | CPU s per 1,000 ops per member | leader CPU s per 1,000 |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) =>
      [
        '',
        r.cell,
        fmt(r.ours.opsPerSec),
        r.peer === null ? 'n/a' : fmt(r.peer.opsPerSec),
        `**${ratio(r.ours.opsPerSec, r.peer?.opsPerSec)}**`,
        pair(r.ours.p50Ms, r.peer?.p50Ms, 2),
        pair(r.ours.p99Ms, r.peer?.p99Ms, 1),
        pair(r.ours.p999Ms, r.peer?.p999Ms, 1),
        pair(r.ours.cpuSecPer1000PerMember, r.peer?.cpuSecPer1000PerMember, 3),
        pair(r.ours.leaderCpuSecPer1000, r.peer?.leaderCpuSecPer1000, 3),
        '',
      ].join(' | ').trim(),
    ),
  ];
}

export function timedTable(rows: readonly TimedRow[]): string[] {
  if (rows.length === 0) return [];
  const names = rows[0].figures.map((f) => f.name);
  return [
    `| ${rows[0].section} | ${names.map((n) => `${n} (ours / ${rows[0].peerName}) | ratio`).join(' | ')} | note |`,
    `|---|${names.map(() => '---:|---:').join('|')}|---|`,
    ...rows.map((r) => `| ${r.cell} | ${r.figures.map((f) => `${pair(f.ours, f.peer, f.ours < 100 ? 2 : 0)} | ${ratio(f.ours, f.peer)}`).join(' | ')} | ${r.note ?? ''} |`),
  ];
}

export function targetsTable(targets: readonly Target[]): string[] {
  return ['| target (issue 10, point 2) | measured | met |', '|---|---|---|', ...targets.map((t) => `| ${t.goal} | ${t.measured} | ${t.met === null ? 'not measured' : t.met ? 'yes' : '**no**'} |`)];
}

/** Horizontal bars: cubemaster's throughput over the peer's for every throughput cell. */
export function ratioChartSvg(rows: readonly ThroughputRow[], title: string): string {
  const bars = rows.filter((r) => r.peer !== null && r.peer.opsPerSec > 0).map((r) => ({ label: `${r.section}: ${r.cell} vs ${r.peerName}`, value: r.ours.opsPerSec / r.peer!.opsPerSec }));
  const rowH = 22;
  const labelW = 430;
  const plotW = 420;
  const top = 40;
  const maxValue = Math.max(2, ...bars.map((b) => b.value)) * 1.05;
  const x = (v: number): number => labelW + (v / maxValue) * plotW;
  const height = top + bars.length * rowH + 40;
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + plotW + 70}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  for (const [v, dash, name] of [[1, '4 3', 'x1 (level)'], [1.5, '', 'x1.5 (target)'], [2, '2 2', 'x2']] as const) {
    if (v > maxValue) continue;
    parts.push(`<line x1="${x(v)}" y1="${top - 6}" x2="${x(v)}" y2="${top + bars.length * rowH}" stroke="#888" stroke-dasharray="${dash}"/>`);
    parts.push(`<text x="${x(v) + 2}" y="${top - 8}" fill="#555">${name}</text>`);
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const color = b.value >= 1.5 ? '#2e7d32' : b.value >= 1 ? '#f9a825' : '#c62828';
    parts.push(`<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`);
    parts.push(`<rect x="${labelW}" y="${y + 3}" width="${Math.max(1, x(b.value) - labelW)}" height="${rowH - 6}" fill="${color}"/>`);
    parts.push(`<text x="${x(b.value) + 4}" y="${y + 15}">x${b.value.toFixed(2)}</text>`);
  });
  parts.push(`<text x="10" y="${height - 12}" fill="#555">cubemaster ops/s divided by the peer's, same client, same run, alternating cell by cell (green: x1.5 or more)</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
