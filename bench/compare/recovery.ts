// Coming back with a large state: N keys written, then (1) every member stopped with SIGTERM and
// started again, timed from the start until the first acknowledged write; (2) a follower replaced
// by a new, empty member (removed, its data deleted, added back), timed until it reached the
// leader's position at the moment it started, while writers on the other members measure the
// longest time without an acknowledged write (a catch-up by snapshot must not stall the others).
import http from 'node:http';
import type { ControllableSystem } from '../systems.js';
import { waitFor } from '../systems.js';
import { sendRequest, sleep } from '../write-load.js';
import { GapWatch } from './failover.js';
import type { Workload } from './workloads.js';

const FILL_REQUEST_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 300_000;

/** Writes `count` keys named `${tag}_<i>` with `concurrency` clients on the leader; returns seconds taken. */
export async function fillKeys(url: string, workload: Workload, count: number, concurrency: number, tag: string, progress?: (done: number) => void): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency * 2 });
  const base = new URL(url);
  let next = 0;
  let done = 0;
  const started = performance.now();
  const client = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      for (let attempt = 0; ; attempt++) {
        const reply = await sendRequest(base, workload.seed(`${tag}_${i}`), agent, FILL_REQUEST_TIMEOUT_MS).catch(() => null);
        if (reply !== null && workload.writeOk(reply.status, reply.body)) break;
        if (attempt >= 20) throw new Error(`fill: key ${i} refused: ${reply?.status} ${reply?.body.slice(0, 200)}`);
        await sleep(50);
      }
      if (++done % 50_000 === 0) progress?.(done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  agent.destroy();
  return (performance.now() - started) / 1000;
}

/** SIGTERM every member, start them all again: ms from the start until a write is acknowledged. */
export async function restartToReady(system: ControllableSystem, workload: Workload, tag: string): Promise<number> {
  const n = system.urls.length;
  for (let i = 0; i < n; i++) system.signal(i, 'SIGTERM');
  await Promise.all(system.urls.map((_, i) => system.waitExit(i, 60_000)));
  const started = performance.now();
  const starting = Promise.all(system.urls.map((_, i) => system.start(i)));
  const agent = new http.Agent({ keepAlive: false });
  const make = workload.write(tag);
  let readyAt = NaN;
  for (let seq = 0; Number.isNaN(readyAt); seq++) {
    const reply = await sendRequest(new URL(system.urls[seq % n]), make(0, seq), agent, 2_000).catch(() => null);
    if (reply !== null && workload.writeOk(reply.status, reply.body)) readyAt = performance.now();
    else if (performance.now() - started > READY_TIMEOUT_MS) throw new Error(`${system.name}: no write acknowledged within ${READY_TIMEOUT_MS} ms of the restart`);
    else await sleep(10);
  }
  await starting;
  return readyAt - started;
}

export interface CatchUp {
  /** From the new member's process start until it held what the leader held then. */
  readonly catchUpMs: number;
  /** Longest time without an acknowledged write on the other members meanwhile. */
  readonly longestWriteGapMs: number;
}

export async function replaceFollower(system: ControllableSystem, workload: Workload, tag: string): Promise<CatchUp> {
  const leader = await system.leader();
  const victim = (leader + 1) % system.urls.length;
  const others = system.urls.filter((_, i) => i !== victim);
  const watch = new GapWatch(others, workload, tag);
  try {
    await sleep(1_000);
    const from = performance.now();
    // Timed from the new member's process start: etcd answers only once it has caught up far
    // enough to serve, so timing from its first answer would leave its catch-up out.
    let started = NaN;
    await system.replace(victim, leader, () => (started = performance.now()));
    const target = await system.position(await system.leader());
    await waitFor(`the new member ${victim + 1} to catch up`, READY_TIMEOUT_MS, async () => ((await system.memberPosition(victim)) ?? -1) >= target);
    const caughtUp = performance.now();
    await sleep(500);
    return { catchUpMs: caughtUp - started, longestWriteGapMs: watch.longestGapMs(from, performance.now()) };
  } finally {
    await watch.stop();
  }
}
