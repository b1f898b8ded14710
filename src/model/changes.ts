// The only writer of replicated model state. A change is a whole record put (upsert) or a
// record delete; `applyChanges` swaps it into the maps and keeps the derived indexes right.
// The same function serves apply results, start-up loading (records.ts) and tests, so the
// indexes of a warm member and of a restarted one are built by the same code.

import { assert, unreachable } from '../util/assert.js';
import { forgetNodeLive, forgetPartitionLive } from './live.js';
import type {
  AccessKeyRecord,
  ClusterRecord,
  CounterName,
  DataNodeRecord,
  MetaNodeRecord,
  ModelState,
  NodeSetRecord,
  UserRecord,
  ZoneRecord,
} from './state.js';
import { isEmptyPolicy } from './state.js';
import type { RecoveryRecord } from './recovery-state.js';
import type { DataPartitionRecord, MetaPartitionRecord, PartitionPeer, VolIntentRecord, VolRecord } from './vol-state.js';

export type Change =
  | { readonly kind: 'cluster'; readonly op: 'put'; readonly record: ClusterRecord }
  | { readonly kind: 'counter'; readonly op: 'put'; readonly counter: CounterName; readonly value: number }
  | { readonly kind: 'zone'; readonly op: 'put'; readonly record: ZoneRecord }
  | { readonly kind: 'nodeSet'; readonly op: 'put'; readonly record: NodeSetRecord }
  | { readonly kind: 'metaNode'; readonly op: 'put'; readonly record: MetaNodeRecord }
  | { readonly kind: 'dataNode'; readonly op: 'put'; readonly record: DataNodeRecord }
  | { readonly kind: 'user'; readonly op: 'put'; readonly record: UserRecord }
  | { readonly kind: 'user'; readonly op: 'del'; readonly userId: string }
  | { readonly kind: 'accessKey'; readonly op: 'put'; readonly record: AccessKeyRecord }
  | { readonly kind: 'accessKey'; readonly op: 'del'; readonly accessKey: string }
  | { readonly kind: 'metaNode'; readonly op: 'del'; readonly id: number; readonly addr: string }
  | { readonly kind: 'dataNode'; readonly op: 'del'; readonly id: number; readonly addr: string }
  | { readonly kind: 'vol'; readonly op: 'put'; readonly record: VolRecord }
  | { readonly kind: 'vol'; readonly op: 'del'; readonly id: number }
  | { readonly kind: 'volIntent'; readonly op: 'put'; readonly record: VolIntentRecord }
  | { readonly kind: 'volIntent'; readonly op: 'del'; readonly volId: number }
  | { readonly kind: 'metaPartition'; readonly op: 'put'; readonly record: MetaPartitionRecord }
  | { readonly kind: 'metaPartition'; readonly op: 'del'; readonly id: number; readonly volId: number }
  | { readonly kind: 'dataPartition'; readonly op: 'put'; readonly record: DataPartitionRecord }
  | { readonly kind: 'dataPartition'; readonly op: 'del'; readonly id: number; readonly volId: number }
  | { readonly kind: 'recovery'; readonly op: 'put'; readonly record: RecoveryRecord };

export type ChangeKind = Change['kind'];

/** Apply changes in order. Each change is O(1) apart from sorted-array upkeep of node set ids. */
export function applyChanges(state: ModelState, changes: readonly Change[]): void {
  for (const change of changes) applyChange(state, change);
}

export function applyChange(state: ModelState, change: Change): void {
  state.version++;
  switch (change.kind) {
    case 'cluster':
      state.cluster = change.record;
      return;
    case 'counter':
      // Counters only move up: an id once handed out is never handed out again.
      assert(change.value >= state.counters[change.counter], () => `counter ${change.counter} moves down`);
      state.counters = { ...state.counters, [change.counter]: change.value };
      return;
    case 'zone':
      state.zones.set(change.record.name, change.record);
      return;
    case 'nodeSet':
      putNodeSet(state, change.record);
      return;
    case 'metaNode':
      if (change.op === 'put') putMetaNode(state, change.record);
      else delMetaNode(state, change.id);
      return;
    case 'dataNode':
      if (change.op === 'put') putDataNode(state, change.record);
      else delDataNode(state, change.id);
      return;
    case 'vol':
      if (change.op === 'put') putVol(state, change.record);
      else delVol(state, change.id);
      return;
    case 'volIntent':
      if (change.op === 'put') putIntent(state, change.record);
      else delIntent(state, change.volId);
      return;
    case 'metaPartition':
      if (change.op === 'put') putPartition(state, 'meta', change.record);
      else delPartition(state, 'meta', change.id);
      return;
    case 'dataPartition':
      if (change.op === 'put') putPartition(state, 'data', change.record);
      else delPartition(state, 'data', change.id);
      return;
    case 'user':
      if (change.op === 'put') {
        state.users.set(change.record.userId, change.record);
        if (isEmptyPolicy(change.record.policy)) state.index.usersWithPolicy.delete(change.record.userId);
        else state.index.usersWithPolicy.add(change.record.userId);
      } else {
        state.users.delete(change.userId);
        state.index.usersWithPolicy.delete(change.userId);
      }
      return;
    case 'accessKey':
      if (change.op === 'put') state.accessKeys.set(change.record.accessKey, change.record);
      else state.accessKeys.delete(change.accessKey);
      return;
    case 'recovery':
      state.recovery = change.record;
      return;
    default:
      unreachable(change, 'change');
  }
}

function putNodeSet(state: ModelState, record: NodeSetRecord): void {
  const previous = state.nodeSets.get(record.id);
  if (previous !== undefined && previous.zoneName !== record.zoneName) {
    removeSorted(state.index.nodeSetsByZone.get(previous.zoneName), record.id);
    setRoom(state, previous.zoneName, record.id, 'meta', false);
    setRoom(state, previous.zoneName, record.id, 'data', false);
  }
  state.nodeSets.set(record.id, record);
  insertSorted(getOrCreate(state.index.nodeSetsByZone, record.zoneName, () => []), record.id);
  refreshRoom(state, record.id);
}

function putMetaNode(state: ModelState, record: MetaNodeRecord): void {
  const previous = state.metaNodes.get(record.id);
  if (previous !== undefined) {
    state.index.metaNodeIdByAddr.delete(previous.addr);
    members(state, previous.nodeSetId).meta.delete(record.id);
    refreshRoom(state, previous.nodeSetId);
  }
  const holder = state.index.metaNodeIdByAddr.get(record.addr);
  assert(holder === undefined || holder === record.id, () => `meta node addr ${record.addr} held by ${holder}`);
  state.metaNodes.set(record.id, record);
  state.index.metaNodeIdByAddr.set(record.addr, record.id);
  members(state, record.nodeSetId).meta.add(record.id);
  refreshRoom(state, record.nodeSetId);
}

function putDataNode(state: ModelState, record: DataNodeRecord): void {
  const previous = state.dataNodes.get(record.id);
  if (previous !== undefined) {
    state.index.dataNodeIdByAddr.delete(previous.addr);
    members(state, previous.nodeSetId).data.delete(record.id);
    refreshRoom(state, previous.nodeSetId);
  }
  const holder = state.index.dataNodeIdByAddr.get(record.addr);
  assert(holder === undefined || holder === record.id, () => `data node addr ${record.addr} held by ${holder}`);
  state.dataNodes.set(record.id, record);
  state.index.dataNodeIdByAddr.set(record.addr, record.id);
  members(state, record.nodeSetId).data.add(record.id);
  refreshRoom(state, record.nodeSetId);
}

function delMetaNode(state: ModelState, id: number): void {
  const previous = state.metaNodes.get(id);
  if (previous === undefined) return;
  state.metaNodes.delete(id);
  state.index.metaNodeIdByAddr.delete(previous.addr);
  members(state, previous.nodeSetId).meta.delete(id);
  refreshRoom(state, previous.nodeSetId);
  forgetNodeLive(state, 'meta', id);
}

function delDataNode(state: ModelState, id: number): void {
  const previous = state.dataNodes.get(id);
  if (previous === undefined) return;
  state.dataNodes.delete(id);
  state.index.dataNodeIdByAddr.delete(previous.addr);
  members(state, previous.nodeSetId).data.delete(id);
  refreshRoom(state, previous.nodeSetId);
  forgetNodeLive(state, 'data', id);
}

function putVol(state: ModelState, record: VolRecord): void {
  const previous = state.vols.get(record.id);
  if (previous !== undefined && previous.name !== record.name) state.index.volIdByName.delete(previous.name);
  const holder = state.index.volIdByName.get(record.name);
  assert(holder === undefined || holder === record.id, () => `vol name ${record.name} held by ${holder}`);
  state.vols.set(record.id, record);
  state.index.volIdByName.set(record.name, record.id);
}

function delVol(state: ModelState, id: number): void {
  const previous = state.vols.get(id);
  if (previous === undefined) return;
  state.vols.delete(id);
  state.index.volIdByName.delete(previous.name);
}

function putIntent(state: ModelState, record: VolIntentRecord): void {
  state.volIntents.set(record.vol.id, record);
  state.index.intentIdByName.set(record.vol.name, record.vol.id);
}

function delIntent(state: ModelState, volId: number): void {
  const previous = state.volIntents.get(volId);
  if (previous === undefined) return;
  state.volIntents.delete(volId);
  if (state.index.intentIdByName.get(previous.vol.name) === volId) state.index.intentIdByName.delete(previous.vol.name);
}

type PartitionKind = 'meta' | 'data';

function partitionMaps(state: ModelState, kind: PartitionKind) {
  return kind === 'meta'
    ? { records: state.metaPartitions as Map<number, MetaPartitionRecord | DataPartitionRecord>, byVol: state.index.metaPartitionsByVol, replicas: state.index.replicasByMetaNode }
    : { records: state.dataPartitions as Map<number, MetaPartitionRecord | DataPartitionRecord>, byVol: state.index.dataPartitionsByVol, replicas: state.index.replicasByDataNode };
}

function putPartition(state: ModelState, kind: PartitionKind, record: MetaPartitionRecord | DataPartitionRecord): void {
  const maps = partitionMaps(state, kind);
  const previous = maps.records.get(record.id);
  if (previous !== undefined) {
    assert(previous.volId === record.volId, () => `${kind} partition ${record.id} changes vol`);
    countReplicas(maps.replicas, previous.peers, -1);
  }
  maps.records.set(record.id, record);
  insertSorted(getOrCreate(maps.byVol, record.volId, () => []), record.id);
  countReplicas(maps.replicas, record.peers, +1);
}

function delPartition(state: ModelState, kind: PartitionKind, id: number): void {
  const maps = partitionMaps(state, kind);
  const previous = maps.records.get(id);
  if (previous === undefined) return;
  maps.records.delete(id);
  const ids = maps.byVol.get(previous.volId);
  removeSorted(ids, id);
  if (ids !== undefined && ids.length === 0) maps.byVol.delete(previous.volId);
  countReplicas(maps.replicas, previous.peers, -1);
  forgetPartitionLive(state, kind, id);
}

function countReplicas(counts: Map<number, number>, peers: readonly PartitionPeer[], delta: number): void {
  for (const p of peers) {
    const next = (counts.get(p.nodeId) ?? 0) + delta;
    assert(next >= 0, () => `replica count of node ${p.nodeId} below zero`);
    if (next === 0) counts.delete(p.nodeId);
    else counts.set(p.nodeId, next);
  }
}

function members(state: ModelState, nodeSetId: number): { meta: Set<number>; data: Set<number> } {
  return getOrCreate(state.index.nodeSetMembers, nodeSetId, () => ({ meta: new Set<number>(), data: new Set<number>() }));
}

/**
 * Keep `roomByZone` true for one node set: listed under a kind while it holds fewer nodes of
 * that kind than its capacity. A node whose node set record is not loaded yet (start-up scans
 * `#dn#`/`#mn#` before `#s#`) is counted now and the set is listed when its record arrives.
 */
function refreshRoom(state: ModelState, nodeSetId: number): void {
  const set = state.nodeSets.get(nodeSetId);
  if (set === undefined) return;
  const m = state.index.nodeSetMembers.get(nodeSetId);
  setRoom(state, set.zoneName, nodeSetId, 'meta', (m?.meta.size ?? 0) < set.capacity);
  setRoom(state, set.zoneName, nodeSetId, 'data', (m?.data.size ?? 0) < set.capacity);
}

function setRoom(state: ModelState, zoneName: string, nodeSetId: number, kind: 'meta' | 'data', hasRoom: boolean): void {
  const room = getOrCreate(state.index.roomByZone, zoneName, () => ({ meta: [], data: [] }));
  if (hasRoom) insertSorted(room[kind], nodeSetId);
  else removeSorted(room[kind], nodeSetId);
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

/** Index of the first element >= value in an ascending array. */
function lowerBound(arr: readonly number[], value: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(arr: number[], value: number): void {
  const i = lowerBound(arr, value);
  if (arr[i] !== value) arr.splice(i, 0, value);
}

function removeSorted(arr: number[] | undefined, value: number): void {
  if (arr === undefined) return;
  const i = lowerBound(arr, value);
  if (arr[i] === value) arr.splice(i, 1);
}
