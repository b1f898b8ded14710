// Leader-only periodic work (spec 6): node heartbeats and liveness, the cleanup sweeps
// (cleanup.ts), the meta partition split check (spec 3.1), the data partition top-up (spec 3.2)
// and replica health. `LeaderSchedulers.start()` runs when this member becomes leader and
// `stop()` aborts and awaits every loop when it loses leadership or stops, so no scheduler ever
// proposes or sends a task from a member that is not leader (a proposal that races the loss
// fails with NotLeader and changes nothing).

import { setMaxListeners } from 'node:events';
import type { LogSink } from './ports.js';
import type { ModelView, VolRecord } from '../model/index.js';
import { dataNodeLive, dataPartitionsOf, maxMetaPartitionOf, metaNodeLive, PartitionStatus, VolStatus } from '../model/index.js';
import type { MetaNodeHeartbeatReport } from '../nodes/heartbeat-report.js';
import type { NodeTaskClient } from '../nodes/task-client.js';
import type { TaskQueue } from '../nodes/task-queue.js';
import type { CleanupDeps } from './cleanup.js';
import { OrphanTracker, removeDeletedVols, sweepIntents, sweepOrphans } from './cleanup.js';
import type { DomainOps } from './domain-ops.js';
import { checkLiveness, reportedInodeCount, reportedMaxInodeId } from './heartbeats.js';
import type { PartitionService } from './partitions.js';
import type { Replicator } from './ports.js';
import type { Clock } from './sources.js';

export interface SchedulerConfig {
  /** Spec 6: heartbeat tasks to every node. */
  readonly heartbeatIntervalMs: number;
  readonly livenessIntervalMs: number;
  readonly cleanupIntervalMs: number;
  readonly splitCheckIntervalMs: number;
  readonly topUpIntervalMs: number;
  /** Spec 3.2: automatic data partition creation starts 2 min after the member became leader. */
  readonly topUpDelayMs: number;
  /** Spec 3.2: read-write data partitions a vol keeps at least. */
  readonly minWritableDataPartitions: number;
  readonly orphanGraceMs: number;
  /** A vol marked for deletion is removed (partitions deleted on the nodes) this long after the mark. */
  readonly volRemovalDelayMs: number;
  readonly proposeTimeoutMs: number;
}

export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = {
  heartbeatIntervalMs: 6_000,
  livenessIntervalMs: 6_000,
  cleanupIntervalMs: 5_000,
  splitCheckIntervalMs: 5_000,
  topUpIntervalMs: 5_000,
  topUpDelayMs: 120_000,
  minWritableDataPartitions: 10,
  orphanGraceMs: 60_000,
  volRemovalDelayMs: 0,
  proposeTimeoutMs: 10_000,
};

export interface SchedulerDeps {
  readonly replicator: Replicator;
  readonly nodes: NodeTaskClient;
  /** The queued sender of ack-only tasks (heartbeats); started and stopped by the owner. */
  readonly queue: TaskQueue;
  readonly ops: DomainOps;
  readonly partitions: PartitionService;
  readonly clock: Clock;
  /** This master's HTTP addr: HeartBeatRequest.MasterAddr, where nodes send their reports. */
  readonly selfHttpAddr: string;
  readonly logger?: LogSink;
  readonly config?: Partial<SchedulerConfig>;
  /** Hears every pass of every loop (for metrics): its loop name, outcome and duration. */
  readonly onPass?: (loop: string, ok: boolean, seconds: number) => void;
}

/** Listeners on the schedulers' abort signal: loops x concurrent node tasks, with room. */
const SIGNAL_LISTENERS_MAX = 1_000;

interface Loop {
  readonly name: string;
  readonly intervalMs: number;
  readonly initialDelayMs: number;
  run(signal: AbortSignal): Promise<unknown> | void;
}

/** What replica health found in its last pass (leader only; exported for views and tests). */
export interface ReplicaHealth {
  readonly underReplicatedMeta: readonly number[];
  readonly underReplicatedData: readonly number[];
}

export class LeaderSchedulers {
  private readonly config: SchedulerConfig;
  private controller: AbortController | null = null;
  private readonly loops: Promise<void>[] = [];
  private readonly orphans = new OrphanTracker();
  private readonly topUpLastMs = new Map<number, number>();
  health: ReplicaHealth = { underReplicatedMeta: [], underReplicatedData: [] };

  constructor(private readonly deps: SchedulerDeps) {
    this.config = { ...DEFAULT_SCHEDULER_CONFIG, ...deps.config };
  }

  get running(): boolean {
    return this.controller !== null;
  }

  start(): void {
    if (this.controller !== null) return;
    const controller = new AbortController();
    // Every node task of a pass listens on this signal (up to the parallelism of each loop).
    setMaxListeners(SIGNAL_LISTENERS_MAX, controller.signal);
    this.controller = controller;
    const c = this.config;
    const loops: Loop[] = [
      { name: 'heartbeat', intervalMs: c.heartbeatIntervalMs, initialDelayMs: 0, run: () => this.queueHeartbeats() },
      { name: 'liveness', intervalMs: c.livenessIntervalMs, initialDelayMs: c.livenessIntervalMs, run: () => checkLiveness(this.model, this.deps.clock.monoMs()) },
      { name: 'cleanup', intervalMs: c.cleanupIntervalMs, initialDelayMs: 0, run: (s) => this.cleanup(s) },
      { name: 'split', intervalMs: c.splitCheckIntervalMs, initialDelayMs: c.splitCheckIntervalMs, run: (s) => this.checkSplits(s) },
      { name: 'top-up', intervalMs: c.topUpIntervalMs, initialDelayMs: c.topUpDelayMs, run: (s) => this.topUp(s) },
      { name: 'replica-health', intervalMs: c.cleanupIntervalMs, initialDelayMs: c.cleanupIntervalMs, run: () => this.checkReplicaHealth() },
    ];
    for (const loop of loops) this.loops.push(this.runLoop(loop, controller.signal));
  }

  /** Abort every loop and wait until each has returned. */
  async stop(): Promise<void> {
    const controller = this.controller;
    if (controller === null) return;
    controller.abort(new Error('leader schedulers stopped'));
    await Promise.allSettled(this.loops.splice(0));
    this.controller = null;
    this.topUpLastMs.clear();
  }

  private get model(): ModelView {
    return this.deps.replicator.model;
  }

  private async runLoop(loop: Loop, signal: AbortSignal): Promise<void> {
    let delay = loop.initialDelayMs;
    while (!signal.aborted) {
      if (!(await sleep(delay, signal))) return;
      const startedMs = performance.now();
      let ok = true;
      try {
        await loop.run(signal);
      } catch (err) {
        ok = false;
        if (!signal.aborted) this.deps.logger?.warn({ loop: loop.name, err }, 'scheduler pass failed');
      }
      // A pass cut short by the stop is neither a success nor a failure worth counting.
      if (!signal.aborted) this.deps.onPass?.(loop.name, ok, (performance.now() - startedMs) / 1000);
      delay = loop.intervalMs;
    }
  }

  private cleanupDeps(): CleanupDeps {
    return { replicator: this.deps.replicator, nodes: this.deps.nodes, ops: this.deps.ops, logger: this.deps.logger, proposeTimeoutMs: this.config.proposeTimeoutMs };
  }

  private async cleanup(signal: AbortSignal): Promise<void> {
    const deps = this.cleanupDeps();
    await sweepIntents(deps, signal);
    const nowSec = this.deps.clock.nowMs() / 1000;
    await removeDeletedVols(deps, signal, (deletedSec) => nowSec - deletedSec >= this.config.volRemovalDelayMs / 1000);
    // The orphan grace is an age measured on this member (first seen -> now): monotonic, so that a
    // forward step of the wall clock never deletes a replica before its grace is over.
    await sweepOrphans(deps, this.orphans, this.deps.clock.monoMs(), signal, this.config.orphanGraceMs);
  }

  /**
   * Ack-only heartbeat tasks, queued (task-queue.ts, de-duplicated by task ID: a node whose last
   * heartbeat is still unanswered gets no second one, as in Go) and sent at once; the reports
   * come back on /metaNode/response and /dataNode/response. The request carries the per-vol
   * switches the nodes apply to their partitions, as Go's checkMetaNodeHeartbeat /
   * checkDataNodeHeartbeat send them.
   */
  private queueHeartbeats(): void {
    const base = { currTimeSec: Math.floor(this.deps.clock.nowMs() / 1000), masterAddr: this.deps.selfHttpAddr };
    const vols = [...this.model.vols.values()];
    const names = (pick: (s: VolRecord['settings']) => boolean): string[] => vols.filter((v) => pick(v.settings)).map((v) => v.name);
    const forbidV0 = names((s) => s.forbidWriteOpOfProtoVer0);
    const requests = {
      meta: { ...base, flReadVols: names((s) => s.followerRead), volsForbidWriteOpOfProtoVer0: forbidV0 },
      data: { ...base, directReadVols: names((s) => s.directRead), ignoreTinyRecoverVols: names((s) => s.ignoreTinyRecover), volsForbidWriteOpOfProtoVer0: forbidV0 },
    };
    const targets = [
      ...[...this.model.metaNodes.values()].map((n) => ({ addr: n.addr, kind: 'meta' as const })),
      ...[...this.model.dataNodes.values()].map((n) => ({ addr: n.addr, kind: 'data' as const })),
    ];
    for (const t of targets) this.deps.queue.heartbeat(t.addr, t.kind, requests[t.kind]);
    this.deps.queue.kick();
  }

  /**
   * Spec 3.1: split a vol's last meta partition when it holds `step` inodes (end = MaxInodeID +
   * step) or its inode cursor passed 75% of a step (end = MaxInodeID + step/4). Frozen clusters
   * and deleted vols are skipped; one split per vol per pass.
   */
  private async checkSplits(signal: AbortSignal): Promise<void> {
    const model = this.model;
    const cluster = model.cluster;
    if (cluster === null || cluster.disableAutoAllocate) return;
    const step = BigInt(cluster.metaPartitionInodeIdStep);
    for (const vol of model.vols.values()) {
      if (signal.aborted) return;
      if (vol.status !== VolStatus.Normal) continue;
      const last = maxMetaPartitionOf(model, vol.id);
      if (last === undefined || this.deps.ops.ownsPartition('meta', last.id)) continue;
      const maxInode = reportedMaxInodeId(model, last.id);
      const full = reportedInodeCount(model, last.id) >= step;
      const nearEnd = maxInode > last.start && (maxInode - last.start) * 4n > step * 3n;
      if (!full && !nearEnd) continue;
      try {
        await this.deps.partitions.splitMetaPartition(vol.name, 1, full ? 1 : 0.25, { signal, timeoutMs: this.config.proposeTimeoutMs });
        this.deps.logger?.info({ vol: vol.name, mp: last.id }, 'split the last meta partition');
      } catch (err) {
        if (!signal.aborted) this.deps.logger?.warn({ vol: vol.name, err }, 'meta partition split failed');
      }
    }
  }

  /** Spec 3.2: keep `minWritableDataPartitions` read-write dps per vol; at most once a minute per vol. */
  private async topUp(signal: AbortSignal): Promise<void> {
    const model = this.model;
    if (model.cluster === null || model.cluster.disableAutoAllocate) return;
    // Monotonic: a backward wall-clock step must not stall top-ups for the size of the step.
    const monoNowMs = this.deps.clock.monoMs();
    for (const vol of model.vols.values()) {
      if (signal.aborted) return;
      if (vol.status !== VolStatus.Normal || vol.capacityGB <= 0) continue;
      const lastMs = this.topUpLastMs.get(vol.id);
      if (lastMs !== undefined && monoNowMs - lastMs < 60_000) continue;
      const writable = dataPartitionsOf(model, vol.id).filter((dp) => dp.status === PartitionStatus.ReadWrite && !dp.rdOnly).length;
      const missing = this.config.minWritableDataPartitions - writable;
      if (missing <= 0) continue;
      this.topUpLastMs.set(vol.id, monoNowMs);
      try {
        await this.deps.partitions.addDataPartitions(vol.name, missing, false, { signal, timeoutMs: this.config.proposeTimeoutMs });
        this.deps.logger?.info({ vol: vol.name, added: missing }, 'topped up data partitions');
      } catch (err) {
        if (!signal.aborted) this.deps.logger?.warn({ vol: vol.name, err }, 'data partition top-up failed');
      }
    }
  }

  /** A partition is under-replicated when a replica's node is inactive or gone. */
  private checkReplicaHealth(): void {
    const next = replicaHealth(this.model);
    const was = this.health;
    this.health = next;
    if (next.underReplicatedMeta.length !== was.underReplicatedMeta.length || next.underReplicatedData.length !== was.underReplicatedData.length) {
      this.deps.logger?.warn({ meta: next.underReplicatedMeta.length, data: next.underReplicatedData.length }, 'under-replicated partitions changed');
    }
  }
}

/** Partitions with a replica on a node that is gone or not active (leader's live view). */
export function replicaHealth(model: ModelView): ReplicaHealth {
  const meta: number[] = [];
  for (const mp of model.metaPartitions.values()) {
    if (mp.peers.length < mp.replicaNum || mp.peers.some((p) => !model.metaNodes.has(p.nodeId) || !metaNodeLive(model, p.nodeId).isActive)) meta.push(mp.id);
  }
  const data: number[] = [];
  for (const dp of model.dataPartitions.values()) {
    if (
      dp.peers.length < dp.replicaNum ||
      dp.peers.some((p) => {
        const node = model.dataNodes.get(p.nodeId);
        return node === undefined || !dataNodeLive(model, node).isActive;
      })
    ) {
      data.push(dp.id);
    }
  }
  return { underReplicatedMeta: meta, underReplicatedData: data };
}

/**
 * node-protocol.md 3.2 (Go updateMetaNode): a meta node reports a partition with an End other than the
 * record's (it missed the OpUpdateMetaPartition of a split, or lost it): queue the update with the
 * record's End to that node. A non-leader replica hands it to the partition's leader, which
 * applies it through the partition's raft (Go sends it to the leader it knows; sending it to the
 * reporting node also reaches replicas that apply it alone, as the simulated nodes do). Start is
 * 0, as Go sends it: the node uses only End. Partitions without a record (an open create, an
 * orphan) are left alone. Returns how many updates were queued.
 *
 * Heartbeat handling proper lives in heartbeats.ts; this sits here until that file can take it.
 */
export function queueRangeEndUpdates(model: ModelView, queue: TaskQueue, nodeAddr: string, report: MetaNodeHeartbeatReport): number {
  let queued = 0;
  for (const p of report.metaPartitions) {
    const mp = model.metaPartitions.get(p.partitionId);
    if (mp === undefined || p.end === mp.end) continue;
    if (p.volName !== '' && p.volName !== mp.volName) continue;
    if (queue.updateMetaPartition(nodeAddr, { partitionId: mp.id, volName: mp.volName, start: 0n, end: mp.end }) === 'queued') queued += 1;
  }
  return queued;
}

/** Resolves true after `ms`, false as soon as the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
