// Volume commands (spec 1.5 createVol, vol/*, user/transferVol; docs/volume-create.md).
//
// A create is two commands around the node work: `vol.createBegin` allocates every id and
// persists an intent (the name is reserved, nothing is visible), the proposer creates the
// partitions on their nodes, then `vol.createCommit` turns the intent into the volume, its
// partitions and its owner's claim in one batch, or `vol.createAbort` drops it after the
// partitions were deleted. A leader that finds an intent it is not running undoes it.

import { assert } from '../../util/assert.js';
import { ParamError } from '../../util/errors.js';
import type { Change } from '../changes.js';
import type { CommandOf } from '../commands.js';
import {
  ClusterFrozenError,
  ClusterNotBootstrappedError,
  DuplicateAccessKeyError,
  DuplicateVolError,
  HaveNoPolicyError,
  StaleProposalError,
  UserNotFoundError,
  VolMarkedDeleteError,
  VolNotFoundError,
  ZoneNotFoundError,
} from '../errors.js';
import type { ClusterRecord, ModelView, UserRecord } from '../state.js';
import { emptyPolicy, UserType, usersWithPolicy, volByName } from '../state.js';
import { checkAccessKey, checkCapacityChange, checkOwner, checkPasswordSha1, checkSecretKey, checkVolName } from '../validate.js';
import type { DataPartitionRecord, MetaPartitionRecord, PartitionPeer, VolIntentRecord, VolRecord } from '../vol-state.js';
import { INODE_ID_MAX, PartitionStatus, VolStatus } from '../vol-state.js';
import { nextId } from './ids.js';
import type { Success } from './results.js';

/** Bounds of one create (spec 1.5: mpCount clamped to 3..100, dpCount at most 200). */
export const MP_COUNT_MAX = 100;
export const DP_COUNT_MAX = 200;

function clusterOf(model: ModelView): ClusterRecord {
  if (model.cluster === null) throw new ClusterNotBootstrappedError();
  return model.cluster;
}

function volNamed(model: ModelView, name: string): VolRecord {
  const vol = volByName(model, name);
  if (vol === undefined) throw new VolNotFoundError(name);
  return vol;
}

/** Every peer names a registered node of the right kind at that addr, once per partition. */
function checkPeers(model: ModelView, kind: 'meta' | 'data', lists: readonly (readonly PartitionPeer[])[], replicaNum: number, field: string): void {
  lists.forEach((peers, i) => {
    if (peers.length !== replicaNum) throw new StaleProposalError(`${field}[${i}] has ${peers.length} replicas, want ${replicaNum}`);
    const seen = new Set<number>();
    for (const p of peers) {
      const node = kind === 'meta' ? model.metaNodes.get(p.nodeId) : model.dataNodes.get(p.nodeId);
      if (node === undefined || node.addr !== p.addr) throw new StaleProposalError(`${field}[${i}]: no ${kind} node ${p.nodeId} at ${p.addr}`);
      if (seen.has(p.nodeId)) throw new StaleProposalError(`${field}[${i}]: node ${p.nodeId} twice`);
      seen.add(p.nodeId);
    }
  });
}

export function checkZonesExist(model: ModelView, zoneNames: string): void {
  for (const z of zoneNames.split(',')) {
    if (z !== '' && !model.zones.has(z)) throw new ZoneNotFoundError(z);
  }
}

/** Inode range of meta partition `i` of `count` at create (spec 3.1). */
export function initialRange(i: number, count: number, step: bigint): { start: bigint; end: bigint } {
  const n = BigInt(i);
  return { start: i === 0 ? 0n : n * step + 1n, end: i === count - 1 ? INODE_ID_MAX : (n + 1n) * step };
}

export function applyVolCreateBegin(model: ModelView, cmd: CommandOf<'vol.createBegin'>): Success<VolIntentRecord> {
  const cluster = clusterOf(model);
  if (cluster.disableAutoAllocate) throw new ClusterFrozenError();
  checkVolName(cmd.name);
  checkOwner(cmd.owner);
  if (model.index.volIdByName.has(cmd.name) || model.index.intentIdByName.has(cmd.name)) {
    throw new DuplicateVolError(cmd.name, cluster.name);
  }
  if (cmd.mpPeers.length < 1 || cmd.mpPeers.length > MP_COUNT_MAX) throw new ParamError('mpCount', `mpCount must be in [1, ${MP_COUNT_MAX}]`);
  if (cmd.dpPeers.length > DP_COUNT_MAX) throw new ParamError('dpCount', `dpCount must be at most ${DP_COUNT_MAX}`);
  if (cmd.capacityGB <= 0) throw new ParamError('capacity', 'capacity must be positive');
  checkZonesExist(model, cmd.settings.zoneName);
  checkPeers(model, 'meta', cmd.mpPeers, cmd.mpReplicaNum, 'mpPeers');
  checkPeers(model, 'data', cmd.dpPeers, cmd.dpReplicaNum, 'dpPeers');
  const ownerExists = model.users.has(cmd.owner);
  if (!ownerExists) {
    // The commit creates the owner from these keys (spec 1.5); refuse bad ones now, while the
    // create can still fail without leaving partitions on the nodes to clean up.
    checkAccessKey(cmd.newOwner.accessKey, 'newOwner.accessKey');
    checkSecretKey(cmd.newOwner.secretKey, 'newOwner.secretKey');
    checkPasswordSha1(cmd.newOwner.passwordSha1, 'newOwner.passwordSha1');
    if (model.accessKeys.has(cmd.newOwner.accessKey)) throw new DuplicateAccessKeyError(cmd.newOwner.accessKey);
  }

  const volId = nextId(model.counters.common);
  const vol: VolRecord = {
    id: volId,
    name: cmd.name,
    owner: cmd.owner,
    status: VolStatus.Normal,
    capacityGB: cmd.capacityGB,
    mpReplicaNum: cmd.mpReplicaNum,
    dpReplicaNum: cmd.dpReplicaNum,
    dpSizeBytes: cmd.dpSizeBytes,
    volType: cmd.volType,
    volStorageClass: cmd.volStorageClass,
    allowedStorageClass: cmd.allowedStorageClass,
    createTimeUnixSec: cmd.createTimeUnixSec,
    deleteTimeUnixSec: 0,
    settings: cmd.settings,
  };
  const step = BigInt(cluster.metaPartitionInodeIdStep);
  const firstMp = model.counters.metaPartition + 1;
  const metaPartitions: MetaPartitionRecord[] = cmd.mpPeers.map((peers, i) => ({
    id: firstMp + i,
    volId,
    volName: cmd.name,
    ...initialRange(i, cmd.mpPeers.length, step),
    replicaNum: cmd.mpReplicaNum,
    status: PartitionStatus.ReadWrite,
    peers,
    isRecover: false,
  }));
  const firstDp = model.counters.dataPartition + 1;
  const dataPartitions: DataPartitionRecord[] = cmd.dpPeers.map((peers, i) => ({
    id: firstDp + i,
    volId,
    volName: cmd.name,
    replicaNum: cmd.dpReplicaNum,
    status: PartitionStatus.ReadWrite,
    peers,
    replicas: [],
    mediaType: cmd.dpMediaType,
    sizeBytes: cmd.dpSizeBytes,
    isRecover: false,
    rdOnly: false,
    createTimeUnixSec: cmd.createTimeUnixSec,
  }));
  const intent: VolIntentRecord = {
    vol,
    metaPartitions,
    dataPartitions,
    newOwner: ownerExists ? null : cmd.newOwner,
    proposerId: cmd.proposerId,
    beginTimeUnixSec: cmd.createTimeUnixSec,
  };
  const changes: Change[] = [
    { kind: 'counter', op: 'put', counter: 'common', value: volId },
    { kind: 'counter', op: 'put', counter: 'metaPartition', value: nextId(model.counters.metaPartition, metaPartitions.length) },
  ];
  if (dataPartitions.length > 0) {
    changes.push({ kind: 'counter', op: 'put', counter: 'dataPartition', value: nextId(model.counters.dataPartition, dataPartitions.length) });
  }
  changes.push({ kind: 'volIntent', op: 'put', record: intent });
  return { value: intent, changes };
}

export function applyVolCreateCommit(model: ModelView, cmd: CommandOf<'vol.createCommit'>): Success<VolRecord> {
  const intent = model.volIntents.get(cmd.volId);
  if (intent === undefined) throw new StaleProposalError(`no volume create in progress for vol id ${cmd.volId}`);
  if (cmd.dpDiskPaths.length !== intent.dataPartitions.length) {
    throw new StaleProposalError(`commit names ${cmd.dpDiskPaths.length} data partitions, the intent has ${intent.dataPartitions.length}`);
  }
  const { vol } = intent;
  const changes: Change[] = [{ kind: 'volIntent', op: 'del', volId: vol.id }];
  let owner = model.users.get(vol.owner);
  if (owner === undefined) {
    // The owner appeared or vanished since begin is possible only through other commands; the
    // intent carries keys for the case the user still does not exist (spec 1.5).
    const keys = intent.newOwner;
    if (keys === null) throw new UserNotFoundError(vol.owner);
    if (model.accessKeys.has(keys.accessKey)) throw new StaleProposalError('the generated owner access key is taken');
    owner = {
      userId: vol.owner,
      accessKey: keys.accessKey,
      secretKey: keys.secretKey,
      userType: UserType.Normal,
      createTimeUnixSec: vol.createTimeUnixSec,
      description: '',
      policy: emptyPolicy(),
    };
    changes.push({ kind: 'accessKey', op: 'put', record: { accessKey: keys.accessKey, userId: vol.owner, passwordSha1: keys.passwordSha1 } });
  }
  changes.push({ kind: 'user', op: 'put', record: withOwnVol(owner, vol.name) });
  changes.push({ kind: 'vol', op: 'put', record: vol });
  for (const record of intent.metaPartitions) changes.push({ kind: 'metaPartition', op: 'put', record });
  intent.dataPartitions.forEach((dp, i) => {
    const paths = cmd.dpDiskPaths[i];
    if (paths.length !== dp.peers.length) throw new StaleProposalError(`data partition ${dp.id}: ${paths.length} disk paths for ${dp.peers.length} replicas`);
    const record: DataPartitionRecord = { ...dp, replicas: dp.peers.map((p, j) => ({ addr: p.addr, diskPath: paths[j] })) };
    changes.push({ kind: 'dataPartition', op: 'put', record });
  });
  return { value: vol, changes };
}

export function applyVolCreateAbort(model: ModelView, cmd: CommandOf<'vol.createAbort'>): Success<{ volId: number; aborted: boolean }> {
  if (!model.volIntents.has(cmd.volId)) return { value: { volId: cmd.volId, aborted: false }, changes: [] };
  return { value: { volId: cmd.volId, aborted: true }, changes: [{ kind: 'volIntent', op: 'del', volId: cmd.volId }] };
}

export function applyVolUpdate(model: ModelView, cmd: CommandOf<'vol.update'>): Success<VolRecord> {
  const cluster = clusterOf(model);
  const vol = volNamed(model, cmd.name);
  if (vol.status === VolStatus.MarkDelete) throw new VolMarkedDeleteError(vol.name, 'updateVol', cluster.name);
  if (cmd.capacityGB !== null && cmd.capacityGB <= 0) throw new ParamError('capacity', 'capacity must be positive');
  if (cmd.capacityGB !== null) checkCapacityChange(vol, cmd.capacityGB, cmd.capacityChange);
  if (cmd.settings.zoneName !== undefined) checkZonesExist(model, cmd.settings.zoneName);
  const next: VolRecord = {
    ...vol,
    capacityGB: cmd.capacityGB ?? vol.capacityGB,
    dpReplicaNum: cmd.dpReplicaNum ?? vol.dpReplicaNum,
    settings: { ...vol.settings, ...cmd.settings },
  };
  return { value: next, changes: [{ kind: 'vol', op: 'put', record: next }] };
}

/**
 * `/vol/delete`: mark (spec 1.5) and strip every user's grants on the vol, as the Go master
 * does at delete time. Scanning the users is O(users); deletes are rare and users few
 * compared with partitions. `deleted=false` takes a marked vol back (undelete).
 */
export function applyVolSetDeleted(model: ModelView, cmd: CommandOf<'vol.setDeleted'>): Success<VolRecord> {
  const vol = volNamed(model, cmd.name);
  if (!cmd.deleted) {
    if (vol.status === VolStatus.Normal) return { value: vol, changes: [] };
    // The owner's claim comes back with the vol; an owner deleted meanwhile cannot take it.
    const owner = model.users.get(vol.owner);
    if (owner === undefined) throw new UserNotFoundError(vol.owner);
    const back: VolRecord = { ...vol, status: VolStatus.Normal, deleteTimeUnixSec: 0 };
    return { value: back, changes: [{ kind: 'vol', op: 'put', record: back }, { kind: 'user', op: 'put', record: withOwnVol(owner, vol.name) }] };
  }
  if (vol.status === VolStatus.MarkDelete) return { value: vol, changes: [] };
  const marked: VolRecord = { ...vol, status: VolStatus.MarkDelete, deleteTimeUnixSec: cmd.timeUnixSec };
  const changes: Change[] = [{ kind: 'vol', op: 'put', record: marked }];
  // Go's /vol/delete runs deleteVolPolicy at the mark: the owner's claim and every grant go
  // now, so the owner can be deleted before the background removal (cfs-cli: delete a vol,
  // then its owner).
  for (const user of usersWithPolicy(model)) {
    const owns = user.policy.ownVols.includes(vol.name);
    const granted = user.policy.authorizedVols.has(vol.name);
    if (!owns && !granted) continue;
    let next = owns ? withoutOwnVol(user, vol.name) : user;
    if (granted) next = withoutGrant(next, vol.name);
    changes.push({ kind: 'user', op: 'put', record: next });
  }
  return { value: marked, changes };
}

/** Background removal's end: vol, partitions and the owner's claim go in one batch. */
export function applyVolRemove(model: ModelView, cmd: CommandOf<'vol.remove'>): Success<{ volId: number; removed: boolean }> {
  const vol = model.vols.get(cmd.volId);
  if (vol === undefined) return { value: { volId: cmd.volId, removed: false }, changes: [] };
  if (vol.status !== VolStatus.MarkDelete) throw new StaleProposalError(`vol ${vol.name} is not marked for deletion`);
  const changes: Change[] = [];
  for (const id of model.index.metaPartitionsByVol.get(vol.id) ?? []) changes.push({ kind: 'metaPartition', op: 'del', id, volId: vol.id });
  for (const id of model.index.dataPartitionsByVol.get(vol.id) ?? []) changes.push({ kind: 'dataPartition', op: 'del', id, volId: vol.id });
  // Every claim on the name goes with the vol (Go: deleteVolPolicy drops own_vols and grants
  // of every user of the vol); grants made after the mark would otherwise name a vol that is
  // gone, or one created later under the same name. O(users with a policy), as in applyVolSetDeleted.
  for (const user of usersWithPolicy(model)) {
    const owns = user.userId === vol.owner && user.policy.ownVols.includes(vol.name);
    const granted = user.policy.authorizedVols.has(vol.name);
    if (!owns && !granted) continue;
    let next = owns ? withoutOwnVol(user, vol.name) : user;
    if (granted) next = withoutGrant(next, vol.name);
    changes.push({ kind: 'user', op: 'put', record: next });
  }
  changes.push({ kind: 'vol', op: 'del', id: vol.id });
  return { value: { volId: vol.id, removed: true }, changes };
}

/**
 * `/user/transferVol` (spec 1.5): the vol's owner becomes `toUserId`. Without `force` the
 * source user must own it (50, as the Go master answers).
 */
export function applyVolTransfer(model: ModelView, cmd: CommandOf<'vol.transfer'>): Success<UserRecord> {
  // Checks in the order the Go master answers them: vol (7), the source must be the owner
  // unless forced (50, before any user lookup), then the target user (46).
  const vol = volNamed(model, cmd.name);
  // A vol marked for deletion has no owner claim any more (setDeleted): nothing to transfer.
  if (vol.status === VolStatus.MarkDelete) throw new VolMarkedDeleteError(vol.name, 'transferVol', clusterOf(model).name);
  if (!cmd.force && vol.owner !== cmd.fromUserId) throw new HaveNoPolicyError(cmd.fromUserId);
  const to = model.users.get(cmd.toUserId);
  if (to === undefined) throw new UserNotFoundError(cmd.toUserId);
  // Unlike the Go master (which drops the vol from user_src's own_vols only), the claim of
  // the actual owner goes: own_vols always agree with vol owners (invariants.ts).
  const changes: Change[] = [];
  const current = model.users.get(vol.owner);
  if (current !== undefined && current.userId !== to.userId && current.policy.ownVols.includes(vol.name)) {
    changes.push({ kind: 'user', op: 'put', record: withoutOwnVol(current, vol.name) });
  }
  const nextTo = withOwnVol(to, vol.name);
  if (nextTo !== to) changes.push({ kind: 'user', op: 'put', record: nextTo });
  if (vol.owner !== to.userId) changes.push({ kind: 'vol', op: 'put', record: { ...vol, owner: to.userId } });
  return { value: nextTo, changes };
}

// Policy helpers: records are replaced, never edited (state.ts).

/** The user owns `vol`; a grant it had on it goes (Go addOwnVol: an owner needs no grant). */
export function withOwnVol(user: UserRecord, vol: string): UserRecord {
  const owns = user.policy.ownVols.includes(vol);
  const granted = user.policy.authorizedVols.has(vol);
  if (owns && !granted) return user;
  const next = granted ? withoutGrant(user, vol) : user;
  return owns ? next : { ...next, policy: { ...next.policy, ownVols: [...next.policy.ownVols, vol] } };
}

export function withoutOwnVol(user: UserRecord, vol: string): UserRecord {
  assert(user.policy.ownVols.includes(vol), 'removing a vol the user does not own');
  return { ...user, policy: { ...user.policy, ownVols: user.policy.ownVols.filter((v) => v !== vol) } };
}

export function withoutGrant(user: UserRecord, vol: string): UserRecord {
  const authorizedVols = new Map(user.policy.authorizedVols);
  authorizedVols.delete(vol);
  return { ...user, policy: { ...user.policy, authorizedVols } };
}
