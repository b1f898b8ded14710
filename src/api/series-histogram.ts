// A Prometheus histogram whose series the caller names by a key of its own (issue 10). prom-client's
// Histogram.observe validates and hashes its label object on every call (~0.6 µs of the leader's
// one thread per request, with the request counter beside it); here a series is found by a
// string the caller already has, its labels built once, when the series is new, and a sample
// costs a bucket search and three additions.
//
// It registers in a prom-client Registry like prom-client's own Histogram and exposes the same
// values, in the same order and shape (`name_bucket` with `le` first and cumulative counts,
// `+Inf`, `name_sum`, `name_count`, per series in order of first sample), so `/metrics` reads
// the same: the registry formats it (default labels included) as it formats its own.

import type { Metric, Registry } from 'prom-client';

interface Series {
  readonly labels: Readonly<Record<string, string>>;
  /** Samples per bucket (not cumulative); one more than the bounds: above the last one. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** One exposed value, as prom-client's Histogram returns them to the registry. */
interface ExposedValue {
  readonly value: number;
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly sharedLabels?: Readonly<Record<string, string>>;
  /** null on buckets, undefined on sum and count (as prom-client sets them). */
  readonly exemplar: null | undefined;
}

export interface SeriesHistogramConfig<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  /** Upper bounds, ascending (`le`); +Inf is implied. */
  readonly buckets: readonly number[];
  readonly registers: readonly Registry[];
}

export class SeriesHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly labelNames: readonly L[];
  private readonly bounds: readonly number[];
  private series = new Map<string, Series>();

  constructor(config: SeriesHistogramConfig<L>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    this.bounds = config.buckets;
    for (let i = 1; i < this.bounds.length; i++) if (!(this.bounds[i] > this.bounds[i - 1])) throw new Error(`${config.name}: buckets must ascend`);
    // The registry keeps and formats any metric with this shape; its type lists only its own classes.
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** One sample of the series `key`, whose labels are `labels` (read only when the key is new). */
  observe(key: string, labels: Readonly<Record<L, string>>, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`${this.name}: value is not a valid number: ${value}`);
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels: { ...labels }, counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]) i++;
    s.counts[i] += 1;
    s.sum += value;
    s.count += 1;
  }

  reset(): void {
    this.series = new Map();
  }

  /** For the text exposition: bucket labels hold `le`, the series' labels ride along (prom-client's getForPromString). */
  getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; values: ExposedValue[]; aggregator: 'sum' }> {
    const values: ExposedValue[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += s.counts[i];
        values.push({ labels: { le: this.bounds[i] }, sharedLabels: s.labels, value: cumulative, metricName: `${this.name}_bucket`, exemplar: null });
      }
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_bucket`, exemplar: null },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count`, exemplar: undefined },
      );
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** For registry.getMetricsAsJSON: every value's labels in one object, `le` first (prom-client's get). */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; values: ExposedValue[]; aggregator: 'sum' }> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ sharedLabels, ...value }) => ({ ...value, labels: { ...value.labels, ...sharedLabels } }));
    return data;
  }
}
