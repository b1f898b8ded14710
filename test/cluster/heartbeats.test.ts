// Node liveness (src/cluster/heartbeats.ts) across wall-clock steps (docs/faults.md "Clock
// jumps"): reports are aged on the member's monotonic clock, so a step of the wall clock an hour
// back or forward neither keeps a silent node active nor expires a reporting one; the wall clock
// only stamps the ReportTime users see.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDataHeartbeat, applyMetaHeartbeat, checkLiveness, NODE_LIVENESS_TIMEOUT_MS, type ReportInstant } from '../../src/cluster/heartbeats.js';
import type { Clock } from '../../src/cluster/sources.js';
import { clearLive, dataNodeLive, metaNodeLive, type ModelState } from '../../src/model/index.js';
import { bootstrapped, dataNodeAddCmd, metaNodeAddCmd, ok } from '../model/helpers.js';
import { dataReport, metaReport } from './heartbeat-reports.js';

const T_WALL_MS = Date.UTC(2026, 11, 7, 6, 0, 0);
const HOUR_MS = 3_600_000;
/** The Go heartbeat interval (spec 6). */
const HEARTBEAT_INTERVAL_MS = 6_000;

/** A process's two clocks: the monotonic one only advances; the wall clock can also be stepped. */
class SteppingClock implements Clock {
  private mono = 1_000;
  private wallOffsetMs = T_WALL_MS - 1_000;

  nowMs(): number {
    return this.mono + this.wallOffsetMs;
  }

  monoMs(): number {
    return this.mono;
  }

  advance(ms: number): void {
    this.mono += ms;
  }

  /** An NTP step or a resumed VM: the wall clock jumps, the monotonic clock does not. */
  stepWall(ms: number): void {
    this.wallOffsetMs += ms;
  }

  instant(): ReportInstant {
    return { wallMs: this.nowMs(), monoMs: this.monoMs() };
  }
}

const META_KEEPS = '10.0.0.1:17210';
const META_STOPS = '10.0.0.2:17210';
const DATA_KEEPS = '10.0.0.3:17310';
const DATA_STOPS = '10.0.0.4:17310';

interface Cluster {
  readonly state: ModelState;
  readonly clock: SteppingClock;
  report(addr: string): void;
  isActive(addr: string): boolean;
  reportTimeMs(addr: string): number;
}

/** Two meta and two data nodes registered, every one reporting once at the start. */
function cluster(): Cluster {
  const state = bootstrapped();
  const clock = new SteppingClock();
  for (const addr of [META_KEEPS, META_STOPS]) ok(state, metaNodeAddCmd(addr));
  for (const addr of [DATA_KEEPS, DATA_STOPS]) ok(state, dataNodeAddCmd(addr));
  const live = (addr: string): { isActive: boolean; reportTimeMs: number } => {
    const meta = [...state.metaNodes.values()].find((n) => n.addr === addr);
    if (meta !== undefined) return metaNodeLive(state, meta.id);
    const data = [...state.dataNodes.values()].find((n) => n.addr === addr) ?? assert.fail(`no node ${addr}`);
    return dataNodeLive(state, data);
  };
  const c: Cluster = {
    state,
    clock,
    report: (addr) => {
      const applied = addr.endsWith(':17210') ? applyMetaHeartbeat(state, addr, metaReport(), clock.instant()) : applyDataHeartbeat(state, addr, dataReport(), clock.instant());
      assert.ok(applied, `heartbeat of ${addr} applied`);
    },
    isActive: (addr) => live(addr).isActive,
    reportTimeMs: (addr) => live(addr).reportTimeMs,
  };
  for (const addr of [META_KEEPS, META_STOPS, DATA_KEEPS, DATA_STOPS]) c.report(addr);
  return c;
}

/**
 * Runs `durationMs` of monotonic time in 1 s ticks: the reporting nodes report every 6 s, the
 * liveness pass runs every tick (more often than the scheduler does, so the bound is exact).
 * Returns the monotonic ms after the start at which each silent node was first seen inactive.
 */
function run(c: Cluster, durationMs: number, reporting: readonly string[], silent: readonly string[]): Map<string, number> {
  const wentInactiveAfterMs = new Map<string, number>();
  for (let t = 1_000; t <= durationMs; t += 1_000) {
    c.clock.advance(1_000);
    if (t % HEARTBEAT_INTERVAL_MS === 0) for (const addr of reporting) c.report(addr);
    checkLiveness(c.state, c.clock.monoMs());
    for (const addr of reporting) assert.ok(c.isActive(addr), `${addr} reports every 6 s and is active ${t} ms after the step`);
    for (const addr of silent) if (!c.isActive(addr) && !wentInactiveAfterMs.has(addr)) wentInactiveAfterMs.set(addr, t);
  }
  return wentInactiveAfterMs;
}

/** The first 1 s tick past the 18 s timeout: a report is stale once older than 18 s. */
const INACTIVE_AT_MS = NODE_LIVENESS_TIMEOUT_MS + 1_000;

void describe('node liveness across wall-clock steps', () => {
  for (const [name, stepMs] of [
    ['an hour back', -HOUR_MS],
    ['an hour forward', HOUR_MS],
  ] as const) {
    void it(`a node that stops reporting at a step of the wall clock ${name} goes inactive after 18 s of monotonic time; reporting nodes stay active`, () => {
      const c = cluster();
      c.clock.stepWall(stepMs);
      const inactiveAfter = run(c, 2 * NODE_LIVENESS_TIMEOUT_MS, [META_KEEPS, DATA_KEEPS], [META_STOPS, DATA_STOPS]);
      for (const addr of [META_STOPS, DATA_STOPS]) assert.equal(inactiveAfter.get(addr), INACTIVE_AT_MS, `${addr} inactive exactly when its report is older than 18 s`);
    });
  }

  void it('a report after a step shows the stepped wall time as ReportTime (what users see)', () => {
    const c = cluster();
    c.clock.stepWall(-HOUR_MS);
    c.clock.advance(HEARTBEAT_INTERVAL_MS);
    c.report(META_KEEPS);
    c.report(DATA_KEEPS);
    assert.equal(c.reportTimeMs(META_KEEPS), c.clock.nowMs());
    assert.equal(c.reportTimeMs(DATA_KEEPS), c.clock.nowMs());
    // The silent nodes keep the ReportTime of their last report, from before the step.
    assert.equal(c.reportTimeMs(META_STOPS), T_WALL_MS);
  });

  void it('a steady stream of reports keeps every node active through a backward and then a forward step', () => {
    const c = cluster();
    const all = [META_KEEPS, META_STOPS, DATA_KEEPS, DATA_STOPS];
    c.clock.stepWall(-HOUR_MS);
    run(c, 3 * NODE_LIVENESS_TIMEOUT_MS, all, []);
    c.clock.stepWall(2 * HOUR_MS);
    run(c, 3 * NODE_LIVENESS_TIMEOUT_MS, all, []);
  });

  void it('after this member lost and regained leadership, a node is inactive until it reports here, then aged from that report', () => {
    const c = cluster();
    clearLive(c.state);
    assert.ok(!c.isActive(META_KEEPS), 'no report on this member yet');
    c.clock.advance(HOUR_MS);
    c.clock.stepWall(-HOUR_MS);
    c.report(META_KEEPS);
    const inactiveAfter = run(c, 2 * NODE_LIVENESS_TIMEOUT_MS, [], [META_KEEPS]);
    assert.equal(inactiveAfter.get(META_KEEPS), INACTIVE_AT_MS);
  });
});
