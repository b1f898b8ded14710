// Leader-side partition operations: the meta partition split (spec 3.1; `/metaPartition/create`
// and the split scheduler), data partitions added to a vol (`/dataPartition/create`, the top-up
// scheduler), replica moves (partition and node decommission) and loads. Each runs as a tracked
// domain operation: reserve ids (`ids.reserve`), create on the nodes, then one command; a
// failure deletes what it created. Partitions a dead leader left on nodes before its command
// committed are found by the orphan sweep (cleanup.ts) from heartbeat reports.

import type { LogSink } from './ports.js';
import type { DataPartitionRecord, MetaPartitionRecord, ModelView, NewMetaPartition, PartitionPeer, VolRecord } from '../model/index.js';
import {
  DataNodeNotFoundError,
  DataPartitionNotFoundError,
  dataNodeByAddr,
  dataNodeLive,
  dataPartitionsOf,
  dropReplicaLive,
  INODE_ID_MAX,
  makeCommand,
  MetaNodeNotFoundError,
  MetaPartitionNotFoundError,
  metaNodeByAddr,
  metaNodeLive,
  metaPartitionsOf,
  VolNotFoundError,
  volByName,
  VolStatus,
} from '../model/index.js';
import type { NodeTaskClient } from '../nodes/task-client.js';
import { CubeCode, OperatingError, ParamError, ReplicationError } from '../util/errors.js';
import type { DomainOps, OpClaims } from './domain-ops.js';
import { reportedMaxInodeId, reportIsFresh } from './heartbeats.js';
import { createDataPartitionsOnNodes, createMetaPartitionsOnNodes, deletePartitionsOnNodes, membersOf, replicaTargets, settleAll } from './node-tasks.js';
import { placeDataPartitions, placeMetaPartitions } from './placement.js';
import type { CallOptions, Replicator } from './ports.js';
import type { Clock } from './sources.js';
import { anySignal } from './vols.js';

/** `/metaPartition/create` count bound (spec 1.5: 1..10) and `/dataPartition/create` (≤ 200). */
export const MP_CREATE_COUNT_MAX = 10;
export const DP_CREATE_COUNT_MAX = 200;
/** `maxWritableDataPartitionCnt`: /dataPartition/create without force refuses above it. */
export const MAX_WRITABLE_DATA_PARTITIONS = 1000;

export interface PartitionServiceDeps {
  readonly replicator: Replicator;
  readonly clock: Clock;
  readonly nodes: NodeTaskClient;
  readonly ops: DomainOps;
  readonly clusterName: string;
  readonly logger?: LogSink;
}

export class PartitionService {
  constructor(private readonly deps: PartitionServiceDeps) {}

  private get model(): ModelView {
    return this.deps.replicator.model;
  }

  private volNamed(name: string): VolRecord {
    const vol = volByName(this.model, name);
    if (vol === undefined) throw new VolNotFoundError(name);
    return vol;
  }

  /**
   * Split the vol's last meta partition at `max(MaxInodeID, Start) + stepIncrement` and append
   * `count` partitions after it; the last ends at 2^63-1 (spec 3.1, `/metaPartition/create`).
   */
  async splitMetaPartition(volName: string, count: number, stepFraction: 1 | 0.25, options: CallOptions = {}): Promise<{ added: readonly MetaPartitionRecord[] }> {
    if (count < 1 || count > MP_CREATE_COUNT_MAX) throw new ParamError('count', `count must be in [1, ${MP_CREATE_COUNT_MAX}]`);
    // The checks below read the model: never from a stale one (see vols.ts create).
    await this.deps.replicator.readBarrier(options);
    const vol = this.volNamed(volName);
    // No frozen check here: the Go master's route splits a frozen cluster's vol too (only the
    // automatic split skips frozen clusters, and the split scheduler checks that itself).
    const cluster = this.model.cluster;
    if (vol.status === VolStatus.MarkDelete) return { added: [] }; // spec 12.7: the Go master answers success, nothing done
    return this.deps.ops.run(async (claims) => {
      const signal = anySignal(options.signal, claims.signal);
      const mps = metaPartitionsOf(this.model, vol.id);
      const last = mps[mps.length - 1];
      if (last === undefined) throw new MetaPartitionNotFoundError(0);
      // Go canSplit: a full-step split needs the partition's leader to have reported, so the
      // split point is above the inode cursor it reported (else two partitions could hand out
      // the same inode ids). The near-end split (0.25) runs on reports already.
      if (stepFraction === 1 && ![...(this.model.live.metaReplicas.get(last.id)?.values() ?? [])].some((r) => r.isLeader)) {
        throw new OperatingError(CubeCode.NoLeader, 'no leader');
      }
      const step = BigInt(cluster?.metaPartitionInodeIdStep ?? 4_194_304);
      const increment = stepFraction === 1 ? step : step / 4n;
      const maxInode = reportedMaxInodeId(this.model, last.id);
      const newEnd = (maxInode > last.start ? maxInode : last.start) + increment;
      if (newEnd > INODE_ID_MAX - step) {
        throw new OperatingError(
          CubeCode.InternalError,
          `action[updateInodeIDRange] vol[${vol.name}] partitionID[${last.id}] nextStart[${newEnd}] to prevent overflow ,not update end`,
        );
      }
      const reserved = await this.deps.replicator.propose(makeCommand('ids.reserve', { counter: 'metaPartition', count }), { ...options, signal });
      const ids = range(reserved.first, reserved.last);
      claims.claimMetaPartitions(ids);
      const peers = placeMetaPartitions(this.model, {
        count,
        replicaNum: vol.mpReplicaNum,
        zoneNames: zonesOf(vol),
        crossZone: vol.settings.crossZone,
        monoNowMs: this.deps.clock.monoMs(),
      });
      let start = newEnd + 1n;
      const plans: (NewMetaPartition & { volName: string })[] = ids.map((id, i) => {
        const end = i === ids.length - 1 ? INODE_ID_MAX : start + step - 1n;
        const p = { id, start, end, peers: peers[i], volName: vol.name };
        start = end + 1n;
        return p;
      });
      try {
        await createMetaPartitionsOnNodes(this.deps.nodes, this.model, plans, signal);
        const done = await this.deps.replicator.propose(
          makeCommand('mp.split', { volId: vol.id, mpId: last.id, newEnd, newPartitions: plans.map(({ id, start: s, end, peers: p }) => ({ id, start: s, end, peers: p })) }),
          { ...options, signal },
        );
        // The old partition's replicas narrow their range; ack-only, retried by nobody: a node
        // that misses it still refuses inodes past its old end only when it reaches it.
        await settleAll(last.peers, 8, (p) =>
          this.deps.nodes.updateMetaPartition(p.addr, { partitionId: last.id, volName: vol.name, start: last.start, end: newEnd }, signal),
        );
        return { added: done.added };
      } catch (e) {
        if (!outcomeUnknown(e)) await deletePartitionsOnNodes(this.deps.nodes, 'meta', replicaTargets(plans), AbortSignal.timeout(ROLLBACK_TIMEOUT_MS));
        throw e;
      }
    });
  }

  /**
   * `/dataPartition/create` and the top-up: `count` new data partitions for the vol, of
   * `mediaType` (0 = the vol's: that of its partitions, else of its storage class).
   */
  async addDataPartitions(volName: string, count: number, force: boolean, options: CallOptions = {}, requestedMediaType = 0): Promise<{ before: number; after: number }> {
    if (count < 1 || count > DP_CREATE_COUNT_MAX) throw new ParamError('count', `count must be in [1, ${DP_CREATE_COUNT_MAX}]`);
    await this.deps.replicator.readBarrier(options);
    const vol = this.volNamed(volName);
    // Go batchCreateDataPartition (not at vol create): code 1 with its text.
    if (this.model.cluster?.disableAutoAllocate === true) throw new OperatingError(CubeCode.InternalError, 'cluster is disable auto allocate dataPartition');
    if (vol.status === VolStatus.MarkDelete) throw new VolNotFoundError(volName);
    const before = dataPartitionsOf(this.model, vol.id);
    if (!force && before.length >= MAX_WRITABLE_DATA_PARTITIONS) {
      throw new OperatingError(CubeCode.InternalError, `vol[${vol.name}] already has ${before.length} writable data partitions, more than ${MAX_WRITABLE_DATA_PARTITIONS}`);
    }
    return this.deps.ops.run(async (claims) => {
      const signal = anySignal(options.signal, claims.signal);
      const mediaType = requestedMediaType !== 0 ? requestedMediaType : (before[0]?.mediaType ?? (vol.volStorageClass === 2 ? 2 : 1));
      const peers = placeDataPartitions(this.model, {
        count,
        replicaNum: vol.dpReplicaNum,
        zoneNames: zonesOf(vol),
        crossZone: vol.settings.crossZone,
        monoNowMs: this.deps.clock.monoMs(),
        mediaType,
        partitionSizeBytes: vol.dpSizeBytes,
      });
      const reserved = await this.deps.replicator.propose(makeCommand('ids.reserve', { counter: 'dataPartition', count }), { ...options, signal });
      const ids = range(reserved.first, reserved.last);
      claims.claimDataPartitions(ids);
      const plans = ids.map((id, i) => ({ id, volName: vol.name, sizeBytes: vol.dpSizeBytes, mediaType, peers: peers[i] }));
      try {
        const diskPaths = await createDataPartitionsOnNodes(this.deps.nodes, this.model, plans, signal);
        await this.deps.replicator.propose(
          makeCommand('dp.add', {
            volId: vol.id,
            mediaType,
            sizeBytes: vol.dpSizeBytes,
            createTimeUnixSec: Math.floor(this.deps.clock.nowMs() / 1000),
            partitions: plans.map((p, i) => ({ id: p.id, peers: p.peers, diskPaths: diskPaths[i] })),
          }),
          { ...options, signal },
        );
        return { before: before.length, after: before.length + count };
      } catch (e) {
        if (!outcomeUnknown(e)) await deletePartitionsOnNodes(this.deps.nodes, 'data', replicaTargets(plans), AbortSignal.timeout(ROLLBACK_TIMEOUT_MS));
        throw e;
      }
    });
  }

  /** Move one replica of a partition off `fromAddr` (partition decommission; spec 6). */
  async moveReplica(kind: 'meta' | 'data', partitionId: number, fromAddr: string, options: CallOptions = {}): Promise<PartitionPeer> {
    return this.deps.ops.run((claims) => this.doMoveReplica(kind, partitionId, fromAddr, claims, options));
  }

  private async doMoveReplica(kind: 'meta' | 'data', partitionId: number, fromAddr: string, claims: OpClaims, options: CallOptions): Promise<PartitionPeer> {
    const signal = anySignal(options.signal, claims.signal);
    const record = kind === 'meta' ? this.model.metaPartitions.get(partitionId) : this.model.dataPartitions.get(partitionId);
    if (record === undefined) throw kind === 'meta' ? new MetaPartitionNotFoundError(partitionId) : new DataPartitionNotFoundError(partitionId);
    if (!record.peers.some((p) => p.addr === fromAddr)) {
      throw new ParamError('addr', `partition ${partitionId} has no replica on ${fromAddr}`);
    }
    if (kind === 'meta') claims.claimMetaPartitions([partitionId]);
    else claims.claimDataPartitions([partitionId]);
    if (kind === 'meta') this.checkCanGoOffline(record as MetaPartitionRecord, fromAddr);
    const target = pickReplacement(this.model, kind, record.peers.map((p) => p.nodeId), this.deps.clock.monoMs());
    if (target === null) {
      const error = new OperatingError(kind === 'meta' ? CubeCode.NoMetaNodeToCreateMetaPartition : CubeCode.NoDataNodeToCreateDataPartition, `no enough ${kind} nodes for creating a ${kind} partition`);
      throw kind === 'meta' ? migrateMetaPartitionError(record as MetaPartitionRecord, error) : error;
    }
    const peers = record.peers.map((p) => (p.addr === fromAddr ? target : p));
    let diskPath = '';
    if (kind === 'meta') {
      const mp = record as MetaPartitionRecord;
      await this.deps.nodes.createMetaPartition(target.addr, { partitionId, volName: mp.volName, start: mp.start, end: mp.end, members: membersOf(this.model, 'meta', peers) }, signal);
    } else {
      const dp = record as DataPartitionRecord;
      const created = await this.deps.nodes.createDataPartition(
        target.addr,
        { partitionId, volName: dp.volName, partitionSizeBytes: dp.sizeBytes, replicaNum: dp.replicaNum, members: membersOf(this.model, 'data', peers), hosts: peers.map((p) => p.addr), mediaType: dp.mediaType, createType: 1 },
        signal,
      );
      diskPath = created.diskPath;
    }
    try {
      await this.deps.replicator.propose(makeCommand('partition.replaceReplica', { kind, partitionId, removeAddr: fromAddr, add: target, diskPath }), { ...options, signal });
    } catch (e) {
      if (!outcomeUnknown(e)) await deletePartitionsOnNodes(this.deps.nodes, kind, [{ id: partitionId, addr: target.addr }], AbortSignal.timeout(ROLLBACK_TIMEOUT_MS));
      throw e;
    }
    // The old replica's last report goes with it (Go removeReplicaByAddr): heartbeats only add
    // and refresh reports, so the views and diagnoses would count it as a fourth replica.
    dropReplicaLive(this.model, kind, partitionId, fromAddr);
    // The old replica goes last, best effort: a node that is down deletes it when the orphan
    // sweep sees it in a report again.
    await deletePartitionsOnNodes(this.deps.nodes, kind, [{ id: partitionId, addr: fromAddr }], signal);
    return target;
  }

  /**
   * Go canBeOffline: a replica may leave only if a majority of the partition's replicas stays
   * live (reporting, on an active node) without it.
   */
  private checkCanGoOffline(mp: MetaPartitionRecord, fromAddr: string): void {
    const majority = Math.floor(mp.replicaNum / 2) + 1;
    const monoNowMs = this.deps.clock.monoMs();
    const live = [...(this.model.live.metaReplicas.get(mp.id)?.values() ?? [])].filter(
      (r) => mp.peers.some((p) => p.addr === r.addr) && metaNodeLive(this.model, r.nodeId).isActive && reportIsFresh(r.reportMonoMs, monoNowMs),
    );
    if (live.length < majority) throw migrateMetaPartitionError(mp, new OperatingError(CubeCode.InternalError, 'no enough replica'));
    if (live.length === majority && live.some((r) => r.addr === fromAddr)) {
      throw migrateMetaPartitionError(mp, new OperatingError(CubeCode.InternalError, `live replicas num will be less than majority after offline nodeAddr: ${fromAddr}`));
    }
  }

  /**
   * Node decommission (spec 1.5): move every replica the node holds (up to `limit`, 0 = all),
   * then take the node out of the cluster map when none is left. Runs in the background.
   */
  async decommissionNode(kind: 'meta' | 'data', addr: string, limit: number): Promise<{ moved: number; failed: number; removed: boolean; firstError: Error | null }> {
    const node = kind === 'meta' ? metaNodeByAddr(this.model, addr) : dataNodeByAddr(this.model, addr);
    if (node === undefined) throw kind === 'meta' ? new MetaNodeNotFoundError(addr) : new DataNodeNotFoundError(addr);
    const held = (kind === 'meta' ? [...this.model.metaPartitions.values()] : [...this.model.dataPartitions.values()]).filter((p) =>
      p.peers.some((peer) => peer.nodeId === node.id),
    );
    const todo = limit > 0 ? held.slice(0, limit) : held;
    let moved = 0;
    let failed = 0;
    let firstError: Error | null = null;
    for (const p of todo) {
      try {
        await this.moveReplica(kind, p.id, addr, { timeoutMs: 30_000 });
        moved++;
      } catch (err) {
        failed++;
        firstError ??= err instanceof Error ? err : new Error(String(err));
        this.deps.logger?.warn({ kind, partition: p.id, addr, err }, 'replica move failed during decommission');
      }
    }
    let removed = false;
    if (failed === 0 && todo.length === held.length) {
      removed = (await this.deps.replicator.propose(makeCommand('node.remove', { kind, addr }), { timeoutMs: 10_000 })).removed;
    }
    return { moved, failed, removed, firstError };
  }

  /** `/metaPartition/load`: every replica loads and reports (sync op). */
  async loadMetaPartition(id: number, options: CallOptions = {}): Promise<void> {
    const mp = this.model.metaPartitions.get(id);
    if (mp === undefined) throw new MetaPartitionNotFoundError(id);
    const outcomes = await settleAll(mp.peers, 8, (p) => this.deps.nodes.loadMetaPartition(p.addr, id, options.signal));
    const failed = outcomes.find((o) => o.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /** `/dataPartition/load`: ack-only task to every replica; results come by /dataNode/response. */
  async loadDataPartition(id: number, options: CallOptions = {}): Promise<void> {
    const dp = this.model.dataPartitions.get(id);
    if (dp === undefined) throw new DataPartitionNotFoundError(id);
    const outcomes = await settleAll(dp.peers, 8, (p) => this.deps.nodes.loadDataPartition(p.addr, id, dp.volName, options.signal));
    const failed = outcomes.find((o) => o.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }
}

/** Bound on deleting what a failed operation created on the nodes. */
export const ROLLBACK_TIMEOUT_MS = 30_000;

/**
 * The replicated core failed (timeout, lost leadership, stopping): the command may still
 * commit. Deleting its partitions then could leave the model naming replicas no node has, so
 * they stay; if the command did not commit they are orphans, which the orphan sweep deletes
 * after its grace period (cleanup.ts). Any other failure (a node, the rules) is a sure "no".
 */
function outcomeUnknown(e: unknown): boolean {
  return e instanceof ReplicationError;
}

/** Go wraps every failure of a meta replica move so (cluster_task.go migrateMetaPartition); code 1. */
function migrateMetaPartitionError(mp: MetaPartitionRecord, cause: Error): OperatingError {
  return new OperatingError(CubeCode.InternalError, `action[migrateMetaPartition] vol[${mp.volName}],partition[${mp.id}],err[${cause.message}]`);
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

export function zonesOf(vol: VolRecord): string[] {
  return vol.settings.zoneName.split(',').filter((z) => z !== '');
}

/**
 * The least-loaded active, writable node of the kind that holds none of `exclude` and reported
 * within the liveness timeout before `monoNowMs` (this member's Clock.monoMs).
 */
export function pickReplacement(model: ModelView, kind: 'meta' | 'data', exclude: readonly number[], monoNowMs: number): PartitionPeer | null {
  let best: { peer: PartitionPeer; load: number } | null = null;
  const counts = kind === 'meta' ? model.index.replicasByMetaNode : model.index.replicasByDataNode;
  const nodes = kind === 'meta' ? model.metaNodes.values() : model.dataNodes.values();
  for (const node of nodes) {
    if (exclude.includes(node.id) || node.rdOnly) continue;
    const live = kind === 'meta' ? metaNodeLive(model, node.id) : dataNodeLive(model, model.dataNodes.get(node.id)!);
    if (!live.isActive || !live.isWritable || !reportIsFresh(live.reportMonoMs, monoNowMs)) continue;
    const load = counts.get(node.id) ?? 0;
    if (best === null || load < best.load || (load === best.load && node.id < best.peer.nodeId)) best = { peer: { nodeId: node.id, addr: node.addr }, load };
  }
  return best?.peer ?? null;
}
