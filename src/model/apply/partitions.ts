// Partition commands: the meta partition split of spec 3.1 as one command, data partitions added
// to a vol, and a replica moved by a decommission. The proposer reserved the new ids with
// `ids.reserve` and created the partitions on their nodes before proposing; apply checks that
// the ids were reserved and never used, so a stale or repeated proposal cannot take an id twice.

import type { Change } from '../changes.js';
import type { CommandOf } from '../commands.js';
import { ClusterFrozenError, ClusterNotBootstrappedError, DataPartitionNotFoundError, MetaPartitionNotFoundError, StaleProposalError, VolNotFoundError } from '../errors.js';
import type { ModelView } from '../state.js';
import { maxMetaPartitionOf } from '../state.js';
import type { DataPartitionRecord, MetaPartitionRecord, PartitionPeer, VolRecord } from '../vol-state.js';
import { INODE_ID_MAX, PartitionStatus, VolStatus } from '../vol-state.js';
import type { Success } from './results.js';

function liveVol(model: ModelView, volId: number): VolRecord {
  const vol = model.vols.get(volId);
  if (vol === undefined) throw new VolNotFoundError(String(volId));
  if (vol.status === VolStatus.MarkDelete) throw new StaleProposalError(`vol ${vol.name} is marked for deletion`);
  return vol;
}

/**
 * Ids that open volume-create intents planned: not in the partition maps until the commit, yet
 * taken (the commit puts them). O(partitions of open intents), which are few and short-lived.
 */
function plannedIds(model: ModelView, kind: 'meta' | 'data'): Set<number> {
  const ids = new Set<number>();
  for (const intent of model.volIntents.values()) {
    for (const p of kind === 'meta' ? intent.metaPartitions : intent.dataPartitions) ids.add(p.id);
  }
  return ids;
}

function checkFreshId(model: ModelView, kind: 'meta' | 'data', id: number, planned: ReadonlySet<number>): void {
  const counter = kind === 'meta' ? model.counters.metaPartition : model.counters.dataPartition;
  const used = kind === 'meta' ? model.metaPartitions.has(id) : model.dataPartitions.has(id);
  if (id > counter) throw new StaleProposalError(`${kind} partition id ${id} was not reserved`);
  if (used || planned.has(id)) throw new StaleProposalError(`${kind} partition id ${id} is in use`);
}

/** Each replica on a registered node of `kind` at the recorded addr, once, `replicaNum` of them. */
export function checkPeers(model: ModelView, kind: 'meta' | 'data', peers: readonly PartitionPeer[], replicaNum: number, what: string): void {
  if (peers.length !== replicaNum) throw new StaleProposalError(`${what}: ${peers.length} replicas, want ${replicaNum}`);
  const seen = new Set<number>();
  for (const p of peers) {
    const node = kind === 'meta' ? model.metaNodes.get(p.nodeId) : model.dataNodes.get(p.nodeId);
    if (node === undefined || node.addr !== p.addr) throw new StaleProposalError(`${what}: no ${kind} node ${p.nodeId} at ${p.addr}`);
    if (seen.has(p.nodeId)) throw new StaleProposalError(`${what}: node ${p.nodeId} twice`);
    seen.add(p.nodeId);
  }
}

/**
 * Spec 3.1 refusals: frozen cluster, not the max mp, end out of [start, MAX - step], and new
 * partitions that do not continue the range contiguously up to MAX.
 */
export function applyMetaPartitionSplit(
  model: ModelView,
  cmd: CommandOf<'mp.split'>,
): Success<{ updated: MetaPartitionRecord; added: readonly MetaPartitionRecord[] }> {
  const cluster = model.cluster;
  if (cluster === null) throw new ClusterNotBootstrappedError();
  if (cluster.disableAutoAllocate) throw new ClusterFrozenError();
  const vol = liveVol(model, cmd.volId);
  const mp = model.metaPartitions.get(cmd.mpId);
  if (mp === undefined || mp.volId !== vol.id) throw new MetaPartitionNotFoundError(cmd.mpId);
  if (maxMetaPartitionOf(model, vol.id)?.id !== mp.id) throw new StaleProposalError(`meta partition ${mp.id} is not the last of vol ${vol.name}`);
  const step = BigInt(cluster.metaPartitionInodeIdStep);
  if (cmd.newEnd < mp.start || cmd.newEnd > INODE_ID_MAX - step) throw new StaleProposalError(`split end ${cmd.newEnd} out of range`);
  if (cmd.newPartitions.length === 0) throw new StaleProposalError('a split adds at least one partition');
  let expectStart = cmd.newEnd + 1n;
  const planned = plannedIds(model, 'meta');
  cmd.newPartitions.forEach((p, i) => {
    checkFreshId(model, 'meta', p.id, planned);
    if (p.id <= mp.id || (i > 0 && p.id <= cmd.newPartitions[i - 1].id)) throw new StaleProposalError('new partition ids must ascend');
    if (p.start !== expectStart) throw new StaleProposalError(`partition ${p.id} starts at ${p.start}, want ${expectStart}`);
    const last = i === cmd.newPartitions.length - 1;
    if (last ? p.end !== INODE_ID_MAX : p.end < p.start || p.end >= INODE_ID_MAX) throw new StaleProposalError(`partition ${p.id} has a bad end`);
    checkPeers(model, 'meta', p.peers, vol.mpReplicaNum, `partition ${p.id}`);
    expectStart = p.end + 1n;
  });
  const updated: MetaPartitionRecord = { ...mp, end: cmd.newEnd };
  const added: MetaPartitionRecord[] = cmd.newPartitions.map((p) => ({
    id: p.id,
    volId: vol.id,
    volName: vol.name,
    start: p.start,
    end: p.end,
    replicaNum: vol.mpReplicaNum,
    status: PartitionStatus.ReadWrite,
    peers: p.peers,
    isRecover: false,
  }));
  const changes: Change[] = [{ kind: 'metaPartition', op: 'put', record: updated }];
  for (const record of added) changes.push({ kind: 'metaPartition', op: 'put', record });
  return { value: { updated, added }, changes };
}

export function applyDataPartitionsAdd(model: ModelView, cmd: CommandOf<'dp.add'>): Success<{ added: readonly DataPartitionRecord[] }> {
  const vol = liveVol(model, cmd.volId);
  const ids = new Set<number>();
  const planned = plannedIds(model, 'data');
  const added = cmd.partitions.map((p): DataPartitionRecord => {
    checkFreshId(model, 'data', p.id, planned);
    if (ids.has(p.id)) throw new StaleProposalError(`data partition id ${p.id} twice`);
    ids.add(p.id);
    checkPeers(model, 'data', p.peers, vol.dpReplicaNum, `data partition ${p.id}`);
    if (p.diskPaths.length !== p.peers.length) throw new StaleProposalError(`data partition ${p.id}: disk paths do not match replicas`);
    return {
      id: p.id,
      volId: vol.id,
      volName: vol.name,
      replicaNum: vol.dpReplicaNum,
      status: PartitionStatus.ReadWrite,
      peers: p.peers,
      replicas: p.peers.map((peer, i) => ({ addr: peer.addr, diskPath: p.diskPaths[i] })),
      mediaType: cmd.mediaType,
      sizeBytes: cmd.sizeBytes,
      isRecover: false,
      rdOnly: false,
      createTimeUnixSec: cmd.createTimeUnixSec,
    };
  });
  return { value: { added }, changes: added.map((record) => ({ kind: 'dataPartition', op: 'put', record })) };
}

/** One replica of a partition moves: the peer at `removeAddr` is replaced by `add`, in place. */
export function applyReplaceReplica(model: ModelView, cmd: CommandOf<'partition.replaceReplica'>): Success<{ partitionId: number }> {
  const record = cmd.kind === 'meta' ? model.metaPartitions.get(cmd.partitionId) : model.dataPartitions.get(cmd.partitionId);
  if (record === undefined) {
    throw cmd.kind === 'meta' ? new MetaPartitionNotFoundError(cmd.partitionId) : new DataPartitionNotFoundError(cmd.partitionId);
  }
  const at = record.peers.findIndex((p) => p.addr === cmd.removeAddr);
  if (at < 0) throw new StaleProposalError(`partition ${cmd.partitionId} has no replica on ${cmd.removeAddr}`);
  const peers = record.peers.map((p, i) => (i === at ? cmd.add : p));
  checkPeers(model, cmd.kind, peers, record.peers.length, `partition ${cmd.partitionId}`);
  if (cmd.kind === 'meta') {
    const mp = record as MetaPartitionRecord;
    return { value: { partitionId: mp.id }, changes: [{ kind: 'metaPartition', op: 'put', record: { ...mp, peers } }] };
  }
  const dp = record as DataPartitionRecord;
  const replicas = dp.replicas.map((r) => (r.addr === cmd.removeAddr ? { addr: cmd.add.addr, diskPath: cmd.diskPath } : r));
  return { value: { partitionId: dp.id }, changes: [{ kind: 'dataPartition', op: 'put', record: { ...dp, peers, replicas } }] };
}
