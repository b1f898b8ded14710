// Small pieces every page uses: status badges, usage bars, summary tiles, section frames, and the
// line that says how fresh a page's data is.

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Polled } from './api.js';
import { age, bytes, percent, ratio } from './format.js';

export type Tone = 'ok' | 'warn' | 'bad' | 'muted' | 'info';

export function Badge({ tone, children }: { tone: Tone; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

/** A bar filled to used/total, amber from 80 %, red from 95 %, with the figures beside it. */
export function UsageBar({ used, total }: { used: number | string; total: number | string }) {
  const r = ratio(used, total);
  const tone = r >= 0.95 ? 'bad' : r >= 0.8 ? 'warn' : 'ok';
  return (
    <span class="usage" title={`${bytes(used)} of ${bytes(total)}`}>
      <span class="usage-bar">
        <span class={`usage-fill usage-${tone}`} style={{ width: `${(r * 100).toFixed(1)}%` }} />
      </span>
      <span class="usage-text">
        {bytes(used)} / {bytes(total)} <span class="muted">({percent(r)})</span>
      </span>
    </span>
  );
}

export function Tile({ label, children, sub, tone, name }: { label: string; children: ComponentChildren; sub?: ComponentChildren; tone?: Tone; name?: string }) {
  return (
    <div class={`tile${tone !== undefined ? ` tile-${tone}` : ''}`} data-tile={name}>
      <div class="tile-label">{label}</div>
      <div class="tile-value">{children}</div>
      {sub !== undefined && <div class="tile-sub">{sub}</div>}
    </div>
  );
}

export function Section({ title, aside, children, name }: { title: ComponentChildren; aside?: ComponentChildren; children: ComponentChildren; name?: string }) {
  return (
    <section class="section" data-section={name}>
      <header class="section-head">
        <h2>{title}</h2>
        {aside !== undefined && <div class="section-aside">{aside}</div>}
      </header>
      {children}
    </section>
  );
}

/** The current time, ticking every second (for ages that stay true between polls). */
export function useNow(periodMs = 1_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(timer);
  }, [periodMs]);
  return now;
}

/** "updated 1 s ago", or why the latest update failed while older data stays on screen. */
export function Freshness<T>({ polled }: { polled: Polled<T> }) {
  const now = useNow();
  if (polled.error !== null) {
    return (
      <span class="freshness freshness-stale" role="status">
        {polled.updatedAtMs === null ? 'no data' : `stale, last update ${age(polled.updatedAtMs, now)}`}: {polled.error.message}
      </span>
    );
  }
  if (polled.updatedAtMs === null) return <span class="freshness">loading…</span>;
  return <span class="freshness">updated {age(polled.updatedAtMs, now)}</span>;
}

/** Renders `children(data)` once there is data; until then a loading line or the error. */
export function WithData<T>({ polled, children }: { polled: Polled<T>; children: (data: T) => ComponentChildren }) {
  if (polled.data !== null) return <>{children(polled.data)}</>;
  if (polled.error !== null) return <p class="empty error">Cannot show this: {polled.error.message}</p>;
  return <p class="empty">Loading…</p>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}
