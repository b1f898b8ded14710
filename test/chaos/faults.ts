// The seeded fault schedule of a chaos run. Each fault is injected, lasts a while, and heals
// itself; several may overlap, within bounds that keep the run meaningful (never more members
// down or paused than a minority, one membership change at a time).
import { cfsGet } from '../integration/cfs-client.js';
import type { MasterProcess } from '../integration/master-process.js';
import type { SeededRandom } from '../../src/raft/core/index.js';
import { CHAOS_STORES, type ChaosStore } from '../../src/server/chaos-hooks.js';
import { NODES, type ChaosCluster } from './chaos-cluster.js';

/** A member's next fsync comes within milliseconds under the workload; this is the bound. */
const FSYNC_EXIT_TIMEOUT_MS = 20_000;
/** The second process must be refused before it binds anything (the lock is its first step). */
const DOUBLE_OPEN_TIMEOUT_MS = 15_000;

export const FAULT_KINDS = [
  'kill',
  'term',
  'pause',
  'partition',
  'one-way',
  'isolate-leader',
  'delay',
  'loss',
  'cut-nodes',
  'flap',
  'disk',
  'slow-disk',
  'disk-full',
  'fsync-error',
  'double-open',
  'clock-jump',
  'membership',
  'transfer',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface InjectedFault {
  readonly kind: FaultKind;
  /** performance.now() when it took effect. */
  readonly atMs: number;
  readonly detail: string;
}

export class FaultInjector {
  readonly injected: InjectedFault[] = [];
  /** What a fault found wrong in how a member took it (a crash-stop without exit 1, a second process that started). */
  readonly problems: string[] = [];
  private readonly running = new Set<Promise<void>>();
  /** Members currently down or paused by a fault. */
  private readonly disabled = new Set<MasterProcess>();
  private membershipBusy = false;
  private stopping = false;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly random: SeededRandom,
    private readonly kinds: readonly FaultKind[],
    private readonly log: (line: string) => void,
  ) {}

  /** Injects one fault of a random enabled kind (if the bounds allow it now). */
  async injectOne(): Promise<void> {
    const kind = this.kinds[this.random.nextInt(this.kinds.length)];
    const task = this.inject(kind).catch((error: unknown) => this.log(`fault ${kind} failed: ${(error as Error).message}`));
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
    // Give the fault a moment to take effect before the next decision.
    await sleep(50);
  }

  /** Waits for every fault in progress to heal itself. */
  async settle(): Promise<void> {
    this.stopping = true;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private record(kind: FaultKind, detail: string): void {
    this.injected.push({ kind, atMs: performance.now(), detail });
    this.log(`fault ${kind}: ${detail}`);
  }

  private electionTimeoutMs(): number {
    return this.cluster.electionTimeoutMs;
  }

  /** A member to break: running, not already disabled, keeping a majority alive. */
  private pickVictim(preferLeader: number): MasterProcess | null {
    const n = this.cluster.masters.length;
    if (this.disabled.size >= Math.floor((n - 1) / 2)) return null;
    const candidates = this.cluster.masters.filter((m) => m.running && !this.disabled.has(m));
    if (candidates.length === 0) return null;
    const leader = candidates.find((m) => m.spec.id === preferLeader);
    if (leader !== undefined && this.random.nextFloat() < 0.5) return leader;
    return candidates[this.random.nextInt(candidates.length)];
  }

  private async inject(kind: FaultKind): Promise<void> {
    const cluster = this.cluster;
    const et = this.electionTimeoutMs();
    const leader = await cluster.leaderId();
    const ids = cluster.masters.map((m) => m.spec.id);
    switch (kind) {
      case 'kill':
      case 'term': {
        await this.withVictim(leader, async (victim) => {
          if (kind === 'kill') await victim.kill();
          else {
            victim.signal('SIGTERM');
            await victim.waitExit(20_000);
          }
          this.record(kind, `${describe(victim, leader)} exit ${JSON.stringify(victim.exitInfo)}`);
          await sleep(this.stopping ? 0 : 300 + this.random.nextInt(3000));
          await victim.start(60_000);
        });
        return;
      }
      case 'pause': {
        await this.withVictim(leader, async (victim) => {
          cluster.pause(victim);
          this.record(kind, `${describe(victim, leader)} stopped (SIGSTOP)`);
          await sleep(et + this.random.nextInt(3 * et));
          cluster.resume(victim);
        });
        return;
      }
      case 'partition': {
        // A random minority cut off from the majority, both ways, on every link: Raft, HTTP
        // forwards, and the nodes (which stay with the majority).
        const shuffled = [...ids].sort(() => this.random.nextFloat() - 0.5);
        const minority = shuffled.slice(0, 1 + this.random.nextInt(Math.floor((ids.length - 1) / 2)));
        const majority = [...ids.filter((id) => !minority.includes(id)), NODES];
        cluster.partition(minority, majority);
        this.record(kind, `{${minority.join(' ')}} | {${majority.map(linkEnd).join(' ')}}`);
        await sleep(500 + this.random.nextInt(4000));
        this.healLinks(minority, majority);
        return;
      }
      case 'isolate-leader': {
        if (leader === 0) return;
        const others = [...ids.filter((id) => id !== leader), NODES];
        cluster.partition([leader], others);
        this.record(kind, `leader ${leader} cut off from the members and the nodes`);
        await sleep(et + this.random.nextInt(4000));
        this.healLinks([leader], others);
        return;
      }
      case 'one-way': {
        // Links blocked in one direction only, the nodes' links among them.
        const ends = [...ids, NODES];
        const links: [number, number][] = [];
        for (const a of ends) for (const b of ends) if (a !== b && this.random.nextFloat() < 0.3) links.push([a, b]);
        if (leader !== 0 && links.length === 0) links.push([leader, ids.find((id) => id !== leader)!]);
        for (const [a, b] of links) cluster.setBlocked(a, b, true);
        this.record(kind, links.map(([a, b]) => `${linkEnd(a)}->${linkEnd(b)}`).join(' '));
        await sleep(500 + this.random.nextInt(4000));
        for (const [a, b] of links) cluster.setBlocked(a, b, false);
        return;
      }
      case 'cut-nodes': {
        // The leader and the nodes: its admin tasks (TCP) and/or their reports (HTTP) cut, while
        // the members still hear each other.
        if (leader === 0) return;
        const direction = (['both', 'tasks', 'reports'] as const)[this.random.nextInt(3)];
        const links: [number, number][] = direction === 'both' ? [[leader, NODES], [NODES, leader]] : direction === 'tasks' ? [[leader, NODES]] : [[NODES, leader]];
        for (const [a, b] of links) cluster.setBlocked(a, b, true);
        this.record(kind, `leader ${leader} and the nodes: ${direction === 'both' ? 'tasks and reports' : direction} cut`);
        await sleep(500 + this.random.nextInt(4000));
        for (const [a, b] of links) cluster.setBlocked(a, b, false);
        return;
      }
      case 'flap': {
        // A few links of any kind going down and up every 100-400 ms, each direction on its own.
        const ends = [...ids, NODES];
        const links: [number, number][] = [];
        while (links.length === 0) {
          for (const a of ends) for (const b of ends) if (a !== b && this.random.nextFloat() < 0.2) links.push([a, b]);
        }
        const periodMs = 100 + this.random.nextInt(300);
        const durationMs = 2000 + this.random.nextInt(3000);
        this.record(kind, `${links.map(([a, b]) => `${linkEnd(a)}->${linkEnd(b)}`).join(' ')} every ${periodMs} ms for ${durationMs} ms`);
        const endMs = performance.now() + durationMs;
        let down = false;
        while (performance.now() < endMs && !this.stopping) {
          down = !down;
          for (const [a, b] of links) cluster.setBlocked(a, b, down && this.random.nextFloat() < 0.8);
          await sleep(periodMs);
        }
        for (const [a, b] of links) cluster.setBlocked(a, b, false);
        return;
      }
      case 'delay':
      case 'loss': {
        const rule = kind === 'delay' ? { delayMs: 10 + this.random.nextInt(100), jitterMs: 1 + this.random.nextInt(100) } : { lossRate: 0.05 + this.random.nextFloat() * 0.3 };
        for (const a of ids) for (const b of ids) if (a !== b) cluster.proxy.setRule(a, b, rule);
        this.record(kind, JSON.stringify(rule));
        await sleep(500 + this.random.nextInt(4000));
        for (const a of ids) for (const b of ids) if (a !== b) cluster.proxy.setRule(a, b, { delayMs: 0, jitterMs: 0, lossRate: 0 });
        return;
      }
      case 'disk': {
        const victim = this.pickVictim(leader);
        if (victim === null) return;
        const delayMs = 50 + this.random.nextInt(400);
        const durationMs = 1000 + this.random.nextInt(4000);
        await cluster.diskFault(victim, { fault: 'slow', store: 'raft-log', delayMs, durationMs });
        this.record(kind, `${describe(victim, leader)} fsync +${delayMs} ms for ${durationMs} ms`);
        await sleep(durationMs);
        return;
      }
      case 'slow-disk': {
        // Seconds per fsync of the log, or per RocksDB write: the member falls behind, and a
        // leader's writes wait on it or on the followers (a majority of fsyncs).
        await this.withVictim(leader, async (victim) => {
          const store = this.pickStore();
          const delayMs = 1000 + this.random.nextInt(2000);
          const durationMs = 2000 + this.random.nextInt(4000);
          await cluster.diskFault(victim, { fault: 'slow', store, delayMs, durationMs });
          this.record(kind, `${describe(victim, leader)} ${store} ${store === 'raft-log' ? 'fsync' : 'write'} +${delayMs} ms for ${durationMs} ms`);
          await sleep(durationMs + delayMs);
        });
        return;
      }
      case 'disk-full': {
        // ENOSPC on the WAL or in RocksDB for a while; then space returns and the member must
        // write what it kept and take writes again by itself (docs/faults.md, "Disk full").
        await this.withVictim(leader, async (victim) => {
          const store = this.pickStore();
          const durationMs = 1000 + this.random.nextInt(4000);
          await cluster.diskFault(victim, { fault: 'full', store, durationMs });
          this.record(kind, `${describe(victim, leader)} ${store} full (ENOSPC) for ${durationMs} ms`);
          await sleep(durationMs);
          if (!victim.running) this.problems.push(`disk-full: member ${victim.spec.id} stopped (${JSON.stringify(victim.exitInfo)}) instead of waiting for space`);
        });
        return;
      }
      case 'fsync-error': {
        // The member must crash-stop at its next fsync (exit 1) and come back from its disk.
        await this.withVictim(leader, async (victim) => {
          await cluster.diskFault(victim, { fault: 'fsync-error', store: 'raft-log' });
          const exit = await victim.waitExit(FSYNC_EXIT_TIMEOUT_MS).catch(() => null);
          this.record(kind, `${describe(victim, leader)} fdatasync EIO: exit ${JSON.stringify(exit)}`);
          if (exit === null) this.problems.push(`fsync-error: member ${victim.spec.id} did not stop within ${FSYNC_EXIT_TIMEOUT_MS} ms of a failed fsync`);
          else if (exit.code !== 1) this.problems.push(`fsync-error: member ${victim.spec.id} exited with ${JSON.stringify(exit)}, not code 1`);
          await sleep(this.stopping ? 0 : 300 + this.random.nextInt(2000));
          await victim.start(60_000);
        });
        return;
      }
      case 'double-open': {
        // A second process on a running member's data directory must refuse at once (the
        // walDir lock), and the member must not notice.
        await this.withVictim(leader, async (victim) => {
          const refusal = await cluster.openTwice(victim, DOUBLE_OPEN_TIMEOUT_MS);
          this.record(kind, `second process on member ${victim.spec.id}'s data dir: ${refusal.ok ? 'refused' : 'NOT refused'} (${refusal.detail})`);
          if (!refusal.ok) this.problems.push(`double-open: member ${victim.spec.id}: ${refusal.detail}`);
          if (!victim.running) this.problems.push(`double-open: member ${victim.spec.id} stopped (${JSON.stringify(victim.exitInfo)})`);
        });
        return;
      }
      case 'clock-jump': {
        // A member's wall clock stepped (NTP step, resumed VM) by up to 10 minutes either way,
        // then stepped back. Raft runs on the monotonic clock; what the wall clock stamps (report
        // times, create times) must not break liveness or any answer.
        await this.withVictim(leader, async (victim) => {
          const offsetMs = (this.random.nextFloat() < 0.5 ? -1 : 1) * (1_000 + this.random.nextInt(600_000));
          const durationMs = 1000 + this.random.nextInt(3000);
          await cluster.stepClock(victim, offsetMs);
          this.record(kind, `${describe(victim, leader)} wall clock ${offsetMs > 0 ? '+' : ''}${(offsetMs / 1000).toFixed(1)} s for ${durationMs} ms`);
          await sleep(durationMs);
          if (victim.running) await cluster.stepClock(victim, 0);
        });
        return;
      }
      case 'membership': {
        if (this.membershipBusy || leader === 0) return;
        const victim = this.pickVictim(0);
        if (victim === null || victim.spec.id === leader) return;
        this.membershipBusy = true;
        this.disabled.add(victim);
        try {
          const leaderUrl = cluster.member(leader).url;
          const addr = cluster.httpAddr(victim.spec.id);
          const removed = await cfsGet(leaderUrl, '/raftNode/remove', { id: victim.spec.id, addr }, { timeoutMs: 30_000 });
          this.record(kind, `remove member ${victim.spec.id}: ${removed.status} ${removed.body.slice(0, 80)}`);
          await sleep(300 + this.random.nextInt(2000));
          // Re-add through whoever leads now: a learner first, promoted once caught up.
          for (let attempt = 0; attempt < 20; attempt++) {
            const current = await cluster.leaderId();
            const url = current === 0 ? leaderUrl : cluster.member(current).url;
            const added = await cfsGet(url, '/raftNode/add', { id: victim.spec.id, addr }, { timeoutMs: 60_000 }).catch((e: Error) => ({ status: 0, body: e.message, envelope: null }));
            if (added.status === 200 && added.envelope?.code === 0) {
              this.record(kind, `re-add member ${victim.spec.id}: ok`);
              break;
            }
            await sleep(500);
          }
        } finally {
          this.disabled.delete(victim);
          this.membershipBusy = false;
        }
        return;
      }
      case 'transfer': {
        const followers = ids.filter((id) => id !== leader && cluster.member(id).running && !cluster.paused.has(cluster.member(id)));
        if (leader === 0 || followers.length === 0) return;
        const target = followers[this.random.nextInt(followers.length)];
        const reply = await cfsGet(cluster.member(target).url, '/master/changeleader', {}, { timeoutMs: 15_000 }).catch((e: Error) => ({ status: 0, body: e.message }));
        this.record(kind, `leadership ${leader} -> ${target}: ${reply.status}`);
        return;
      }
    }
  }

  /**
   * Runs `fault` on a victim (pickVictim), counted as disabled meanwhile so that no other fault
   * takes a second member down with it; does nothing when the bounds allow no victim now.
   */
  private async withVictim(leader: number, fault: (victim: MasterProcess) => Promise<void>): Promise<void> {
    const victim = this.pickVictim(leader);
    if (victim === null) return;
    this.disabled.add(victim);
    try {
      await fault(victim);
    } finally {
      this.disabled.delete(victim);
    }
  }

  private pickStore(): ChaosStore {
    return CHAOS_STORES[this.random.nextInt(CHAOS_STORES.length)];
  }

  private healLinks(sideA: readonly number[], sideB: readonly number[]): void {
    for (const a of sideA) for (const b of sideB) {
      this.cluster.setBlocked(a, b, false);
      this.cluster.setBlocked(b, a, false);
    }
  }
}

/** A link's end in a fault's detail: a member id, or `nodes`. */
function linkEnd(id: number): string {
  return id === NODES ? 'nodes' : String(id);
}

/** `member 2 (leader)` or `member 3`. */
function describe(m: MasterProcess, leader: number): string {
  return `member ${m.spec.id}${m.spec.id === leader ? ' (leader)' : ''}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
