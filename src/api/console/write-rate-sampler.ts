// The series behind the console's chart of write rate and latency: once a second this member
// notes its Raft applied index and the API's request-latency histogram, and keeps the
// differences in a bounded ring (5 minutes by default). Sampling on the server means the chart
// is already full when an operator opens the console, and costs the same however many consoles
// are open. Commits per second come from the applied index (every write is one entry); latency
// quantiles are estimated from the histogram's bucket counts, as Prometheus's
// histogram_quantile does, over the CubeFS routes only (the console's own polls, /metrics and
// cubemaster's member routes would otherwise measure the console itself).

import type { Histogram, Registry } from 'prom-client';
import type { LogSink } from '../../cluster/ports.js';
import type { ConsoleRateSample } from './contract.js';

/** ApiMetrics' latency histogram (api/metrics.ts). */
export const API_LATENCY_METRIC = 'cubemaster_api_request_duration_seconds';

export const DEFAULT_SAMPLE_INTERVAL_MS = 1_000;
export const DEFAULT_SAMPLE_CAPACITY = 300;

/** Cumulative counts of a histogram: `count` observations were <= `le` seconds (the last le is Infinity). */
export interface HistogramBuckets {
  readonly le: readonly number[];
  readonly counts: readonly number[];
}

export interface WriteRateSamplerOptions {
  readonly appliedIndex: () => number;
  /** Cumulative latency buckets of the requests to chart. */
  readonly latencyBuckets: () => Promise<HistogramBuckets>;
  readonly nowMs: () => number;
  readonly intervalMs?: number;
  /** Samples kept; the oldest is dropped first. */
  readonly capacity?: number;
  readonly log?: LogSink;
}

interface Reading {
  readonly tMs: number;
  readonly applied: number;
  readonly buckets: HistogramBuckets;
}

export class WriteRateSampler {
  readonly intervalMs: number;
  private readonly capacity: number;
  private readonly ring: ConsoleRateSample[] = [];
  private previous: Reading | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private failuresLogged = 0;

  constructor(private readonly options: WriteRateSamplerOptions) {
    this.intervalMs = options.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
    this.capacity = options.capacity ?? DEFAULT_SAMPLE_CAPACITY;
  }

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    // A sampler never keeps a process alive; its owner stops it.
    this.timer.unref();
    this.tick();
  }

  /** Stops the timer and waits for a sample in progress. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  /** Oldest first. */
  samples(): ConsoleRateSample[] {
    return [...this.ring];
  }

  /** Takes one reading now (the timer calls it; tests may too). */
  async sampleNow(): Promise<void> {
    const buckets = await this.options.latencyBuckets();
    const reading: Reading = { tMs: this.options.nowMs(), applied: this.options.appliedIndex(), buckets };
    const previous = this.previous;
    this.previous = reading;
    if (previous === null) return;
    const seconds = (reading.tMs - previous.tMs) / 1000;
    if (seconds <= 0) return;
    const delta = bucketDelta(previous.buckets, reading.buckets);
    const requests = delta === null ? 0 : delta.counts[delta.counts.length - 1] ?? 0;
    this.ring.push({
      tMs: reading.tMs,
      commitsPerSec: Math.max(0, reading.applied - previous.applied) / seconds,
      requestsPerSec: requests / seconds,
      latencyP50Ms: delta === null ? null : toMs(histogramQuantile(0.5, delta)),
      latencyP99Ms: delta === null ? null : toMs(histogramQuantile(0.99, delta)),
    });
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
  }

  private tick(): void {
    if (this.inFlight !== null) return;
    this.inFlight = this.sampleNow()
      .catch((err: unknown) => {
        // One line per failure streak would be ideal; a bounded count keeps a broken registry quiet.
        if (this.failuresLogged++ < 3) this.options.log?.warn({ err }, 'console sampler: reading the metrics failed');
      })
      .finally(() => {
        this.inFlight = null;
      });
  }
}

function toMs(seconds: number | null): number | null {
  return seconds === null ? null : seconds * 1000;
}

/** Observations between two readings, bucket by bucket; null when the buckets changed or none happened. */
export function bucketDelta(before: HistogramBuckets, after: HistogramBuckets): HistogramBuckets | null {
  if (before.le.length !== after.le.length || before.le.some((le, i) => le !== after.le[i])) return null;
  const counts = after.counts.map((c, i) => Math.max(0, c - (before.counts[i] ?? 0)));
  if ((counts[counts.length - 1] ?? 0) === 0) return null;
  return { le: after.le, counts };
}

/**
 * The q-quantile (0..1) of cumulative buckets, interpolating linearly inside the bucket that
 * holds it (Prometheus histogram_quantile); null without observations. A quantile in the +Inf
 * bucket is reported as the largest finite bound: the histogram knows no more.
 */
export function histogramQuantile(q: number, buckets: HistogramBuckets): number | null {
  const { le, counts } = buckets;
  const total = counts[counts.length - 1] ?? 0;
  if (total === 0 || le.length === 0) return null;
  const rank = q * total;
  let i = counts.findIndex((c) => c >= rank);
  if (i < 0) i = counts.length - 1;
  if (le[i] === Infinity) return le.length >= 2 ? le[le.length - 2] : null;
  const lower = i === 0 ? 0 : le[i - 1];
  const below = i === 0 ? 0 : counts[i - 1];
  const inBucket = counts[i] - below;
  if (inBucket <= 0) return le[i];
  return lower + (le[i] - lower) * ((rank - below) / inBucket);
}

/** Routes whose latency the chart shows: CubeFS's, not the console's, the metrics' or cubemaster's own. */
export function chartsRoute(route: string): boolean {
  return route !== 'unmatched' && route !== '/metrics' && !route.startsWith('/console') && !route.startsWith('/cubemaster/');
}

/**
 * Reads the API latency histogram from a prom-client registry, summed over the charted routes.
 * Empty buckets when the metric is absent (an API without metrics shows no latency).
 */
export function registryLatencyBuckets(registry: Registry, includeRoute: (route: string) => boolean = chartsRoute): () => Promise<HistogramBuckets> {
  return async () => {
    const metric = registry.getSingleMetric(API_LATENCY_METRIC) as Histogram | undefined;
    if (metric === undefined) return { le: [], counts: [] };
    const { values } = await metric.get();
    const byLe = new Map<number, number>();
    for (const v of values) {
      if (!v.metricName?.endsWith('_bucket')) continue;
      const route = v.labels.route;
      if (typeof route !== 'string' || !includeRoute(route)) continue;
      const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
      byLe.set(le, (byLe.get(le) ?? 0) + v.value);
    }
    const le = [...byLe.keys()].sort((a, b) => a - b);
    return { le, counts: le.map((b) => byLe.get(b) ?? 0) };
  };
}
