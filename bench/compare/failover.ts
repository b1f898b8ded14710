// Failover: with writers spread over every member (a writer moves to the next member when its
// request fails, as the Go SDK and etcd's client do), the leader gets SIGKILL or SIGTERM; the
// figure is the time from the signal to the first acknowledged write that was sent after it.
// The old leader is then restarted and caught up before the next run.
import http from 'node:http';
import type { ControllableSystem } from '../systems.js';
import { waitFor } from '../systems.js';
import { sendRequest, sleep } from '../write-load.js';
import type { Workload } from './workloads.js';

const WRITERS = 8;
const REQUEST_TIMEOUT_MS = 2_000;
const OUTAGE_LIMIT_MS = 60_000;
const CATCH_UP_LAG_MAX = 50;

export interface FailoverRun {
  /** Signal to the first acknowledged write sent after it; NaN when none came within the limit. */
  readonly outageMs: number;
  readonly newLeader: number;
}

export async function measureFailover(system: ControllableSystem, workload: Workload, sig: 'SIGKILL' | 'SIGTERM', runs: number, tag: string): Promise<FailoverRun[]> {
  const results: FailoverRun[] = [];
  for (let r = 0; r < runs; r++) {
    const leader = await system.leader();
    const writers = new Writers(system.urls, workload, `${tag}${sig === 'SIGKILL' ? 'k' : 't'}${r}`);
    try {
      await sleep(1_000);
      const signalledAt = performance.now();
      system.signal(leader, sig);
      const firstAck = await writers.firstSuccessAfter(signalledAt, OUTAGE_LIMIT_MS);
      results.push({ outageMs: firstAck === null ? NaN : firstAck - signalledAt, newLeader: await system.leader() });
    } finally {
      await writers.stop();
    }
    await system.waitExit(leader);
    await system.start(leader);
    const now = await system.leader();
    await waitFor(`member ${leader + 1} to catch up`, 120_000, async () => {
      const lag = await system.lag(leader, now);
      return lag !== null && lag <= CATCH_UP_LAG_MAX;
    });
  }
  return results;
}

class Writers {
  private running = true;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: WRITERS * 2 });
  private readonly acks: { sentAt: number; ackedAt: number }[] = [];
  private readonly loops: Promise<void>[];

  constructor(
    private readonly urls: readonly string[],
    private readonly workload: Workload,
    tag: string,
  ) {
    const make = workload.write(tag);
    this.loops = Array.from({ length: WRITERS }, (_, c) => this.loop(c, make));
  }

  private async loop(c: number, make: ReturnType<Workload['write']>): Promise<void> {
    let target = c % this.urls.length;
    for (let seq = 0; this.running; seq++) {
      const sentAt = performance.now();
      let ok = false;
      try {
        const reply = await sendRequest(new URL(this.urls[target]), make(c, seq), this.agent, REQUEST_TIMEOUT_MS);
        ok = this.workload.writeOk(reply.status, reply.body);
      } catch {
        ok = false;
      }
      if (ok) this.acks.push({ sentAt, ackedAt: performance.now() });
      else {
        target = (target + 1) % this.urls.length;
        await sleep(5);
      }
    }
  }

  async firstSuccessAfter(t: number, limitMs: number): Promise<number | null> {
    const deadline = t + limitMs;
    for (;;) {
      const first = this.acks.filter((a) => a.sentAt >= t).reduce((min, a) => Math.min(min, a.ackedAt), Infinity);
      if (first !== Infinity) return first;
      if (performance.now() > deadline) return null;
      await sleep(5);
    }
  }

  /** When each acknowledged write came back (performance.now() ms). */
  ackedTimes(): number[] {
    return this.acks.map((a) => a.ackedAt);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.agent.destroy();
  }
}

/** Writers for the recovery measurements: acknowledged write times, for the longest gap. */
export class GapWatch {
  private readonly writers: Writers;

  constructor(urls: readonly string[], workload: Workload, tag: string) {
    this.writers = new Writers(urls, workload, tag);
  }

  /** The longest time without an acknowledged write between `from` and `to` (performance.now() ms). */
  longestGapMs(from: number, to: number): number {
    const times = this.writers.ackedTimes().filter((t) => t >= from && t <= to).sort((a, b) => a - b);
    let gap = 0;
    let last = from;
    for (const t of times) {
      gap = Math.max(gap, t - last);
      last = t;
    }
    return Math.max(gap, to - last);
  }

  stop(): Promise<void> {
    return this.writers.stop();
  }
}
