// A time-series chart (uPlot) that follows its container's width and takes new data in place,
// without being rebuilt, as the page polls.

import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartLine {
  readonly label: string;
  readonly color: string;
  /** One value per timestamp; null leaves a gap. */
  readonly values: readonly (number | null)[];
}

export interface ChartProps {
  readonly title: string;
  /** Unix seconds. */
  readonly times: readonly number[];
  readonly lines: readonly ChartLine[];
  readonly unit: string;
  readonly heightPx?: number;
  readonly name?: string;
}

function formatValue(unit: string) {
  return (_u: uPlot, v: number | null): string => (v === null || v === undefined ? '–' : `${v >= 100 ? Math.round(v) : v.toFixed(v >= 10 ? 1 : 2)} ${unit}`);
}

/** Unix seconds as the local 24-hour time, "14:03:20". */
function clockTime(unixSec: number): string {
  const d = new Date(unixSec * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function Chart({ title, times, lines, unit, heightPx = 180, name }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = [times, ...lines.map((l) => l.values)] as unknown as uPlot.AlignedData;
  const shape = `${unit}|${lines.map((l) => `${l.label}:${l.color}`).join(',')}`;

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const options: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: heightPx,
      // Labels only: live values under a moving cursor are noise at a glance.
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { stroke: '#5b6472', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#d5d9e0' }, values: (_u, splits) => splits.map(clockTime) },
        { stroke: '#5b6472', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#d5d9e0' }, size: 60, values: (_u, splits) => splits.map((v) => `${v}`) },
      ],
      series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 2, value: formatValue(unit), spanGaps: false }))],
    };
    const u = new uPlot(options, data, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: heightPx }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // The chart is rebuilt only when its lines change; new data goes through setData below.
  }, [shape, heightPx]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return (
    <figure class="chart" data-chart={name}>
      <figcaption>
        {title} <span class="muted">({unit})</span>
      </figcaption>
      <div ref={box} class="chart-box" />
    </figure>
  );
}
