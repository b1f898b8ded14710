import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { SeriesHistogram } from '../../src/api/series-histogram.js';

const BUCKETS = [0.0005, 0.001, 0.01, 0.5];
const SAMPLES: readonly [string, string, number][] = [
  ['/user/info', '0', 0.0007],
  ['/user/info', '0', 0.0005],
  ['/admin/getCluster', '0', 0.02],
  ['/user/info', '46', 3],
  ['/user/info', '0', 0.00001],
  ['un"quoted\\\nroute', 'none', 0.5],
  ['/admin/getCluster', '0', 0.75],
];

/** The same samples in prom-client's Histogram and in a SeriesHistogram, each in a registry of its own. */
function both(defaultLabels?: Record<string, string>): { ours: Registry; theirs: Registry; histogram: SeriesHistogram<'route' | 'code'> } {
  const ours = new Registry();
  const theirs = new Registry();
  if (defaultLabels !== undefined) {
    ours.setDefaultLabels(defaultLabels);
    theirs.setDefaultLabels(defaultLabels);
  }
  const histogram = new SeriesHistogram({ name: 'h_seconds', help: 'latency', labelNames: ['route', 'code'], buckets: BUCKETS, registers: [ours] });
  const reference = new Histogram({ name: 'h_seconds', help: 'latency', labelNames: ['route', 'code'], buckets: BUCKETS, registers: [theirs] });
  for (const [route, code, seconds] of SAMPLES) {
    histogram.observe(`${route}|${code}`, { route, code }, seconds);
    reference.observe({ route, code }, seconds);
  }
  return { ours, theirs, histogram };
}

void describe('SeriesHistogram', () => {
  void it("exposes the same text as prom-client's Histogram for the same samples", async () => {
    const { ours, theirs } = both();
    assert.equal(await ours.metrics(), await theirs.metrics());
  });

  void it('exposes the same text with the registry default labels', async () => {
    const { ours, theirs } = both({ member: '2' });
    assert.equal(await ours.metrics(), await theirs.metrics());
  });

  void it("gives the registry the same JSON values as prom-client's Histogram", async () => {
    const { ours, theirs } = both();
    const normalise = (metrics: Awaited<ReturnType<Registry['getMetricsAsJSON']>>): unknown =>
      metrics.map((m) => ({ ...m, values: m.values.map((v) => ({ ...v, labels: { ...v.labels } })) }));
    assert.deepEqual(normalise(await ours.getMetricsAsJSON()), normalise(await theirs.getMetricsAsJSON()));
  });

  void it('keeps the labels a series was first seen with, and empties on reset', async () => {
    const registry = new Registry();
    const h = new SeriesHistogram({ name: 'h', help: 'h', labelNames: ['route'], buckets: [1], registers: [registry] });
    const labels = { route: '/a' };
    h.observe('a', labels, 0.5);
    labels.route = '/changed';
    h.observe('a', labels, 2);
    assert.match(await registry.metrics(), /h_count\{route="\/a"\} 2/);
    registry.resetMetrics();
    assert.doesNotMatch(await registry.metrics(), /h_count/);
  });

  void it('refuses a sample that is not a finite number, as prom-client does', () => {
    const h = new SeriesHistogram({ name: 'h', help: 'h', labelNames: ['route'], buckets: [1], registers: [] });
    assert.throws(() => h.observe('a', { route: '/a' }, Number.NaN), TypeError);
  });
});
