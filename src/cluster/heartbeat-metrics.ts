// Metrics of heartbeat processing on the leader (issue 9.3: a heartbeat storm after a failover
// must not stall writes, so what one report costs, and whether reports fall behind, has to be
// visible). The apply functions in heartbeats.ts are plain functions over the model and see no
// registry, so the metrics live here as module-level objects that the composition root adds to
// the member's /metrics registry with `registerHeartbeatMetrics`. Several masters in one process
// (tests) share the same counts.
//
// - cubemaster_node_heartbeat_apply_seconds: one report into the live state (the body already
//   parsed by the route);
// - cubemaster_node_heartbeat_partitions: partition reports one heartbeat carried;
// - cubemaster_node_heartbeat_report_interval_seconds: time since the same node's previous
//   report, for nodes that were active: the heartbeat interval (6 s) plus how late the report
//   came; 18 s (spec 6) marks the node inactive.

import { Histogram, type Registry } from 'prom-client';

export type HeartbeatKind = 'meta' | 'data';

/** From 20 us (an empty report) to 1 s (a report of thousands of partitions on a busy loop). */
const APPLY_BUCKETS_SECONDS = [0.00002, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const PARTITION_BUCKETS = [0, 1, 10, 100, 300, 1000, 3000, 10000];
/** Around the 6 s interval, up to the 18 s liveness timeout and beyond. */
const INTERVAL_BUCKETS_SECONDS = [1, 3, 5, 6, 6.5, 7, 8, 10, 12, 15, 18, 30, 60];

const applySeconds = new Histogram<'kind'>({
  name: 'cubemaster_node_heartbeat_apply_seconds',
  help: 'Time to apply one node heartbeat report to the live state (after the body is parsed), by node kind.',
  labelNames: ['kind'],
  buckets: APPLY_BUCKETS_SECONDS,
  registers: [],
});

const reportPartitions = new Histogram<'kind'>({
  name: 'cubemaster_node_heartbeat_partitions',
  help: 'Partition reports carried by one applied node heartbeat, by node kind.',
  labelNames: ['kind'],
  buckets: PARTITION_BUCKETS,
  registers: [],
});

const reportInterval = new Histogram<'kind'>({
  name: 'cubemaster_node_heartbeat_report_interval_seconds',
  help: "Time between an active node's consecutive heartbeat reports on this leader, by node kind.",
  labelNames: ['kind'],
  buckets: INTERVAL_BUCKETS_SECONDS,
  registers: [],
});

// One child per kind, bound once: an observe then costs no label hashing (it runs per report).
const byKind = {
  meta: { apply: applySeconds.labels('meta'), partitions: reportPartitions.labels('meta'), interval: reportInterval.labels('meta') },
  data: { apply: applySeconds.labels('data'), partitions: reportPartitions.labels('data'), interval: reportInterval.labels('data') },
};

/**
 * Records one applied report (called by heartbeats.ts): its apply time, its partition count, and
 * the time since the node's previous report (null when the node was not active before).
 */
export function observeHeartbeatApplied(kind: HeartbeatKind, applyMs: number, partitions: number, sincePreviousMs: number | null): void {
  const m = byKind[kind];
  m.apply.observe(applyMs / 1000);
  m.partitions.observe(partitions);
  if (sincePreviousMs !== null && sincePreviousMs >= 0) m.interval.observe(sincePreviousMs / 1000);
}

/** Adds the heartbeat metrics to a member's registry (once per registry). */
export function registerHeartbeatMetrics(registry: Registry): void {
  const metrics: [string, Histogram<'kind'>][] = [
    ['cubemaster_node_heartbeat_apply_seconds', applySeconds],
    ['cubemaster_node_heartbeat_partitions', reportPartitions],
    ['cubemaster_node_heartbeat_report_interval_seconds', reportInterval],
  ];
  for (const [name, metric] of metrics) {
    if (registry.getSingleMetric(name) === undefined) registry.registerMetric(metric);
  }
}
