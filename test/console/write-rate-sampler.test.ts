// The chart's series: rates from the applied index, latency quantiles from histogram buckets,
// a bounded ring, and the reading of the API's own prom-client histogram.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ApiMetrics } from '../../src/api/metrics.js';
import { RequestGate } from '../../src/api/gate.js';
import type { HistogramBuckets } from '../../src/api/console/write-rate-sampler.js';
import { bucketDelta, chartsRoute, histogramQuantile, registryLatencyBuckets, WriteRateSampler } from '../../src/api/console/write-rate-sampler.js';

const LE = [0.001, 0.01, 0.1, Infinity];

void describe('histogramQuantile', () => {
  void it('interpolates inside the bucket that holds the quantile, as Prometheus does', () => {
    // 100 observations: 50 <= 1 ms, 90 <= 10 ms, 100 <= 100 ms.
    const b: HistogramBuckets = { le: LE, counts: [50, 90, 100, 100] };
    assert.equal(histogramQuantile(0.5, b), 0.001);
    assert.ok(Math.abs(histogramQuantile(0.7, b)! - (0.001 + 0.009 * 0.5)) < 1e-12);
    assert.ok(Math.abs(histogramQuantile(0.99, b)! - (0.01 + 0.09 * 0.9)) < 1e-12);
    assert.equal(histogramQuantile(0.25, b), 0.0005);
  });

  void it('reports the largest finite bound for a quantile in the +Inf bucket, and null without observations', () => {
    assert.equal(histogramQuantile(0.99, { le: LE, counts: [0, 0, 1, 10] }), 0.1);
    assert.equal(histogramQuantile(0.5, { le: LE, counts: [0, 0, 0, 0] }), null);
    assert.equal(histogramQuantile(0.5, { le: [], counts: [] }), null);
  });
});

void describe('bucketDelta', () => {
  void it('gives the observations between two readings, or null when there were none or the buckets changed', () => {
    assert.deepEqual(bucketDelta({ le: LE, counts: [1, 2, 3, 3] }, { le: LE, counts: [4, 6, 8, 9] }), { le: LE, counts: [3, 4, 5, 6] });
    assert.equal(bucketDelta({ le: LE, counts: [1, 2, 3, 3] }, { le: LE, counts: [1, 2, 3, 3] }), null);
    assert.equal(bucketDelta({ le: [1, Infinity], counts: [1, 1] }, { le: LE, counts: [4, 6, 8, 9] }), null);
  });
});

void describe('WriteRateSampler', () => {
  void it('turns readings into commits and requests per second with latency quantiles, keeping only the newest samples', async () => {
    let now = 1_000_000;
    let applied = 100;
    let counts = [0, 0, 0, 0];
    const sampler = new WriteRateSampler({
      appliedIndex: () => applied,
      latencyBuckets: () => Promise.resolve({ le: LE, counts }),
      nowMs: () => now,
      capacity: 2,
    });
    await sampler.sampleNow();
    assert.deepEqual(sampler.samples(), [], 'the first reading is the baseline');
    now += 2_000;
    applied += 500;
    counts = [10, 20, 20, 20];
    await sampler.sampleNow();
    const [first] = sampler.samples();
    assert.equal(first.tMs, now);
    assert.equal(first.commitsPerSec, 250);
    assert.equal(first.requestsPerSec, 10);
    assert.equal(first.latencyP50Ms, 1);
    assert.ok(first.latencyP99Ms! > 1 && first.latencyP99Ms! <= 10);
    for (let i = 0; i < 3; i++) {
      now += 1_000;
      await sampler.sampleNow();
    }
    const samples = sampler.samples();
    assert.equal(samples.length, 2);
    assert.deepEqual(
      samples.map((s) => [s.tMs, s.commitsPerSec, s.requestsPerSec, s.latencyP50Ms]),
      [
        [now - 1_000, 0, 0, null],
        [now, 0, 0, null],
      ],
    );
  });

  void it('samples on its timer once started, and stop() ends it', async () => {
    let applied = 0;
    const sampler = new WriteRateSampler({ appliedIndex: () => (applied += 10), latencyBuckets: () => Promise.resolve({ le: [], counts: [] }), nowMs: Date.now, intervalMs: 20 });
    sampler.start();
    await new Promise((r) => setTimeout(r, 150));
    await sampler.stop();
    const taken = sampler.samples().length;
    assert.ok(taken >= 2, `${taken} samples`);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(sampler.samples().length, taken, 'no sample after stop');
  });
});

void describe('registryLatencyBuckets', () => {
  void it("sums the API latency histogram over CubeFS routes, leaving out the console's, /metrics and cubemaster's own", async () => {
    const registry = new Registry();
    const metrics = new ApiMetrics(registry, new RequestGate());
    const observe = (route: string, seconds: number): void => metrics.observe({ route, method: 'GET', status: 200, code: '0', seconds });
    observe('/user/create', 0.002);
    observe('/admin/getCluster', 0.02);
    observe('/console/api/overview', 5);
    observe('/console/*', 5);
    observe('/metrics', 5);
    observe('/cubemaster/status', 5);
    observe('unmatched', 5);
    const buckets = await registryLatencyBuckets(registry)();
    assert.equal(buckets.le[buckets.le.length - 1], Infinity);
    assert.equal(buckets.counts[buckets.counts.length - 1], 2, 'two charted requests');
    assert.equal(buckets.counts[buckets.le.indexOf(0.0025)], 1);
    assert.equal(buckets.counts[buckets.le.indexOf(0.025)], 2);
    assert.deepEqual(await registryLatencyBuckets(new Registry())(), { le: [], counts: [] });
    assert.equal(chartsRoute('/client/partitions'), true);
    assert.equal(chartsRoute('/console/api/vols'), false);
  });
});
