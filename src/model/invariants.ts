// Whole-model consistency checks: run after start-up loading, and in tests after every command.
// O(state); never on the apply path. `checkModel` returns the list of problems (empty when
// consistent) so a caller can report all of them at once; `assertModel` turns a non-empty list
// into an AssertionError, because a model that breaks one of these rules is a bug in apply or
// in the record codecs, never an operating error (CONVENTIONS: assertions crash).
//
// What is checked:
// - nodes and node sets: zone and node set exist, ids within `#max_common_id` and unique, the
//   addr, member and room indexes agree with the records;
// - users and access keys point at each other; `own_vols` name exactly the vols the user owns
//   (vol.owner) that are not marked for deletion, once each (the mark drops every claim, as
//   Go's deleteVolPolicy does, so the owner may be deleted before the removal); grants (`authorized_vols`) name existing vols the user does not own
//   (the Go master drops a grant when the user becomes the owner, and answers 61 to a grant
//   for the owner);
// - vols and create intents: ids within `#max_common_id` and not shared with a node, node set,
//   other vol or intent; a name is a committed vol or an open intent, never both; the owner
//   user exists (committed vols);
// - meta partition ranges (spec 3.1): per vol, in id order, the first starts at 0, each starts
//   right after the previous one ends, and the last (the max mp) ends at 2^63-1;
// - partitions: ids within `#max_mp_id` / `#max_dp_id`, each belongs to an existing vol or an
//   open intent and carries its name, one id is never used twice (committed or planned), every
//   replica is on an existing node of the right kind at the recorded addr, once, and as many
//   as replicaNum; a committed data partition knows the disk of each of its replicas;
// - the partition indexes (by vol, replica counts by node) agree with the records.

import { assert } from '../util/assert.js';
import { PackedMap } from './packed-map.js';
import { touchedSinceImage } from './packed-users.js';
import type { AccessKeyRecord, ModelView, UserRecord } from './state.js';
import { isEmptyPolicy } from './state.js';
import type { DataPartitionRecord, MetaPartitionRecord, PartitionPeer, VolIntentRecord } from './vol-state.js';
import { INODE_ID_MAX, VolStatus } from './vol-state.js';

export function checkModel(model: ModelView): string[] {
  const problems: string[] = [];
  checkNodes(model, problems);
  checkUsers(model, problems);
  checkVols(model, problems);
  checkPartitions(model, problems);
  checkRecovery(model, problems);
  return problems;
}

/** A recovery's pre-loss id range never passes the counters it raised. */
function checkRecovery(model: ModelView, problems: string[]): void {
  const ids = model.recovery?.preLossIds;
  if (ids === undefined) return;
  if (ids.metaPartition > model.counters.metaPartition) problems.push(`recovery: pre-loss meta partition ids up to ${ids.metaPartition}, #max_mp_id ${model.counters.metaPartition}`);
  if (ids.dataPartition > model.counters.dataPartition) problems.push(`recovery: pre-loss data partition ids up to ${ids.dataPartition}, #max_dp_id ${model.counters.dataPartition}`);
}

/** Throws an AssertionError listing every problem when the model is inconsistent. */
export function assertModel(model: ModelView, context = 'model'): void {
  const problems = checkModel(model);
  assert(problems.length === 0, () => `${context} is inconsistent:\n  ${problems.join('\n  ')}`);
}

function checkNodes(model: ModelView, problems: string[]): void {
  const maxCommonId = model.counters.common;

  for (const set of model.nodeSets.values()) {
    if (!model.zones.has(set.zoneName)) problems.push(`node set ${set.id}: zone ${set.zoneName} missing`);
    if (set.id > maxCommonId) problems.push(`node set ${set.id}: id above #max_common_id ${maxCommonId}`);
  }
  const nodes = [
    ...[...model.metaNodes.values()].map((n) => ({ kind: 'meta' as const, n, byAddr: model.index.metaNodeIdByAddr })),
    ...[...model.dataNodes.values()].map((n) => ({ kind: 'data' as const, n, byAddr: model.index.dataNodeIdByAddr })),
  ];
  const seenIds = commonIdUsers(model);
  for (const { kind, n, byAddr } of nodes) {
    const what = `${kind} node ${n.id} (${n.addr})`;
    const set = model.nodeSets.get(n.nodeSetId);
    if (set === undefined) problems.push(`${what}: node set ${n.nodeSetId} missing`);
    else if (set.zoneName !== n.zoneName) problems.push(`${what}: zone ${n.zoneName} but node set in ${set.zoneName}`);
    if (!model.zones.has(n.zoneName)) problems.push(`${what}: zone ${n.zoneName} missing`);
    if (n.id > maxCommonId) problems.push(`${what}: id above #max_common_id ${maxCommonId}`);
    if (byAddr.get(n.addr) !== n.id) problems.push(`${what}: addr index says ${byAddr.get(n.addr)}`);
    if (model.index.nodeSetMembers.get(n.nodeSetId)?.[kind].has(n.id) !== true) problems.push(`${what}: not a member of node set ${n.nodeSetId} in the index`);
  }
  for (const [id, users] of seenIds) {
    if (users.length > 1) problems.push(`common id ${id} used by ${users.join(', ')}`);
  }
  if (model.index.metaNodeIdByAddr.size !== model.metaNodes.size) problems.push('meta node addr index size differs');
  if (model.index.dataNodeIdByAddr.size !== model.dataNodes.size) problems.push('data node addr index size differs');
  for (const [setId, m] of model.index.nodeSetMembers) {
    for (const id of m.meta) if (model.metaNodes.get(id)?.nodeSetId !== setId) problems.push(`member index: meta node ${id} listed in node set ${setId}`);
    for (const id of m.data) if (model.dataNodes.get(id)?.nodeSetId !== setId) problems.push(`member index: data node ${id} listed in node set ${setId}`);
  }

  for (const [zoneName, room] of model.index.roomByZone) {
    for (const kind of ['meta', 'data'] as const) {
      for (const id of room[kind]) {
        const set = model.nodeSets.get(id);
        const members = model.index.nodeSetMembers.get(id)?.[kind].size ?? 0;
        if (set === undefined || set.zoneName !== zoneName || members >= set.capacity) {
          problems.push(`room index: node set ${id} listed for ${kind} nodes in zone ${zoneName} wrongly`);
        }
      }
    }
  }

  for (const set of model.nodeSets.values()) {
    const room = model.index.roomByZone.get(set.zoneName);
    const m = model.index.nodeSetMembers.get(set.id);
    for (const kind of ['meta', 'data'] as const) {
      const hasRoom = (m?.[kind].size ?? 0) < set.capacity;
      if (hasRoom !== (room?.[kind].includes(set.id) ?? false)) {
        problems.push(`room index: node set ${set.id} ${hasRoom ? 'missing' : 'listed'} for ${kind} nodes`);
      }
    }
  }
}

/** Who holds each id of the shared common counter (node sets, nodes, vols, intents: spec 12.3). */
function commonIdUsers(model: ModelView): Map<number, string[]> {
  const users = new Map<number, string[]>();
  const add = (id: number, what: string): void => {
    const list = users.get(id);
    if (list === undefined) users.set(id, [what]);
    else list.push(what);
  };
  for (const set of model.nodeSets.values()) add(set.id, `node set ${set.id}`);
  for (const n of model.metaNodes.values()) add(n.id, `meta node ${n.id} (${n.addr})`);
  for (const n of model.dataNodes.values()) add(n.id, `data node ${n.id} (${n.addr})`);
  for (const v of model.vols.values()) add(v.id, `vol ${v.id} (${v.name})`);
  for (const i of model.volIntents.values()) add(i.vol.id, `intent ${i.vol.id} (${i.vol.name})`);
  return users;
}

function checkUsers(model: ModelView, problems: string[]): void {
  const changed = changedSinceCheckedImage(model);
  let withPolicy = 0;
  // Keys found with their user as owner. Each such key passes the check of keys below (its
  // owner holds it), and no two users match one key (a user is filed under its own id: the one
  // writer, applyChange, and the record codec, which refuses a key that is not its value's id,
  // see to it); so when every key matched, the walk over the keys could find nothing and is
  // skipped (half the lookups of a start or a catch-up).
  let matchedKeys = 0;
  for (const user of changed?.users ?? model.users.values()) {
    const what = `user ${user.userId}`;
    if (!isEmptyPolicy(user.policy)) {
      withPolicy++;
      if (!model.index.usersWithPolicy.has(user.userId)) problems.push(`${what}: has a policy, missing from the policy index`);
    }
    const ak = model.accessKeys.get(user.accessKey);
    if (ak === undefined) problems.push(`${what}: access key record missing`);
    else if (ak.userId !== user.userId) problems.push(`${what}: access key held by ${ak.userId}`);
    else matchedKeys++;

    // Most users own nothing: no set for them (this runs once per user at every start-up).
    const ownedSet = user.policy.ownVols.length === 0 ? null : new Set<string>();
    const owned: ReadonlySet<string> = ownedSet ?? EMPTY_NAMES;
    for (const name of user.policy.ownVols) {
      if (owned.has(name)) problems.push(`${what}: own_vols lists ${name} twice`);
      ownedSet?.add(name);
      const id = model.index.volIdByName.get(name);
      const vol = id === undefined ? undefined : model.vols.get(id);
      if (vol === undefined) problems.push(`${what}: owns vol ${name} that does not exist`);
      else if (vol.owner !== user.userId) problems.push(`${what}: own_vols lists ${name}, owned by ${vol.owner}`);
      else if (vol.status === VolStatus.MarkDelete) problems.push(`${what}: own_vols lists ${name}, marked for deletion`);
    }
    for (const name of user.policy.authorizedVols.keys()) {
      if (!model.index.volIdByName.has(name)) problems.push(`${what}: grant on vol ${name} that does not exist`);
      if (owned.has(name)) problems.push(`${what}: grant on vol ${name} it owns`);
    }
  }
  if (changed === null) {
    if (withPolicy !== model.index.usersWithPolicy.size) problems.push(`policy index has ${model.index.usersWithPolicy.size} users for ${withPolicy} with a policy`);
  } else {
    // The users not visited are unchanged packed ones, who have no policy.
    for (const userId of model.index.usersWithPolicy) {
      const user = model.users.get(userId);
      if (user === undefined || isEmptyPolicy(user.policy)) problems.push(`policy index lists user ${userId}, who has no policy`);
    }
  }
  if (changed === null && matchedKeys === model.accessKeys.size) return;
  for (const ak of changed?.accessKeys ?? model.accessKeys.values()) {
    const user = model.users.get(ak.userId);
    if (user === undefined || user.accessKey !== ak.accessKey) {
      problems.push(`access key ${ak.accessKey}: no user ${ak.userId} holding it`);
    }
  }
}

const EMPTY_NAMES: ReadonlySet<string> = new Set();

/**
 * For a model loaded from a checked image (packed-users.ts) whose users and keys are still
 * those packed maps: the users and keys a check must visit, which are those that changed since
 * and their counterparts before the change. The others are as they were when the image's model
 * passed this check; a packed key belongs to a packed user who holds it, so an unchanged user
 * and an unchanged key can only lose their match through a change to the other, and each change
 * brings in the counterpart it had. Null for any other model: check everything.
 */
function changedSinceCheckedImage(model: ModelView): { users: UserRecord[]; accessKeys: AccessKeyRecord[] } | null {
  const { users, accessKeys: keys } = model;
  if (!(users instanceof PackedMap && keys instanceof PackedMap && users.checkedBase && keys.checkedBase)) return null;
  const touched = touchedSinceImage(model)!;
  const present = <V>(map: ReadonlyMap<string, V>, ids: Set<string>): V[] => [...ids].map((id) => map.get(id)).filter((v): v is V => v !== undefined);
  return { users: present(model.users, touched.userIds), accessKeys: present(model.accessKeys, touched.accessKeys) };
}

function checkVols(model: ModelView, problems: string[]): void {
  const { counters, index } = model;
  for (const vol of model.vols.values()) {
    const what = `vol ${vol.id} (${vol.name})`;
    if (vol.id > counters.common) problems.push(`${what}: id above #max_common_id ${counters.common}`);
    if (index.volIdByName.get(vol.name) !== vol.id) problems.push(`${what}: name index says ${index.volIdByName.get(vol.name)}`);
    if (index.intentIdByName.has(vol.name)) problems.push(`${what}: name also reserved by intent ${index.intentIdByName.get(vol.name)}`);
    if (model.volIntents.has(vol.id)) problems.push(`${what}: an intent holds the same id`);
    const owner = model.users.get(vol.owner);
    if (vol.status !== VolStatus.MarkDelete) {
      if (owner === undefined) problems.push(`${what}: owner ${vol.owner} missing`);
      else if (!owner.policy.ownVols.includes(vol.name)) problems.push(`${what}: owner ${vol.owner} does not list it in own_vols`);
    }
    const ids = index.metaPartitionsByVol.get(vol.id) ?? [];
    const mps = ids.map((id) => model.metaPartitions.get(id)).filter((p): p is MetaPartitionRecord => p !== undefined);
    checkInodeRanges(mps, what, problems);
  }
  if (index.volIdByName.size !== model.vols.size) problems.push(`vol name index has ${index.volIdByName.size} names for ${model.vols.size} vols`);

  for (const [volId, intent] of model.volIntents) {
    const what = `intent ${volId} (${intent.vol.name})`;
    if (intent.vol.id !== volId) problems.push(`${what}: keyed by ${volId} but holds vol ${intent.vol.id}`);
    if (volId > counters.common) problems.push(`${what}: id above #max_common_id ${counters.common}`);
    if (index.intentIdByName.get(intent.vol.name) !== volId) problems.push(`${what}: name index says ${index.intentIdByName.get(intent.vol.name)}`);
    checkIntentPartitions(intent, what, problems);
    checkInodeRanges(intent.metaPartitions, what, problems);
  }
  if (index.intentIdByName.size !== model.volIntents.size) problems.push(`intent name index has ${index.intentIdByName.size} names for ${model.volIntents.size} intents`);
}

function checkIntentPartitions(intent: VolIntentRecord, what: string, problems: string[]): void {
  const { vol } = intent;
  for (const p of [...intent.metaPartitions, ...intent.dataPartitions]) {
    if (p.volId !== vol.id || p.volName !== vol.name) problems.push(`${what}: planned partition ${p.id} names vol ${p.volId} (${p.volName})`);
  }
  for (const dp of intent.dataPartitions) {
    if (dp.replicas.length !== 0) problems.push(`${what}: planned data partition ${dp.id} already has disks`);
  }
  if (intent.metaPartitions.length === 0) problems.push(`${what}: no meta partition planned`);
}

/**
 * Spec 3.1: a vol's meta partitions, in id order, cover [0, 2^63-1] without a gap or an
 * overlap: mp0 starts at 0, mp(i+1) starts at end(i)+1, and only the last one (the max mp,
 * highest id) is open-ended.
 */
function checkInodeRanges(mps: readonly MetaPartitionRecord[], what: string, problems: string[]): void {
  if (mps.length === 0) {
    problems.push(`${what}: no meta partitions`);
    return;
  }
  let expectStart = 0n;
  for (const [i, mp] of mps.entries()) {
    if (i > 0 && mp.id <= mps[i - 1].id) problems.push(`${what}: meta partition ids not ascending at ${mp.id}`);
    if (mp.start !== expectStart) problems.push(`${what}: meta partition ${mp.id} starts at ${mp.start}, want ${expectStart}`);
    if (mp.end < mp.start) problems.push(`${what}: meta partition ${mp.id} ends at ${mp.end} before its start ${mp.start}`);
    const last = i === mps.length - 1;
    if (last && mp.end !== INODE_ID_MAX) problems.push(`${what}: last meta partition ${mp.id} ends at ${mp.end}, want ${INODE_ID_MAX}`);
    if (!last && mp.end >= INODE_ID_MAX) problems.push(`${what}: meta partition ${mp.id} ends at ${mp.end} but is not the last`);
    expectStart = mp.end + 1n;
  }
}

type PartitionKind = 'meta' | 'data';

function checkPartitions(model: ModelView, problems: string[]): void {
  // Every partition id, committed or planned by an intent, is used once.
  const idUsers = { meta: new Map<number, string>(), data: new Map<number, string>() };
  const claim = (kind: PartitionKind, id: number, what: string): void => {
    const other = idUsers[kind].get(id);
    if (other !== undefined) problems.push(`${kind} partition id ${id} used by ${other} and ${what}`);
    else idUsers[kind].set(id, what);
  };
  const replicas = { meta: new Map<number, number>(), data: new Map<number, number>() };

  const checkOne = (kind: PartitionKind, p: MetaPartitionRecord | DataPartitionRecord, planned: boolean): void => {
    const what = `${planned ? 'planned ' : ''}${kind} partition ${p.id}`;
    claim(kind, p.id, what);
    const counter = kind === 'meta' ? model.counters.metaPartition : model.counters.dataPartition;
    if (p.id > counter) problems.push(`${what}: id above #max_${kind === 'meta' ? 'mp' : 'dp'}_id ${counter}`);
    checkReplicas(model, kind, p.peers, p.replicaNum, what, problems);
    if (!planned) {
      const vol = model.vols.get(p.volId);
      const intent = model.volIntents.get(p.volId);
      const name = vol?.name ?? intent?.vol.name;
      if (name === undefined) problems.push(`${what}: vol ${p.volId} is neither a vol nor an open intent`);
      else if (name !== p.volName) problems.push(`${what}: vol name ${p.volName}, vol ${p.volId} is ${name}`);
      const counts = replicas[kind];
      for (const peer of p.peers) counts.set(peer.nodeId, (counts.get(peer.nodeId) ?? 0) + 1);
    }
  };

  for (const mp of model.metaPartitions.values()) checkOne('meta', mp, false);
  for (const dp of model.dataPartitions.values()) {
    checkOne('data', dp, false);
    checkDisks(dp, problems);
  }
  for (const intent of model.volIntents.values()) {
    for (const mp of intent.metaPartitions) checkOne('meta', mp, true);
    for (const dp of intent.dataPartitions) checkOne('data', dp, true);
  }

  checkByVol('meta', model.metaPartitions, model.index.metaPartitionsByVol, problems);
  checkByVol('data', model.dataPartitions, model.index.dataPartitionsByVol, problems);
  sameCounts('meta', replicas.meta, model.index.replicasByMetaNode, problems);
  sameCounts('data', replicas.data, model.index.replicasByDataNode, problems);
}

/** Replicas on registered nodes of the right kind at the recorded addr, once each, replicaNum of them. */
function checkReplicas(model: ModelView, kind: PartitionKind, peers: readonly PartitionPeer[], replicaNum: number, what: string, problems: string[]): void {
  if (peers.length !== replicaNum) problems.push(`${what}: ${peers.length} replicas, replicaNum ${replicaNum}`);
  const seen = new Set<number>();
  for (const peer of peers) {
    const node = kind === 'meta' ? model.metaNodes.get(peer.nodeId) : model.dataNodes.get(peer.nodeId);
    if (node === undefined) problems.push(`${what}: replica on missing ${kind} node ${peer.nodeId} (${peer.addr})`);
    else if (node.addr !== peer.addr) problems.push(`${what}: replica on ${kind} node ${peer.nodeId} at ${peer.addr}, node is at ${node.addr}`);
    if (seen.has(peer.nodeId)) problems.push(`${what}: two replicas on node ${peer.nodeId}`);
    seen.add(peer.nodeId);
  }
}

/** A committed data partition records one disk per replica, in peer order. */
function checkDisks(dp: DataPartitionRecord, problems: string[]): void {
  const addrs = dp.replicas.map((r) => r.addr);
  const peers = dp.peers.map((p) => p.addr);
  if (addrs.length !== peers.length || addrs.some((a, i) => a !== peers[i])) {
    problems.push(`data partition ${dp.id}: disks on [${addrs.join(', ')}], replicas on [${peers.join(', ')}]`);
  }
}

function checkByVol(
  kind: PartitionKind,
  records: ReadonlyMap<number, MetaPartitionRecord | DataPartitionRecord>,
  byVol: ReadonlyMap<number, readonly number[]>,
  problems: string[],
): void {
  let listed = 0;
  for (const [volId, ids] of byVol) {
    if (ids.length === 0) problems.push(`${kind} partition index: empty list for vol ${volId}`);
    ids.forEach((id, i) => {
      if (i > 0 && id <= ids[i - 1]) problems.push(`${kind} partition index: vol ${volId} not ascending at ${id}`);
      const p = records.get(id);
      if (p === undefined || p.volId !== volId) problems.push(`${kind} partition index: vol ${volId} lists ${id} (${p === undefined ? 'missing' : `of vol ${p.volId}`})`);
    });
    listed += ids.length;
  }
  if (listed !== records.size) problems.push(`${kind} partition index lists ${listed} of ${records.size} partitions`);
}

function sameCounts(kind: PartitionKind, expected: ReadonlyMap<number, number>, indexed: ReadonlyMap<number, number>, problems: string[]): void {
  for (const [nodeId, n] of expected) {
    if (indexed.get(nodeId) !== n) problems.push(`replica index: ${kind} node ${nodeId} holds ${n} replicas, index says ${indexed.get(nodeId)}`);
  }
  for (const [nodeId, n] of indexed) {
    if (!expected.has(nodeId)) problems.push(`replica index: ${kind} node ${nodeId} listed with ${n} replicas, holds none`);
  }
}
