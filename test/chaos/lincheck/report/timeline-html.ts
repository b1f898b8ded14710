// Draws the failing window as a self-contained HTML page (inline SVG and CSS, no scripts or
// external files): one lane per client, one bar per operation from call to return, the failure
// point as a red line. Time is drawn by rank, not to scale: concurrency is what matters, and
// real clocks put long idle gaps between the interesting events.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Anomaly } from '../anomaly.js';
import type { Model } from '../model.js';
import { isIndeterminate } from '../operation.js';
import { formatAnomaly } from './anomaly-text.js';
import { describeOperation, describeState, formatInterval, formatTime } from './describe.js';

const RANK_WIDTH_PX = 56;
const LANE_HEIGHT_PX = 30;
const BAR_HEIGHT_PX = 22;
const LABEL_WIDTH_PX = 90;
const AXIS_HEIGHT_PX = 40;
/** Prefix operations drawn before the window, to show what made the state. */
const PREFIX_CONTEXT_OPS = 5;

const STYLE = `
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
.scroll { overflow-x: auto; border: 1px solid #ddd; padding: 8px; }
.legend span { display: inline-block; margin-right: 18px; }
.swatch { display: inline-block; width: 14px; height: 14px; vertical-align: middle; margin-right: 4px; border: 1px solid #555; }
svg text { font: 11px ui-monospace, monospace; }
pre { background: #f6f6f6; padding: 12px; overflow-x: auto; }
`;

type BarKind = 'linearized' | 'possible' | 'impossible';
const BAR_COLORS: Record<BarKind, { fill: string; stroke: string; legend: string }> = {
  linearized: { fill: '#cfe8cf', stroke: '#4a8f4a', legend: 'in the longest linearizable prefix (number = its place)' },
  possible: { fill: '#ffe2a8', stroke: '#b07d00', legend: 'pending: possible next, but every ordering after it fails' },
  impossible: { fill: '#f7c1c1', stroke: '#b03a2e', legend: 'pending: impossible after the prefix' },
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderTimelineHtml<I, O, S>(model: Model<I, O, S>, anomaly: Anomaly<I, O, S>, title = 'Linearizability violation'): string {
  const ops = anomaly.operations;
  const prefixPosition = new Map(anomaly.prefix.map((opIndex, position) => [opIndex, position + 1]));
  const acceptedAfterPrefix = new Map(anomaly.pending.map((p) => [p.opIndex, p.acceptedAfterPrefix]));
  const shown = [...new Set([...anomaly.prefix.slice(-PREFIX_CONTEXT_OPS), ...anomaly.window])].sort(
    (a, b) => ops[a].call - ops[b].call || a - b,
  );

  // x axis: every finite time shown gets its own rank; +Infinity goes past the last one.
  const times = [...new Set(shown.flatMap((i) => [ops[i].call, ops[i].return]).concat(anomaly.windowStart, anomaly.failureTime))]
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b);
  const rankOf = new Map(times.map((t, rank) => [t, rank]));
  const x = (time: number): number => LABEL_WIDTH_PX + RANK_WIDTH_PX * (Number.isFinite(time) ? rankOf.get(time)! + 0.5 : times.length + 1);

  // Lanes: one per client, split into rows when a client's bars overlap (an indeterminate
  // operation runs to the right edge, and a reused process id would overlap it).
  const rowsByClient = new Map<number, number[][]>();
  for (const opIndex of shown) {
    const op = ops[opIndex];
    const rows = rowsByClient.get(op.clientId) ?? [];
    rowsByClient.set(op.clientId, rows);
    const row = rows.find((r) => ops[r[r.length - 1]].return < op.call);
    if (row) row.push(opIndex);
    else rows.push([opIndex]);
  }
  const lanes: { clientId: number; ops: number[] }[] = [...rowsByClient.entries()]
    .sort(([a], [b]) => a - b)
    .flatMap(([clientId, rows]) => rows.map((row) => ({ clientId, ops: row })));

  const failureX = x(anomaly.failureTime) + RANK_WIDTH_PX / 4;
  const failureLabel = `every ordering fails here (t=${formatTime(anomaly.failureTime)})`;
  // Room on the right for the failure label, at about 7 px per character.
  const width = Math.max(x(Number.POSITIVE_INFINITY) + RANK_WIDTH_PX, failureX + 8 + failureLabel.length * 7);
  const height = AXIS_HEIGHT_PX + lanes.length * LANE_HEIGHT_PX + 10;
  const svg: string[] = [];
  svg.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  for (const time of times) {
    svg.push(`<line x1="${x(time)}" y1="${AXIS_HEIGHT_PX - 6}" x2="${x(time)}" y2="${height}" stroke="#eee"/>`);
    svg.push(`<text x="${x(time)}" y="${AXIS_HEIGHT_PX - 10}" text-anchor="middle" fill="#888">${time}</text>`);
  }
  svg.push(`<text x="${x(Number.POSITIVE_INFINITY)}" y="${AXIS_HEIGHT_PX - 10}" text-anchor="middle" fill="#888">∞</text>`);
  lanes.forEach((lane, laneIndex) => {
    const y = AXIS_HEIGHT_PX + laneIndex * LANE_HEIGHT_PX;
    svg.push(`<text x="4" y="${y + BAR_HEIGHT_PX / 2 + 4}">client ${lane.clientId}</text>`);
    for (const opIndex of lane.ops) svg.push(renderBar(opIndex, y));
  });
  svg.push(`<line x1="${x(anomaly.windowStart) - RANK_WIDTH_PX / 4}" y1="${AXIS_HEIGHT_PX - 4}" x2="${x(anomaly.windowStart) - RANK_WIDTH_PX / 4}" y2="${height}" stroke="#777" stroke-dasharray="5 4"/>`);
  svg.push(`<line x1="${failureX}" y1="12" x2="${failureX}" y2="${height}" stroke="#d00" stroke-width="2"/>`);
  svg.push(`<text x="${failureX + 4}" y="12" fill="#d00">${escapeHtml(failureLabel)}</text>`);
  svg.push('</svg>');

  function renderBar(opIndex: number, laneY: number): string {
    const op = ops[opIndex];
    const position = prefixPosition.get(opIndex);
    const kind: BarKind = position !== undefined ? 'linearized' : acceptedAfterPrefix.get(opIndex) ? 'possible' : 'impossible';
    const colors = BAR_COLORS[kind];
    const x1 = x(op.call) - RANK_WIDTH_PX / 4;
    const x2 = x(op.return) + RANK_WIDTH_PX / 4;
    const y = laneY + (LANE_HEIGHT_PX - BAR_HEIGHT_PX) / 2;
    const blocked = opIndex === anomaly.blockedOpIndex;
    const label = `${position !== undefined ? `${position}. ` : ''}${describeOperation(model, op)}`;
    const tooltip = `op #${anomaly.historyIds[opIndex]}, client ${op.clientId}: ${describeOperation(model, op)} ${formatInterval(op)}` +
      (position !== undefined ? `, linearized ${position}` : ', not linearized') + (isIndeterminate(op) ? ', indeterminate' : '');
    const clipId = `clip-${opIndex}`;
    return [
      `<g><title>${escapeHtml(tooltip)}</title>`,
      `<clipPath id="${clipId}"><rect x="${x1}" y="${y}" width="${x2 - x1}" height="${BAR_HEIGHT_PX}"/></clipPath>`,
      `<rect x="${x1}" y="${y}" width="${x2 - x1}" height="${BAR_HEIGHT_PX}" rx="4" fill="${colors.fill}" stroke="${blocked ? '#d00' : colors.stroke}"` +
        ` stroke-width="${blocked ? 3 : 1}"${isIndeterminate(op) ? ' stroke-dasharray="5 3" fill-opacity="0.6"' : ''}/>`,
      `<text x="${x1 + 4}" y="${y + BAR_HEIGHT_PX / 2 + 4}" clip-path="url(#${clipId})">${escapeHtml(label)}</text></g>`,
    ].join('');
  }

  const legend = (Object.keys(BAR_COLORS) as BarKind[])
    .map((kind) => `<span><i class="swatch" style="background:${BAR_COLORS[kind].fill};border-color:${BAR_COLORS[kind].stroke}"></i>${escapeHtml(BAR_COLORS[kind].legend)}</span>`)
    .concat(
      '<span><i class="swatch" style="border:3px solid #d00"></i>returns where every ordering fails</span>',
      '<span><i class="swatch" style="border-style:dashed"></i>indeterminate (no answer seen; runs to the right edge)</span>',
    )
    .join('');
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>No ordering of the ${model.name} history gets past t=${escapeHtml(formatTime(anomaly.failureTime))}. ` +
      `Longest linearizable prefix: ${anomaly.prefix.length} of ${ops.length} operations, leaving state ` +
      `<code>${escapeHtml(describeState(model, anomaly.stateAfterPrefix))}</code>. Shown: the failing window ` +
      `[${escapeHtml(formatTime(anomaly.windowStart))}, ${escapeHtml(formatTime(anomaly.failureTime))}] (dashed line to red line) ` +
      `and the last operations of the prefix before it. Hover a bar for details.</p>`,
    `<p class="legend">${legend}</p>`,
    `<div class="scroll">${svg.join('\n')}</div>`,
    `<h2>Report</h2><pre>${escapeHtml(formatAnomaly(model, anomaly))}</pre>`,
    '</body></html>',
  ].join('\n');
}

export function writeTimelineHtml<I, O, S>(path: string, model: Model<I, O, S>, anomaly: Anomaly<I, O, S>, title?: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderTimelineHtml(model, anomaly, title));
}
