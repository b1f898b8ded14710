// The leader's cleanup duties, each one pass of a periodic scheduler (schedulers.ts):
// - intents: a volume create whose proposer is gone (it is not running on this member, and only
//   the leader runs creates) is undone: aborted first (once the abort is applied the create can
//   never commit, even if its commit entry was already in the log), then its partitions are
//   deleted on their nodes; a delete that fails leaves an orphan for the orphan sweep;
// - deleted vols: a vol marked for deletion has its partitions deleted on the nodes that are up,
//   then is removed (vol, partitions, owner's claim) in one command;
// - orphans: a partition a node reports that no record, intent or running operation accounts
//   for (a dead leader created it and never committed) is deleted after a grace period. Not
//   while a recovery round collects (docs/recovery.md: the records are being rebuilt from those
//   very reports), and never one whose id is pre-loss in a recovered cluster: such a partition
//   is a piece of the old cluster the recovery did not see yet, not an orphan.
// docs/volume-create.md explains why these three make every create whole or gone.

import type { LogSink } from './ports.js';
import type { ModelView } from '../model/index.js';
import {
  makeCommand,
  VolStatus,
  dataPartitionsOf,
  metaPartitionsOf,
  dataNodeByAddr,
  metaNodeByAddr,
  metaNodeLive,
  dataNodeLive,
  dropReplicaLive,
  isPreLossPartition,
  recoveryCollecting,
} from '../model/index.js';
import type { NodeTaskClient } from '../nodes/task-client.js';
import type { DomainOps } from './domain-ops.js';
import { deletePartitionsOnNodes, replicaTargets } from './node-tasks.js';
import type { Replicator } from './ports.js';

/** An unexplained partition must be reported this long before it is deleted. */
export const ORPHAN_GRACE_MS = 60_000;
/** Bound on the work of one pass (vols removed, intents undone, orphans deleted). */
export const CLEANUP_BATCH_MAX = 64;

export interface CleanupDeps {
  readonly replicator: Replicator;
  readonly nodes: NodeTaskClient;
  readonly ops: DomainOps;
  readonly logger?: LogSink;
  readonly proposeTimeoutMs: number;
}

/** Undo every intent this member is not running. Returns the vol ids aborted. */
export async function sweepIntents(deps: CleanupDeps, signal: AbortSignal): Promise<number[]> {
  const model = deps.replicator.model;
  const aborted: number[] = [];
  for (const intent of [...model.volIntents.values()].slice(0, CLEANUP_BATCH_MAX)) {
    if (signal.aborted) break;
    const volId = intent.vol.id;
    if (deps.ops.ownsVol(volId) || deps.ops.ownsVolName(intent.vol.name)) continue;
    await deps.replicator.propose(makeCommand('vol.createAbort', { volId }), { signal, timeoutMs: deps.proposeTimeoutMs });
    const failed = [
      ...(await deletePartitionsOnNodes(deps.nodes, 'meta', replicaTargets(intent.metaPartitions), signal)),
      ...(await deletePartitionsOnNodes(deps.nodes, 'data', replicaTargets(intent.dataPartitions), signal)),
    ];
    deps.logger?.info({ vol: intent.vol.name, volId, undeleted: failed.length }, 'undid an unfinished volume create');
    aborted.push(volId);
  }
  return aborted;
}

/** A failed delete on a node that is down or gone does not block: the orphan sweep finishes it. */
function allNodesGone(model: ModelView, failed: readonly { addr: string }[]): boolean {
  return failed.every((f) => !nodeIsUp(model, f.addr));
}

function nodeIsUp(model: ModelView, addr: string): boolean {
  const mn = metaNodeByAddr(model, addr);
  if (mn !== undefined && metaNodeLive(model, mn.id).isActive) return true;
  const dn = dataNodeByAddr(model, addr);
  return dn !== undefined && dataNodeLive(model, dn).isActive;
}

/**
 * Remove vols marked for deletion once their partitions are gone from the nodes that are up.
 * `due` (default: all) keeps a marked vol visible for a while, as the Go master's slower
 * removal does (master config `volRemovalDelayMs`).
 */
export async function removeDeletedVols(deps: CleanupDeps, signal: AbortSignal, due: (deleteTimeUnixSec: number) => boolean = () => true): Promise<string[]> {
  const model = deps.replicator.model;
  const removed: string[] = [];
  const marked = [...model.vols.values()].filter((v) => v.status === VolStatus.MarkDelete && due(v.deleteTimeUnixSec)).slice(0, CLEANUP_BATCH_MAX);
  for (const vol of marked) {
    if (signal.aborted) break;
    const failed = [
      ...(await deletePartitionsOnNodes(deps.nodes, 'meta', replicaTargets(metaPartitionsOf(model, vol.id)), signal)),
      ...(await deletePartitionsOnNodes(deps.nodes, 'data', replicaTargets(dataPartitionsOf(model, vol.id)), signal)),
    ];
    if (failed.length > 0 && !allNodesGone(model, failed)) continue;
    const current = model.vols.get(vol.id);
    if (current === undefined || current.status !== VolStatus.MarkDelete) continue; // undeleted meanwhile
    await deps.replicator.propose(makeCommand('vol.remove', { volId: vol.id }), { signal, timeoutMs: deps.proposeTimeoutMs });
    deps.logger?.info({ vol: vol.name, volId: vol.id }, 'removed a deleted volume');
    removed.push(vol.name);
  }
  return removed;
}

/** Tracks when each unexplained replica was first seen, across passes. */
export class OrphanTracker {
  private readonly firstSeen = new Map<string, number>();

  /**
   * Replicas reported by nodes that nothing accounts for and that outlived the grace period.
   * `monoNowMs` is this member's monotonic clock (Clock.monoMs): the tracker is local and in memory.
   */
  due(model: ModelView, ops: DomainOps, monoNowMs: number, graceMs = ORPHAN_GRACE_MS): { kind: 'meta' | 'data'; id: number; addr: string }[] {
    if (recoveryCollecting(model)) {
      this.firstSeen.clear();
      return [];
    }
    const inIntent = new Set<string>();
    for (const intent of model.volIntents.values()) {
      for (const m of intent.metaPartitions) inIntent.add(`meta/${m.id}`);
      for (const d of intent.dataPartitions) inIntent.add(`data/${d.id}`);
    }
    const seen = new Set<string>();
    const out: { kind: 'meta' | 'data'; id: number; addr: string }[] = [];
    const visit = (kind: 'meta' | 'data', reports: ReadonlyMap<number, ReadonlyMap<string, unknown>>, known: (id: number) => { peers: readonly { addr: string }[] } | undefined): void => {
      for (const [id, replicas] of reports) {
        const record = known(id);
        for (const addr of replicas.keys()) {
          if (record !== undefined && record.peers.some((p) => p.addr === addr)) continue;
          if (inIntent.has(`${kind}/${id}`) || ops.ownsPartition(kind, id) || isPreLossPartition(model, kind, id)) continue;
          const key = `${kind}/${id}/${addr}`;
          seen.add(key);
          const first = this.firstSeen.get(key) ?? monoNowMs;
          this.firstSeen.set(key, first);
          if (monoNowMs - first >= graceMs && out.length < CLEANUP_BATCH_MAX) out.push({ kind, id, addr });
        }
      }
    };
    visit('meta', model.live.metaReplicas, (id) => model.metaPartitions.get(id));
    visit('data', model.live.dataReplicas, (id) => model.dataPartitions.get(id));
    for (const key of [...this.firstSeen.keys()]) if (!seen.has(key)) this.firstSeen.delete(key);
    return out;
  }

  forget(kind: 'meta' | 'data', id: number, addr: string): void {
    this.firstSeen.delete(`${kind}/${id}/${addr}`);
  }
}

/** Delete the orphans that are due; their live reports are dropped so a view never shows them. */
export async function sweepOrphans(deps: CleanupDeps, tracker: OrphanTracker, monoNowMs: number, signal: AbortSignal, graceMs = ORPHAN_GRACE_MS): Promise<number> {
  const model = deps.replicator.model;
  let deleted = 0;
  for (const o of tracker.due(model, deps.ops, monoNowMs, graceMs)) {
    if (signal.aborted) break;
    const failed = await deletePartitionsOnNodes(deps.nodes, o.kind, [{ id: o.id, addr: o.addr }], signal);
    if (failed.length > 0) continue;
    dropReplicaLive(model, o.kind, o.id, o.addr);
    tracker.forget(o.kind, o.id, o.addr);
    deps.logger?.info(o, 'deleted an orphan partition replica');
    deleted++;
  }
  return deleted;
}
