// Partition work on nodes, as the domain operations need it: create a partition on every one of
// its replicas (all or nothing: what was created is reported so a failure can be undone), and
// delete one everywhere, best effort. Bounded parallelism; every call honours the signal.

import type { ModelView, PartitionPeer } from '../model/index.js';
import type { NodeTaskClient, ReplicaPeer } from '../nodes/task-client.js';
import { CubeCode, OperatingError } from '../util/errors.js';

/** Replicas of one partition contacted at once, and partitions created at once. */
export const NODE_TASK_PARALLELISM = 8;

/** The members list the nodes want: node id, addr and the raft ports the node registered. */
export function membersOf(model: ModelView, kind: 'meta' | 'data', peers: readonly PartitionPeer[]): ReplicaPeer[] {
  return peers.map((p) => {
    const node = kind === 'meta' ? model.metaNodes.get(p.nodeId) : model.dataNodes.get(p.nodeId);
    return { id: p.nodeId, addr: p.addr, heartbeatPort: node?.heartbeatPort ?? '', replicaPort: node?.replicaPort ?? '' };
  });
}

/** Runs `fn` over `items` with at most `limit` at once; settles every item. */
export async function settleAll<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i], i) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export interface MetaPartitionPlan {
  readonly id: number;
  readonly volName: string;
  readonly start: bigint;
  readonly end: bigint;
  readonly peers: readonly PartitionPeer[];
}

export interface DataPartitionPlan {
  readonly id: number;
  readonly volName: string;
  readonly sizeBytes: bigint;
  readonly mediaType: number;
  readonly peers: readonly PartitionPeer[];
}

/**
 * Thrown when a partition could not be created on every replica; `cause` is the first failure.
 * Code 1 with the node's text: the routes answer it as is (an untyped Error would be answered
 * as a bare "internal error", hiding which node refused and why).
 */
export class PartitionCreateError extends OperatingError {
  constructor(
    readonly kind: 'meta' | 'data',
    readonly partitionId: number,
    cause: unknown,
  ) {
    super(CubeCode.InternalError, `${kind} partition ${partitionId}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'PartitionCreateError';
  }
}

export async function createMetaPartitionsOnNodes(
  client: NodeTaskClient,
  model: ModelView,
  plans: readonly MetaPartitionPlan[],
  signal: AbortSignal,
): Promise<void> {
  const outcomes = await settleAll(plans, NODE_TASK_PARALLELISM, async (plan) => {
    const members = membersOf(model, 'meta', plan.peers);
    const task = { partitionId: plan.id, volName: plan.volName, start: plan.start, end: plan.end, members };
    const replicas = await settleAll(plan.peers, NODE_TASK_PARALLELISM, (p) => client.createMetaPartition(p.addr, task, signal));
    const failed = replicas.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw new PartitionCreateError('meta', plan.id, failed.reason);
  });
  throwFirst(outcomes);
}

/** Resolves with the disk path of every replica, per plan, in peer order. */
export async function createDataPartitionsOnNodes(
  client: NodeTaskClient,
  model: ModelView,
  plans: readonly DataPartitionPlan[],
  signal: AbortSignal,
): Promise<string[][]> {
  const outcomes = await settleAll(plans, NODE_TASK_PARALLELISM, async (plan) => {
    const members = membersOf(model, 'data', plan.peers);
    const task = {
      partitionId: plan.id,
      volName: plan.volName,
      partitionSizeBytes: plan.sizeBytes,
      replicaNum: plan.peers.length,
      members,
      hosts: plan.peers.map((p) => p.addr),
      mediaType: plan.mediaType,
    };
    const replicas = await settleAll(plan.peers, NODE_TASK_PARALLELISM, (p) => client.createDataPartition(p.addr, task, signal));
    const failed = replicas.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw new PartitionCreateError('data', plan.id, failed.reason);
    return replicas.map((r) => (r.status === 'fulfilled' ? r.value.diskPath : ''));
  });
  throwFirst(outcomes);
  return outcomes.map((o) => (o.status === 'fulfilled' ? o.value : []));
}

/**
 * Delete partitions on the given replicas, best effort (a node answers OK for a partition it
 * does not hold). Resolves with the (kind, id, addr) that could not be deleted.
 */
export async function deletePartitionsOnNodes(
  client: NodeTaskClient,
  kind: 'meta' | 'data',
  targets: readonly { readonly id: number; readonly addr: string }[],
  signal: AbortSignal,
): Promise<{ id: number; addr: string; reason: unknown }[]> {
  const outcomes = await settleAll(targets, NODE_TASK_PARALLELISM, (t) =>
    kind === 'meta' ? client.deleteMetaPartition(t.addr, t.id, signal) : client.deleteDataPartition(t.addr, t.id, signal),
  );
  const failed: { id: number; addr: string; reason: unknown }[] = [];
  outcomes.forEach((o, i) => {
    if (o.status === 'rejected') failed.push({ ...targets[i], reason: o.reason });
  });
  return failed;
}

/** Every (id, addr) replica of the given partitions. */
export function replicaTargets(partitions: readonly { readonly id: number; readonly peers: readonly PartitionPeer[] }[]): { id: number; addr: string }[] {
  return partitions.flatMap((p) => p.peers.map((peer) => ({ id: p.id, addr: peer.addr })));
}

function throwFirst(outcomes: readonly PromiseSettledResult<unknown>[]): void {
  const failed = outcomes.find((o) => o.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
